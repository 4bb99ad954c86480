// ControlServer: the station's end of the local control channel (a ZeroMQ ROUTER, ipc:// or
// loopback by default) that gsctl talks to: one station per channel (a lock beside it), a token
// file only the operator's account can read, one frame of JSON per request (control_protocol.h).
// It checks the envelope and the token; what a request means is the handler's.
//
// Not thread-safe: the Asio thread owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <zmq.hpp>

#include "groundstation/control_protocol.h"
#include "protocol/logger.h"
#include "protocol/status.h"

namespace lgs::station {

struct ControlOptions {
  std::string endpoint;                 // "" = transport::DefaultControlEndpoint(rover id)
  std::string token_path;               // "" = transport::DefaultControlTokenPath(rover id)
  bool allow_remote = false;            // an endpoint that is not ipc:// or loopback
  double refusal_log_interval_s = 5.0;  // refusals logged at most once per interval

  [[nodiscard]] Status Validate() const;
};

class ControlServer {
 public:
  // A request whose token matched, from `peer` (answer with Reply() or Refuse()).
  using Handler = std::function<void(const std::string& peer, const control::Envelope& request)>;

  ControlServer(zmq::context_t& context, Logger& log) : context_(context), log_(log) {}
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Takes the channel's lock, writes a fresh token and binds. Fails when another station holds
  // the channel.
  [[nodiscard]] Status Start(const ControlOptions& options, const std::string& rover_id);
  // Every request waiting; a handler's exception is an internal error answered and logged.
  void Read(const Handler& handler);
  void Reply(const std::string& peer, const control::Reply& reply);
  // Counted, logged (rate-limited) and answered with `why`.
  void Refuse(const std::string& peer, const std::string& why);

  bool running() const { return socket_ != nullptr; }
  uint64_t refused() const { return refused_; }
  const std::string& endpoint() const { return endpoint_; }
  const std::string& token_path() const { return token_path_; }

 private:
  zmq::context_t& context_;
  Logger& log_;
  ControlOptions options_;
  std::string endpoint_, token_path_, token_;
  std::unique_ptr<zmq::socket_t> socket_;
  int lock_fd_ = -1;  // flock held while this station owns the channel
  uint64_t refused_ = 0;
  std::chrono::steady_clock::time_point last_refusal_log_{};
};

}  // namespace lgs::station
