// TelemetryDecoder: turns one [topic][packet] pair from the link into a verified, decoded packet
// or a Rejection with its reason. Structure, CRC, registry, topic, sequence, size limit and
// protobuf are all checked; anything that passes is safe to record and display.
//
// Not thread-safe: each decoder owns one reusable message per stream, and a DecodedPacket's
// `message` stays valid only until the next Decode() of the same stream.
#pragma once

#include <array>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "protocol/space_packet.h"
#include "protocol/stream_registry.h"

namespace lgs::protocol {

struct DecodedPacket {
  const StreamInfo* stream = nullptr;
  TmPacketView packet;
  const google::protobuf::Message* message = nullptr;
};

class TelemetryDecoder {
 public:
  explicit TelemetryDecoder(std::string rover_id);
  ~TelemetryDecoder();
  TelemetryDecoder(const TelemetryDecoder&) = delete;
  TelemetryDecoder& operator=(const TelemetryDecoder&) = delete;

  Result<DecodedPacket, Rejection> Decode(std::string_view topic, std::span<const uint8_t> packet);

  const std::string& rover_id() const { return rover_id_; }

  // Hands over the message the last Decode() of `stream` filled (a DecodedPacket that points to
  // it stays valid: the object moves, not its memory), for a consumer that keeps it without a
  // copy. GiveMessage() must follow before the stream's next Decode(): a message of the same
  // type to decode into (a used one is fine), or null for a new one.
  std::unique_ptr<google::protobuf::Message> TakeMessage(StreamId stream);
  void GiveMessage(StreamId stream, std::unique_ptr<google::protobuf::Message> message);

 private:
  std::string rover_id_;
  std::array<std::string, kStreamCount> topics_;
  std::array<std::unique_ptr<google::protobuf::Message>, kStreamCount> messages_;
};

}  // namespace lgs::protocol
