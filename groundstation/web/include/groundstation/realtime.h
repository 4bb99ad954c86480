// Live telemetry for the web UI over WebSocket.
//
// RealtimeFeed is the ingest thread's side: for the streams some client watches, it keeps each
// accepted packet's decoded message (the web never parses a packet again) in a small per-stream
// queue that drops the oldest (counted) — ingest never waits for the web, and a stream at 100k
// packets/s cannot crowd out a 1 Hz one. Nothing is copied: RealtimeSink takes the message the
// decoder filled and gives the decoder one to fill next (the oldest dropped, or one the web
// handed back once it had formatted it), so a steady stream neither copies nor allocates.
// Thread-safe. RealtimeSink puts the feed in the ingest pipeline (groundstation/sink.h).
// A message in the queue is read by the web thread while the ingest thread's later sinks may
// still read it for the same packet: both only read.
//
// RealtimeServer is the Asio thread's side: WebSocket sessions that subscribe and unsubscribe
// per field, and every batch interval one JSON message per client with the new samples of its
// fields. Each client has a bounded queue of samples (drop oldest, counted and reported to the
// client), so a slow or stuck browser only loses its own samples. Bad input — not JSON, unknown
// fields, too many subscriptions, binary or oversized frames — gets an error message; a client
// that keeps sending it is closed. Not thread-safe: everything runs on the io_context's thread.
//
// Client → server: {"subscribe": ["housekeeping.battery_soc_percent", ...]}, {"unsubscribe": [...]}
// Server → client: {"type":"subscribed","keys":[...]}, {"type":"error","error":"...",...},
//                  {"type":"data","dropped":N,"data":[{"key","utc","scet","value"}, ...]}
// (utc = ground receipt time, scet = on-board time, both in ms since 1970).
#pragma once

#include <google/protobuf/message.h>

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "groundstation/sink.h"
#include "protocol/stream_registry.h"

namespace lgs::station {

class RealtimeFeed {
 public:
  struct Packet {
    protocol::StreamId stream{};
    uint64_t ground_ns = 0, onboard_ns = 0;
    std::unique_ptr<google::protobuf::Message> message;  // the decoded message
  };

  explicit RealtimeFeed(size_t depth_per_stream) : depth_(depth_per_stream) {}

  // Cheap enough for every packet: one relaxed load.
  bool Wants(protocol::StreamId stream) const {
    return (wanted_.load(std::memory_order_relaxed) >> static_cast<unsigned>(stream)) & 1u;
  }
  // Queues `message`; returns a message of the same stream for the caller to decode into next
  // (the oldest dropped, or one given back), or null when there is none.
  std::unique_ptr<google::protobuf::Message> Offer(
      protocol::StreamId stream, uint64_t ground_ns, uint64_t onboard_ns,
      std::unique_ptr<google::protobuf::Message> message);
  void SetWanted(uint32_t stream_mask) { wanted_.store(stream_mask, std::memory_order_relaxed); }
  // Everything queued since the last call, oldest first per stream.
  std::vector<Packet> TakeAll();
  // Gives formatted packets' messages back for reuse.
  void Recycle(std::vector<Packet>& packets);
  uint64_t offered() const;
  uint64_t dropped() const;

 private:
  const size_t depth_;
  std::atomic<uint32_t> wanted_{0};
  mutable std::mutex mutex_;
  std::array<std::deque<Packet>, protocol::kStreamCount> queues_;  // guarded by mutex_
  // Messages to reuse, per stream (at most depth_ each).                   guarded by mutex_
  std::array<std::vector<std::unique_ptr<google::protobuf::Message>>, protocol::kStreamCount>
      spare_;
  uint64_t offered_ = 0, dropped_ = 0;  // guarded by mutex_
};

class RealtimeSink final : public Sink {
 public:
  // `decoder` is the one that decoded the packets this sink sees.
  RealtimeSink(RealtimeFeed& feed, protocol::TelemetryDecoder& decoder)
      : feed_(feed), decoder_(decoder) {}
  void OnAccepted(const AcceptedPacket& a) override {
    const protocol::StreamId stream = a.packet.stream->id;
    if (!feed_.Wants(stream)) return;
    decoder_.GiveMessage(stream, feed_.Offer(stream, a.ground_ns, a.packet.packet.onboard_time_ns,
                                             decoder_.TakeMessage(stream)));
  }

 private:
  RealtimeFeed& feed_;
  protocol::TelemetryDecoder& decoder_;
};

struct RealtimeOptions {
  double batch_interval_s = 0.1;
  // Packets of one stream handed from ingest to the web per batch interval (the newest; older
  // ones are dropped and counted): 80 packets/s per stream is more than a plot can show, and it
  // bounds what the web costs the station however fast the rover streams. History has them all.
  size_t packets_per_stream_per_batch = 8;
  size_t max_clients = 32;
  size_t max_queue_samples = 20'000;  // per client; beyond it the oldest are dropped
  size_t max_batch_samples = 5'000;   // per message
  size_t max_subscriptions = 1'000;   // per client (there are fewer fields than that)
  size_t max_message_bytes = 64 * 1024;
  size_t max_bad_messages = 20;  // then the client is closed (policy violation)
};

struct RealtimeStats {
  uint64_t clients = 0, clients_total = 0, refused = 0;
  uint64_t samples_sent = 0, samples_dropped = 0, messages_sent = 0, bad_messages = 0;
  uint64_t feed_dropped = 0;  // packets the feed dropped before the web saw them
};

struct RealtimeHub;  // the sessions' shared state (web/src/shared_state.h)

class RealtimeServer {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  RealtimeServer(boost::asio::io_context& io, RealtimeFeed& feed, RealtimeOptions options = {});
  ~RealtimeServer();

  // Takes over a connection whose HTTP request asked for a WebSocket upgrade.
  void Accept(boost::beast::tcp_stream stream, Request request);
  void Start();  // the batch timer
  void Stop();   // closes every client
  RealtimeStats stats() const;

 private:
  std::shared_ptr<RealtimeHub> impl_;
};

}  // namespace lgs::station
