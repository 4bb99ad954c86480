// CUC on-board time: the 4 coarse + 3 fine octet CCSDS Unsegmented Code in every TM packet.
//
// Epoch: agency-defined (P-field time code id 010) and equal to the Unix epoch, UTC. Coarse is
// whole seconds, fine is a binary fraction of a second in units of 2^-24 s (about 59.6 ns).
// Conversions to and from nanoseconds round to nearest, which makes CUC -> ns -> CUC exact, so
// a packet rebuilt from a recorded nanosecond time is byte-identical to the original.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace lgs::protocol {

using TimestampNs = int64_t;  // nanoseconds since the Unix epoch, UTC

inline constexpr int kCucCoarseOctets = 4;
inline constexpr int kCucFineOctets = 3;
inline constexpr int kCucSize = kCucCoarseOctets + kCucFineOctets;
inline constexpr uint32_t kCucFineUnitsPerSecond = 1u << 24;
// The P-field that describes this code (not sent: the format is fixed by the mission):
// extension 0, time code id 010 (agency epoch), coarse octets - 1 = 3, fine octets = 3.
inline constexpr uint8_t kCucPField = 0b0'010'11'11;

struct CucTime {
  uint32_t coarse_s = 0;
  uint32_t fine = 0;  // 0 .. 2^24 - 1

  bool operator==(const CucTime&) const = default;
};

// Nanoseconds -> CUC. Empty when the time is before the epoch or past the 32-bit coarse range.
std::optional<CucTime> CucFromUnixNs(TimestampNs unix_ns);
TimestampNs UnixNsFromCuc(CucTime cuc);

void EncodeCuc(CucTime cuc, std::span<uint8_t, kCucSize> out);
CucTime DecodeCuc(std::span<const uint8_t, kCucSize> in);

}  // namespace lgs::protocol
