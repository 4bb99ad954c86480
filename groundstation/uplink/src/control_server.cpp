#include "groundstation/control_server.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cmath>

#include "protocol/text.h"
#include "transport/control_channel.h"

namespace lgs::station {

namespace {

// Control requests larger than this are refused (a command is a few hundred bytes).
constexpr int64_t kMaxControlMessageBytes = 64 * 1024;

}  // namespace

Status ControlOptions::Validate() const {
  if (!(refusal_log_interval_s >= 0.0) || !std::isfinite(refusal_log_interval_s)) {
    return Status::Error("intervals must be finite and not negative");
  }
  if (!endpoint.empty()) return transport::CheckControlEndpoint(endpoint, allow_remote);
  return Status::Ok();
}

ControlServer::~ControlServer() {
  socket_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Status ControlServer::Start(const ControlOptions& options, const std::string& rover_id) {
  options_ = options;
  endpoint_ =
      options.endpoint.empty() ? transport::DefaultControlEndpoint(rover_id) : options.endpoint;
  token_path_ = options.token_path.empty() ? transport::DefaultControlTokenPath(rover_id)
                                           : options.token_path;
  // Checked here too: the default endpoint is only known now.
  if (Status s = transport::CheckControlEndpoint(endpoint_, options.allow_remote); !s.ok()) {
    return s;
  }
  if (options.endpoint.empty() || options.token_path.empty()) {
    if (Status s = transport::PrepareControlDirectory(transport::DefaultControlDirectory());
        !s.ok()) {
      return s;
    }
  }
  // One station per control channel: a second one would take the socket over silently (libzmq
  // replaces an ipc socket file) and rewrite the token under the first one's clients. The lock
  // belongs to the endpoint, whatever token file each station names: beside the socket file for
  // ipc://, in the control directory for tcp://.
  std::string lock_path;
  if (endpoint_.rfind("ipc://", 0) == 0) {
    lock_path = endpoint_.substr(6) + ".lock";
  } else {
    std::string name = endpoint_;
    for (char& ch : name) {
      if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    }
    if (Status s = transport::PrepareControlDirectory(transport::DefaultControlDirectory());
        !s.ok()) {
      return s;
    }
    lock_path = fmt::format("{}/{}.lock", transport::DefaultControlDirectory(), name);
  }
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return Status::Error(fmt::format(
        "another station holds the control channel {} ({}): stop it first, or give this one "
        "its own --control and --control-token",
        endpoint_, lock_path));
  }
  auto token = transport::CreateControlToken(token_path_);
  if (!token.ok()) return token.error();
  token_ = std::move(*token);
  socket_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::router);
  socket_->set(zmq::sockopt::linger, 0);
  socket_->set(zmq::sockopt::maxmsgsize, kMaxControlMessageBytes);
  try {
    socket_->bind(endpoint_);
  } catch (const zmq::error_t& e) {
    socket_.reset();
    return Status::Error(
        fmt::format("cannot bind the control channel to '{}': {}", endpoint_, e.what()));
  }
  return Status::Ok();
}

void ControlServer::Reply(const std::string& peer, const control::Reply& reply) {
  const std::string body = text::JsonDump(control::ToJson(reply));
  try {
    static_cast<void>(
        socket_->send(zmq::buffer(peer), zmq::send_flags::sndmore | zmq::send_flags::dontwait));
    static_cast<void>(socket_->send(zmq::buffer(body), zmq::send_flags::dontwait));
  } catch (const zmq::error_t&) {
    // The client went away: its commands go on; the history has them.
  }
}

void ControlServer::Refuse(const std::string& peer, const std::string& why) {
  ++refused_;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_refusal_log_ >= std::chrono::duration<double>(options_.refusal_log_interval_s)) {
    last_refusal_log_ = now;
    log_.Warn("control request refused: {} ({} refused so far)", text::EscapeForTerminal(why, 300),
              refused_);
  }
  Reply(peer, control::ErrorReply{why});
}

void ControlServer::Read(const Handler& handler) {
  if (!socket_) return;
  zmq::message_t peer, body, extra;
  while (true) {
    try {
      if (!socket_->recv(peer, zmq::recv_flags::dontwait)) return;
    } catch (const zmq::error_t&) {
      return;
    }
    size_t frames = 0;
    bool more = peer.more();
    while (more) {
      static_cast<void>(socket_->recv(frames == 0 ? body : extra));
      ++frames;
      more = (frames == 1 ? body : extra).more();
    }
    const std::string from = peer.to_string();
    if (frames != 1) {
      Reply(from, control::ErrorReply{"a control request is one frame of JSON"});
      continue;
    }
    try {
      auto request = control::OpenRequest(body.to_string_view(), token_);
      if (!request.ok()) {
        Refuse(from, request.error().message());
        continue;
      }
      handler(from, *request);
    } catch (const std::exception& e) {
      // A request this code did not foresee must not take the station down; its text stays in
      // the log, not in the answer.
      ++refused_;
      log_.Error("control request failed: {}", text::EscapeForTerminal(e.what(), 200));
      Reply(from, control::ErrorReply{"internal error (the station logged it)"});
    }
  }
}

}  // namespace lgs::station
