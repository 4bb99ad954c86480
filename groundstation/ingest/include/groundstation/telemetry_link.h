// TelemetryLink: the ingest thread. It owns the SUB socket to the rover's publishers (CURVE
// client when keys are given), its monitor, the link watch and the decoder; it receives
// [topic][packet] messages, verifies and decodes them, accounts for every sequence number (packets
// with an implausible one are held until the accounting decides) and hands each accepted packet to
// the pipeline of sinks. Between polls it runs the work the Asio thread sent over the bridge and
// ticks the sinks.
//
// Thread-safety: Open(), Start() and Stop() from the owning thread; the hooks and
// SetGapFillWaiting() run on the ingest thread; error(), auth_failures() and WatchSnapshot() are
// for the owner once Stop() has returned (auth_failures() at any time).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "groundstation/bounded_queue.h"
#include "groundstation/link_accounting.h"
#include "groundstation/link_watch.h"
#include "groundstation/sink.h"
#include "groundstation/thread_bridge.h"
#include "protocol/logger.h"
#include "protocol/status.h"
#include "protocol/telemetry_decoder.h"
#include "transport/curve_client.h"

namespace lgs::station {

struct LinkOptions {
  std::vector<std::string> connect = {"tcp://127.0.0.1:5555"};  // rover publishers
  // Stop by itself once packets have arrived and then none for this long (replays, benchmarks).
  std::optional<double> idle_exit_s;
  // ZeroMQ receive side. The HWM is high because the SUB queue is the only buffer between the
  // kernel and the ingest thread: at 100k packets/s it absorbs about a second of stall.
  int receive_hwm = 100'000;
  // Anything above this is dropped by libzmq at the connection (which it then closes and does
  // not retry: LinkWatch connects again). It sits well above the largest legal packet (64 KiB)
  // so that oversized but bounded messages still reach the decoder and are counted and reported
  // by reason, and low enough that the receive queue (receive_hwm messages) cannot hold more
  // than that many times this.
  int64_t max_message_bytes = 1LL << 20;
  // Silence and drops on the telemetry link: detected, reported, reconnected.
  LinkWatchOptions watch;
  double auth_log_interval_s = 5.0;  // authentication failures logged at most once per interval

  [[nodiscard]] Status Validate() const;
};

class TelemetryLink {
 public:
  struct Hooks {
    // Asks the station to stop (idle exit, or a receive failure). False: not taken now (the
    // Asio thread is stuck); asked again at the next poll.
    std::function<bool()> request_stop;
    // The link watch's state, every 100 ms, for the Asio thread.
    std::function<void(LinkWatchSnapshot)> publish_watch;
  };

  // `accounting`, `pipeline`, `bridge`, `view` and `log` must outlive this link; the pipeline
  // is completed (with sinks that may use decoder()) before Start().
  TelemetryLink(LinkOptions options, std::string rover_id,
                std::optional<transport::CurveClient> curve, zmq::context_t& context,
                LinkAccounting& accounting, Pipeline& pipeline, ThreadBridge& bridge,
                BoundedQueue<std::string>& view, Logger& log, Hooks hooks);
  ~TelemetryLink();
  TelemetryLink(const TelemetryLink&) = delete;
  TelemetryLink& operator=(const TelemetryLink&) = delete;

  // Creates the socket and its monitor, and connects to every endpoint.
  [[nodiscard]] Status Open();
  protocol::TelemetryDecoder& decoder() { return decoder_; }

  void Start();
  // Drains what already arrived, decides held packets, stops the sinks and joins the thread.
  void Stop();

  // Ingest thread: gap fill still asks for packets, so idle exit waits four times as long.
  void SetGapFillWaiting(bool waiting) { gap_fill_waiting_ = waiting; }

  // After Stop(): why the ingest thread stopped by itself, or why a sink failed to close.
  const std::string& error() const { return error_; }
  uint64_t auth_failures() const { return auth_failures_.load(); }
  LinkWatchSnapshot WatchSnapshot() const;

 private:
  struct HeldPacket {
    std::string topic, bytes;
    protocol::TimestampNs ground_ns = 0;
    uint32_t seq = 0;
  };

  void Loop();
  void HandleMessage(std::string_view topic, std::span<const uint8_t> packet, size_t frames);
  void Deliver(const protocol::DecodedPacket& p, protocol::TimestampNs ground_ns,
               const Observation* latency = nullptr);
  void Hold(const protocol::DecodedPacket& p, std::string_view topic,
            protocol::TimestampNs ground_ns);
  std::optional<HeldPacket> TakeHeld(protocol::StreamId stream, uint32_t seq);
  void SetAside(protocol::StreamId stream, uint32_t seq);  // rejected as implausible_sequence
  void Release(protocol::StreamId stream, uint32_t seq);   // accepted after all
  void ExpireSuspects(protocol::TimestampNs now_ns);
  void ReadMonitor();
  // Reconnects what libzmq will not, reports silence; returns the seconds of silence.
  double WatchLink();

  LinkOptions options_;
  std::string rover_id_;
  std::optional<transport::CurveClient> curve_;
  zmq::context_t& context_;
  LinkAccounting& accounting_;
  Pipeline& pipeline_;
  ThreadBridge& bridge_;
  BoundedQueue<std::string>& view_;
  Logger& log_;
  Hooks hooks_;
  protocol::TelemetryDecoder decoder_;

  std::unique_ptr<zmq::socket_t> socket_, monitor_;
  std::unique_ptr<LinkWatch> watch_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::string error_;

  // Ingest thread.
  std::array<std::vector<HeldPacket>, protocol::kStreamCount> suspects_;
  std::vector<Expired> expired_;
  bool gap_fill_waiting_ = false;
  std::chrono::steady_clock::time_point last_watch_post_{};
  // CURVE handshakes: a publisher that cannot prove it holds the rover's key fails them.
  std::atomic<uint64_t> auth_failures_{0};
  std::map<std::string, bool> awaiting_handshake_;  // endpoint -> connected, not authenticated
  std::chrono::steady_clock::time_point last_auth_log_{};
  bool authenticated_once_ = false;
};

}  // namespace lgs::station
