// Telecommand packets: the CCSDS TC space packet of FORMAT.md (PUS-C style secondary header,
// protobuf user data, CRC-16). The commands themselves are in command_dictionary.h. This header
// and FORMAT.md are the one place these numbers live.
//
// ParseTcPacket checks structure and CRC only; the view points into the caller's buffer.
// Thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "protocol/command_dictionary.h"
#include "protocol/packet_format.h"
#include "protocol/space_packet.h"
#include "protocol/status.h"

namespace lgs::protocol {

// The rover's command APID: every telecommand goes to it.
inline constexpr uint16_t kRoverTcApid = 0x180;
inline constexpr uint8_t kPusVersion = 2;  // PUS-C
// Acknowledgement flags (ECSS-E-ST-70-41C): which verification reports the sender wants.
inline constexpr uint8_t kAckAcceptance = 0b0001;
inline constexpr uint8_t kAckStart = 0b0010;
inline constexpr uint8_t kAckProgress = 0b0100;
inline constexpr uint8_t kAckCompletion = 0b1000;
// PUS version + ack flags (1), service (1), subtype (1), source id (2), and a mission-specific
// 32-bit request sequence (4) that names the request for the whole mission: the rover executes
// each (source id, request sequence) at most once.
inline constexpr size_t kTcSecondaryHeaderSize = 9;
inline constexpr size_t kTcOverheadSize = kPrimaryHeaderSize + kTcSecondaryHeaderSize + kCrcSize;
inline constexpr size_t kMaxTcPayloadSize = kMaxPacketSize - kTcOverheadSize;
// ZeroMQ framing of the uplink: one frame, the TC packet.
inline constexpr size_t kTelecommandFrameCount = 1;

struct TcHeader {
  uint16_t apid = kRoverTcApid;
  uint8_t ack_flags = kAckAcceptance | kAckCompletion;
  uint8_t service = 0;
  uint8_t subtype = 0;
  uint16_t source_id = 0;
  uint32_t request_sequence = 0;
};

struct TcPacketView {
  TcHeader header;
  uint32_t request_id = 0;  // PUS request id: the first 4 octets of the primary header
  std::span<const uint8_t> payload;
  std::span<const uint8_t> bytes;
};

// Encodes one TC packet into `out` (replacing its contents).
Status EncodeTcPacket(const TcHeader& header, std::span<const uint8_t> payload, std::string& out);
Result<TcPacketView, Rejection> ParseTcPacket(std::span<const uint8_t> packet);

}  // namespace lgs::protocol
