// The station's HTTP API with real processes: the dictionaries are generated (every protobuf
// field, every limit, every command), commands posted there go through the same validation and
// stages as `gsctl command`, and bad input of every kind gets a clear 4xx while the server keeps
// serving.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>
#include <zmq.hpp>

#include "groundstation/limits.h"
#include "protocol/command_dictionary.h"
#include "protocol/stream_registry.h"
#include "rover/v1/housekeeping.pb.h"
#include "support/process.h"
#include "support/programs.h"

namespace lgs::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

struct Reply {
  int status = 0;
  std::string body;
};

// Sends raw bytes on a fresh connection and returns everything until the server closes it.
std::string Exchange(int port, const std::string& bytes) {
  const int fd = Connect(port);
  if (fd < 0) return {};
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string in;
  char buffer[65536];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) in.append(buffer, static_cast<size_t>(n));
  ::close(fd);
  return in;
}

Reply Raw(int port, const std::string& bytes) {
  Reply r;
  const std::string in = Exchange(port, bytes);
  if (in.rfind("HTTP/1.1 ", 0) == 0) r.status = std::stoi(in.substr(9, 3));
  if (const size_t body = in.find("\r\n\r\n"); body != std::string::npos)
    r.body = in.substr(body + 4);
  return r;
}

Reply Call(int port, const std::string& method, const std::string& path,
           const std::string& body = "") {
  return Raw(port, method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" +
                       "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
}

class Http : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = FreeTcpPort();
    const std::string tm = dir_.IpcEndpoint("tm"), tc = dir_.IpcEndpoint("tc");
    station_ = std::make_unique<ChildProcess>(LGS_STATION_BIN,
                                              StationArgs()
                                                  .Connect(tm)
                                                  .Uplink(tc)
                                                  .Command()
                                                  .Control(dir_)
                                                  .Http(port_)
                                                  .StatsInterval(0)
                                                  .Args(),
                                              dir_.path(), "station");
    emulator_ = std::make_unique<ChildProcess>(
        LGS_EMULATOR_BIN,
        EmulatorArgs().Bind(tm).CommandBind(tc).WaitForSubscribers().Duration(60).Args(),
        dir_.path(), "emulator");
    ASSERT_TRUE(WaitUntil([&] { return Call(port_, "GET", "/api/link").status == 200; }, 10s));
  }
  void TearDown() override {
    station_->Signal(SIGTERM);
    EXPECT_EQ(station_->Wait(20s), 0) << station_->Stderr();
    emulator_->Signal(SIGTERM);
    EXPECT_EQ(emulator_->Wait(20s), 0) << emulator_->Stderr();
  }
  ScratchDir dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> station_, emulator_;
};

TEST_F(Http, DictionariesAreGeneratedFromTheDescriptorsLimitsAndCommandDictionary) {
  const Reply r = Call(port_, "GET", "/api/dictionary");
  ASSERT_EQ(r.status, 200) << r.body;
  const json dictionary = json::parse(r.body);
  EXPECT_EQ(dictionary["rover"], "rover1");
  std::map<std::string, json> measurements;
  std::set<std::string> subsystems;
  for (const json& s : dictionary["subsystems"]) {
    subsystems.insert(s["key"]);
    for (const json& m : s["measurements"]) measurements[m["key"]] = m;
  }
  for (const protocol::StreamInfo& stream : protocol::AllStreams()) {
    EXPECT_TRUE(subsystems.contains(std::string(stream.name))) << stream.name;
  }
  // Every field of housekeeping, with the unit its name declares.
  const auto* hk = rover::v1::Housekeeping::descriptor();
  for (int i = 0; i < hk->field_count(); ++i) {
    const std::string key = "housekeeping." + hk->field(i)->name();
    ASSERT_TRUE(measurements.contains(key)) << key;
  }
  EXPECT_EQ(measurements["housekeeping.battery_soc_percent"]["unit"], "%");
  EXPECT_EQ(measurements["radiation.dose_rate_ugy_per_h"]["unit"], "uGy/h");
  EXPECT_EQ(measurements["navigation_pose.wheel_current_a"]["format"], "array");
  EXPECT_EQ(measurements["housekeeping.mode"]["format"], "enum");
  // Every limit of the built-in set appears on its field, with its bounds.
  auto limits = station::LimitSet::Load("");
  ASSERT_TRUE(limits.ok());
  for (const station::LimitSpec& spec : limits->limits()) {
    ASSERT_TRUE(measurements.contains(spec.field)) << spec.field;
    const json& l = measurements[spec.field]["limits"];
    if (spec.red_low) {
      EXPECT_DOUBLE_EQ(l["red_low"].get<double>(), *spec.red_low) << spec.field;
    }
    if (spec.yellow_high) {
      EXPECT_DOUBLE_EQ(l["yellow_high"].get<double>(), *spec.yellow_high) << spec.field;
    }
    EXPECT_EQ(l["persistence"], spec.persistence);
  }

  const Reply c = Call(port_, "GET", "/api/commands/dictionary");
  ASSERT_EQ(c.status, 200);
  std::map<std::string, json> commands;
  for (const json& command : json::parse(c.body)) commands[command["name"]] = command;
  for (const protocol::CommandInfo& info : protocol::AllCommands()) {
    ASSERT_EQ(commands.contains(std::string(info.name)), info.operator_command) << info.name;
    if (!info.operator_command) continue;
    const json& args = commands[std::string(info.name)]["arguments"];
    ASSERT_EQ(args.size(), info.arguments.size()) << info.name;
    EXPECT_EQ(commands[std::string(info.name)]["hazardous"], info.hazardous);
  }
  const json& soil = commands["soil_measurement"]["arguments"][0];
  EXPECT_EQ(soil["choices"], json::array({"apxs", "vnis", "neutron"}));
}

TEST_F(Http, CommandsPostedGoThroughTheSameValidationAndStages) {
  const Reply bad = Call(port_, "POST", "/api/commands",
                         R"({"name":"drive","args":{"distance_m":80,"heading_deg":0}})");
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("outside 0.05..50 m"), std::string::npos) << bad.body;
  const Reply hazardous = Call(port_, "POST", "/api/commands", R"({"name":"hibernate"})");
  EXPECT_EQ(hazardous.status, 422);
  EXPECT_NE(hazardous.body.find("confirmation"), std::string::npos) << hazardous.body;
  const Reply turn =
      Call(port_, "POST", "/api/commands", R"({"name":"turn","args":{"angle_deg":"10"}})");
  ASSERT_EQ(turn.status, 202) << turn.body;
  const uint64_t id = json::parse(turn.body)["command_id"];
  json last = json::object();
  EXPECT_TRUE(WaitUntil(
      [&] {
        const json list = json::parse(Call(port_, "GET", "/api/commands").body);
        for (const json& c : list["commands"]) {
          if (c["command_id"] == id) last = c;
        }
        return last.value("stage", "") == "completed";
      },
      20s))
      << last.dump();
  // The station's own output shows the same history (its terminal view drains every 100 ms).
  EXPECT_TRUE(WaitUntil(
      [&] {
        return station_->Stdout().find("CMD   #3 turn angle_deg=10 deg: completed") !=
               std::string::npos;
      },
      3s))
      << station_->Stdout();
  // The request is named one way in the tracker's lines and in the rover's reports: its
  // sequence, and each report line says it answers a command of this station.
  const std::string out = station_->Stdout();
  std::smatch released;
  ASSERT_TRUE(std::regex_search(out, released,
                                std::regex(R"(CMD   #3 turn [^\n]*released \(request (\d+) )")))
      << out;
  const std::string request = released[1];
  for (const char* stage : {"ACCEPTANCE", "START", "COMPLETION"}) {
    EXPECT_NE(out.find(fmt::format("CMD   request {} {} success\n", request, stage)),
              std::string::npos)
        << stage << " of request " << request << "\n"
        << out;
  }
}

TEST_F(Http, BadInputGetsAClearAnswerAndTheServerKeepsServing) {
  EXPECT_EQ(Call(port_, "GET", "/no/such/thing").status, 404);
  EXPECT_EQ(Call(port_, "DELETE", "/api/dictionary").status, 405);
  EXPECT_EQ(Call(port_, "POST", "/api/commands", "{not json").status, 400);
  EXPECT_EQ(Call(port_, "POST", "/api/commands", R"({"name":"turn","args":[1,2]})").status, 400);
  EXPECT_EQ(Call(port_, "POST", "/api/alarms/ack", R"({"by":"x"})").status, 400);
  EXPECT_EQ(Call(port_, "POST", "/api/commands", std::string(200'000, 'x')).status, 413);
  EXPECT_EQ(Raw(port_, "GET / HTTP/1.1\r\nX-Big: " + std::string(40'000, 'a') + "\r\n\r\n").status,
            431);
  EXPECT_EQ(Raw(port_, "HELLO THERE\r\n\r\n").status, 400);
  EXPECT_EQ(Raw(port_, std::string("\0\1\2\3garbage\r\n\r\n", 15)).status, 400);
  // A flood of requests on one kept-alive connection, and many connections at once.
  std::string pipelined;
  for (int i = 0; i < 500; ++i) pipelined += "GET /api/link HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string in = Exchange(port_, pipelined);
  size_t answers = 0;
  for (size_t at = in.find("HTTP/1.1 200"); at != std::string::npos;
       at = in.find("HTTP/1.1 200", at + 1)) {
    ++answers;
  }
  EXPECT_EQ(answers, 500u);
  std::vector<int> held;
  for (int i = 0; i < 100; ++i) held.push_back(Connect(port_));
  std::this_thread::sleep_for(300ms);
  for (int h : held) {
    if (h >= 0) ::close(h);
  }
  // Still serving, and ingest went on all along.
  EXPECT_TRUE(WaitUntil(
      [&] {
        const Reply r = Call(port_, "GET", "/api/link");
        return r.status == 200 && json::parse(r.body)["totals"]["received"].get<int>() > 20;
      },
      10s));
}

// Slowloris: clients that open connections and send their headers a byte at a time must not
// take the API away from everyone else (they used to: every /api/link got 503 for 30 s).
TEST_F(Http, SlowClientsHoldingEveryConnectionCannotTakeTheApiAway) {
  std::vector<int> slow;
  for (int i = 0; i < 70; ++i) {
    const int fd = Connect(port_);
    ASSERT_GE(fd, 0);
    static constexpr std::string_view kStart = "GET /api/link HTTP/1.1\r\nX-Slow: ";
    ::send(fd, kStart.data(), kStart.size(), MSG_NOSIGNAL);
    slow.push_back(fd);
  }
  int answered = 0;
  const auto until = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < until) {
    for (int fd : slow) ::send(fd, "a", 1, MSG_NOSIGNAL);  // a trickle keeps them alive
    if (Call(port_, "GET", "/api/link").status == 200) ++answered;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_GE(answered, 10);  // every one of ~14 tries, save perhaps one in its grace period
  for (int fd : slow) ::close(fd);
  const json link = json::parse(Call(port_, "GET", "/api/link").body);
  EXPECT_GT(link["http"]["evicted_connections"].get<int>(), 0) << link["http"].dump();
}

// Every answer must be JSON a client can parse: valid UTF-8, whatever the request held.
bool IsJsonError(const Reply& r) {
  const json body = json::parse(r.body, nullptr, false);
  return !body.is_discarded() && body.contains("error");
}

TEST_F(Http, InvalidUtf8AnywhereInARequestGetsAClearAnswerAndTheStationLives) {
  // A WebSocket upgrade for an invalid path (no token on the default setup) used to abort it.
  const Reply ws = Raw(port_,
                       "GET /x\xff HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: "
                       "websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
                       "dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
  EXPECT_EQ(ws.status, 404) << ws.body;
  EXPECT_TRUE(IsJsonError(ws)) << ws.body;
  const std::vector<std::pair<std::string, int>> requests = {
      {"/api/\xff", 404},
      {"/api/history?key=\xff\xfe&start=0&end=1", 404},
      {"/api/history?key=housekeeping.battery_soc_percent&start=0&end=1&strategy=\xff", 400},
      {"/\xc3", 404},
      {"/api/history?key=" + std::string(300, 'a') + "\xe2\x82&start=0&end=1", 404}};
  for (const auto& [path, status] : requests) {
    const Reply r = Call(port_, "GET", path);
    EXPECT_EQ(r.status, status) << path;
    EXPECT_TRUE(IsJsonError(r)) << path << ": " << r.body;
    EXPECT_EQ(r.body.find("exception"), std::string::npos) << r.body;
  }
  // Bodies with the wrong types where text is expected.
  EXPECT_EQ(Call(port_, "POST", "/api/alarms/ack", R"({"id":"all","by":5})").status, 202);
  EXPECT_EQ(Call(port_, "POST", "/api/commands", "{\"name\":\"turn\xff\"}").status, 400);

  // The control channel: an op of 31 ASCII bytes and a two-byte character (cut in the middle
  // when quoted), ops that are not strings, a non-string id.
  zmq::context_t context;
  zmq::socket_t control(context, zmq::socket_type::dealer);
  control.set(zmq::sockopt::rcvtimeo, 5000);
  control.set(zmq::sockopt::linger, 0);
  control.connect(dir_.IpcEndpoint("control"));
  const std::string token = ReadFile(dir_.File("control.token"));
  for (const json& request :
       {json{{"token", token}, {"op", std::string(31, 'o') + "\xc3\xa9"}},
        json{{"token", token}, {"op", 5}}, json{{"token", token}, {"op", "ack"}, {"id", 7}},
        json{{"token", token}, {"op", "command"}, {"name", json::array()}}}) {
    control.send(zmq::buffer(request.dump()));
    zmq::message_t reply;
    ASSERT_TRUE(control.recv(reply)) << request.dump() << "\n" << station_->Stderr();
    const json answer = json::parse(reply.to_string(), nullptr, false);
    ASSERT_FALSE(answer.is_discarded()) << reply.to_string();
    EXPECT_TRUE(answer.contains("error")) << answer.dump();
  }
  EXPECT_TRUE(station_->Running()) << station_->Stderr();
  EXPECT_EQ(Call(port_, "GET", "/api/link").status, 200);
}

}  // namespace
}  // namespace lgs::test
