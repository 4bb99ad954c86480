// LinkWatch: is the rover's telemetry link alive, and what to do when it is not. It follows the
// telemetry socket's monitor events per endpoint and the arrival of messages, and says when to
// connect an endpoint again:
// - libzmq drops a connection after a protocol error (a message over ZMQ_MAXMSGSIZE, a failed
//   CURVE handshake) and, unlike after a plain disconnect, never retries it: the station would be
//   deaf for good. A drop not followed by libzmq's own retry within `retry_after_drop_s` is
//   reconnected here, then again with backoff while it keeps failing.
// - A connected rover that sends nothing for `silence_timeout_s` is reported (the station's
//   link.silence_s metric, its log and /api/link) and reconnected, again with backoff, until
//   telemetry flows.
//
// Pure logic: no sockets and no clock of its own. Not thread-safe: the ingest thread owns it;
// snapshots are copied out for other threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "protocol/status.h"

namespace lgs::station {

struct LinkWatchOptions {
  double silence_timeout_s = 10.0;  // no telemetry this long from a connected rover: silent
  double retry_after_drop_s = 1.0;  // a drop libzmq does not retry within this: reconnect
  // Longest wait between reconnects of one endpoint: a rover restarted with this station's key
  // allowed is reached within this.
  double max_backoff_s = 10.0;
  Status Validate() const;
};

// One endpoint as the watch sees it.
struct LinkEndpointState {
  std::string endpoint;
  bool connected = false;   // transport up (and, with CURVE, handshake done)
  uint64_t drops = 0;       // connections libzmq dropped and did not retry
  uint64_t reconnects = 0;  // times this station connected it again
  std::string last_problem;
};

struct LinkWatchSnapshot {
  std::vector<LinkEndpointState> endpoints;
  bool silent = false;    // connected, and nothing for silence_timeout_s
  double silent_s = 0;    // seconds since the last message (0 before the first connection)
  uint64_t silences = 0;  // times the link fell silent
  uint64_t reconnects = 0;
};

class LinkWatch {
 public:
  using Clock = std::chrono::steady_clock;
  struct Reconnect {
    std::string endpoint;
    std::string reason;  // readable: why this station connects it again
  };

  LinkWatch(LinkWatchOptions options, std::vector<std::string> endpoints, bool curve,
            Clock::time_point now);

  // A telemetry socket monitor event (ZMQ_EVENT_*; `value` as libzmq gives it).
  void OnEvent(const std::string& endpoint, uint16_t event, uint32_t value, Clock::time_point now);
  // Any message arrived on the telemetry socket.
  void OnMessage(Clock::time_point now) { last_message_ = now; }
  // What to reconnect now; the caller disconnects and connects each one.
  std::vector<Reconnect> Poll(Clock::time_point now);
  // True once, when the link has just fallen silent (for the caller to report it), and the
  // silence so far.
  bool JustFellSilent() { return std::exchange(fell_silent_, false); }
  bool JustRecovered() { return std::exchange(recovered_, false); }
  double SilentSeconds(Clock::time_point now) const;
  bool silent() const { return silent_; }
  LinkWatchSnapshot Snapshot(Clock::time_point now) const;

 private:
  struct Endpoint {
    LinkEndpointState state;
    bool transport_up = false;
    bool dropped = false;  // dropped, waiting to see whether libzmq retries
    Clock::time_point dropped_at{};
    Clock::time_point next_attempt{};
    double backoff_s = 0;
  };
  Endpoint* Find(const std::string& endpoint);

  LinkWatchOptions options_;
  bool curve_;
  std::vector<Endpoint> endpoints_;
  Clock::time_point last_message_;
  bool ever_connected_ = false;
  bool silent_ = false, fell_silent_ = false, recovered_ = false;
  Clock::time_point next_silence_reconnect_{};
  double silence_backoff_s_ = 0;
  uint64_t silences_ = 0, reconnects_ = 0;
};

}  // namespace lgs::station
