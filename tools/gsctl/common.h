// gsctl internals shared by the subcommands: time arguments, topic filters, progress bars,
// and turning recorded messages back into packets and decoded telemetry.
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "protocol/mcap_reader.h"
#include "protocol/protobuf_schema.h"
#include "protocol/recording_profile.h"
#include "protocol/status.h"
#include "protocol/stream_registry.h"
#include "protocol/telemetry_decoder.h"

namespace lgs::gsctl {

// Exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the operation failed (unsound file, bad input)
inline constexpr int kExitUsage = 2;    // bad arguments
inline constexpr int kExitPartial = 3;  // delivered what was intact, then stopped at damage

// A --start/--end argument: ISO 8601 UTC ("2026-11-22T06:24:03.5Z") or an offset from the
// recording's first message ("+90s", "+1.5m", "+2h", "+250ms", "+0").
struct TimeSpec {
  bool relative = false;
  int64_t ns = 0;
  uint64_t Resolve(uint64_t recording_start_ns) const;
};
Result<TimeSpec> ParseTimeSpec(const std::string& text);
std::string FormatUtc(uint64_t ns);

// --topics: each entry matches a channel topic exactly ("/rover1/soil") or a stream name ("soil").
bool TopicSelected(const std::vector<std::string>& topics, const protocol::McapChannel& channel);

// A rover telemetry channel of our recordings (protocol/recording_profile.h).
using TelemetryChannel = protocol::recording::RecordedChannel;

// Progress on stderr, only when stderr is a terminal; redrawn at most 10 times a second.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label, uint64_t total);
  void Update(uint64_t done, const std::string& suffix = "");
  void Finish();

 private:
  std::string label_;
  uint64_t total_;
  bool enabled_;
  int64_t last_draw_ms_ = 0;
};

// --start/--end resolved against the recordings' first message; fails (with the reason) on a
// malformed time or a start after the end.
struct TimeRange {
  std::optional<uint64_t> start_ns, end_ns;
};
Result<TimeRange> ResolveTimeRange(const std::optional<std::string>& start,
                                   const std::optional<std::string>& end,
                                   const std::vector<const protocol::McapFile*>& files);

// First log time over files (summary when complete, else the first message).
std::optional<uint64_t> RecordingStart(const std::vector<const protocol::McapFile*>& files);

// One recorded message, decoded; `packet` is set for rover telemetry of a stream we know.
struct Decoded {
  const protocol::McapChannel* channel = nullptr;
  const protocol::McapMessage* record = nullptr;
  const google::protobuf::Message* message = nullptr;
  const protocol::DecodedPacket* packet = nullptr;
};

// A recorded message as the generated type `T`, whichever pool the reader decoded it with;
// false when it is not one.
template <typename T>
bool AsGenerated(const Decoded& d, T& out) {
  if (const auto* same = dynamic_cast<const T*>(d.message)) {
    out = *same;
    return true;
  }
  std::string bytes;
  return d.message->SerializeToString(&bytes) && out.ParseFromString(bytes);
}

// On-board time for rover telemetry (the packet's), the log time for anything else.
inline int64_t OnboardOrLogTime(const Decoded& d) {
  return static_cast<int64_t>(d.packet ? d.record->publish_time : d.record->log_time);
}

// Walks the selected messages of `paths` (recordings, or directories standing for their
// recordings in start order; `topics` as --topics; empty = all) within --start/--end (+OFFSET
// from the first recording), one file mapped at a time, with a progress bar over their bytes;
// returns an exit code and says on stderr where and why a file stopped early (3: the rest was
// still read). `what` names the subcommand in messages.
int ForEachMessage(const std::string& what, const std::vector<std::string>& paths,
                   const std::vector<std::string>& topics, const std::optional<std::string>& start,
                   const std::optional<std::string>& end,
                   const std::function<void(const Decoded&)>& visit);
// The same over one file.
int ForEachMessage(const std::string& what, const std::string& path,
                   const std::vector<std::string>& topics, const std::optional<std::string>& start,
                   const std::optional<std::string>& end,
                   const std::function<void(const Decoded&)>& visit);

}  // namespace lgs::gsctl
