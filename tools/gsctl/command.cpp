// gsctl command: hand a command (or a plan of them) to the running station over its control
// channel and follow it through its stages until the rover reports completion.
#include <fmt/format.h>
#include <google/protobuf/message.h>
#include <pwd.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "commands.h"
#include "common.h"
#include "groundstation/control_protocol.h"
#include "protocol/command_dictionary.h"
#include "protocol/regular_file.h"
#include "protocol/text.h"
#include "transport/control_channel.h"

namespace lgs::gsctl {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using station::CommandRequest;
namespace control = station::control;

// The station is asked whether it is still there after this much silence.
constexpr auto kLivenessInterval = std::chrono::seconds(5);

// Who is at the keyboard, for the command and alarm history.
std::string UserName() {
  if (const char* user = std::getenv("USER"); user != nullptr && user[0] != '\0') return user;
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr) return pw->pw_name;
  return fmt::format("uid {}", ::getuid());
}

struct PlanStep {
  std::string name;
  std::vector<protocol::CommandArgument> arguments;
};

Result<std::vector<PlanStep>> ParseCommandLine(const CommandOptions& o) {
  PlanStep step;
  step.name = o.name;
  for (const std::string& a : o.arguments) {
    const size_t eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::Error(fmt::format("argument '{}' is not NAME=VALUE", a));
    }
    step.arguments.emplace_back(a.substr(0, eq), a.substr(eq + 1));
  }
  return std::vector<PlanStep>{std::move(step)};
}

Result<std::vector<PlanStep>> LoadPlan(const std::string& path) {
  // Read first, so a missing file says "no such file" (YAML::LoadFile says "bad file") and a
  // FIFO is refused instead of waited on.
  auto text = protocol::ReadRegularFile(path, "plan", 1 << 20);
  if (!text.ok()) return text.error();
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::Exception& e) {
    return Status::Error(fmt::format("cannot read plan '{}': {}", path, e.what()));
  }
  const YAML::Node steps = root.IsMap() ? root["steps"] : root;
  if (!steps || !steps.IsSequence() || steps.size() == 0) {
    return Status::Error(fmt::format(
        "plan '{}' has no steps (a list of {{command: NAME, args: {{NAME: VALUE}}}})", path));
  }
  std::vector<PlanStep> plan;
  for (size_t i = 0; i < steps.size(); ++i) {
    const YAML::Node s = steps[i];
    const auto where = [&] { return fmt::format("plan '{}' step {}", path, i + 1); };
    if (!s.IsMap() || !s["command"] || !s["command"].IsScalar()) {
      return Status::Error(where() + ": needs 'command: NAME'");
    }
    PlanStep step;
    step.name = s["command"].as<std::string>();
    for (const auto& entry : s) {
      const std::string key = entry.first.as<std::string>();
      if (key != "command" && key != "args") {
        return Status::Error(fmt::format("{}: unknown key '{}' (command, args)", where(), key));
      }
    }
    if (const YAML::Node args = s["args"]; args) {
      if (!args.IsMap()) return Status::Error(where() + ": args must be a map of NAME: VALUE");
      for (const auto& a : args) {
        if (!a.second.IsScalar()) {
          return Status::Error(fmt::format("{}: argument {} must be a single value", where(),
                                           a.first.as<std::string>()));
        }
        step.arguments.emplace_back(a.first.as<std::string>(), a.second.as<std::string>());
      }
    }
    plan.push_back(std::move(step));
  }
  return plan;
}

// Checks every step against the dictionary before anything is sent: a typo in step 5 must not
// be found after steps 1-4 have moved the rover.
Status CheckPlan(const std::vector<PlanStep>& plan, bool confirmed) {
  for (size_t i = 0; i < plan.size(); ++i) {
    const protocol::CommandInfo* info = protocol::FindCommandByName(plan[i].name);
    const std::string where = plan.size() > 1 ? fmt::format("step {}: ", i + 1) : "";
    if (info == nullptr || !info->operator_command) {
      return Status::Error(
          fmt::format("{}unknown command '{}' (gsctl command --list)", where, plan[i].name));
    }
    auto args = protocol::BuildArguments(*info, plan[i].arguments);
    if (!args.ok()) return Status::Error(where + args.error().message());
    if (info->hazardous && !confirmed) {
      return Status::Error(
          fmt::format("{}{} is hazardous: add --confirm to send it", where, info->name));
    }
  }
  return Status::Ok();
}

// The station's control channel, as gsctl sees it: typed requests out, typed answers in.
class StationLink {
 public:
  StationLink(std::string endpoint, std::string token)
      : endpoint_(std::move(endpoint)),
        token_(std::move(token)),
        socket_(context_, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect(endpoint_);
  }

  void Send(const control::Request& request) {
    const std::string body = control::EncodeRequest(request, token_);
    static_cast<void>(socket_.send(zmq::buffer(body), zmq::send_flags::none));
  }

  // The next answer, or nothing after `timeout`.
  std::optional<control::Reply> Receive(std::chrono::milliseconds timeout) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) <= 0) return std::nullopt;
    zmq::message_t message;
    if (!socket_.recv(message, zmq::recv_flags::dontwait)) return std::nullopt;
    return control::DecodeReply(message.to_string_view());
  }

  const std::string& endpoint() const { return endpoint_; }

 private:
  std::string endpoint_, token_;
  zmq::context_t context_{1};
  zmq::socket_t socket_;
};

// Sends one command and follows it. Returns the exit code.
int RunStep(StationLink& link, const PlanStep& step, const CommandOptions& o, size_t index,
            size_t count) {
  link.Send(CommandRequest{step.name, step.arguments, o.confirm,
                           fmt::format("gsctl pid {} user {}", ::getpid(), UserName())});
  const auto started = Clock::now();
  auto last_heard = started;
  bool heard = false, asked_status = false;
  const std::string prefix = count > 1 ? fmt::format("[{}/{}] ", index + 1, count) : "";
  while (true) {
    auto message = link.Receive(std::chrono::milliseconds(200));
    const auto now = Clock::now();
    if (!message) {
      const auto silence = now - last_heard;
      if (!heard && silence >= std::chrono::duration<double>(o.connect_timeout_s)) {
        fmt::print(stderr,
                   "gsctl command: no answer from the station at {} within {} s (is it running "
                   "with --command?)\n",
                   link.endpoint(), o.connect_timeout_s);
        return kExitFailure;
      }
      if (heard && silence >= kLivenessInterval) {
        if (asked_status && silence >= 2 * kLivenessInterval) {
          fmt::print(stderr, "gsctl command: lost contact with the station at {}\n",
                     link.endpoint());
          return kExitFailure;
        }
        if (!asked_status) {
          link.Send(control::StatusRequest{});
          asked_status = true;
        }
      }
      continue;
    }
    last_heard = now;
    asked_status = false;
    if (const auto* refusal = std::get_if<control::ErrorReply>(&*message)) {
      fmt::print(stderr, "gsctl command: the station refused the request: {}\n", refusal->error);
      return kExitFailure;
    }
    const auto* update = std::get_if<control::CommandUpdate>(&*message);
    if (update == nullptr) continue;  // a liveness answer
    heard = true;
    const double elapsed = std::chrono::duration<double>(now - started).count();
    if (o.json) {
      json line = control::ToJson(*message);
      line["elapsed_s"] = elapsed;
      fmt::print("{}\n", text::JsonDump(line));
    } else {
      const std::string detail = update->stage == "progress"
                                     ? fmt::format("step {}", update->progress_step)
                                     : update->detail;
      fmt::print("{}{:>+8.2f} s  #{} {} {}  {:<10}{}\n", prefix, elapsed, update->command_id,
                 update->name, update->arguments, update->stage,
                 detail.empty() ? "" : "  " + detail);
    }
    std::fflush(stdout);
    if (update->final) return update->ok.value_or(false) ? kExitOk : kExitFailure;
    if (o.no_wait && update->stage == "released") return kExitOk;
  }
}

Result<std::string> TokenFor(const ControlOptions& o) {
  return transport::ReadControlToken(
      o.token_path.empty() ? transport::DefaultControlTokenPath(o.rover_id) : o.token_path);
}

std::string EndpointFor(const ControlOptions& o) {
  return o.control.empty() ? transport::DefaultControlEndpoint(o.rover_id) : o.control;
}

// One request, one answer. Prints the reason and returns nothing on failure.
std::optional<control::Reply> Ask(const ControlOptions& o, const char* tool,
                                  const control::Request& request) {
  auto token = TokenFor(o);
  if (!token.ok()) {
    fmt::print(stderr, "gsctl {}: {}\n", tool, token.error().message());
    return std::nullopt;
  }
  try {
    StationLink link(EndpointFor(o), *token);
    link.Send(request);
    auto reply =
        link.Receive(std::chrono::milliseconds(static_cast<int64_t>(o.connect_timeout_s * 1000)));
    if (!reply) {
      fmt::print(stderr, "gsctl {}: no answer from the station at {} within {} s\n", tool,
                 link.endpoint(), o.connect_timeout_s);
      return std::nullopt;
    }
    if (const auto* refusal = std::get_if<control::ErrorReply>(&*reply)) {
      fmt::print(stderr, "gsctl {}: the station refused the request: {}\n", tool, refusal->error);
      return std::nullopt;
    }
    return reply;
  } catch (const zmq::error_t& e) {
    fmt::print(stderr, "gsctl {}: control channel '{}': {}\n", tool, EndpointFor(o), e.what());
    return std::nullopt;
  }
}

// The answer of the kind asked for, or a complaint and nothing.
template <class T>
const T* As(const std::optional<control::Reply>& reply, const char* tool) {
  if (!reply) return nullptr;
  const T* answer = std::get_if<T>(&*reply);
  if (answer == nullptr)
    fmt::print(stderr, "gsctl {}: the station answered something else\n", tool);
  return answer;
}

int RunStatus(const CommandOptions& o) {
  const auto reply = Ask(o, "command", control::StatusRequest{});
  const auto* status = As<control::StatusReply>(reply, "command");
  if (status == nullptr) return kExitFailure;
  if (o.json) {
    fmt::print("{}\n", text::JsonDump(control::ToJson(*reply)));
    return kExitOk;
  }
  fmt::print("rover mode {} (latest housekeeping); {} command(s) in flight\n", status->rover_mode,
             status->in_flight);
  for (const control::CommandSummary& c : status->commands) {
    fmt::print("#{:<5} {:<10} {} {}  {}\n", c.command_id, c.stage, c.name, c.arguments, c.detail);
  }
  return kExitOk;
}

}  // namespace

int RunAlarms(const AlarmsOptions& o) {
  if (!o.ack.empty()) {
    const std::string by = !o.by.empty() ? o.by : fmt::format("{} (gsctl)", UserName());
    const auto reply = Ask(o, "alarms", control::AckRequest{o.ack, by});
    const auto* ack = As<control::AckReply>(reply, "alarms");
    if (ack == nullptr) return kExitFailure;
    if (o.json) {
      fmt::print("{}\n", text::JsonDump(control::ToJson(*reply)));
    } else {
      for (const std::string& id : ack->acknowledged) fmt::print("acknowledged {}\n", id);
    }
    return kExitOk;
  }
  const auto reply = Ask(o, "alarms", control::AlarmsRequest{});
  const auto* list = As<control::AlarmsReply>(reply, "alarms");
  if (list == nullptr) return kExitFailure;
  if (o.json) {
    fmt::print("{}\n", text::JsonDump(control::ToJson(*reply)));
    return kExitOk;
  }
  if (list->alarms.empty()) fmt::print("no alarms\n");
  for (const json& a : list->alarms) {
    fmt::print("{:<8} {:<42} {:<8} {:<14} {:.4g} {} ({})\n", a.value("severity", ""),
               a.value("id", ""), a.value("state", ""),
               a.value("acknowledged", false) ? "acknowledged" : "unacknowledged",
               a.value("value", 0.0), a.value("unit", ""), a.value("limit", ""));
  }
  return kExitOk;
}

int RunCommand(const CommandOptions& o) {
  if (o.list) {
    for (const protocol::CommandInfo& c : protocol::AllCommands()) {
      if (c.operator_command) fmt::print("{}", protocol::DescribeCommand(c));
    }
    return kExitOk;
  }
  if (o.status) return RunStatus(o);
  if (o.file.empty() == o.name.empty()) {
    fmt::print(stderr, "gsctl command: give a command NAME [ARG=VALUE...] or --file PLAN.yaml\n");
    return kExitUsage;
  }
  auto plan = o.file.empty() ? ParseCommandLine(o) : LoadPlan(o.file);
  if (!plan.ok()) {
    fmt::print(stderr, "gsctl command: {}\n", plan.error().message());
    return kExitUsage;
  }
  // A single command goes to the station as typed: the station is the authority (it also knows
  // the rover's mode) and its reasons are the ones operators see. A plan is checked whole first.
  if (!o.file.empty()) {
    if (Status s = CheckPlan(*plan, o.confirm); !s.ok()) {
      fmt::print(stderr, "gsctl command: {}: nothing was sent\n", s.message());
      return kExitUsage;
    }
  }
  const std::string endpoint =
      o.control.empty() ? transport::DefaultControlEndpoint(o.rover_id) : o.control;
  const std::string token_path =
      o.token_path.empty() ? transport::DefaultControlTokenPath(o.rover_id) : o.token_path;
  auto token = transport::ReadControlToken(token_path);
  if (!token.ok()) {
    fmt::print(stderr, "gsctl command: {}\n", token.error().message());
    return kExitFailure;
  }
  try {
    StationLink link(endpoint, *token);
    for (size_t i = 0; i < plan->size(); ++i) {
      const int code = RunStep(link, (*plan)[i], o, i, plan->size());
      if (code != kExitOk) {
        if (plan->size() > 1) {
          fmt::print(stderr, "gsctl command: plan stopped at step {} of {} ({}); {} not sent\n",
                     i + 1, plan->size(), (*plan)[i].name, plan->size() - i - 1);
        }
        return code;
      }
    }
  } catch (const zmq::error_t& e) {
    fmt::print(stderr, "gsctl command: control channel '{}': {}\n", endpoint, e.what());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace lgs::gsctl
