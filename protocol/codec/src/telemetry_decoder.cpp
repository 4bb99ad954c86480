#include "protocol/telemetry_decoder.h"

#include <fmt/format.h>
#include <google/protobuf/message.h>

namespace lgs::protocol {
namespace {

std::string Printable(std::string_view text) {
  constexpr size_t kMaxShown = 48;
  std::string out;
  for (char c : text.substr(0, kMaxShown)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) {
      out.push_back(c);
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  if (text.size() > kMaxShown) out += "...";
  return out;
}

}  // namespace

TelemetryDecoder::TelemetryDecoder(std::string rover_id) : rover_id_(std::move(rover_id)) {
  for (const StreamInfo& stream : AllStreams()) {
    const auto index = static_cast<size_t>(stream.id);
    topics_[index] = TelemetryTopic(rover_id_, stream);
    messages_[index].reset(stream.prototype->New());
  }
}

TelemetryDecoder::~TelemetryDecoder() = default;

std::unique_ptr<google::protobuf::Message> TelemetryDecoder::TakeMessage(StreamId stream) {
  return std::move(messages_[static_cast<size_t>(stream)]);
}

void TelemetryDecoder::GiveMessage(StreamId stream,
                                   std::unique_ptr<google::protobuf::Message> message) {
  auto& slot = messages_[static_cast<size_t>(stream)];
  slot = message ? std::move(message)
                 : std::unique_ptr<google::protobuf::Message>(Stream(stream).prototype->New());
}

Result<DecodedPacket, Rejection> TelemetryDecoder::Decode(std::string_view topic,
                                                          std::span<const uint8_t> bytes) {
  auto parsed = ParseTmPacket(bytes);
  if (!parsed) return parsed.error();
  const TmPacketView& packet = parsed.value();

  const StreamInfo* stream = FindStreamByApid(packet.apid);
  if (stream == nullptr) {
    return Rejection{RejectReason::kUnknownApid,
                     fmt::format("APID 0x{:03X} on topic '{}'", packet.apid, Printable(topic))};
  }
  const auto index = static_cast<size_t>(stream->id);
  if (topic != topics_[index]) {
    return Rejection{RejectReason::kTopicMismatch,
                     fmt::format("APID 0x{:03X} ({}) arrived on topic '{}', expected '{}'",
                                 packet.apid, stream->name, Printable(topic), topics_[index])};
  }
  if (packet.sequence_count != (packet.extended_sequence & kSequenceCountMask)) {
    return Rejection{RejectReason::kSequenceMismatch,
                     fmt::format("{}: count {} but extended sequence {}", stream->name,
                                 packet.sequence_count, packet.extended_sequence)};
  }
  if (packet.payload.size() > stream->max_payload_bytes) {
    return Rejection{RejectReason::kPayloadTooLarge,
                     fmt::format("{}: {} bytes of user data, limit {}", stream->name,
                                 packet.payload.size(), stream->max_payload_bytes)};
  }
  google::protobuf::Message& message = *messages_[index];
  if (!message.ParseFromArray(packet.payload.data(), static_cast<int>(packet.payload.size()))) {
    return Rejection{RejectReason::kProtobufParse,
                     fmt::format("{}: {} bytes are not a valid {}", stream->name,
                                 packet.payload.size(), message.GetTypeName())};
  }
  return DecodedPacket{stream, packet, &message};
}

}  // namespace lgs::protocol
