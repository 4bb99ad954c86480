// The clocks the programs stamp and wait with: the wall clock in ns since 1970 (ground receipt,
// the emulator's on-board time), and seconds as a steady-clock duration (timers, intervals).
// Pure functions; thread-safe.
#pragma once

#include <chrono>

#include "protocol/cuc_time.h"

namespace lgs::protocol {

inline TimestampNs WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::chrono::steady_clock::duration SteadySeconds(double s) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(s));
}

}  // namespace lgs::protocol
