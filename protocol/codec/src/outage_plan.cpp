#include "protocol/outage_plan.h"

#include <algorithm>
#include <cmath>

namespace lgs::protocol {

bool InOutage(std::span<const OutageWindow> windows, const PeriodicOutage& p, double t) {
  for (const OutageWindow& w : windows) {
    if (t >= w.start_s && t < w.start_s + w.duration_s) return true;
  }
  return p.every_s > 0 && t >= p.first_s && std::fmod(t - p.first_s, p.every_s) < p.duration_s;
}

double OutageEnd(std::span<const OutageWindow> windows, const PeriodicOutage& p, double t) {
  double end = t;
  // Overlapping windows chain: keep extending while still inside one.
  for (int guard = 0; guard < 10'000 && InOutage(windows, p, end); ++guard) {
    double next = end;
    for (const OutageWindow& w : windows) {
      if (end >= w.start_s && end < w.start_s + w.duration_s) {
        next = std::max(next, w.start_s + w.duration_s);
      }
    }
    if (p.every_s > 0 && end >= p.first_s) {
      const double phase = std::fmod(end - p.first_s, p.every_s);
      if (phase < p.duration_s) next = std::max(next, end - phase + p.duration_s);
    }
    if (next <= end) break;
    end = next;
  }
  return end;
}

std::optional<double> NextOutageStart(std::span<const OutageWindow> windows,
                                      const PeriodicOutage& p, double t) {
  // Inside an outage, the next one starts after it ends.
  const double from = OutageEnd(windows, p, t);
  std::optional<double> best;
  const auto take = [&](double at) {
    if (at >= from && (!best || at < *best)) best = at;
  };
  for (const OutageWindow& w : windows) take(w.start_s);
  if (p.every_s > 0) {
    const double k = from <= p.first_s ? 0 : std::ceil((from - p.first_s) / p.every_s);
    take(p.first_s + k * p.every_s);
  }
  return best;
}

}  // namespace lgs::protocol
