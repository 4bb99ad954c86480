// The recording profile: how this project's telemetry is laid out in MCAP files, in one place
// (protocol/FORMAT.md, "Recording", is its description). The recorder writes by it; the
// station's prior-recordings scan and history store, and gsctl, read by it.
//
// - Files: "<rover>_<UTC start>.mcap" in the recording directory.
// - A rover stream's channel: "/<rover>/<stream>", protobuf, with metadata that says how to
//   rebuild each packet (apid, zmq_topic) and what the times mean; log time = ground receipt,
//   publish time = on-board time, sequence = the stream's extended sequence.
// - The station's own channels: /ground/commands, /ground/alarms, /ground/link_stats,
//   /link/rejected; its products: /<rover>/images/<camera>, /<rover>/{tf,pose,scene,log}.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/cuc_time.h"
#include "protocol/mcap_reader.h"
#include "protocol/status.h"
#include "protocol/stream_registry.h"

namespace lgs::protocol::recording {

inline constexpr std::string_view kCommandsChannel = "/ground/commands";
inline constexpr std::string_view kAlarmsChannel = "/ground/alarms";
inline constexpr std::string_view kLinkStatsChannel = "/ground/link_stats";
inline constexpr std::string_view kRejectedChannel = "/link/rejected";

// "rover1_2026-11-22T06-30-00Z.mcap" (another file started in the same second: "..._1.mcap"):
// sortable, no characters that upset shells or Windows.
std::string FileName(std::string_view rover_id, TimestampNs start_ns, int attempt = 0);
// Recordings (names or paths in one directory) in the order they were started: by start time,
// then by attempt ("..._2.mcap" before "..._10.mcap", which a plain sort gets wrong).
bool RecordingOrder(std::string_view a, std::string_view b);
// Whether a directory entry's name is one of `rover_id`'s recordings.
bool IsRecordingOf(std::string_view file_name, std::string_view rover_id);

// "/<rover>/<stream>".
std::string TelemetryChannel(std::string_view rover_id, std::string_view stream_name);
// "/<rover>/images/<camera>": the images the station reassembled from CFDP, one channel per
// camera, as foxglove.CompressedImage (a ground product beside the raw file_delivery channel, so
// Foxglove's and Lichtblick's Image panels show them).
std::string ImageChannel(std::string_view rover_id, std::string_view camera);
// "/<rover>/<product>": the station's Foxglove channels made from telemetry (groundstation/scene):
// kSceneProducts names them (tf, pose, scene, log).
inline constexpr std::string_view kSceneProducts[] = {"tf", "pose", "scene", "log"};
std::string SceneChannel(std::string_view rover_id, std::string_view product);
// The stream a channel name is, for this rover; null for other rovers' and ground channels.
const StreamInfo* StreamOfChannel(std::string_view channel, std::string_view rover_id);
// The metadata of a stream's channel.
std::map<std::string, std::string> TelemetryChannelMetadata(std::string_view rover_id,
                                                            const StreamInfo& stream);

// A rover telemetry channel of a recording, with what it takes to rebuild its packets; read
// from the channel's metadata, so a file from another rover or build is replayed as it was.
struct RecordedChannel {
  uint16_t apid = 0;
  std::string zmq_topic;
  const StreamInfo* stream = nullptr;  // null for a stream this build does not know
};
// Nothing for ground channels and channels whose metadata does not say how.
std::optional<RecordedChannel> ReadTelemetryChannel(const McapChannel& channel);

// The space packet a recorded message came from, byte for byte.
[[nodiscard]] Status RebuildPacket(const RecordedChannel& channel, const McapMessage& message,
                                   std::string& packet);

}  // namespace lgs::protocol::recording
