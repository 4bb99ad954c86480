// PriorRecordings: what an earlier run of the station left in the recording directory. At
// start the station makes every file a crash left open whole again (in place), and, when
// resuming, learns which sequence numbers of each rover stream are already recorded, so that it
// neither records them twice nor forgets to ask for what it missed while it was down.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "groundstation/link_accounting.h"
#include "protocol/logger.h"
#include "protocol/mcap_reader.h"
#include "protocol/mcap_writer.h"
#include "protocol/status.h"
#include "protocol/stream_registry.h"

namespace lgs::station {

struct PriorRecordings {
  size_t files = 0;            // MCAP files of this rover in the directory
  size_t recovered_files = 0;  // of which a crash had left open
  uint64_t recovered_messages = 0;
  uint64_t lost_tail_bytes = 0;  // bytes of torn tails that held nothing intact
  uint64_t messages = 0;         // rover messages recorded (learning only)
  // Files whose parameter archive answered (valid, made from the complete file): not recovered
  // or read again, their sequences, tiles and newest pose taken from the archive.
  size_t archived_files = 0;
  // Files that are no MCAP recording at all (empty, a few bytes, another format): renamed to
  // <name>.unreadable and left for an operator, so they neither stop the station nor count.
  std::vector<std::string> set_aside;
  // Per stream: the sequences already recorded, as sorted disjoint ranges (learning only).
  std::array<std::vector<SequenceRange>, protocol::kStreamCount> recorded;
  // Per stream: the newest on-board time recorded (learning only; 0: none). Unknown (all 0,
  // `newest_onboard_known` false) when an archive that answered was written before archives
  // kept it: a resuming station then tells a rover's restarted numbering by sequence only.
  std::array<uint64_t, protocol::kStreamCount> newest_onboard_ns{};
  bool newest_onboard_known = true;
};

// A recorded rover message as the scan reads it (the message is valid only during the call):
// what else a resuming station rebuilds from the recordings (its CFDP transactions).
using RecordedMessageVisitor =
    std::function<void(protocol::StreamId stream, const protocol::McapMessage& message)>;

// Recovers torn files of `rover_id` in `directory` (absent directory: nothing to do) and, with
// `learn_sequences` or a `visit`, reads the recorded rover messages, oldest file first, showing
// them to `visit` (may be null) and, with `learn_sequences`, learning their sequences. A file it
// can neither read nor recover is set aside (renamed, reported in `set_aside`); only a directory
// it cannot list, or a file it cannot rename, is an error.
//
// A file with a valid parameter archive made from it complete (groundstation/parameter_archive.h)
// is not read: its sequences come from the archive, and `visit` is shown the archive's newest
// terrain tile of each footprint and its newest pose (what a site map needs: every cell's newest
// observation, and the site), and every message of the `full_streams` (read through the file's
// index: only the chunks that hold them). A month of hourly files starts in seconds.
[[nodiscard]] Result<PriorRecordings> ScanPriorRecordings(
    const std::string& directory, std::string_view rover_id, bool learn_sequences,
    const protocol::McapWriterOptions& recovery_writer, Logger& log = NullLogger(),
    const RecordedMessageVisitor& visit = nullptr,
    const std::vector<protocol::StreamId>& full_streams = {});

// Resuming: tells `accounting` what the recordings already hold, so it is not recorded again
// and the holes in it count as missing (for gap fill to ask for), and logs what it found.
void SeedAccounting(const PriorRecordings& prior, const std::string& directory, bool gap_fill,
                    LinkAccounting& accounting, Logger& log);

}  // namespace lgs::station
