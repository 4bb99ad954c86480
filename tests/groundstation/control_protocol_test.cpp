// The control protocol: what gsctl encodes is what the station decodes, field for field, and
// every malformed request is refused with the reason the client is told.
#include "groundstation/control_protocol.h"

#include <gtest/gtest.h>

#include "protocol/text.h"

namespace lgs::station::control {
namespace {

Request RoundTrip(const Request& sent, std::string_view origin = "default") {
  const std::string wire = EncodeRequest(sent, "secret");
  auto envelope = OpenRequest(wire, "secret");
  EXPECT_TRUE(envelope.ok()) << envelope.error().message();
  auto request = ParseRequest(*envelope, origin);
  EXPECT_TRUE(request.ok()) << request.error().message();
  return *request;
}

TEST(ControlProtocol, EveryRequestComesBackAsSent) {
  const Request command =
      RoundTrip(CommandRequest{"drive", {{"distance_m", "2.5"}, {"speed", "0.04"}}, true, "me"});
  const auto& c = std::get<CommandRequest>(command);
  EXPECT_EQ(c.name, "drive");
  ASSERT_EQ(c.arguments.size(), 2u);
  EXPECT_EQ(c.arguments[0], (protocol::CommandArgument{"distance_m", "2.5"}));
  EXPECT_EQ(c.arguments[1], (protocol::CommandArgument{"speed", "0.04"}));
  EXPECT_TRUE(c.confirmed);
  EXPECT_EQ(c.origin, "me");
  EXPECT_TRUE(std::holds_alternative<StatusRequest>(RoundTrip(StatusRequest{})));
  EXPECT_TRUE(std::holds_alternative<AlarmsRequest>(RoundTrip(AlarmsRequest{})));
  const auto ack = std::get<AckRequest>(RoundTrip(AckRequest{"all", "flight director"}));
  EXPECT_EQ(ack.id, "all");
  EXPECT_EQ(ack.by, "flight director");
}

TEST(ControlProtocol, MissingOriginAndSenderTakeTheDefault) {
  auto envelope = OpenRequest(R"({"token":"t","op":"ack","id":"x"})", "t");
  ASSERT_TRUE(envelope.ok());
  EXPECT_EQ(std::get<AckRequest>(*ParseRequest(*envelope, "control channel")).by,
            "control channel");
  envelope =
      OpenRequest(R"({"token":"t","op":"command","name":"turn","args":{"angle_deg":15}})", "t");
  ASSERT_TRUE(envelope.ok());
  const auto c = std::get<CommandRequest>(*ParseRequest(*envelope, "web"));
  EXPECT_EQ(c.origin, "web");
  EXPECT_FALSE(c.confirmed);
  ASSERT_EQ(c.arguments.size(), 1u);
  EXPECT_EQ(c.arguments[0].second, "15");  // a number is taken as typed
}

TEST(ControlProtocol, MalformedRequestsAreRefusedWithTheirReason) {
  EXPECT_EQ(OpenRequest("not json", "t").error().message(), "not a JSON object");
  EXPECT_EQ(OpenRequest("[1,2]", "t").error().message(), "not a JSON object");
  EXPECT_EQ(OpenRequest(R"({"op":"status"})", "t").error().message(), "bad or missing token");
  EXPECT_EQ(OpenRequest(R"({"op":"status","token":"u"})", "t").error().message(),
            "bad or missing token");
  EXPECT_EQ(OpenRequest(R"({"op":"status","token":7})", "t").error().message(),
            "bad or missing token");
  const auto refusal = [](std::string_view body) {
    auto envelope = OpenRequest(body, "t");
    EXPECT_TRUE(envelope.ok());
    auto request = ParseRequest(*envelope, "x");
    EXPECT_FALSE(request.ok());
    return request.ok() ? std::string() : request.error().message();
  };
  EXPECT_EQ(refusal(R"({"token":"t","op":"fly"})"), "unknown op 'fly'");
  EXPECT_EQ(refusal(R"({"token":"t","op":"ack"})"), "ack needs an alarm id, or \"all\"");
  EXPECT_EQ(refusal(R"({"token":"t","op":"command"})"),
            "a command is {\"name\": \"<command>\", \"args\": {...}, \"confirm\": false}");
  EXPECT_EQ(refusal(R"({"token":"t","op":"command","name":"drive","args":[1]})"),
            "args must be an object of name: value");
  EXPECT_EQ(refusal(R"({"token":"t","op":"command","name":"drive","args":{"d":[1]}})"),
            "argument d must be a string or a number");
  // An op that is not valid UTF-8 is quoted as valid UTF-8.
  const std::string quoted = refusal("{\"token\":\"t\",\"op\":\"\\u00ff\"}");
  EXPECT_TRUE(text::IsValidUtf8(quoted));
}

TEST(ControlProtocol, EveryReplyComesBackAsSent) {
  ground::v1::GroundCommand t;
  t.set_command_id(42);
  t.set_name("turn");
  t.set_arguments("angle_deg=15");
  t.set_stage(ground::v1::COMMAND_STAGE_COMPLETED);
  t.set_detail("done");
  t.set_request_sequence(123456);
  t.set_attempt(2);
  t.set_progress_step(3);
  t.set_expected_duration_s(7.5);
  const CommandUpdate sent = UpdateOf(t);
  EXPECT_TRUE(sent.final);
  ASSERT_TRUE(sent.ok.has_value());
  EXPECT_TRUE(*sent.ok);
  const Reply back = DecodeReply(text::JsonDump(ToJson(sent)));
  const auto& u = std::get<CommandUpdate>(back);
  EXPECT_EQ(u.command_id, 42u);
  EXPECT_EQ(u.name, "turn");
  EXPECT_EQ(u.arguments, "angle_deg=15");
  EXPECT_EQ(u.stage, "completed");
  EXPECT_EQ(u.detail, "done");
  EXPECT_EQ(u.request_sequence, 123456u);
  EXPECT_EQ(u.attempt, 2u);
  EXPECT_EQ(u.progress_step, 3u);
  EXPECT_DOUBLE_EQ(u.expected_duration_s, 7.5);
  EXPECT_EQ(u.ok, std::optional<bool>(true));

  t.set_stage(ground::v1::COMMAND_STAGE_RELEASED);
  const auto released = std::get<CommandUpdate>(DecodeReply(text::JsonDump(ToJson(UpdateOf(t)))));
  EXPECT_FALSE(released.final);
  EXPECT_FALSE(released.ok.has_value());

  const StatusReply status{{SummaryOf(t)}, "nominal", 1};
  const auto s = std::get<StatusReply>(DecodeReply(text::JsonDump(ToJson(status))));
  ASSERT_EQ(s.commands.size(), 1u);
  EXPECT_EQ(s.commands[0].command_id, 42u);
  EXPECT_EQ(s.commands[0].stage, "released");
  EXPECT_EQ(s.rover_mode, "nominal");
  EXPECT_EQ(s.in_flight, 1u);

  const auto ack = std::get<AckReply>(DecodeReply(text::JsonDump(ToJson(AckReply{{"a", "b"}}))));
  EXPECT_EQ(ack.acknowledged, (std::vector<std::string>{"a", "b"}));
  const auto alarms = std::get<AlarmsReply>(
      DecodeReply(text::JsonDump(ToJson(AlarmsReply{nlohmann::json::array({{{"id", "x"}}})}))));
  EXPECT_EQ(alarms.alarms[0]["id"], "x");
  EXPECT_EQ(std::get<ErrorReply>(DecodeReply(R"({"error":"no"})")).error, "no");
}

TEST(ControlProtocol, AnAnswerThatMakesNoSenseIsAnErrorNotACrash) {
  for (const char* body : {"", "garbage", "[]", "{}", R"({"stage":5})", R"({"commands":"x"})",
                           R"({"acknowledged":[1]})"}) {
    EXPECT_EQ(std::get<ErrorReply>(DecodeReply(body)).error, "unreadable answer") << body;
  }
}

}  // namespace
}  // namespace lgs::station::control
