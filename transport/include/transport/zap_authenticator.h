// ZapAuthenticator: the ZeroMQ authentication (ZAP, RFC 27) handler of one context. While it
// lives, every CURVE server socket of that context asks it about each connecting client: a
// client whose long-term public key is on the allow list passes; any other is refused, counted
// and logged (at most one line per key per minute) as an authentication failure.
//
// Create it before binding the server sockets; destroy it after closing them.
#pragma once

#include <atomic>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "protocol/logger.h"

namespace lgs::transport {

class ZapAuthenticator {
 public:
  // `allowed` are Z85 public keys. `what` names the endpoint owner in log lines ("rover").
  // Refusals are logged to `log` (rate-limited per key); it must outlive the authenticator.
  ZapAuthenticator(zmq::context_t& context, std::vector<std::string> allowed, std::string what,
                   Logger& log = NullLogger());
  ~ZapAuthenticator();
  ZapAuthenticator(const ZapAuthenticator&) = delete;
  ZapAuthenticator& operator=(const ZapAuthenticator&) = delete;

  uint64_t accepted() const { return accepted_.load(); }
  uint64_t refused() const { return refused_.load(); }

 private:
  void Run();

  zmq::socket_t socket_;
  std::set<std::string> allowed_;
  std::string what_;
  Logger& log_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> accepted_{0}, refused_{0};
  std::thread thread_;
};

}  // namespace lgs::transport
