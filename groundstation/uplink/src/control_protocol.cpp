#include "groundstation/control_protocol.h"

#include <fmt/format.h>

#include "protocol/text.h"

namespace lgs::station::control {

using nlohmann::json;

namespace {

// Only strings are taken from a request; anything else counts as absent.
std::string TextField(const json& body, const char* name, std::string_view otherwise) {
  const auto it = body.find(name);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string(otherwise);
}

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace

std::string EncodeRequest(const Request& request, std::string_view token) {
  json body = std::visit(Overloaded{[](const CommandRequest& c) {
                                      json args = json::object();
                                      for (const auto& [name, value] : c.arguments)
                                        args[name] = value;
                                      return json{{"op", "command"},
                                                  {"name", c.name},
                                                  {"args", args},
                                                  {"confirm", c.confirmed},
                                                  {"origin", c.origin}};
                                    },
                                    [](const StatusRequest&) {
                                      return json{{"op", "status"}};
                                    },
                                    [](const AlarmsRequest&) {
                                      return json{{"op", "alarms"}};
                                    },
                                    [](const AckRequest& a) {
                                      return json{{"op", "ack"}, {"id", a.id}, {"by", a.by}};
                                    }},
                         request);
  body["token"] = token;
  return text::JsonDump(body);
}

Result<Envelope> OpenRequest(std::string_view body, std::string_view token) {
  json request = json::parse(body, nullptr, false);
  if (request.is_discarded() || !request.is_object()) return Status::Error("not a JSON object");
  const auto given = request.find("token");
  if (given == request.end() || !given->is_string() || given->get<std::string>() != token) {
    return Status::Error("bad or missing token");
  }
  Envelope envelope;
  envelope.op = TextField(request, "op", "");
  envelope.body = std::move(request);
  return envelope;
}

bool IsAboutAlarms(const Envelope& envelope) {
  return envelope.op == "alarms" || envelope.op == "ack";
}

Result<Request> ParseRequest(const Envelope& envelope, std::string_view default_origin) {
  const std::string& op = envelope.op;
  if (op == "alarms") return Request{AlarmsRequest{}};
  if (op == "ack") {
    AckRequest ack{TextField(envelope.body, "id", ""),
                   TextField(envelope.body, "by", default_origin)};
    if (ack.id.empty()) return Status::Error("ack needs an alarm id, or \"all\"");
    return Request{std::move(ack)};
  }
  if (op == "status") return Request{StatusRequest{}};
  if (op == "command") {
    auto command = CommandFromJson(envelope.body, default_origin);
    if (!command.ok()) return command.error();
    return Request{std::move(*command)};
  }
  return Status::Error(fmt::format("unknown op '{}'", text::SanitizeUtf8(op, 32)));
}

Result<CommandRequest> CommandFromJson(const json& body, std::string_view default_origin) {
  const auto name = body.is_object() ? body.find("name") : body.end();
  if (!body.is_object() || name == body.end() || !name->is_string()) {
    return Status::Error(
        "a command is {\"name\": \"<command>\", \"args\": {...}, \"confirm\": false}");
  }
  CommandRequest command;
  command.name = name->get<std::string>();
  if (const auto args = body.find("args"); args != body.end()) {
    if (!args->is_object()) return Status::Error("args must be an object of name: value");
    for (const auto& [key, value] : args->items()) {
      if (!value.is_string() && !value.is_number() && !value.is_boolean()) {
        return Status::Error(fmt::format("argument {} must be a string or a number", key));
      }
      command.arguments.emplace_back(key,
                                     value.is_string() ? value.get<std::string>() : value.dump());
    }
  }
  const auto confirm = body.find("confirm");
  command.confirmed = confirm != body.end() && confirm->is_boolean() && confirm->get<bool>();
  command.origin = TextField(body, "origin", default_origin);
  return command;
}

CommandUpdate UpdateOf(const ground::v1::GroundCommand& t) {
  CommandUpdate u;
  u.command_id = t.command_id();
  u.name = t.name();
  u.arguments = t.arguments();
  u.stage = std::string(StageName(t.stage()));
  u.detail = t.detail();
  u.request_sequence = t.request_sequence();
  u.attempt = t.attempt();
  u.progress_step = t.progress_step();
  u.expected_duration_s = t.expected_duration_s();
  u.final = IsFinal(t.stage());
  if (u.final) u.ok = t.stage() == ground::v1::COMMAND_STAGE_COMPLETED;
  return u;
}

CommandSummary SummaryOf(const ground::v1::GroundCommand& c) {
  return CommandSummary{c.command_id(), c.name(),
                        c.arguments(),  std::string(StageName(c.stage())),
                        c.detail(),     c.request_sequence()};
}

std::vector<CommandSummary> RecentCommands(const CommandTracker& tracker, size_t count) {
  std::vector<CommandSummary> out;
  for (const ground::v1::GroundCommand& c : tracker.Recent(count)) out.push_back(SummaryOf(c));
  return out;
}

json ToJson(const CommandSummary& c) {
  return {{"command_id", c.command_id}, {"name", c.name},
          {"arguments", c.arguments},   {"stage", c.stage},
          {"detail", c.detail},         {"request_sequence", c.request_sequence}};
}

json ToJson(const std::vector<CommandSummary>& commands) {
  json list = json::array();
  for (const CommandSummary& c : commands) list.push_back(ToJson(c));
  return list;
}

json ToJson(const Reply& reply) {
  return std::visit(Overloaded{[](const ErrorReply& e) {
                                 return json{{"error", e.error}};
                               },
                               [](const CommandUpdate& u) {
                                 json m = {{"command_id", u.command_id},
                                           {"name", u.name},
                                           {"arguments", u.arguments},
                                           {"stage", u.stage},
                                           {"detail", u.detail},
                                           {"request_sequence", u.request_sequence},
                                           {"attempt", u.attempt},
                                           {"progress_step", u.progress_step},
                                           {"expected_duration_s", u.expected_duration_s},
                                           {"final", u.final}};
                                 if (u.ok) m["ok"] = *u.ok;
                                 return m;
                               },
                               [](const StatusReply& s) {
                                 return json{{"commands", ToJson(s.commands)},
                                             {"rover_mode", s.rover_mode},
                                             {"in_flight", s.in_flight}};
                               },
                               [](const AlarmsReply& a) {
                                 return json{{"alarms", a.alarms}};
                               },
                               [](const AckReply& a) {
                                 return json{{"acknowledged", a.acknowledged}};
                               }},
                    reply);
}

Reply DecodeReply(std::string_view body) {
  const json m = json::parse(body, nullptr, false);
  if (m.is_discarded() || !m.is_object()) return ErrorReply{"unreadable answer"};
  try {
    if (const auto e = m.find("error"); e != m.end()) {
      return ErrorReply{e->is_string() ? e->get<std::string>() : e->dump()};
    }
    if (const auto list = m.find("commands"); list != m.end()) {
      StatusReply s;
      for (const json& c : *list) {
        s.commands.push_back(CommandSummary{
            c.value("command_id", uint64_t{0}), c.value("name", ""), c.value("arguments", ""),
            c.value("stage", ""), c.value("detail", ""), c.value("request_sequence", 0u)});
      }
      s.rover_mode = m.value("rover_mode", "?");
      s.in_flight = m.value("in_flight", uint64_t{0});
      return s;
    }
    if (const auto a = m.find("alarms"); a != m.end() && a->is_array()) return AlarmsReply{*a};
    if (const auto a = m.find("acknowledged"); a != m.end()) {
      return AckReply{a->get<std::vector<std::string>>()};
    }
    if (m.contains("stage")) {
      CommandUpdate u;
      u.command_id = m.value("command_id", uint64_t{0});
      u.name = m.value("name", "");
      u.arguments = m.value("arguments", "");
      u.stage = m.value("stage", "");
      u.detail = m.value("detail", "");
      u.request_sequence = m.value("request_sequence", 0u);
      u.attempt = m.value("attempt", 0u);
      u.progress_step = m.value("progress_step", 0u);
      u.expected_duration_s = m.value("expected_duration_s", 0.0);
      u.final = m.value("final", false);
      if (const auto ok = m.find("ok"); ok != m.end() && ok->is_boolean()) u.ok = ok->get<bool>();
      return u;
    }
  } catch (const json::exception&) {
    // A field of the wrong type: unreadable, like the rest.
  }
  return ErrorReply{"unreadable answer"};
}

}  // namespace lgs::station::control
