// Constants of the telemetry space packet, as documented byte by byte in protocol/FORMAT.md.
// This header and FORMAT.md are the one place these numbers live.
#pragma once

#include <cstddef>
#include <cstdint>

#include "protocol/cuc_time.h"

namespace lgs::protocol {

inline constexpr size_t kPrimaryHeaderSize = 6;
inline constexpr size_t kSecondaryHeaderSize = kCucSize + 4;  // CUC + 32-bit extended sequence
inline constexpr size_t kCrcSize = 2;
inline constexpr size_t kTmOverheadSize = kPrimaryHeaderSize + kSecondaryHeaderSize + kCrcSize;
inline constexpr size_t kMinTmPacketSize = kTmOverheadSize;  // an empty protobuf is legal
// The 16-bit data length field counts data octets - 1, so a packet is at most 65536 + 6 octets.
inline constexpr size_t kMaxPacketSize = kPrimaryHeaderSize + 65536;
inline constexpr size_t kMaxTmPayloadSize = kMaxPacketSize - kTmOverheadSize;

inline constexpr uint8_t kPacketVersion = 0;
inline constexpr uint8_t kPacketTypeTelemetry = 0;
inline constexpr uint8_t kPacketTypeTelecommand = 1;
inline constexpr uint8_t kSequenceFlagsUnsegmented = 0b11;
inline constexpr uint16_t kApidMask = 0x07FF;
inline constexpr uint16_t kIdleApid = 0x07FF;
inline constexpr uint16_t kSequenceCountMask = 0x3FFF;

// ZeroMQ framing of the telemetry link: [topic][packet], topic = "tm.<rover>.<stream>."
inline constexpr size_t kTelemetryFrameCount = 2;
inline constexpr const char* kTelemetryTopicPrefix = "tm.";

}  // namespace lgs::protocol
