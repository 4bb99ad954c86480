// RejectReason: why a message from the link was not accepted. Every rejection has exactly one.
//
// The numeric values are stable (they appear in recordings and statistics); add new reasons at
// the end, never renumber.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace lgs::protocol {

enum class RejectReason : uint8_t {
  kWrongFrameCount = 0,   // ZeroMQ message without exactly [topic][packet]
  kMessageTooLarge = 1,   // larger than any legal space packet
  kTooShort = 2,          // shorter than the TM headers and CRC
  kBadHeader = 3,         // version, type, secondary header flag or sequence flags wrong
  kLengthMismatch = 4,    // primary header data length disagrees with the received size
  kCrcMismatch = 5,       // packet error control does not match
  kUnknownApid = 6,       // APID not in the stream registry
  kTopicMismatch = 7,     // ZeroMQ topic is not the one registered for the packet's APID
  kSequenceMismatch = 8,  // 14-bit count is not the low bits of the extended sequence
  kPayloadTooLarge = 9,   // user data over the stream's size limit
  kProtobufParse = 10,    // user data is not a valid message of the stream's type
  // Decoded fine, but its extended sequence is far from the stream's and no packet after it
  // confirmed the jump (a corruption the CRC missed, or a forgery): held, then set aside.
  kImplausibleSequence = 11,
};

inline constexpr size_t kRejectReasonCount = 12;

struct RejectReasonInfo {
  RejectReason reason;
  std::string_view name;         // snake_case, for logs, JSON and metrics
  std::string_view description;  // one readable line
};

inline constexpr std::array<RejectReasonInfo, kRejectReasonCount> kRejectReasons = {{
    {RejectReason::kWrongFrameCount, "wrong_frame_count",
     "message does not have exactly two frames [topic][packet]"},
    {RejectReason::kMessageTooLarge, "message_too_large",
     "message larger than the largest legal space packet"},
    {RejectReason::kTooShort, "too_short", "packet shorter than its headers and CRC"},
    {RejectReason::kBadHeader, "bad_header",
     "bad version, packet type, secondary header flag or sequence flags"},
    {RejectReason::kLengthMismatch, "length_mismatch",
     "packet data length field disagrees with the received size"},
    {RejectReason::kCrcMismatch, "crc_mismatch", "CRC-16 does not match the packet"},
    {RejectReason::kUnknownApid, "unknown_apid", "APID is not in the stream registry"},
    {RejectReason::kTopicMismatch, "topic_mismatch",
     "topic is not the one registered for the packet's APID"},
    {RejectReason::kSequenceMismatch, "sequence_mismatch",
     "14-bit sequence count disagrees with the extended sequence number"},
    {RejectReason::kPayloadTooLarge, "payload_too_large", "user data over the stream's size limit"},
    {RejectReason::kProtobufParse, "protobuf_parse",
     "user data does not parse as the stream's protobuf message"},
    {RejectReason::kImplausibleSequence, "implausible_sequence",
     "extended sequence far from the stream's, and no packet after it confirmed the jump"},
}};

constexpr const RejectReasonInfo& InfoOf(RejectReason reason) {
  return kRejectReasons[static_cast<size_t>(reason)];
}
constexpr std::string_view NameOf(RejectReason reason) {
  return InfoOf(reason).name;
}

std::optional<RejectReason> RejectReasonFromName(std::string_view name);

}  // namespace lgs::protocol
