#include "common.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <regex>

namespace lgs::gsctl {

uint64_t TimeSpec::Resolve(uint64_t start_ns) const {
  if (!relative) return static_cast<uint64_t>(ns);
  const int64_t t = static_cast<int64_t>(start_ns) + ns;
  return t < 0 ? 0 : static_cast<uint64_t>(t);
}

Result<TimeSpec> ParseTimeSpec(const std::string& text) {
  static const std::regex offset(R"(^\+(\d+(?:\.\d+)?)(ms|s|m|h)?$)");
  static const std::regex iso(
      R"(^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]00:?00)?$)");
  std::smatch m;
  if (std::regex_match(text, m, offset)) {
    const double value = std::stod(m[1].str());
    const std::string unit = m[2].matched ? m[2].str() : "s";
    const double scale = unit == "ms" ? 1e6 : unit == "s" ? 1e9 : unit == "m" ? 60e9 : 3600e9;
    return TimeSpec{true, static_cast<int64_t>(std::llround(value * scale))};
  }
  if (std::regex_match(text, m, iso)) {
    std::tm tm{};
    tm.tm_year = std::stoi(m[1].str()) - 1900;
    tm.tm_mon = std::stoi(m[2].str()) - 1;
    tm.tm_mday = std::stoi(m[3].str());
    tm.tm_hour = std::stoi(m[4].str());
    tm.tm_min = std::stoi(m[5].str());
    tm.tm_sec = std::stoi(m[6].str());
    if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 60) {
      return Status::Error(fmt::format("'{}' is not a valid date and time", text));
    }
    const int64_t seconds = timegm(&tm);
    int64_t fraction_ns = 0;
    if (m[7].matched) {
      std::string digits = m[7].str().substr(1);
      digits.resize(9, '0');
      fraction_ns = std::stoll(digits);
    }
    return TimeSpec{false, seconds * 1'000'000'000 + fraction_ns};
  }
  return Status::Error(fmt::format(
      "'{}' is not a time: use ISO 8601 UTC (2026-11-22T06:24:03Z) or an offset from the start "
      "(+90s, +1.5m, +2h, +250ms)",
      text));
}

std::string FormatUtc(uint64_t ns) {
  const std::time_t seconds = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (ns / 1'000'000) % 1000);
}

bool TopicSelected(const std::vector<std::string>& topics, const protocol::McapChannel& channel) {
  if (topics.empty()) return true;
  const auto stream = channel.metadata.find("stream");
  for (const std::string& t : topics) {
    if (t == channel.topic) return true;
    if (stream != channel.metadata.end() && t == stream->second) return true;
  }
  return false;
}

ProgressBar::ProgressBar(std::string label, uint64_t total)
    : label_(std::move(label)), total_(total), enabled_(isatty(STDERR_FILENO) == 1) {}

void ProgressBar::Update(uint64_t done, const std::string& suffix) {
  if (!enabled_) return;
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
  if (now_ms - last_draw_ms_ < 100) return;
  last_draw_ms_ = now_ms;
  constexpr int kWidth = 30;
  if (total_ > 0) {
    const double fraction = std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
    const int filled = static_cast<int>(fraction * kWidth);
    fmt::print(stderr, "\r{} [{}{}] {:5.1f}% {}/{} {}\x1b[K", label_, std::string(filled, '#'),
               std::string(kWidth - filled, '-'), fraction * 100.0, done, total_, suffix);
  } else {
    fmt::print(stderr, "\r{} {} {}\x1b[K", label_, done, suffix);
  }
  std::fflush(stderr);
}

void ProgressBar::Finish() {
  if (!enabled_) return;
  fmt::print(stderr, "\r\x1b[K");
  std::fflush(stderr);
}

std::optional<uint64_t> RecordingStart(const std::vector<const protocol::McapFile*>& files) {
  std::optional<uint64_t> start;
  for (const protocol::McapFile* file : files) {
    std::optional<uint64_t> t;
    if (auto summary = file->ReadSummary();
        summary.ok() && summary->statistics && summary->statistics->message_count > 0) {
      t = summary->statistics->message_start_time;
    } else {
      protocol::McapMessageReader reader(*file);
      protocol::McapMessage m;
      if (reader.Next(m)) t = m.log_time;
    }
    if (t && (!start || *t < *start)) start = t;
  }
  return start;
}

Result<TimeRange> ResolveTimeRange(const std::optional<std::string>& start,
                                   const std::optional<std::string>& end,
                                   const std::vector<const protocol::McapFile*>& files) {
  TimeRange range;
  if (!start && !end) return range;
  const uint64_t origin = RecordingStart(files).value_or(0);
  for (const auto& [text, target] :
       {std::pair{&start, &range.start_ns}, std::pair{&end, &range.end_ns}}) {
    if (!*text) continue;
    auto spec = ParseTimeSpec(**text);
    if (!spec.ok()) return spec.error();
    *target = spec->Resolve(origin);
  }
  if (range.start_ns && range.end_ns && *range.start_ns > *range.end_ns) {
    return Status::Error(fmt::format("the start ({}) is after the end ({})",
                                     FormatUtc(*range.start_ns), FormatUtc(*range.end_ns)));
  }
  return range;
}

}  // namespace lgs::gsctl
