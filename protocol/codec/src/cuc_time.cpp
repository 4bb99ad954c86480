#include "protocol/cuc_time.h"

#include <limits>

namespace lgs::protocol {
namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;

}  // namespace

std::optional<CucTime> CucFromUnixNs(TimestampNs unix_ns) {
  if (unix_ns < 0) return std::nullopt;
  int64_t seconds = unix_ns / kNsPerSecond;
  const int64_t ns = unix_ns % kNsPerSecond;
  // Round to the nearest fine unit; a fraction that rounds up to a whole second carries.
  int64_t fine = (ns * kCucFineUnitsPerSecond + kNsPerSecond / 2) / kNsPerSecond;
  if (fine == kCucFineUnitsPerSecond) {
    fine = 0;
    ++seconds;
  }
  if (seconds > std::numeric_limits<uint32_t>::max()) return std::nullopt;
  return CucTime{static_cast<uint32_t>(seconds), static_cast<uint32_t>(fine)};
}

TimestampNs UnixNsFromCuc(CucTime cuc) {
  const int64_t fine = cuc.fine & (kCucFineUnitsPerSecond - 1);
  const int64_t ns = (fine * kNsPerSecond + kCucFineUnitsPerSecond / 2) / kCucFineUnitsPerSecond;
  return static_cast<int64_t>(cuc.coarse_s) * kNsPerSecond + ns;
}

void EncodeCuc(CucTime cuc, std::span<uint8_t, kCucSize> out) {
  out[0] = static_cast<uint8_t>(cuc.coarse_s >> 24);
  out[1] = static_cast<uint8_t>(cuc.coarse_s >> 16);
  out[2] = static_cast<uint8_t>(cuc.coarse_s >> 8);
  out[3] = static_cast<uint8_t>(cuc.coarse_s);
  out[4] = static_cast<uint8_t>(cuc.fine >> 16);
  out[5] = static_cast<uint8_t>(cuc.fine >> 8);
  out[6] = static_cast<uint8_t>(cuc.fine);
}

CucTime DecodeCuc(std::span<const uint8_t, kCucSize> in) {
  CucTime cuc;
  cuc.coarse_s =
      (uint32_t{in[0]} << 24) | (uint32_t{in[1]} << 16) | (uint32_t{in[2]} << 8) | uint32_t{in[3]};
  cuc.fine = (uint32_t{in[4]} << 16) | (uint32_t{in[5]} << 8) | uint32_t{in[6]};
  return cuc;
}

}  // namespace lgs::protocol
