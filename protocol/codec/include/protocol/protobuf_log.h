// Routes the protobuf library's own log lines (it prints "[libprotobuf ERROR ...]" to stderr by
// itself, once per message that fails UTF-8 validation, say) through the program's logger, at
// most one line per interval with a count of those held back. A flood of bad strings on the link
// therefore costs one line per interval, like every other rejection.
//
// Process-wide (protobuf has one handler); install it once from main(), before any parsing.
// Thread-safe: protobuf may log from any thread.
#pragma once

#include <functional>
#include <string_view>

namespace lgs::protocol {

enum class ProtobufLogLevel { kInfo, kWarning, kError };
using ProtobufLogSink = std::function<void(ProtobufLogLevel, std::string_view line)>;

// `sink` receives "protobuf: <message> [and N more since the last report]" lines; FATAL lines are
// passed on at once (protobuf aborts after them).
void RouteProtobufLogging(ProtobufLogSink sink, double interval_s = 10.0);

}  // namespace lgs::protocol
