// Telemetry space packets: encoding and strict parsing of the CCSDS TM packet of FORMAT.md.
//
// ParseTmPacket checks structure and CRC only (no registry, no protobuf); it returns a view whose
// spans point into the caller's buffer, valid as long as that buffer is. Thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "protocol/bytes.h"
#include "protocol/cuc_time.h"
#include "protocol/packet_format.h"
#include "protocol/reject_reason.h"
#include "protocol/status.h"

namespace lgs::protocol {

struct TmPacketView {
  uint16_t apid = 0;
  uint16_t sequence_count = 0;  // 14-bit count from the primary header
  CucTime onboard_cuc;
  TimestampNs onboard_time_ns = 0;
  uint32_t extended_sequence = 0;
  std::span<const uint8_t> payload;  // protobuf user data
  std::span<const uint8_t> bytes;    // the whole packet
};

struct Rejection {
  RejectReason reason;
  std::string detail;  // what exactly was wrong, for a log line
};

// Appends one encoded TM packet to `out` (cleared first). Fails when the payload is too large for
// a space packet or the time cannot be represented in CUC.
Status EncodeTmPacket(uint16_t apid, uint32_t extended_sequence, TimestampNs onboard_time_ns,
                      std::span<const uint8_t> payload, std::string& out);

Result<TmPacketView, Rejection> ParseTmPacket(std::span<const uint8_t> packet);

}  // namespace lgs::protocol
