// ClockCorrelation: how the rover's on-board clock relates to the ground clock, so a packet's
// latency (ground receipt minus when it was sent) means something.
//
// With a live rover whose clock keeps UTC, latency = receipt - on-board time - light time (the
// "absolute" basis). Two cases break that, and both are common: an emulated rover at --speed S
// runs its clock S times faster than the ground's (on-board time races ahead: every latency
// "negative"), and a replayed recording carries on-board times hours or days old (every latency
// huge: a CRITICAL alarm for a perfectly good link). After `lock_after_s` of ground time the
// correlation looks at the evidence: a clock rate off 1 by more than `rate_tolerance`, or packets
// all older (or newer) than light time by more than `max_offset_s`, switch to the "relative"
// basis: latency above the fastest packet, with the clock rate fitted through the fastest packet
// of each second (a lower envelope, so queueing does not bend it). Until then latencies are
// reported but not `settled`, and only settled ones should be judged against limits.
//
// Pure arithmetic, no clock of its own. Not thread-safe (LinkAccounting holds it under its lock).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>

#include "protocol/cuc_time.h"

namespace lgs::station {

struct ClockCorrelationOptions {
  int64_t light_time_ns = 0;
  double lock_after_s = 5.0;     // ground time before the basis is chosen
  double rate_tolerance = 0.01;  // |rate - 1| beyond this: a clock that runs at its own rate
  double max_offset_s = 60.0;    // every packet this much older or newer: a replay, or no UTC
};

class ClockCorrelation {
 public:
  enum class Basis { kLearning, kAbsolute, kRelative };
  struct Sample {
    int64_t latency_ns = 0;
    bool settled = false;  // the basis is chosen: fit to judge against limits
  };

  explicit ClockCorrelation(ClockCorrelationOptions options = {}) : options_(options) {}

  Sample Observe(protocol::TimestampNs onboard_ns, protocol::TimestampNs ground_ns);
  // True once, when the relative basis was chosen (latencies before it are meaningless).
  bool TakeSwitchedToRelative() { return std::exchange(switched_, false); }

  Basis basis() const { return basis_; }
  double rate() const { return rate_; }  // on-board seconds per ground second
  // At the choice: the smallest (receipt - on-board - light time) seen, in seconds.
  double offset_s() const { return static_cast<double>(min_absolute_ns_) / 1e9; }
  std::string Describe() const;  // one line for the summary

 private:
  struct Point {
    protocol::TimestampNs onboard_ns = 0, ground_ns = 0;
  };
  // Ground time minus the on-board time mapped onto the ground clock, both from the origin.
  double Residual(const Point& p) const;
  void CloseBucket();

  ClockCorrelationOptions options_;
  Basis basis_ = Basis::kLearning;
  bool switched_ = false;
  bool started_ = false;
  Point origin_{};
  int64_t min_absolute_ns_ = INT64_MAX;
  double rate_ = 1.0;
  // Relative basis: the fastest packet of the current ground second, and of the last minute's.
  Point bucket_min_{};
  bool bucket_has_ = false;
  protocol::TimestampNs bucket_start_ns_ = 0;
  std::deque<Point> envelope_;  // one per second, oldest first
  Point first_envelope_{};
  bool have_first_envelope_ = false;
  double floor_ = 0.0;  // the smallest residual of the envelope
};

}  // namespace lgs::station
