// Test support: a Logger (protocol/logger.h) that keeps every line it is given, at every level,
// for tests that assert what a library logged. Thread-safe.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "protocol/logger.h"

namespace lgs::test {

class LogCapture final : public Logger {
 public:
  bool Enabled(LogLevel) const override { return true; }
  void Write(LogLevel, std::string_view message) override {
    std::lock_guard lock(mutex_);
    lines_.emplace_back(message);
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

}  // namespace lgs::test
