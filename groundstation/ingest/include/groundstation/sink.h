// Sink: one consumer of what the ingest thread accepts and rejects, and Pipeline, the ordered
// list of them.
//
// The ingest thread receives, verifies, decodes and accounts each message once; then every sink
// sees the result in the order it was added: each accepted packet with its decoded message (so
// no sink parses a packet again), each rejected message with its reason, and a tick after every
// poll of the link (at least every 100 ms, more often under load) for work driven by time. Adding
// a consumer of telemetry means writing a sink and adding it where the station builds the
// pipeline (groundstation/station/src/station.cpp), touching nothing else.
//
// Not thread-safe: every call comes from the ingest thread. A sink must not block (no waits on
// other threads, no network I/O); one that hands work to the Asio thread does so through the
// station's ThreadBridge.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "protocol/cuc_time.h"
#include "protocol/reject_reason.h"
#include "protocol/status.h"
#include "protocol/telemetry_decoder.h"

namespace lgs::station {

struct Observation;  // groundstation/link_accounting.h

// An accepted packet. Everything it points to is valid during the call only: the decoder reuses
// its message for the next packet of the stream.
struct AcceptedPacket {
  const protocol::DecodedPacket& packet;
  protocol::TimestampNs ground_ns = 0;  // ground receipt time (wall clock)
  // What the accounting measured of it on arrival (latency among others); null for a packet the
  // accounting held as a suspect and accepted later.
  const Observation* observation = nullptr;
};

// A message the ingest thread did not accept, with the bytes as they came.
struct RejectedMessage {
  protocol::RejectReason reason{};
  std::string_view detail;  // what exactly was wrong, readable; may quote the link
  std::string_view topic;
  std::span<const uint8_t> data;
  size_t frames = 0;
  protocol::TimestampNs ground_ns = 0;
};

struct IngestTick {
  std::chrono::steady_clock::time_point now;
  protocol::TimestampNs now_ns = 0;  // wall clock
  bool idle = false;                 // nothing arrived since the last tick
  double silent_s = 0;               // since the link last carried telemetry (LinkWatch)
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void OnAccepted(const AcceptedPacket& packet) = 0;
  virtual void OnRejected(const RejectedMessage& /*message*/) {}
  virtual void OnTick(const IngestTick& /*tick*/) {}
  // The ingest thread is stopping and has handled its last message: flush and close. An error
  // is the station's exit status.
  [[nodiscard]] virtual Status OnStop() { return Status::Ok(); }
};

class Pipeline {
 public:
  // Adds `sink` after the ones already there and keeps it; returns it.
  template <typename T>
  T& Add(std::unique_ptr<T> sink) {
    T& added = *sink;
    sinks_.push_back(std::move(sink));
    return added;
  }
  // Adds the one sink that takes the decoded message away from the decoder (the realtime feed
  // hands it to another thread, which may free it). It sees every packet after all the others,
  // whenever it was added, so no sink reads a message that has already gone; replaces any taker
  // set before.
  template <typename T>
  T& SetTaker(std::unique_ptr<T> sink) {
    T& added = *sink;
    taker_ = std::move(sink);
    return added;
  }
  void Accepted(const AcceptedPacket& packet) {
    for (const auto& sink : sinks_) sink->OnAccepted(packet);
    if (taker_) taker_->OnAccepted(packet);
  }
  void Rejected(const RejectedMessage& message) {
    for (const auto& sink : sinks_) sink->OnRejected(message);
    if (taker_) taker_->OnRejected(message);
  }
  void Tick(const IngestTick& tick) {
    for (const auto& sink : sinks_) sink->OnTick(tick);
    if (taker_) taker_->OnTick(tick);
  }
  // Every sink is stopped, in order (the taker last), whatever the others answer; the first
  // error is returned.
  [[nodiscard]] Status Stop() {
    Status first = Status::Ok();
    auto stop = [&](Sink& sink) {
      Status s = sink.OnStop();
      if (!s.ok() && first.ok()) first = std::move(s);
    };
    for (const auto& sink : sinks_) stop(*sink);
    if (taker_) stop(*taker_);
    return first;
  }
  size_t size() const { return sinks_.size() + (taker_ ? 1 : 0); }

 private:
  std::vector<std::unique_ptr<Sink>> sinks_;
  std::unique_ptr<Sink> taker_;
};

}  // namespace lgs::station
