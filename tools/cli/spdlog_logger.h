// SpdlogLogger: the one adapter from the libraries' Logger (protocol/logger.h) to spdlog, for
// the programs' main()s. Writes to spdlog's default logger, so --log-level and the programs'
// log format apply. Thread-safe (spdlog's default logger is).
#pragma once

#include <spdlog/spdlog.h>

#include "protocol/logger.h"

namespace lgs::cli {

class SpdlogLogger final : public Logger {
 public:
  bool Enabled(LogLevel level) const override {
    return spdlog::default_logger_raw()->should_log(ToSpdlog(level));
  }
  void Write(LogLevel level, std::string_view message) override {
    spdlog::default_logger_raw()->log(ToSpdlog(level), "{}", message);
  }

 private:
  static spdlog::level::level_enum ToSpdlog(LogLevel level) {
    switch (level) {
      case LogLevel::kDebug:
        return spdlog::level::debug;
      case LogLevel::kInfo:
        return spdlog::level::info;
      case LogLevel::kWarn:
        return spdlog::level::warn;
      case LogLevel::kError:
        break;
    }
    return spdlog::level::err;
  }
};

}  // namespace lgs::cli
