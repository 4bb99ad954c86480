// RecoverMcap: makes a torn or damaged MCAP recording whole again by copying every intact
// message (damaged chunks skipped) into a new, complete, indexed file. Used by `gsctl recover`
// and by the station when it finds a recording a crash left open.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "protocol/byte_sink.h"
#include "protocol/mcap_reader.h"
#include "protocol/mcap_writer.h"
#include "protocol/status.h"

namespace lgs::protocol {

struct McapRecoverReport {
  uint64_t messages = 0;  // copied into the new file
  size_t channels = 0;
  McapMessageReader::End input_state = McapMessageReader::End::kNotYet;
  uint64_t stopped_at_offset = 0;  // where the intact part of the input ends
  uint64_t lost_tail_bytes = 0;    // input bytes after that
  std::string reason;              // why the input ended early ("" when complete)
  std::vector<McapProblem> skipped_chunks;
  uint64_t last_log_time = 0;
};

// Copies what `input` holds intact into `out` (a new file; closed on success). `progress` is
// called with the running message count.
[[nodiscard]] Result<McapRecoverReport> RecoverMcap(
    const McapFile& input, ByteSink& out, McapWriterOptions options,
    const std::function<void(uint64_t)>& progress = {});

// Recovers the file at `path` in place when it was never closed (no valid summary): the
// intact messages go to a temporary file beside it, which then replaces it. Returns nullopt
// when the file was already complete.
[[nodiscard]] Result<std::optional<McapRecoverReport>> RecoverMcapInPlace(
    const std::string& path, McapWriterOptions options);

}  // namespace lgs::protocol
