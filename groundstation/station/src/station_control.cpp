#include "protocol/text.h"
#include "station_impl.h"

namespace lgs::station {

Status Station::Impl::StartControl() {
  StationOptions::Commanding& c = options.commanding;
  control_endpoint = c.control_endpoint.empty()
                         ? transport::DefaultControlEndpoint(options.rover_id)
                         : c.control_endpoint;
  control_token_path =
      c.token_path.empty() ? transport::DefaultControlTokenPath(options.rover_id) : c.token_path;
  // Checked here too: without --command the channel still exists (for alarms).
  if (Status s = transport::CheckControlEndpoint(control_endpoint, c.allow_remote); !s.ok()) {
    return s;
  }
  if (c.control_endpoint.empty() || c.token_path.empty()) {
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
  if (control_endpoint.rfind("ipc://", 0) == 0) {
    lock_path = control_endpoint.substr(6) + ".lock";
  } else {
    std::string name = control_endpoint;
    for (char& ch : name) {
      if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    }
    if (Status s = transport::PrepareControlDirectory(transport::DefaultControlDirectory());
        !s.ok()) {
      return s;
    }
    lock_path = fmt::format("{}/{}.lock", transport::DefaultControlDirectory(), name);
  }
  control_lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (control_lock_fd < 0 || ::flock(control_lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return Status::Error(fmt::format(
        "another station holds the control channel {} ({}): stop it first, or give this one "
        "its own --control and --control-token",
        control_endpoint, lock_path));
  }
  auto token = transport::CreateControlToken(control_token_path);
  if (!token.ok()) return token.error();
  control_token = std::move(*token);
  control = std::make_unique<zmq::socket_t>(context, zmq::socket_type::router);
  control->set(zmq::sockopt::linger, 0);
  control->set(zmq::sockopt::maxmsgsize, kMaxControlMessageBytes);
  try {
    control->bind(control_endpoint);
  } catch (const zmq::error_t& e) {
    return Status::Error(
        fmt::format("cannot bind the control channel to '{}': {}", control_endpoint, e.what()));
  }
  return Status::Ok();
}

void Station::Impl::Reply(const std::string& peer, const nlohmann::json& message) {
  const std::string body = text::JsonDump(message);
  try {
    static_cast<void>(
        control->send(zmq::buffer(peer), zmq::send_flags::sndmore | zmq::send_flags::dontwait));
    static_cast<void>(control->send(zmq::buffer(body), zmq::send_flags::dontwait));
  } catch (const zmq::error_t&) {
    // The client went away: its commands go on; the history has them.
  }
}

void Station::Impl::ReadControl() {
  zmq::message_t peer, body, extra;
  while (true) {
    try {
      if (!control->recv(peer, zmq::recv_flags::dontwait)) return;
    } catch (const zmq::error_t&) {
      return;
    }
    size_t frames = 0;
    bool more = peer.more();
    while (more) {
      static_cast<void>(control->recv(frames == 0 ? body : extra));
      ++frames;
      more = (frames == 1 ? body : extra).more();
    }
    const std::string from = peer.to_string();
    if (frames != 1) {
      Reply(from, {{"error", "a control request is one frame of JSON"}});
      continue;
    }
    try {
      HandleControlRequest(from, body.to_string_view());
    } catch (const std::exception& e) {
      // A request this code did not foresee must not take the station down; its text stays in
      // the log, not in the answer.
      ++control_refused;
      log.Error("control request failed: {}", text::EscapeForTerminal(e.what(), 200));
      Reply(from, {{"error", "internal error (the station logged it)"}});
    }
  }
}

void Station::Impl::HandleControlRequest(const std::string& peer, std::string_view body) {
  const auto refuse = [&](const std::string& why) {
    ++control_refused;
    const auto now = Clock::now();
    if (now - last_refusal_log >= Seconds(options.reject_log_interval_s)) {
      last_refusal_log = now;
      log.Warn("control request refused: {} ({} refused so far)", text::EscapeForTerminal(why, 300),
               control_refused);
    }
    Reply(peer, {{"error", why}});
  };
  nlohmann::json request = nlohmann::json::parse(body, nullptr, false);
  if (request.is_discarded() || !request.is_object()) return refuse("not a JSON object");
  const auto token = request.find("token");
  if (token == request.end() || !token->is_string() || *token != control_token) {
    return refuse("bad or missing token");
  }
  // Only strings are taken from the request; anything else counts as absent.
  const auto text_field = [&](const char* name, const char* otherwise) {
    const auto it = request.find(name);
    return it != request.end() && it->is_string() ? it->get<std::string>() : std::string(otherwise);
  };
  const std::string op = text_field("op", "");
  if (op == "alarms") {
    if (!alarms) return refuse("limit checking is off (--limits none)");
    return Reply(peer, {{"alarms", CurrentAlarmsJson()}});
  }
  if (op == "ack") {
    if (!alarms) return refuse("limit checking is off (--limits none)");
    const std::string id = text_field("id", "");
    if (id.empty()) return refuse("ack needs an alarm id, or \"all\"");
    if (!bridge.ToIngest([this, id, by = text_field("by", "control channel"), peer] {
          Acknowledge(id, by, peer);
        })) {
      return refuse("the station is too busy to take an acknowledgement now; try again");
    }
    return;  // the ingest thread answers once it has acknowledged
  }
  if (!tracker) return refuse("this station does not command (start it with --command)");
  if (op == "status") {
    const protocol::RoverContext rover = RoverNow();
    return Reply(peer, {{"commands", RecentCommandsJson(*tracker)},
                        {"rover_mode", protocol::ModeName(rover.mode)},
                        {"in_flight", tracker->active()}});
  }
  if (op != "command") return refuse(fmt::format("unknown op '{}'", text::SanitizeUtf8(op, 32)));
  auto parsed = CommandRequestFromJson(request, "control channel");
  if (!parsed.ok()) return refuse(parsed.error().message());
  const CommandRequest& command = *parsed;
  CommandTracker::Transitions transitions;
  const uint64_t id = tracker->Submit(command, RoverNow(), Clock::now(), transitions);
  command_clients[id] = peer;
  Publish(transitions);
}

}  // namespace lgs::station
