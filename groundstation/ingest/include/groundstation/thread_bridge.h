// ThreadBridge: the one way work crosses between the station's Asio thread (HTTP, WebSocket,
// control channel, uplink, timers) and its ingest thread (receive, decode, account, sinks).
//
// Each direction is a bounded queue of closures, counted: to the ingest thread, run at its next
// tick (within one poll of the link, at most 100 ms); to the Asio thread, posted to the
// io_context. What crosses is a copy owned by the closure, never a reference into the other
// thread's state: alarm acknowledgements and command history go to ingest; verification
// reports, alarm and link-watch snapshots, the rover's state, replies and stop requests come
// back. A full direction refuses the work and counts it (a stuck side must not grow the other
// without bound); the callers say what a refusal means for them.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace lgs::station {

struct BridgeDirectionStats {
  uint64_t sent = 0;     // accepted
  uint64_t dropped = 0;  // refused: the direction was full
  size_t depth = 0;      // waiting now
  size_t max_depth = 0;  // most ever waiting
};

struct BridgeStats {
  BridgeDirectionStats to_ingest, to_asio;
};

class ThreadBridge {
 public:
  using Work = std::function<void()>;
  ThreadBridge(boost::asio::io_context& io, size_t depth_per_direction);

  // Queues `work` for the ingest thread. False when full (counted).
  bool ToIngest(Work work);
  // Posts `work` to the Asio thread. False when full (counted).
  bool ToAsio(Work work);
  // Ingest thread: runs the work queued for it, oldest first; returns how many ran.
  size_t RunIngestWork();

  BridgeStats stats() const;

 private:
  boost::asio::io_context& io_;
  const size_t depth_;
  mutable std::mutex mutex_;
  std::vector<Work> to_ingest_;        // guarded by mutex_
  std::vector<Work> running_;          // ingest thread only
  BridgeDirectionStats ingest_stats_;  // guarded by mutex_
  std::atomic<size_t> asio_depth_{0};
  std::atomic<size_t> asio_max_depth_{0};
  std::atomic<uint64_t> asio_sent_{0}, asio_dropped_{0};
};

}  // namespace lgs::station
