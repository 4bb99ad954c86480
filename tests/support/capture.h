// Test support: a real ZeroMQ subscriber on a background thread that keeps every message it
// receives, byte for byte — the ground truth of what a publisher put on the wire.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

namespace lgs::test {

struct WireMessage {
  std::string topic;
  std::string packet;
  bool operator==(const WireMessage&) const = default;
};

class WireCapture {
 public:
  explicit WireCapture(const std::string& endpoint, const std::string& prefix = "tm.")
      : socket_(context_, zmq::socket_type::sub) {
    socket_.set(zmq::sockopt::rcvhwm, 0);
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::rcvtimeo, 50);
    socket_.set(zmq::sockopt::subscribe, prefix);
    socket_.connect(endpoint);
    thread_ = std::thread([this] { Run(); });
  }
  ~WireCapture() {
    stop_ = true;
    thread_.join();
  }
  size_t size() {
    std::lock_guard lock(mutex_);
    return messages_.size();
  }
  std::vector<WireMessage> messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }

 private:
  void Run() {
    while (!stop_) {
      zmq::message_t topic, packet;
      if (!socket_.recv(topic)) continue;
      WireMessage m{topic.to_string(), {}};
      if (topic.more() && socket_.recv(packet)) m.packet = packet.to_string();
      std::lock_guard lock(mutex_);
      messages_.push_back(std::move(m));
    }
  }
  zmq::context_t context_;
  zmq::socket_t socket_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<WireMessage> messages_;
};

}  // namespace lgs::test
