// Opening files a user named (recordings, keys, tokens, limit and plan files) without hanging:
// a FIFO, a device or a directory given by mistake (or by someone else) must be refused with a
// clear reason, not block the program in open() or read() for ever. Thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "protocol/status.h"

namespace lgs::protocol {

// Opens `path` read-only without blocking on a FIFO and checks that it is a regular file; the
// descriptor (close-on-exec, blocking again) is the caller's to close. `what` names the file in
// the error ("key file", "recording").
Result<int> OpenRegularFile(const std::string& path, std::string_view what);

// The whole of a regular file of at most `max_bytes` (a larger one is refused: it is not what
// `what` says it is).
Result<std::string> ReadRegularFile(const std::string& path, std::string_view what,
                                    size_t max_bytes);

}  // namespace lgs::protocol
