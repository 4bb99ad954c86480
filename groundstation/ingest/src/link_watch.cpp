#include "groundstation/link_watch.h"

#include <fmt/format.h>
#include <zmq.h>

#include <algorithm>
#include <utility>

namespace lgs::station {
namespace {

LinkWatch::Clock::duration Seconds(double s) {
  return std::chrono::duration_cast<LinkWatch::Clock::duration>(std::chrono::duration<double>(s));
}

}  // namespace

Status LinkWatchOptions::Validate() const {
  if (!(silence_timeout_s > 0) || !(retry_after_drop_s > 0) || !(max_backoff_s > 0)) {
    return Status::Error("the link watch's intervals must be positive numbers of seconds");
  }
  return Status::Ok();
}

LinkWatch::LinkWatch(LinkWatchOptions options, std::vector<std::string> endpoints, bool curve,
                     Clock::time_point now)
    : options_(options), curve_(curve), last_message_(now) {
  for (std::string& e : endpoints) {
    Endpoint endpoint;
    endpoint.state.endpoint = std::move(e);
    endpoints_.push_back(std::move(endpoint));
  }
}

LinkWatch::Endpoint* LinkWatch::Find(const std::string& endpoint) {
  for (Endpoint& e : endpoints_) {
    if (e.state.endpoint == endpoint) return &e;
  }
  // libzmq reports tcp endpoints resolved ("tcp://127.0.0.1:5555" for "tcp://localhost:5555"):
  // with one endpoint there is no doubt which it is.
  return endpoints_.size() == 1 ? &endpoints_.front() : nullptr;
}

void LinkWatch::OnEvent(const std::string& endpoint, uint16_t event, uint32_t value,
                        Clock::time_point now) {
  Endpoint* e = Find(endpoint);
  if (e == nullptr) return;
  switch (event) {
    case ZMQ_EVENT_CONNECTED:
      e->transport_up = true;
      e->dropped = false;
      if (!curve_) {
        e->state.connected = true;
        e->backoff_s = 0;
      }
      if (!ever_connected_) last_message_ = now;  // silence counts from the first connection
      ever_connected_ = true;
      break;
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
      e->state.connected = true;
      e->backoff_s = 0;
      break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
      e->state.last_problem =
          event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
              ? fmt::format("the rover refused this station's key (status {})", value)
              : fmt::format("CURVE handshake failed (event 0x{:04X}, code 0x{:X})", event, value);
      break;
    case ZMQ_EVENT_DISCONNECTED:
      e->transport_up = false;
      e->state.connected = false;
      e->dropped = true;
      e->dropped_at = now;
      break;
    case ZMQ_EVENT_CONNECT_RETRIED:
    case ZMQ_EVENT_CONNECT_DELAYED:
      e->dropped = false;  // libzmq is on it
      break;
    default:
      break;
  }
}

double LinkWatch::SilentSeconds(Clock::time_point now) const {
  if (!ever_connected_) return 0;
  return std::chrono::duration<double>(now - last_message_).count();
}

std::vector<LinkWatch::Reconnect> LinkWatch::Poll(Clock::time_point now) {
  std::vector<Reconnect> out;
  const auto backoff = [&](Endpoint& e) {
    // 1 s after the drop, then 2, 4, 8 ... up to the maximum while it keeps failing.
    e.backoff_s = std::min(std::max(e.backoff_s * 2, 2 * options_.retry_after_drop_s),
                           options_.max_backoff_s);
    e.next_attempt = now + Seconds(e.backoff_s);
  };
  for (Endpoint& e : endpoints_) {
    if (!e.dropped || now - e.dropped_at < Seconds(options_.retry_after_drop_s) ||
        now < e.next_attempt) {
      continue;
    }
    e.dropped = false;
    ++e.state.drops;
    ++e.state.reconnects;
    ++reconnects_;
    const std::string why =
        e.state.last_problem.empty()
            ? "libzmq dropped the connection after a protocol error (a message over the size "
              "limit, or a broken peer) and does not retry it"
            : e.state.last_problem + ", and libzmq does not retry it";
    out.push_back({e.state.endpoint, why});
    e.state.last_problem.clear();
    backoff(e);
  }
  // Silence: a connected rover sends at least its 1 Hz housekeeping.
  const bool connected = std::any_of(endpoints_.begin(), endpoints_.end(),
                                     [](const Endpoint& e) { return e.state.connected; });
  const double quiet_s = SilentSeconds(now);
  if (quiet_s < options_.silence_timeout_s) {
    if (silent_) recovered_ = true;
    silent_ = false;
    silence_backoff_s_ = 0;
    return out;
  }
  if (!silent_ && (connected || ever_connected_)) {
    silent_ = true;
    fell_silent_ = true;
    ++silences_;
    next_silence_reconnect_ = now;
  }
  if (silent_ && now >= next_silence_reconnect_) {
    for (Endpoint& e : endpoints_) {
      if (std::any_of(out.begin(), out.end(),
                      [&](const Reconnect& r) { return r.endpoint == e.state.endpoint; })) {
        continue;
      }
      ++e.state.reconnects;
      ++reconnects_;
      out.push_back(
          {e.state.endpoint, fmt::format("no telemetry for {:.0f} s{}", quiet_s,
                                         e.state.connected ? " although connected" : "")});
    }
    silence_backoff_s_ = silence_backoff_s_ == 0
                             ? options_.silence_timeout_s
                             : std::min(silence_backoff_s_ * 2, options_.max_backoff_s * 2);
    next_silence_reconnect_ = now + Seconds(silence_backoff_s_);
  }
  return out;
}

LinkWatchSnapshot LinkWatch::Snapshot(Clock::time_point now) const {
  LinkWatchSnapshot s;
  for (const Endpoint& e : endpoints_) s.endpoints.push_back(e.state);
  s.silent = silent_;
  s.silent_s = SilentSeconds(now);
  s.silences = silences_;
  s.reconnects = reconnects_;
  return s;
}

}  // namespace lgs::station
