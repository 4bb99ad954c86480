// The control protocol: what gsctl (and the HTTP API, for commands) says to the station and what
// the station answers, as types. One request is one ZeroMQ frame of JSON carrying the channel's
// token; the station answers each with one frame, and follows a command with one message per
// stage. The JSON spelling lives only in control_protocol.cpp.
//
// Plain data and pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ground/v1/ground.pb.h"
#include "groundstation/command_tracker.h"
#include "protocol/status.h"

namespace lgs::station::control {

// Requests.
struct StatusRequest {};  // the recent commands, the rover's mode, how many are in flight
struct AlarmsRequest {};  // the unresolved alarms
struct AckRequest {       // acknowledge one alarm, or "all"
  std::string id, by;
};
using Request = std::variant<CommandRequest, StatusRequest, AlarmsRequest, AckRequest>;

// What a client sends: `request` with the channel's token.
std::string EncodeRequest(const Request& request, std::string_view token);

// What the station takes, in two steps so that it can refuse by operation before it reads the
// rest ("this station does not command"): a JSON object whose token matches `token`, then the
// request it names. Each error is the reason said back to the client.
struct Envelope {
  std::string op;  // "command", "status", "alarms", "ack", or what the client sent
  nlohmann::json body;
};
[[nodiscard]] Result<Envelope> OpenRequest(std::string_view body, std::string_view token);
bool IsAboutAlarms(const Envelope& envelope);
// `default_origin` names a command's sender (and an acknowledgement's) when it does not.
[[nodiscard]] Result<Request> ParseRequest(const Envelope& envelope,
                                           std::string_view default_origin);
// A command as the control channel and the HTTP API take it:
// {"name": "drive", "args": {"distance_m": 2}, "confirm": false, "origin": "..."}.
[[nodiscard]] Result<CommandRequest> CommandFromJson(const nlohmann::json& body,
                                                     std::string_view default_origin);

// Answers.
struct CommandUpdate {  // one stage of a command (the station follows a command with these)
  uint64_t command_id = 0;
  std::string name, arguments, stage, detail;
  uint32_t request_sequence = 0;
  uint32_t attempt = 0, progress_step = 0;
  double expected_duration_s = 0;
  bool final = false;
  std::optional<bool> ok;  // on the final stage: completed, or not
};
struct CommandSummary {  // one of the recent commands
  uint64_t command_id = 0;
  std::string name, arguments, stage, detail;
  uint32_t request_sequence = 0;
};
struct StatusReply {
  std::vector<CommandSummary> commands;
  std::string rover_mode;
  uint64_t in_flight = 0;
};
struct AlarmsReply {
  nlohmann::json alarms = nlohmann::json::array();  // AlarmJson() of each unresolved alarm
};
struct AckReply {
  std::vector<std::string> acknowledged;
};
struct ErrorReply {
  std::string error;
};
using Reply = std::variant<ErrorReply, CommandUpdate, StatusReply, AlarmsReply, AckReply>;

CommandUpdate UpdateOf(const ground::v1::GroundCommand& command);
CommandSummary SummaryOf(const ground::v1::GroundCommand& command);
std::vector<CommandSummary> RecentCommands(const CommandTracker& tracker, size_t count = 100);

nlohmann::json ToJson(const Reply& reply);
nlohmann::json ToJson(const CommandSummary& command);
nlohmann::json ToJson(const std::vector<CommandSummary>& commands);
// What a client reads; an answer it cannot make sense of is an ErrorReply saying so.
Reply DecodeReply(std::string_view body);

}  // namespace lgs::station::control
