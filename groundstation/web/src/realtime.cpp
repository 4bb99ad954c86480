// RealtimeFeed (the hand-over from the ingest thread) and RealtimeServer (the realtime
// endpoint: the hub and its sessions, shared_state.h and websocket_session.h).
#include "groundstation/realtime.h"

#include <google/protobuf/message.h>

#include <iterator>

#include "shared_state.h"
#include "websocket_session.h"

namespace lgs::station {

std::unique_ptr<google::protobuf::Message> RealtimeFeed::Offer(
    protocol::StreamId stream, uint64_t ground_ns, uint64_t onboard_ns,
    std::unique_ptr<google::protobuf::Message> message) {
  const auto s = static_cast<size_t>(stream);
  std::unique_ptr<google::protobuf::Message> spare;
  std::lock_guard lock(mutex_);
  auto& queue = queues_[s];
  ++offered_;
  if (queue.size() >= depth_) {
    spare = std::move(queue.front().message);  // the oldest is dropped: its message is reused
    queue.pop_front();
    ++dropped_;
  } else if (!spare_[s].empty()) {
    spare = std::move(spare_[s].back());
    spare_[s].pop_back();
  }
  queue.push_back({stream, ground_ns, onboard_ns, std::move(message)});
  return spare;
}

void RealtimeFeed::Recycle(std::vector<Packet>& packets) {
  std::lock_guard lock(mutex_);
  for (Packet& p : packets) {
    auto& spare = spare_[static_cast<size_t>(p.stream)];
    if (p.message && spare.size() < depth_) spare.push_back(std::move(p.message));
  }
  packets.clear();
}

std::vector<RealtimeFeed::Packet> RealtimeFeed::TakeAll() {
  std::vector<Packet> out;
  std::lock_guard lock(mutex_);
  for (auto& queue : queues_) {
    std::move(queue.begin(), queue.end(), std::back_inserter(out));
    queue.clear();
  }
  return out;
}

uint64_t RealtimeFeed::offered() const {
  std::lock_guard lock(mutex_);
  return offered_;
}

uint64_t RealtimeFeed::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

RealtimeServer::RealtimeServer(asio::io_context& io, RealtimeFeed& feed, RealtimeOptions options)
    : impl_(std::make_shared<RealtimeHub>(io, feed, options)) {}

RealtimeServer::~RealtimeServer() {
  Stop();
}

void RealtimeServer::Accept(beast::tcp_stream stream, Request request) {
  impl_->Accept(std::move(stream), std::move(request));
}

void RealtimeServer::Start() {
  impl_->Tick();
}

void RealtimeServer::Stop() {
  impl_->timer.cancel();
  auto sessions = std::move(impl_->sessions);
  impl_->sessions.clear();
  for (auto& [raw, session] : sessions) session->Close();
  // Sessions hold the server and the server held them: dropped here, not by the removals
  // Close() posts, which a stopping io_context may never run.
  impl_->feed.SetWanted(0);
}

RealtimeStats RealtimeServer::stats() const {
  RealtimeStats s = impl_->stats;
  s.clients = impl_->sessions.size();
  s.feed_dropped = impl_->feed.dropped();
  return s;
}

}  // namespace lgs::station
