// The stream registry: the one table of APID <-> stream name <-> topic <-> message type <->
// nominal rate <-> size limit. No APID or stream name is written anywhere else.
//
// Entries are immutable and live for the whole program; pointers to them never dangle.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace google::protobuf {
class Message;
}  // namespace google::protobuf

namespace lgs::protocol {

enum class StreamId : uint8_t {
  kHousekeeping = 0,
  kNavigationPose,
  kTerrainTile,
  kCameraFrame,
  kSoilMeasurement,
  kRadiation,
  kEvent,
  kCommandVerification,
  kFileDelivery,
};
inline constexpr size_t kStreamCount = 9;

struct StreamInfo {
  StreamId id;
  uint16_t apid;
  std::string_view name;                       // "housekeeping": topic and channel component
  double nominal_rate_hz;                      // 0 for streams sent only when something happens
  uint32_t max_payload_bytes;                  // user data above this is rejected
  const google::protobuf::Message* prototype;  // default instance of the stream's message type
  // The station's gap fill asks the packet store for lost packets of this stream. Off for file
  // delivery: CFDP recovers its own losses with NAKs, and a second recovery would double the
  // retransmitted volume.
  bool gap_fill = true;
  // Sent all the time at its nominal rate (not only while something happens: a measurement, an
  // image, an event): silence on it means the data on the ground is stale.
  bool periodic = false;
};

std::span<const StreamInfo> AllStreams();
const StreamInfo& Stream(StreamId id);
const StreamInfo* FindStreamByApid(uint16_t apid);
const StreamInfo* FindStreamByName(std::string_view name);

// "tm.<rover>.<stream>." - ends with '.' so no topic is a prefix of another.
std::string TelemetryTopic(std::string_view rover_id, const StreamInfo& stream);
// "tm.<rover>." - the subscription prefix that selects every stream of one rover.
std::string TelemetryTopicPrefix(std::string_view rover_id);
// A rover id is 1-32 characters of [a-z0-9_-]: it must not contain the topic separator.
bool IsValidRoverId(std::string_view rover_id);

}  // namespace lgs::protocol
