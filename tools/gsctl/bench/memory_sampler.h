// gsctl bench, memory sampler: the station's resident memory during a run — after 10 % of the
// packets (warm), the largest seen after that, the last, and one point per 5 % of the run. Not
// thread-safe: the sending thread samples.
#pragma once

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "process/child_process.h"

namespace lgs::gsctl::bench {

// Samples the station's RSS: after 10% of the packets (warm) and the largest seen after that.
class MemorySampler {
 public:
  MemorySampler(const process::ChildProcess& child, uint64_t total)
      : child_(child), total_(total) {}
  void Progress(uint64_t sent) {
    const uint64_t rss = child_.RssBytes();
    if (sent >= total_ / 10 && warm_ == 0) warm_ = rss;
    if (warm_ != 0) peak_after_warm_ = std::max(peak_after_warm_, rss);
    last_ = rss;
    // One point per 5 % of the run: where memory settles shows in the JSON, not only the peak.
    if (sent * 20 >= total_ * series_.size()) series_.push_back(rss / 1048576.0);
  }
  nlohmann::json Result() const {
    const double growth =
        warm_ > 0 ? 100.0 * (static_cast<double>(peak_after_warm_) - warm_) / warm_ : 0;
    return {{"rss_warm_mb", warm_ / 1048576.0},
            {"rss_peak_mb", peak_after_warm_ / 1048576.0},
            {"rss_last_mb", last_ / 1048576.0},
            {"growth_percent", growth},
            {"rss_every_5_percent_mb", series_}};
  }

 private:
  const process::ChildProcess& child_;
  uint64_t total_;
  uint64_t warm_ = 0, peak_after_warm_ = 0, last_ = 0;
  std::vector<double> series_;
};

}  // namespace lgs::gsctl::bench
