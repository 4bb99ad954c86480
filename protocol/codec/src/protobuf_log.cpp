#include "protocol/protobuf_log.h"

#include <fmt/format.h>
#include <google/protobuf/stubs/logging.h>

#include <chrono>
#include <mutex>

#include "protocol/text.h"

namespace lgs::protocol {
namespace {

struct Route {
  std::mutex mutex;
  ProtobufLogSink sink;
  std::chrono::steady_clock::duration interval{};
  std::chrono::steady_clock::time_point last{};
  bool logged = false;
  uint64_t suppressed = 0;
};

Route& TheRoute() {
  static Route* route = new Route();  // never destroyed: protobuf may log during exit
  return *route;
}

void Handle(google::protobuf::LogLevel level, const char* /*file*/, int /*line*/,
            const std::string& message) {
  Route& r = TheRoute();
  const ProtobufLogLevel ours = level == google::protobuf::LOGLEVEL_INFO ? ProtobufLogLevel::kInfo
                                : level == google::protobuf::LOGLEVEL_WARNING
                                    ? ProtobufLogLevel::kWarning
                                    : ProtobufLogLevel::kError;
  std::lock_guard lock(r.mutex);
  const auto now = std::chrono::steady_clock::now();
  if (level != google::protobuf::LOGLEVEL_FATAL && r.logged && now - r.last < r.interval) {
    ++r.suppressed;
    return;
  }
  // Protobuf quotes field names, not the bad bytes; escaped all the same.
  std::string line = fmt::format("protobuf: {}", text::EscapeForTerminal(message, 500));
  if (r.suppressed > 0) line += fmt::format(" [and {} more since the last report]", r.suppressed);
  r.logged = true;
  r.last = now;
  r.suppressed = 0;
  if (r.sink) r.sink(ours, line);
}

}  // namespace

void RouteProtobufLogging(ProtobufLogSink sink, double interval_s) {
  Route& r = TheRoute();
  {
    std::lock_guard lock(r.mutex);
    r.sink = std::move(sink);
    r.interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(interval_s));
  }
  google::protobuf::SetLogHandler(&Handle);
}

}  // namespace lgs::protocol
