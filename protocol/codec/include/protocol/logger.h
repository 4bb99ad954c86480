// Logger: how library code reports what an operator should read, injected by whoever builds it
// (as leveldb's Options::info_log): libraries never print or pick a logging library themselves.
// The programs' main()s give an adapter to spdlog (tools/cli/spdlog_logger.h); a library given
// none logs nothing (NullLogger).
//
// Formatting happens only when the level is enabled. Implementations must be thread-safe: the
// station logs from its ingest and Asio threads.
#pragma once

#include <fmt/format.h>

#include <string_view>
#include <utility>

namespace lgs {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

class Logger {
 public:
  virtual ~Logger() = default;
  virtual bool Enabled(LogLevel level) const = 0;
  virtual void Write(LogLevel level, std::string_view message) = 0;

  template <typename... Args>
  void Debug(fmt::format_string<Args...> format, Args&&... args) {
    Emit(LogLevel::kDebug, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void Info(fmt::format_string<Args...> format, Args&&... args) {
    Emit(LogLevel::kInfo, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void Warn(fmt::format_string<Args...> format, Args&&... args) {
    Emit(LogLevel::kWarn, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void Error(fmt::format_string<Args...> format, Args&&... args) {
    Emit(LogLevel::kError, format, std::forward<Args>(args)...);
  }

 private:
  template <typename... Args>
  void Emit(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
    if (Enabled(level)) Write(level, fmt::format(format, std::forward<Args>(args)...));
  }
};

// Discards everything. A process-wide instance, for libraries nobody gave a logger.
Logger& NullLogger();

// `log` when given, else NullLogger().
inline Logger& OrNull(Logger* log) {
  return log != nullptr ? *log : NullLogger();
}

}  // namespace lgs
