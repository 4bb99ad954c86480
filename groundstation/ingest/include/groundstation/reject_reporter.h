// RejectReporter: logs rejected input readably without flooding the log.
//
// The first rejection of each reason is logged at once; after that at most one line per reason
// per interval, saying how many more were suppressed. Not thread-safe (ingest thread only).
#pragma once

#include <array>
#include <chrono>
#include <string_view>

#include "protocol/logger.h"
#include "protocol/reject_reason.h"

namespace lgs::station {

class RejectReporter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RejectReporter(Clock::duration interval, Logger& log = NullLogger())
      : interval_(interval), log_(log) {}

  // Logs (or counts for later) one rejection; `detail` says what exactly was wrong.
  void Report(protocol::RejectReason reason, std::string_view detail, Clock::time_point now);

 private:
  struct PerReason {
    bool logged = false;
    Clock::time_point last_log{};
    uint64_t suppressed = 0;
  };
  Clock::duration interval_;
  Logger& log_;
  std::array<PerReason, protocol::kRejectReasonCount> state_{};
};

}  // namespace lgs::station
