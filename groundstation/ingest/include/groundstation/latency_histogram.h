// LatencyHistogram: a fixed-size log-linear histogram of non-negative durations in nanoseconds,
// for percentiles without storing samples. 16 sub-buckets per power of two: any percentile is
// reported within 6.25% of the true value (upper bucket bound), max is exact.
// Record() is O(1) and allocation-free. Not thread-safe (callers lock).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace lgs::station {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 4;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr size_t kBuckets = 64 * kSub;

  void Record(int64_t ns) {
    if (ns < 0) {
      ++negative_;
      ns = 0;
    }
    const auto v = static_cast<uint64_t>(ns);
    ++buckets_[Index(v)];
    ++count_;
    if (v > max_) max_ = v;
  }

  uint64_t count() const { return count_; }
  uint64_t negative() const { return negative_; }  // samples below zero (clock skew), counted as 0
  uint64_t max() const { return max_; }

  // Upper bound of the bucket holding the q-quantile (0 < q <= 1); 0 when empty.
  uint64_t Percentile(double q) const {
    if (count_ == 0) return 0;
    const auto rank = static_cast<uint64_t>(q * static_cast<double>(count_) + 0.5);
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += buckets_[i];
      if (seen >= rank && buckets_[i] > 0) return std::min(UpperBound(i), max_);
    }
    return max_;
  }

 private:
  static size_t Index(uint64_t v) {
    if (v < kSub) return static_cast<size_t>(v);
    const int msb = 63 - std::countl_zero(v);
    const int shift = msb - kSubBits;
    return static_cast<size_t>((shift + 1) * kSub + ((v >> shift) & (kSub - 1)));
  }
  static uint64_t UpperBound(size_t index) {
    if (index < kSub) return index;
    const int shift = static_cast<int>(index / kSub) - 1;
    const uint64_t sub = index % kSub;
    return ((uint64_t{kSub} + sub + 1) << shift) - 1;
  }

  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0, negative_ = 0, max_ = 0;
};

}  // namespace lgs::station
