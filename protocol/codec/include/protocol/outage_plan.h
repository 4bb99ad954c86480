// When a relay is out of view: one-off windows and a periodic outage, in mission seconds. The
// rover emulator's link model (its scenario's outages) and the station's pass plan
// (groundstation/link_schedule.h) both answer from these. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <span>

namespace lgs::protocol {

struct OutageWindow {
  double start_s = 0.0;
  double duration_s = 0.0;
};

struct PeriodicOutage {
  double first_s = 0.0;
  double every_s = 0.0;  // 0: none
  double duration_s = 0.0;
};

bool InOutage(std::span<const OutageWindow> windows, const PeriodicOutage& periodic, double t);
// The end of the outage holding `t` (overlapping windows are one outage); `t` when none does.
double OutageEnd(std::span<const OutageWindow> windows, const PeriodicOutage& periodic, double t);
// The next start of an outage at or after `t` that `t` is not already inside; none if no more.
std::optional<double> NextOutageStart(std::span<const OutageWindow> windows,
                                      const PeriodicOutage& periodic, double t);

}  // namespace lgs::protocol
