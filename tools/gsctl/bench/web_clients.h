// gsctl bench, web clients: browser stand-ins (WebSocket clients subscribed to every telemetry
// field) and one-shot HTTP GETs on loopback. WebClients runs a thread per client; its counters
// are atomic, the rest is for the thread that made it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace lgs::gsctl::bench {

// One HTTP GET on loopback; status 0 when the connection fails.
std::pair<unsigned, std::string> HttpGet(int port, const std::string& target);

// Browser stand-ins: WebSocket clients subscribed to every telemetry field. Browsers run on
// operators' machines, not the station's: here they share its two cores, so their threads run
// at nice 19 (they get what the station leaves) and only count messages and bytes; the station
// reports the samples it sent and dropped.
class WebClients {
 public:
  WebClients(int port, size_t count);
  ~WebClients() { Stop(); }
  bool WaitConnected(size_t count, std::chrono::seconds timeout);
  void Stop();
  uint64_t messages() const { return messages_; }
  uint64_t bytes() const { return bytes_; }

 private:
  void Run(int port);

  std::string subscribe_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::vector<int> fds_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> connected_{0};
  std::atomic<uint64_t> messages_{0}, bytes_{0};
};

}  // namespace lgs::gsctl::bench
