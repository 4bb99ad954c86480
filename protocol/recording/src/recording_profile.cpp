#include "protocol/recording_profile.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <exception>

#include "protocol/space_packet.h"

namespace lgs::protocol::recording {

std::string FileName(std::string_view rover_id, TimestampNs start_ns, int attempt) {
  const auto tp = std::chrono::sys_time<std::chrono::milliseconds>(
      std::chrono::milliseconds(start_ns / 1'000'000));
  std::string name = fmt::format("{}_{:%Y-%m-%dT%H-%M-%S}Z", rover_id, tp);
  if (attempt > 0) name += fmt::format("_{}", attempt);
  return name + ".mcap";
}

bool IsRecordingOf(std::string_view file_name, std::string_view rover_id) {
  return file_name.size() > rover_id.size() + 1 && file_name.starts_with(rover_id) &&
         file_name[rover_id.size()] == '_' && file_name.ends_with(".mcap");
}

namespace {

// "<stem>_<UTC>Z_<n>.mcap" -> ("<stem>_<UTC>Z", n); a name without an attempt number is 0.
std::pair<std::string_view, uint64_t> StartAndAttempt(std::string_view path) {
  std::string_view name = path;
  if (name.ends_with(".mcap")) name.remove_suffix(5);
  const size_t underscore = name.rfind('_');
  if (underscore == std::string_view::npos || underscore + 1 == name.size()) return {name, 0};
  uint64_t attempt = 0;
  for (size_t i = underscore + 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || i - underscore > 9) return {name, 0};
    attempt = attempt * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  return {name.substr(0, underscore), attempt};
}

}  // namespace

bool RecordingOrder(std::string_view a, std::string_view b) {
  const auto [start_a, attempt_a] = StartAndAttempt(a);
  const auto [start_b, attempt_b] = StartAndAttempt(b);
  if (start_a != start_b) return start_a < start_b;
  return attempt_a < attempt_b;
}

std::string TelemetryChannel(std::string_view rover_id, std::string_view stream_name) {
  return fmt::format("/{}/{}", rover_id, stream_name);
}

std::string ImageChannel(std::string_view rover_id, std::string_view camera) {
  return fmt::format("/{}/images/{}", rover_id, camera);
}

std::string SceneChannel(std::string_view rover_id, std::string_view product) {
  return fmt::format("/{}/{}", rover_id, product);
}

const StreamInfo* StreamOfChannel(std::string_view channel, std::string_view rover_id) {
  if (channel.size() < rover_id.size() + 2 || channel[0] != '/' ||
      channel.substr(1, rover_id.size()) != rover_id || channel[rover_id.size() + 1] != '/') {
    return nullptr;
  }
  return FindStreamByName(channel.substr(rover_id.size() + 2));
}

std::map<std::string, std::string> TelemetryChannelMetadata(std::string_view rover_id,
                                                            const StreamInfo& stream) {
  return {{"apid", std::to_string(stream.apid)},
          {"stream", std::string(stream.name)},
          {"rover", std::string(rover_id)},
          {"zmq_topic", TelemetryTopic(rover_id, stream)},
          {"publish_time", "on-board time (CUC 4+3, agency epoch = Unix epoch UTC)"},
          {"log_time", "ground receipt time (station wall clock, UTC)"},
          {"sequence", "extended sequence number of the stream"}};
}

std::optional<RecordedChannel> ReadTelemetryChannel(const McapChannel& channel) {
  const auto apid = channel.metadata.find("apid");
  const auto topic = channel.metadata.find("zmq_topic");
  if (apid == channel.metadata.end() || topic == channel.metadata.end()) return std::nullopt;
  RecordedChannel c;
  try {
    const unsigned long value = std::stoul(apid->second);
    if (value > 0x7FF) return std::nullopt;
    c.apid = static_cast<uint16_t>(value);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  c.zmq_topic = topic->second;
  c.stream = FindStreamByApid(c.apid);
  return c;
}

Status RebuildPacket(const RecordedChannel& channel, const McapMessage& message,
                     std::string& packet) {
  return EncodeTmPacket(channel.apid, message.sequence, static_cast<int64_t>(message.publish_time),
                        message.data, packet);
}

}  // namespace lgs::protocol::recording
