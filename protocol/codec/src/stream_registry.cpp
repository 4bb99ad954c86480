#include "protocol/stream_registry.h"

#include <array>

#include "rover/v1/camera.pb.h"
#include "rover/v1/event.pb.h"
#include "rover/v1/file_delivery.pb.h"
#include "rover/v1/housekeeping.pb.h"
#include "rover/v1/navigation.pb.h"
#include "rover/v1/radiation.pb.h"
#include "rover/v1/soil.pb.h"
#include "rover/v1/terrain.pb.h"
#include "rover/v1/verification.pb.h"

namespace lgs::protocol {
namespace {

// The registry. APIDs are wire values: never renumber, only add. Order follows StreamId.
const std::array<StreamInfo, kStreamCount>& Registry() {
  static const std::array<StreamInfo, kStreamCount> registry = {{
      {StreamId::kHousekeeping, 0x101, "housekeeping", 1.0, 1024,
       &rover::v1::Housekeeping::default_instance(), true, true},
      {StreamId::kNavigationPose, 0x102, "navigation_pose", 10.0, 512,
       &rover::v1::NavigationPose::default_instance(), true, true},
      {StreamId::kTerrainTile, 0x103, "terrain_tile", 0.1, 16384,
       &rover::v1::TerrainTile::default_instance()},
      {StreamId::kCameraFrame, 0x104, "camera_frame", 0.5, 512,
       &rover::v1::CameraFrame::default_instance()},
      {StreamId::kSoilMeasurement, 0x105, "soil", 0.2, 4096,
       &rover::v1::SoilMeasurement::default_instance()},
      {StreamId::kRadiation, 0x106, "radiation", 1.0, 2048,
       &rover::v1::Radiation::default_instance(), true, true},
      {StreamId::kEvent, 0x107, "event", 0.0, 1024, &rover::v1::Event::default_instance()},
      {StreamId::kCommandVerification, 0x108, "command_verification", 0.0, 1024,
       &rover::v1::CommandVerification::default_instance()},
      // One CFDP PDU per packet: at most 1000 octets of file data plus the PDU header, the
      // File Data offset and the envelope.
      {StreamId::kFileDelivery, 0x109, "file_delivery", 0.0, 2048,
       &rover::v1::FilePdu::default_instance(), false},
  }};
  return registry;
}

}  // namespace

std::span<const StreamInfo> AllStreams() {
  return Registry();
}

const StreamInfo& Stream(StreamId id) {
  return Registry()[static_cast<size_t>(id)];
}

const StreamInfo* FindStreamByApid(uint16_t apid) {
  for (const StreamInfo& s : Registry()) {
    if (s.apid == apid) return &s;
  }
  return nullptr;
}

const StreamInfo* FindStreamByName(std::string_view name) {
  for (const StreamInfo& s : Registry()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string TelemetryTopicPrefix(std::string_view rover_id) {
  std::string topic = "tm.";
  topic.append(rover_id);
  topic.push_back('.');
  return topic;
}

std::string TelemetryTopic(std::string_view rover_id, const StreamInfo& stream) {
  std::string topic = TelemetryTopicPrefix(rover_id);
  topic.append(stream.name);
  topic.push_back('.');
  return topic;
}

bool IsValidRoverId(std::string_view rover_id) {
  if (rover_id.empty() || rover_id.size() > 32) return false;
  for (char c : rover_id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace lgs::protocol
