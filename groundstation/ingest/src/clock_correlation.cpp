#include "groundstation/clock_correlation.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace lgs::station {
namespace {

constexpr protocol::TimestampNs kBucketNs = 1'000'000'000;
constexpr size_t kEnvelopeSeconds = 60;

}  // namespace

double ClockCorrelation::Residual(const Point& p) const {
  return static_cast<double>(p.ground_ns - origin_.ground_ns) -
         static_cast<double>(p.onboard_ns - origin_.onboard_ns) / rate_;
}

void ClockCorrelation::CloseBucket() {
  if (!bucket_has_) return;
  if (!have_first_envelope_) {
    first_envelope_ = bucket_min_;
    have_first_envelope_ = true;
  }
  envelope_.push_back(bucket_min_);
  if (envelope_.size() > kEnvelopeSeconds) envelope_.pop_front();
  // The rate through the fastest packets of the first and the latest second: both about as
  // delayed as a packet can be least, so their delays cancel, and the baseline only grows.
  const Point& last = envelope_.back();
  if (last.ground_ns - first_envelope_.ground_ns >= 5 * kBucketNs &&
      last.onboard_ns > first_envelope_.onboard_ns) {
    rate_ = static_cast<double>(last.onboard_ns - first_envelope_.onboard_ns) /
            static_cast<double>(last.ground_ns - first_envelope_.ground_ns);
  }
  floor_ = Residual(envelope_.front());
  for (const Point& p : envelope_) floor_ = std::min(floor_, Residual(p));
  bucket_has_ = false;
}

ClockCorrelation::Sample ClockCorrelation::Observe(protocol::TimestampNs onboard_ns,
                                                   protocol::TimestampNs ground_ns) {
  const Point p{onboard_ns, ground_ns};
  const int64_t absolute = ground_ns - onboard_ns - options_.light_time_ns;
  if (!started_) {
    started_ = true;
    origin_ = p;
    bucket_start_ns_ = ground_ns;
  }
  if (basis_ == Basis::kLearning) {
    min_absolute_ns_ = std::min(min_absolute_ns_, absolute);
    const double ground_s = static_cast<double>(ground_ns - origin_.ground_ns) / 1e9;
    if (ground_s >= options_.lock_after_s && onboard_ns > origin_.onboard_ns) {
      rate_ = static_cast<double>(onboard_ns - origin_.onboard_ns) /
              static_cast<double>(ground_ns - origin_.ground_ns);
      const bool own_rate = std::abs(rate_ - 1.0) > options_.rate_tolerance;
      const bool offset =
          std::abs(static_cast<double>(min_absolute_ns_)) > options_.max_offset_s * 1e9;
      if (own_rate || offset) {
        basis_ = Basis::kRelative;
        switched_ = true;
        if (!own_rate) rate_ = 1.0;
        origin_ = p;
        bucket_start_ns_ = ground_ns;
      } else {
        basis_ = Basis::kAbsolute;
        rate_ = 1.0;
      }
    }
    if (basis_ != Basis::kRelative) return {absolute, basis_ == Basis::kAbsolute};
  }
  if (basis_ == Basis::kAbsolute) return {absolute, true};
  // Relative: the fastest packet of each ground second feeds the envelope.
  if (ground_ns - bucket_start_ns_ >= kBucketNs) {
    CloseBucket();
    bucket_start_ns_ = ground_ns;
  }
  if (!bucket_has_ || Residual(p) < Residual(bucket_min_)) {
    bucket_min_ = p;
    bucket_has_ = true;
  }
  const double floor = envelope_.empty() ? std::min(0.0, Residual(bucket_min_)) : floor_;
  return {static_cast<int64_t>(std::llround(Residual(p) - floor)), true};
}

std::string ClockCorrelation::Describe() const {
  switch (basis_) {
    case Basis::kLearning:
      return "latency: still learning the on-board clock";
    case Basis::kAbsolute:
      return "latency: receipt - on-board time - light time (the clocks agree)";
    case Basis::kRelative:
      if (std::abs(rate_ - 1.0) > options_.rate_tolerance) {
        return fmt::format(
            "latency: above the fastest packet (the on-board clock runs at {:.3f}x the ground's: "
            "an emulator at --speed, or a clock off UTC)",
            rate_);
      }
      return fmt::format(
          "latency: above the fastest packet (on-board times are {:.0f} s {} the ground clock: "
          "a replay, or a clock off UTC)",
          std::abs(offset_s()), offset_s() > 0 ? "behind" : "ahead of");
  }
  return {};
}

}  // namespace lgs::station
