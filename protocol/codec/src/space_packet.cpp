#include "protocol/space_packet.h"

#include <fmt/format.h>

#include <cstring>

#include "big_endian.h"
#include "protocol/crc16.h"

namespace lgs::protocol {
namespace {

using be::ReadU16;
using be::ReadU32;
using be::WriteU16;
using be::WriteU32;

Rejection Reject(RejectReason reason, std::string detail) {
  return {reason, std::move(detail)};
}

}  // namespace

Status EncodeTmPacket(uint16_t apid, uint32_t extended_sequence, TimestampNs onboard_time_ns,
                      std::span<const uint8_t> payload, std::string& out) {
  if (payload.size() > kMaxTmPayloadSize) {
    return Status::Error(fmt::format("payload of {} bytes exceeds the space packet limit of {}",
                                     payload.size(), kMaxTmPayloadSize));
  }
  if (apid > kApidMask) return Status::Error(fmt::format("APID {} does not fit 11 bits", apid));
  const std::optional<CucTime> cuc = CucFromUnixNs(onboard_time_ns);
  if (!cuc)
    return Status::Error(fmt::format("time {} ns is outside the CUC range", onboard_time_ns));

  const size_t total = kTmOverheadSize + payload.size();
  out.resize(total);
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  const uint16_t word1 = static_cast<uint16_t>((kPacketVersion << 13) |
                                               (kPacketTypeTelemetry << 12) | (1 << 11) | apid);
  const uint16_t word2 = static_cast<uint16_t>((kSequenceFlagsUnsegmented << 14) |
                                               (extended_sequence & kSequenceCountMask));
  WriteU16(p, word1);
  WriteU16(p + 2, word2);
  WriteU16(p + 4, static_cast<uint16_t>(total - kPrimaryHeaderSize - 1));
  EncodeCuc(*cuc, std::span<uint8_t, kCucSize>(p + kPrimaryHeaderSize, kCucSize));
  WriteU32(p + kPrimaryHeaderSize + kCucSize, extended_sequence);
  if (!payload.empty()) {
    std::memcpy(p + kPrimaryHeaderSize + kSecondaryHeaderSize, payload.data(), payload.size());
  }
  const uint16_t crc = Crc16CcittFalse({p, total - kCrcSize});
  WriteU16(p + total - kCrcSize, crc);
  return Status::Ok();
}

Result<TmPacketView, Rejection> ParseTmPacket(std::span<const uint8_t> packet) {
  if (packet.size() > kMaxPacketSize) {
    return Reject(
        RejectReason::kMessageTooLarge,
        fmt::format("{} bytes, the largest space packet is {}", packet.size(), kMaxPacketSize));
  }
  if (packet.size() < kMinTmPacketSize) {
    return Reject(RejectReason::kTooShort, fmt::format("{} bytes, a telemetry packet needs at "
                                                       "least {}",
                                                       packet.size(), kMinTmPacketSize));
  }
  const uint8_t* p = packet.data();
  const uint16_t word1 = ReadU16(p);
  const uint16_t word2 = ReadU16(p + 2);
  const unsigned version = word1 >> 13;
  const unsigned type = (word1 >> 12) & 1;
  const unsigned secondary_header = (word1 >> 11) & 1;
  const unsigned sequence_flags = word2 >> 14;
  if (version != kPacketVersion || type != kPacketTypeTelemetry || secondary_header != 1 ||
      sequence_flags != kSequenceFlagsUnsegmented) {
    return Reject(RejectReason::kBadHeader,
                  fmt::format("version {} type {} secondary header flag {} sequence flags {} "
                              "(expected 0, 0, 1, 3)",
                              version, type, secondary_header, sequence_flags));
  }
  const size_t declared = size_t{ReadU16(p + 4)} + 1 + kPrimaryHeaderSize;
  if (declared != packet.size()) {
    return Reject(RejectReason::kLengthMismatch,
                  fmt::format("length field says {} bytes, received {}", declared, packet.size()));
  }
  const uint16_t computed = Crc16CcittFalse(packet.first(packet.size() - kCrcSize));
  const uint16_t sent = ReadU16(p + packet.size() - kCrcSize);
  if (computed != sent) {
    return Reject(RejectReason::kCrcMismatch,
                  fmt::format("packet says 0x{:04X}, computed 0x{:04X}", sent, computed));
  }
  TmPacketView view;
  view.apid = word1 & kApidMask;
  view.sequence_count = word2 & kSequenceCountMask;
  view.onboard_cuc =
      DecodeCuc(std::span<const uint8_t, kCucSize>(p + kPrimaryHeaderSize, kCucSize));
  view.onboard_time_ns = UnixNsFromCuc(view.onboard_cuc);
  view.extended_sequence = ReadU32(p + kPrimaryHeaderSize + kCucSize);
  view.payload =
      packet.subspan(kPrimaryHeaderSize + kSecondaryHeaderSize, packet.size() - kTmOverheadSize);
  view.bytes = packet;
  return view;
}

std::optional<RejectReason> RejectReasonFromName(std::string_view name) {
  for (const auto& info : kRejectReasons) {
    if (info.name == name) return info.reason;
  }
  return std::nullopt;
}

}  // namespace lgs::protocol
