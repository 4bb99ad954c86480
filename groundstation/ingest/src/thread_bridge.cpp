#include "groundstation/thread_bridge.h"

#include <boost/asio/post.hpp>

namespace lgs::station {

ThreadBridge::ThreadBridge(boost::asio::io_context& io, size_t depth_per_direction)
    : io_(io), depth_(depth_per_direction) {}

bool ThreadBridge::ToIngest(Work work) {
  std::lock_guard lock(mutex_);
  if (to_ingest_.size() >= depth_) {
    ++ingest_stats_.dropped;
    return false;
  }
  to_ingest_.push_back(std::move(work));
  ++ingest_stats_.sent;
  ingest_stats_.max_depth = std::max(ingest_stats_.max_depth, to_ingest_.size());
  return true;
}

size_t ThreadBridge::RunIngestWork() {
  {
    std::lock_guard lock(mutex_);
    if (to_ingest_.empty()) return 0;
    running_.swap(to_ingest_);
  }
  // Run outside the lock: the work may queue more (for either side).
  for (Work& work : running_) work();
  const size_t ran = running_.size();
  running_.clear();
  return ran;
}

bool ThreadBridge::ToAsio(Work work) {
  const size_t depth = asio_depth_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (depth > depth_) {
    asio_depth_.fetch_sub(1, std::memory_order_relaxed);
    asio_dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  size_t seen = asio_max_depth_.load(std::memory_order_relaxed);
  while (depth > seen && !asio_max_depth_.compare_exchange_weak(seen, depth)) {
  }
  asio_sent_.fetch_add(1, std::memory_order_relaxed);
  boost::asio::post(io_, [this, work = std::move(work)] {
    asio_depth_.fetch_sub(1, std::memory_order_relaxed);
    work();
  });
  return true;
}

BridgeStats ThreadBridge::stats() const {
  BridgeStats s;
  {
    std::lock_guard lock(mutex_);
    s.to_ingest = ingest_stats_;
    s.to_ingest.depth = to_ingest_.size();
  }
  s.to_asio.sent = asio_sent_.load(std::memory_order_relaxed);
  s.to_asio.dropped = asio_dropped_.load(std::memory_order_relaxed);
  s.to_asio.depth = asio_depth_.load(std::memory_order_relaxed);
  s.to_asio.max_depth = asio_max_depth_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace lgs::station
