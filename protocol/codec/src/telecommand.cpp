#include "protocol/telecommand.h"

#include <fmt/format.h>

#include <cstring>

#include "big_endian.h"
#include "protocol/crc16.h"

namespace lgs::protocol {
using be::ReadU16;
using be::ReadU32;
using be::WriteU16;
using be::WriteU32;

Status EncodeTcPacket(const TcHeader& h, std::span<const uint8_t> payload, std::string& out) {
  if (payload.size() > kMaxTcPayloadSize) {
    return Status::Error(fmt::format("command arguments of {} bytes exceed the limit of {}",
                                     payload.size(), kMaxTcPayloadSize));
  }
  if (h.apid > kApidMask) return Status::Error(fmt::format("APID {} does not fit 11 bits", h.apid));
  if (h.ack_flags > 0x0F) return Status::Error("acknowledgement flags do not fit 4 bits");
  const size_t total = kTcOverheadSize + payload.size();
  out.resize(total);
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  WriteU16(p, static_cast<uint16_t>((kPacketVersion << 13) | (kPacketTypeTelecommand << 12) |
                                    (1 << 11) | h.apid));
  WriteU16(p + 2, static_cast<uint16_t>((kSequenceFlagsUnsegmented << 14) |
                                        (h.request_sequence & kSequenceCountMask)));
  WriteU16(p + 4, static_cast<uint16_t>(total - kPrimaryHeaderSize - 1));
  uint8_t* s = p + kPrimaryHeaderSize;
  s[0] = static_cast<uint8_t>((kPusVersion << 4) | h.ack_flags);
  s[1] = h.service;
  s[2] = h.subtype;
  WriteU16(s + 3, h.source_id);
  WriteU32(s + 5, h.request_sequence);
  if (!payload.empty()) {
    std::memcpy(p + kPrimaryHeaderSize + kTcSecondaryHeaderSize, payload.data(), payload.size());
  }
  WriteU16(p + total - kCrcSize, Crc16CcittFalse({p, total - kCrcSize}));
  return Status::Ok();
}

Result<TcPacketView, Rejection> ParseTcPacket(std::span<const uint8_t> packet) {
  if (packet.size() > kMaxPacketSize) {
    return Rejection{
        RejectReason::kMessageTooLarge,
        fmt::format("{} bytes, the largest space packet is {}", packet.size(), kMaxPacketSize)};
  }
  if (packet.size() < kTcOverheadSize) {
    return Rejection{
        RejectReason::kTooShort,
        fmt::format("{} bytes, a telecommand needs at least {}", packet.size(), kTcOverheadSize)};
  }
  const uint8_t* p = packet.data();
  const uint16_t word1 = ReadU16(p);
  const uint16_t word2 = ReadU16(p + 2);
  const unsigned version = word1 >> 13;
  const unsigned type = (word1 >> 12) & 1;
  const unsigned secondary_header = (word1 >> 11) & 1;
  const unsigned sequence_flags = word2 >> 14;
  const unsigned pus_version = p[kPrimaryHeaderSize] >> 4;
  if (version != kPacketVersion || type != kPacketTypeTelecommand || secondary_header != 1 ||
      sequence_flags != kSequenceFlagsUnsegmented || pus_version != kPusVersion) {
    return Rejection{RejectReason::kBadHeader,
                     fmt::format("version {} type {} secondary header flag {} sequence flags {} "
                                 "PUS version {} (expected 0, 1, 1, 3, 2)",
                                 version, type, secondary_header, sequence_flags, pus_version)};
  }
  const size_t declared = size_t{ReadU16(p + 4)} + 1 + kPrimaryHeaderSize;
  if (declared != packet.size()) {
    return Rejection{
        RejectReason::kLengthMismatch,
        fmt::format("length field says {} bytes, received {}", declared, packet.size())};
  }
  const uint16_t computed = Crc16CcittFalse(packet.first(packet.size() - kCrcSize));
  const uint16_t sent = ReadU16(p + packet.size() - kCrcSize);
  if (computed != sent) {
    return Rejection{RejectReason::kCrcMismatch,
                     fmt::format("packet says 0x{:04X}, computed 0x{:04X}", sent, computed)};
  }
  TcPacketView view;
  const uint8_t* s = p + kPrimaryHeaderSize;
  view.header.apid = word1 & kApidMask;
  view.header.ack_flags = s[0] & 0x0F;
  view.header.service = s[1];
  view.header.subtype = s[2];
  view.header.source_id = ReadU16(s + 3);
  view.header.request_sequence = ReadU32(s + 5);
  if ((view.header.request_sequence & kSequenceCountMask) != (word2 & kSequenceCountMask)) {
    return Rejection{RejectReason::kSequenceMismatch,
                     fmt::format("sequence count {} is not the low 14 bits of request {}",
                                 word2 & kSequenceCountMask, view.header.request_sequence)};
  }
  view.request_id = ReadU32(p);
  view.payload =
      packet.subspan(kPrimaryHeaderSize + kTcSecondaryHeaderSize, packet.size() - kTcOverheadSize);
  view.bytes = packet;
  return view;
}

}  // namespace lgs::protocol
