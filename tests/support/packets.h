// Test support: building good telemetry packets and every kind of bad one.
#pragma once

#include <cstdint>
#include <string>

#include "google/protobuf/message_lite.h"
#include "protocol/crc16.h"
#include "protocol/space_packet.h"
#include "protocol/stream_registry.h"
#include "rover/v1/housekeeping.pb.h"

namespace lgs::test {

inline constexpr protocol::TimestampNs kSomeTimeNs = 1'790'000'000'123'456'789;

// A valid housekeeping packet with the given extended sequence.
inline std::string HousekeepingPacket(uint32_t seq, double soc = 80.0,
                                      protocol::TimestampNs t = kSomeTimeNs) {
  rover::v1::Housekeeping hk;
  hk.set_mode(rover::v1::ROVER_MODE_DRIVE);
  hk.set_battery_soc_percent(soc);
  hk.set_bus_voltage_v(30.1);
  std::string payload = hk.SerializeAsString();
  std::string packet;
  const auto& stream = protocol::Stream(protocol::StreamId::kHousekeeping);
  if (!protocol::EncodeTmPacket(stream.apid, seq, t, protocol::AsBytes(payload), packet).ok()) {
    return {};
  }
  return packet;
}

// A valid packet of any stream carrying `message` (the stream's own type).
inline std::string StreamPacket(protocol::StreamId id, const google::protobuf::MessageLite& message,
                                uint32_t seq, protocol::TimestampNs t = kSomeTimeNs) {
  const std::string payload = message.SerializeAsString();
  std::string packet;
  if (!protocol::EncodeTmPacket(protocol::Stream(id).apid, seq, t, protocol::AsBytes(payload),
                                packet)
           .ok()) {
    return {};
  }
  return packet;
}

// Rewrites the trailing CRC so a deliberately altered packet is otherwise well formed.
inline void RecomputeCrc(std::string& packet) {
  const auto* p = reinterpret_cast<const uint8_t*>(packet.data());
  const uint16_t crc = protocol::Crc16CcittFalse({p, packet.size() - protocol::kCrcSize});
  packet[packet.size() - 2] = static_cast<char>(crc >> 8);
  packet[packet.size() - 1] = static_cast<char>(crc & 0xFF);
}

}  // namespace lgs::test
