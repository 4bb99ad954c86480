// The web UI's back end with real processes: live samples over the WebSocket, history from the
// recordings, the page's files, and bad input of every kind. The ground truth is the station's
// own JSON-lines output (protobuf's JSON printer, not the web code) and the emulator's truth
// file. The browser test drives the real page in Debian's chromium (tests/web/browser_check.mjs).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "groundstation/link_schedule.h"
#include "groundstation/telemetry_fields.h"
#include "support/http.h"
#include "support/process.h"
#include "support/programs.h"

namespace lgs::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr char kSoc[] = "housekeeping.battery_soc_percent";
constexpr char kDose[] = "radiation.dose_rate_ugy_per_h";

// A blocking WebSocket client (Beast) for the realtime endpoint.
class WsClient {
 public:
  explicit WsClient(int port, const std::string& cookie = "") : ws_(io_) {
    beast::error_code ec;
    if (!cookie.empty()) {
      ws_.set_option(websocket::stream_base::decorator(
          [cookie](websocket::request_type& req) { req.set(http::field::cookie, cookie); }));
    }
    beast::get_lowest_layer(ws_).connect(
        {asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)}, ec);
    if (!ec) ws_.handshake(handshake_response_, "localhost", "/api/realtime", ec);
    error_ = ec;
    ws_.read_message_max(64 << 20);
  }
  bool ok() const { return !error_; }
  void Send(const std::string& text, bool binary = false) {
    ws_.binary(binary);
    beast::error_code ec;
    ws_.write(asio::buffer(text), ec);
    if (ec && !error_) error_ = ec;
  }
  // The next message, or nothing once the server closed (close_code() then says why).
  std::optional<json> Next() {
    beast::flat_buffer buffer;
    beast::error_code ec;
    ws_.read(buffer, ec);
    if (ec) {
      if (!error_) error_ = ec;  // the first error says what happened; later ones are echoes
      return std::nullopt;
    }
    return json::parse(beast::buffers_to_string(buffer.data()));
  }
  // Reads until `want` accepts a message; false if the connection ends first.
  template <typename F>
  bool Until(F want, int max_messages = 10'000) {
    for (int i = 0; i < max_messages; ++i) {
      auto m = Next();
      if (!m) return false;
      if (want(*m)) return true;
    }
    return false;
  }
  int close_code() const { return ws_.reason().code; }
  beast::error_code error() const { return error_; }

 private:
  asio::io_context io_;
  websocket::stream<tcp::socket> ws_;
  websocket::response_type handshake_response_;
  beast::error_code error_;
};

// The station's decoded packets (its --jsonl), by stream.
std::map<std::string, std::vector<json>> ReadStationLines(const std::string& path) {
  std::map<std::string, std::vector<json>> out;
  for (const std::string& line : ReadLines(path)) {
    json j = json::parse(line);
    out[j["stream"].get<std::string>()].push_back(std::move(j));
  }
  return out;
}

// The packets of one stream the emulator's truth file says it sent.
size_t CountStream(const std::string& truth_path, const std::string& stream) {
  size_t n = 0;
  for (const std::string& line : ReadLines(truth_path)) n += json::parse(line)["stream"] == stream;
  return n;
}

bool SameNumber(double a, double b) {
  return std::abs(a - b) <= 1e-12 * std::max(1.0, std::abs(b));
}

class Web : public ::testing::Test {
 protected:
  void Start(const std::string& scenario, const std::string& speed,
             const std::vector<std::string>& more_station_args = {}) {
    StartStation(more_station_args);
    StartEmulator(scenario, speed);
  }
  void StartStation(const std::vector<std::string>& more_station_args = {}) {
    port_ = FreeTcpPort();
    const std::string tm = dir_.IpcEndpoint("tm"), tc = dir_.IpcEndpoint("tc");
    const std::vector<std::string> station_args = StationArgs()
                                                      .Connect(tm)
                                                      .Uplink(tc)
                                                      .Command()
                                                      .Control(dir_)
                                                      .Http(port_)
                                                      .Record(dir_.File("rec"))
                                                      .Jsonl(dir_.File("station.jsonl"))
                                                      .Quiet()
                                                      .StatsInterval(0)
                                                      .LightTime(0)
                                                      .Append(more_station_args)
                                                      .Args();
    station_ =
        std::make_unique<ChildProcess>(LGS_STATION_BIN, station_args, dir_.path(), "station");
    ASSERT_TRUE(WaitUntil([&] { return Get(port_, "/api/link").status == 200; }, 10s));
  }
  std::vector<std::string> EmulatorArgsFor(const std::string& scenario, const std::string& speed,
                                           double duration_s, const std::string& truth) {
    return EmulatorArgs()
        .Bind(dir_.IpcEndpoint("tm"))
        .CommandBind(dir_.IpcEndpoint("tc"))
        .WaitForSubscribers()
        .Duration(duration_s)
        .Scenario(scenario)
        .Arg("--speed", speed)
        .IdealLink()
        .Truth(dir_.File(truth))
        .Args();
  }
  void StartEmulator(const std::string& scenario, const std::string& speed,
                     const std::vector<std::string>& more_args = {}) {
    std::vector<std::string> args = EmulatorArgsFor(scenario, speed, 90, "truth.jsonl");
    args.insert(args.end(), more_args.begin(), more_args.end());
    emulator_ = std::make_unique<ChildProcess>(LGS_EMULATOR_BIN, args, dir_.path(), "emulator");
  }
  // Stops both; the station's JSON lines are complete afterwards.
  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    emulator_->Signal(SIGTERM);
    EXPECT_EQ(emulator_->Wait(20s), 0) << emulator_->Stderr();
    station_->Signal(SIGTERM);
    EXPECT_EQ(station_->Wait(20s), 0) << station_->Stderr();
  }
  void TearDown() override {
    if (station_) Stop();
  }
  uint64_t Received() {
    const Reply r = Get(port_, "/api/link");
    return r.status == 200 ? json::parse(r.body)["totals"]["received"].get<uint64_t>() : 0;
  }
  static uint64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  ScratchDir dir_;
  int port_ = 0;
  bool stopped_ = false;
  std::unique_ptr<ChildProcess> station_, emulator_;
};

TEST_F(Web, RealtimeSamplesAreTheStationsDecodedTelemetryAndStopOnUnsubscribe) {
  Start("nominal", "20");
  WsClient client(port_);
  ASSERT_TRUE(client.ok()) << client.error().message();
  client.Send(json{{"subscribe", {kSoc, kDose}}}.dump());
  json subscribed;
  ASSERT_TRUE(client.Until([&](const json& m) {
    subscribed = m;
    return m["type"] == "subscribed";
  }));
  EXPECT_EQ(subscribed["keys"], json({kSoc, kDose}));
  std::vector<json> samples;
  ASSERT_TRUE(client.Until([&](const json& m) {
    EXPECT_EQ(m["type"], "data");
    EXPECT_EQ(m["dropped"], 0);
    for (const json& d : m["data"]) samples.push_back(d);
    return samples.size() >= 100;
  }));
  client.Send(json{{"unsubscribe", {kSoc}}}.dump());
  ASSERT_TRUE(client.Until([](const json& m) { return m["type"] == "unsubscribed"; }));
  // What was queued before the unsubscribe may still come; after a second nothing may.
  std::this_thread::sleep_for(1s);
  size_t soc_after = 0, dose_after = 0;
  const auto until = std::chrono::steady_clock::now() + 1s;
  while (std::chrono::steady_clock::now() < until) {
    auto m = client.Next();
    ASSERT_TRUE(m);
    if (m->value("type", "") != "data") continue;
    for (const json& d : (*m)["data"]) (d["key"] == kSoc ? soc_after : dose_after)++;
  }
  Stop();

  // Every sample is exactly what the station decoded: same ground and on-board time, same value.
  auto lines = ReadStationLines(dir_.File("station.jsonl"));
  std::map<std::pair<std::string, int64_t>, json> by_time;  // (stream, ground ns) -> data
  for (const auto& [stream, list] : lines) {
    for (const json& j : list) by_time[{stream, j["ground_time_ns"].get<int64_t>()}] = j;
  }
  size_t soc = 0, dose = 0;
  for (const json& d : samples) {
    const std::string key = d["key"];
    const bool is_soc = key == kSoc;
    (is_soc ? soc : dose)++;
    const std::string stream = is_soc ? "housekeeping" : "radiation";
    const auto ground_ns = static_cast<int64_t>(std::llround(d["utc"].get<double>() * 1e6));
    auto it = by_time.lower_bound({stream, ground_ns - 1000});
    ASSERT_NE(it, by_time.end()) << d.dump();
    ASSERT_EQ(it->first.first, stream) << d.dump();
    ASSERT_LE(std::abs(it->first.second - ground_ns), 1000) << d.dump();
    const json& line = it->second;
    EXPECT_LE(std::abs(line["onboard_time_ns"].get<int64_t>() -
                       std::llround(d["scet"].get<double>() * 1e6)),
              1000)
        << d.dump();
    const double expected = line["data"][is_soc ? "battery_soc_percent" : "dose_rate_ugy_per_h"];
    EXPECT_TRUE(SameNumber(d["value"].get<double>(), expected)) << d.dump() << " vs " << expected;
  }
  EXPECT_GT(soc, 10u);
  EXPECT_GT(dose, 10u);
  EXPECT_EQ(soc_after, 0u);
  EXPECT_GT(dose_after, 5u);  // the other subscription goes on
}

TEST_F(Web, BadWebSocketInputGetsClearErrorsOrClosesAndTheServerKeepsServing) {
  Start("nominal", "20");
  WsClient client(port_);
  ASSERT_TRUE(client.ok());
  const auto next_error = [&](const std::string& send, bool binary = false) {
    client.Send(send, binary);
    json error;
    EXPECT_TRUE(client.Until([&](const json& m) {
      error = m;
      return m["type"] == "error";
    }));
    return error;
  };
  json e = next_error(R"({"subscribe": ["housekeeping.no_such_field", 7]})");
  EXPECT_EQ(e["error"], "unknown field");
  EXPECT_EQ(e["keys"], json({"housekeeping.no_such_field", "7"}));
  EXPECT_NE(next_error("{not json").value("error", "").find("not a JSON object"),
            std::string::npos);
  EXPECT_NE(next_error(R"({"subscribe": "housekeeping.mode"})").value("error", "").find("array"),
            std::string::npos);
  EXPECT_NE(next_error(R"({"subscribe": [], "unsubscribe": []})").value("error", "").find("one of"),
            std::string::npos);
  EXPECT_NE(next_error("\x01\x02", true).value("error", "").find("binary"), std::string::npos);

  // Thousands of subscriptions: every field at once, then 3000 more requests for them. The
  // server answers each and the data goes on flowing.
  json all = json::array();
  for (const station::TelemetryField& f : station::AllTelemetryFields()) all.push_back(f.key);
  client.Send(json{{"subscribe", all}}.dump());
  for (int i = 0; i < 3000; ++i) {
    client.Send(json{{"subscribe", {all[static_cast<size_t>(i) % all.size()]}}}.dump());
  }
  size_t answers = 0;
  std::set<std::string> keys_seen;
  ASSERT_TRUE(client.Until(
      [&](const json& m) {
        if (m["type"] == "subscribed") ++answers;
        if (m["type"] == "data") {
          for (const json& d : m["data"]) keys_seen.insert(d["key"]);
        }
        return answers >= 3001 && keys_seen.contains(kSoc) && keys_seen.contains(kDose);
      },
      100'000))
      << answers;

  // A client that keeps sending garbage is closed with "policy violation"; one that sends a
  // 100 KiB message is closed with "message too big".
  WsClient spammer(port_);
  for (int i = 0; i < 25; ++i) spammer.Send("garbage");
  EXPECT_TRUE(spammer.Until([](const json&) { return false; }) == false);
  EXPECT_EQ(spammer.close_code(), static_cast<int>(websocket::close_code::policy_error));
  WsClient big(port_);
  big.Send(std::string(100 * 1024, ' '));
  EXPECT_FALSE(big.Next());
  // The server sends 1009 and closes; with the rest of the message still unread on its side the
  // kernel may reset the connection before the close frame is read here (or while the message
  // is still being written). The server counts it as a bad message (checked below).
  const beast::error_code why = big.error();
  EXPECT_TRUE(big.close_code() == static_cast<int>(websocket::close_code::too_big) ||
              why == asio::error::connection_reset || why == asio::error::broken_pipe ||
              why == asio::error::eof)
      << big.close_code() << " " << why.message();

  // The two closed clients are gone once their close handshakes end; then only the first is left.
  ASSERT_TRUE(WaitUntil(
      [&] {
        const Reply r = Get(port_, "/api/link");
        return r.status == 200 && json::parse(r.body)["realtime"]["clients"] == 1;
      },
      5s));
  // Beyond 32 clients the upgrade is refused with 503; the others stay connected.
  std::vector<std::unique_ptr<WsClient>> crowd;
  int refused = 0;
  for (int i = 0; i < 40; ++i) {
    crowd.push_back(std::make_unique<WsClient>(port_));
    if (!crowd.back()->ok()) ++refused;
  }
  EXPECT_EQ(refused, 40 - (32 - 1));  // the first client is still connected
  crowd.clear();

  // HTTP and ingest went on throughout; the first client still gets data.
  const uint64_t before = Received();
  EXPECT_TRUE(WaitUntil([&] { return Received() > before + 50; }, 10s));
  keys_seen.clear();
  EXPECT_TRUE(client.Until([&](const json& m) {
    if (m["type"] == "data") {
      for (const json& d : m["data"]) keys_seen.insert(d["key"]);
    }
    return keys_seen.size() > 20;
  }));
  const json link = json::parse(Get(port_, "/api/link").body);
  EXPECT_GE(link["realtime"]["bad_messages"].get<int>(), 5 + 21 + 1);
  EXPECT_GE(link["realtime"]["refused"].get<int>(), 9);
}

TEST_F(Web, HistoryComesFromTheRecordingsWithEveryStrategyAndRefusesBadRanges) {
  // Files split every second: the range covers closed files (read through their chunk indexes)
  // and the one being written (walked).
  Start("nominal", "20", {"--split-duration", "1"});
  const uint64_t start_ms = NowMs();
  std::this_thread::sleep_for(4s);
  // Chunks close every second and the recorder's I/O thread writes them: asked 2.5 s later, the
  // range is on disk even on a loaded machine.
  const uint64_t end_ms = NowMs() - 1500;
  std::this_thread::sleep_for(1s);
  const std::string range = "&start=" + std::to_string(start_ms) + "&end=" + std::to_string(end_ms);
  const Reply all = Get(port_, std::string("/api/history?key=") + kSoc + range);
  const Reply latest =
      Get(port_, std::string("/api/history?key=") + kSoc + range + "&strategy=latest");
  const Reply minmax =
      Get(port_, std::string("/api/history?key=") + kSoc + range + "&strategy=minmax&size=10");
  const Reply traverse = Get(
      port_, "/api/traverse?start=" + std::to_string(start_ms) + "&end=" + std::to_string(end_ms));
  ASSERT_EQ(all.status, 200) << all.body;
  ASSERT_EQ(latest.status, 200) << latest.body;
  ASSERT_EQ(minmax.status, 200) << minmax.body;
  ASSERT_EQ(traverse.status, 200) << traverse.body;
  EXPECT_EQ(all.headers.at("X-History-Truncated"), "false");
  EXPECT_GE(std::stoi(all.headers.at("X-History-Files")), 3);

  // Bad input: clear 4xx, and the server keeps serving.
  const std::string soc = std::string("/api/history?key=") + kSoc;
  EXPECT_EQ(Get(port_, "/api/history?key=housekeeping.nope" + range).status, 404u);
  EXPECT_EQ(Get(port_, soc).status, 400u);
  EXPECT_EQ(Get(port_, soc + "&start=10&end=5").status, 400u);
  EXPECT_EQ(Get(port_, soc + "&start=0&end=99999999999999").status, 400u);
  EXPECT_EQ(Get(port_, soc + "&start=nan&end=5").status, 400u);
  EXPECT_EQ(Get(port_, soc + "&start=-5&end=5").status, 400u);
  EXPECT_EQ(Get(port_, soc + range + "&strategy=median").status, 400u);
  const Reply bad_time = Get(port_, soc + range + "&time=sol");
  EXPECT_EQ(bad_time.status, 400u);
  EXPECT_NE(bad_time.body.find("unknown time 'sol'"), std::string::npos) << bad_time.body;
  EXPECT_EQ(Get(port_, soc + range + "&strategy=minmax&size=0").status, 400u);
  EXPECT_EQ(Get(port_, soc + range + "&strategy=minmax&size=abc").status, 400u);
  EXPECT_EQ(Get(port_, "/api/traverse?start=5").status, 400u);
  // The page's files, and nothing outside them.
  EXPECT_EQ(Get(port_, "/").status, 200u);
  EXPECT_NE(Get(port_, "/").body.find("lgs-plugin.js"), std::string::npos);
  EXPECT_EQ(Get(port_, "/openmct/openmct.js").status, 200u);
  EXPECT_EQ(Get(port_, "/../../etc/passwd").status, 400u);
  EXPECT_EQ(Get(port_, "/openmct/%2e%2e/package.json").status, 400u);
  EXPECT_EQ(Get(port_, "/.git/config").status, 400u);
  EXPECT_EQ(Get(port_, "/no-such-file.js").status, 404u);
  EXPECT_EQ(Get(port_, "/api/realtime").status, 426u);
  Stop();

  // Ground truth: the station's decoded housekeeping in the same range.
  auto lines = ReadStationLines(dir_.File("station.jsonl"));
  std::vector<std::pair<uint64_t, double>> truth;
  for (const json& j : lines["housekeeping"]) {
    const uint64_t t = j["ground_time_ns"];
    if (t >= start_ms * 1'000'000 && t <= end_ms * 1'000'000) {
      truth.emplace_back(t, j["data"]["battery_soc_percent"].get<double>());
    }
  }
  ASSERT_GT(truth.size(), 40u);
  const json samples = json::parse(all.body);
  ASSERT_EQ(samples.size(), truth.size());
  for (size_t i = 0; i < truth.size(); ++i) {
    EXPECT_NEAR(samples[i]["utc"].get<double>() * 1e6, static_cast<double>(truth[i].first), 1000)
        << i;
    EXPECT_TRUE(SameNumber(samples[i]["value"], truth[i].second)) << i;
  }
  const json newest = json::parse(latest.body);
  ASSERT_EQ(newest.size(), 1u);
  EXPECT_TRUE(SameNumber(newest[0]["value"], truth.back().second));
  // minmax: per bucket of ten equal time slices, the smallest and the largest value.
  const double span = static_cast<double>((end_ms - start_ms) * 1'000'000) + 1.0;
  std::map<size_t, std::pair<double, double>> buckets;
  for (const auto& [t, v] : truth) {
    const size_t b = std::min<size_t>(
        9, static_cast<size_t>(static_cast<double>(t - start_ms * 1'000'000) / span * 10));
    auto [it, fresh] = buckets.try_emplace(b, v, v);
    if (!fresh) it->second = {std::min(it->second.first, v), std::max(it->second.second, v)};
  }
  std::multiset<double> expected_values, got_values;
  for (const auto& [b, mm] : buckets) {
    expected_values.insert(mm.first);
    if (mm.second != mm.first) expected_values.insert(mm.second);
  }
  for (const json& s : json::parse(minmax.body)) got_values.insert(s["value"].get<double>());
  EXPECT_EQ(got_values, expected_values);

  // The traverse: every recorded pose in the range, in order.
  std::vector<std::pair<double, double>> poses;
  for (const json& j : lines["navigation_pose"]) {
    const uint64_t t = j["ground_time_ns"];
    if (t >= start_ms * 1'000'000 && t <= end_ms * 1'000'000) {
      poses.emplace_back(j["data"]["x_m"].get<double>(), j["data"]["y_m"].get<double>());
    }
  }
  const json path = json::parse(traverse.body)["path"];
  ASSERT_EQ(path.size(), poses.size());
  for (size_t i = 0; i < poses.size(); ++i) {
    EXPECT_TRUE(SameNumber(path[i][1], poses[i].first)) << i;
    EXPECT_TRUE(SameNumber(path[i][2], poses[i].second)) << i;
  }
}

TEST(WebToken, WithATokenFileEveryRequestAndTheWebSocketNeedIt) {
  ScratchDir dir;
  const int port = FreeTcpPort();
  ChildProcess station(LGS_STATION_BIN,
                       StationArgs()
                           .Connect(dir.IpcEndpoint("tm"))
                           .Control(dir)
                           .Http(port)
                           .Arg("--http-token", dir.File("http.token"))
                           .Quiet()
                           .StatsInterval(0)
                           .Args(),
                       dir.path(), "station");
  ASSERT_TRUE(WaitUntil([&] { return Get(port, "/api/link").status != 0; }, 10s));
  std::string token = ReadFile(dir.File("http.token"));
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  ASSERT_GE(token.size(), 32u);
  EXPECT_EQ(
      std::filesystem::status(dir.File("http.token")).permissions() & std::filesystem::perms::all,
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  EXPECT_EQ(Get(port, "/api/link").status, 401u);
  EXPECT_EQ(Get(port, "/").status, 401u);
  EXPECT_EQ(Get(port, "/api/link", {{http::field::authorization, "Bearer " + token}}).status, 200u);
  EXPECT_EQ(Get(port, "/api/link", {{http::field::authorization, "Bearer x" + token}}).status,
            401u);
  // A browser: /login?token=... sets the cookie, which then opens the page and the WebSocket.
  EXPECT_EQ(Get(port, "/login?token=wrong").status, 401u);
  const Reply login = Get(port, "/login?token=" + token);
  EXPECT_EQ(login.status, 303u);
  EXPECT_EQ(login.headers.at("Location"), "/");
  EXPECT_NE(login.headers.at("Set-Cookie").find("lgs_token=" + token), std::string::npos);
  EXPECT_NE(login.headers.at("Set-Cookie").find("HttpOnly"), std::string::npos);
  EXPECT_EQ(Get(port, "/", {{http::field::cookie, "lgs_token=" + token}}).status, 200u);
  EXPECT_EQ(Get(port, "/", {{http::field::cookie, "theme=dark; lgs_token=" + token}}).status, 200u);
  EXPECT_EQ(Get(port, "/", {{http::field::cookie, "lgs_token=" + token + "x"}}).status, 401u);
  EXPECT_EQ(Get(port, "/", {{http::field::cookie, "xlgs_token=" + token}}).status, 401u);
  WsClient refused(port);
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.error(), websocket::error::upgrade_declined) << refused.error().message();
  WsClient admitted(port, "lgs_token=" + token);
  ASSERT_TRUE(admitted.ok()) << admitted.error().message();
  admitted.Send(json{{"subscribe", {kSoc}}}.dump());
  EXPECT_TRUE(admitted.Until([](const json& m) { return m["type"] == "subscribed"; }));
  station.Signal(SIGTERM);
  EXPECT_EQ(station.Wait(20s), 0) << station.Stderr();
}

TEST_F(Web, TheOpenMctPageShowsLiveDataAlarmsCommandsAndHistoryInChromium) {
  Start("spe-storm", "200");
  // A past range for the history check: a few seconds from now on, asked for afterwards.
  std::this_thread::sleep_for(1s);
  const uint64_t history_start = NowMs();
  std::this_thread::sleep_for(3s);
  const uint64_t history_end = NowMs();
  std::filesystem::create_directories(LGS_TEST_OUTPUT_DIR);
  const std::string screenshot = std::string(LGS_TEST_OUTPUT_DIR) + "/web-ui.png";
  ChildProcess browser(LGS_NODE,
                       {std::string(LGS_SOURCE_DIR) + "/tests/web/browser_check.mjs", "--url",
                        "http://127.0.0.1:" + std::to_string(port_), "--screenshot", screenshot,
                        "--history-key", kDose, "--history-start", std::to_string(history_start),
                        "--history-end", std::to_string(history_end), "--command", "ping"},
                       dir_.path(), "browser");
  ASSERT_EQ(browser.Wait(100s), 0) << browser.Stderr();
  const json report = json::parse(browser.Stdout());
  { std::ofstream(std::string(LGS_TEST_OUTPUT_DIR) + "/web-ui-report.json") << report.dump(2); }
  Stop();
  ASSERT_FALSE(report.contains("error")) << report.dump(2);
  EXPECT_EQ(report["console_errors"], json::array()) << report.dump(2);
  // Live points for the dose-rate plot came over the WebSocket.
  EXPECT_GE(report["live"].value(kDose, 0), 5) << report["live"].dump();
  // The storm's dose rate shows as an alarm, acknowledged from the page.
  const std::string alarm_class = report["alarm"]["class"];
  EXPECT_TRUE(alarm_class.find("lgs-warning") != std::string::npos ||
              alarm_class.find("lgs-critical") != std::string::npos)
      << alarm_class;
  EXPECT_NE(report["alarm"]["text"].get<std::string>().find("dose"), std::string::npos)
      << report["alarm"];
  EXPECT_TRUE(report["alarm_acknowledged"]);
  EXPECT_NE(report["command"]["row"].get<std::string>().find("ping"), std::string::npos);
  EXPECT_TRUE(std::filesystem::file_size(screenshot) > 10'000);

  // History for the past range: exactly the recorded dose-rate samples of that range.
  ASSERT_EQ(report["history"]["status"], 200);
  std::vector<std::pair<int64_t, double>> truth;
  auto lines = ReadStationLines(dir_.File("station.jsonl"));
  for (const json& j : lines["radiation"]) {
    const int64_t t = j["ground_time_ns"];
    if (t >= static_cast<int64_t>(history_start * 1'000'000) &&
        t <= static_cast<int64_t>(history_end * 1'000'000)) {
      truth.emplace_back(t, j["data"]["dose_rate_ugy_per_h"].get<double>());
    }
  }
  const json& samples = report["history"]["samples"];
  ASSERT_GT(truth.size(), 100u);
  ASSERT_EQ(samples.size(), truth.size()) << report["history"]["url"];
  for (size_t i = 0; i < truth.size(); ++i) {
    EXPECT_NEAR(samples[i]["utc"].get<double>() * 1e6, static_cast<double>(truth[i].first), 1000);
    EXPECT_TRUE(SameNumber(samples[i]["value"], truth[i].second)) << i;
  }
}

// The operator console in chromium at both sizes, against a station that has seen two runs of
// the rover (a short one, a pause, then a storm): the banner, the clock, a turn's stages and the
// storm's alarm on the timeline, the layout at 1280×800 and 1920×1080, and the power panel's gap
// between the runs. Then the same state and timeline over HTTP against the station's JSON lines.
TEST_F(Web, TheConsoleShowsStateClockAndTimelineAndFitsAt1280And1920InChromium) {
  // The nominal site's illumination plan, as the emulator predicts it: the clock's sunlight.
  const std::string sun_plan = dir_.File("sun.yaml");
  {
    ChildProcess plan(LGS_EMULATOR_BIN,
                      EmulatorArgs().Scenario("nominal").Arg("--write-sun-plan", sun_plan).Args(),
                      dir_.path(), "plan");
    ASSERT_EQ(plan.Wait(30s), 0) << plan.Stderr();
  }
  auto sun = station::LoadSunSchedule(sun_plan);
  ASSERT_TRUE(sun.ok()) << sun.error().message();
  ASSERT_FALSE(sun->shadows.empty());
  StartStation({"--sun-schedule", sun_plan});
  const uint64_t first_run_ms = NowMs();
  {
    ChildProcess first(LGS_EMULATOR_BIN, EmulatorArgsFor("nominal", "20", 3, "truth-first.jsonl"),
                       dir_.path(), "emulator-first");
    ASSERT_EQ(first.Wait(30s), 0) << first.Stderr();
  }
  // A pause between the runs the power panel must show as a gap (more than its 5 s).
  std::this_thread::sleep_for(8s);
  // Fast enough that the storm's onset (20 min in) raises the dose alarm within seconds. The
  // rover rebooted: it numbers its packets from 0 again, its clock on from where it was.
  const int64_t after_first_run_s = static_cast<int64_t>(NowMs() / 1000) + 120;
  StartEmulator("spe-storm", "100", {"--mission-start", std::to_string(after_first_run_s)});
  ASSERT_TRUE(WaitUntil([&] { return Received() > 500; }, 30s));
  // The pause as the recordings hold it (once the second run's first chunk is on disk): the
  // longest spell without a state of charge.
  double gap_from = 0, gap_to = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        const Reply soc = Get(port_, fmt::format("/api/history?key={}&start={}&end={}", kSoc,
                                                 first_run_ms - 1000, NowMs()));
        if (soc.status != 200) return false;
        const json samples = json::parse(soc.body);
        for (size_t i = 1; i < samples.size(); ++i) {
          const double a = samples[i - 1]["utc"], b = samples[i]["utc"];
          if (b - a > gap_to - gap_from) std::tie(gap_from, gap_to) = std::pair(a, b);
        }
        return gap_to - gap_from > 7000.0;  // the 8 s pause
      },
      15s));
  std::filesystem::create_directories(LGS_TEST_OUTPUT_DIR);
  const std::string prefix = std::string(LGS_TEST_OUTPUT_DIR) + "/console";
  ChildProcess browser(LGS_NODE,
                       {std::string(LGS_SOURCE_DIR) + "/tests/web/console_check.mjs",
                        "--url",
                        "http://127.0.0.1:" + std::to_string(port_),
                        "--sizes",
                        "1280x800,1920x1080",
                        "--screenshot-prefix",
                        prefix,
                        "--turn-deg",
                        "15",
                        "--alarm",
                        "yes",
                        "--gap-key",
                        kSoc,
                        "--plot-start",
                        std::to_string(first_run_ms - 1000),
                        "--plot-end",
                        fmt::format("{:.0f}", gap_to + 3000),
                        "--gap-from",
                        fmt::format("{:.0f}", gap_from),
                        "--gap-to",
                        fmt::format("{:.0f}", gap_to)},
                       dir_.path(), "browser");
  ASSERT_EQ(browser.Wait(110s), 0) << browser.Stderr();
  const json report = json::parse(browser.Stdout());
  { std::ofstream(prefix + "-report.json") << report.dump(2); }
  ASSERT_FALSE(report.contains("error")) << report.dump(2);
  EXPECT_EQ(report["console_errors"], json::array()) << report.dump(2);

  // The rover stops; the station's state and timeline settle and are read over HTTP.
  emulator_->Signal(SIGTERM);
  EXPECT_EQ(emulator_->Wait(20s), 0) << emulator_->Stderr();
  std::this_thread::sleep_for(1500ms);  // the last state published, the last chunk flushed
  const Reply state_reply = Get(port_, "/api/state");
  ASSERT_EQ(state_reply.status, 200u) << state_reply.body;
  const json state = json::parse(state_reply.body);
  const std::string range = fmt::format("start={}&end={}", NowMs() - 3'600'000, NowMs() + 60'000);
  const Reply all_reply = Get(port_, "/api/timeline?" + range);
  ASSERT_EQ(all_reply.status, 200u) << all_reply.body;
  const json timeline = json::parse(all_reply.body)["entries"];
  const json alarms_only = json::parse(Get(port_, "/api/timeline?kinds=alarm&" + range).body);
  const json critical = json::parse(Get(port_, "/api/timeline?severity=critical&" + range).body);
  const json newest3 = json::parse(Get(port_, "/api/timeline?limit=3&" + range).body);
  // Bad requests: each a 400 with its reason.
  for (const std::string& bad :
       {"kinds=event,bogus&" + range, "severity=loud&" + range, "limit=0&" + range,
        "limit=2.5&" + range, std::string("start=5")}) {
    const Reply r = Get(port_, "/api/timeline?" + bad);
    EXPECT_EQ(r.status, 400u) << bad;
    EXPECT_TRUE(json::parse(r.body).contains("error")) << bad;
  }
  station_->Signal(SIGTERM);
  EXPECT_EQ(station_->Wait(20s), 0) << station_->Stderr();
  stopped_ = true;

  auto lines = ReadStationLines(dir_.File("station.jsonl"));
  ASSERT_GT(lines["housekeeping"].size(), 50u);
  std::map<uint64_t, const json*> housekeeping;  // by on-board time
  for (const json& j : lines["housekeeping"]) housekeeping[j["onboard_time_ns"]] = &j;
  const auto short_enum = [](const json& v, const std::string& prefix) {
    std::string s = v.is_string() ? v.get<std::string>() : "";
    return s.starts_with(prefix) ? s.substr(prefix.size()) : s;
  };

  uint64_t newest_onboard = 0, oldest_onboard = UINT64_MAX;
  for (const auto& [stream, list] : lines) {
    for (const json& j : list) {
      newest_onboard = std::max(newest_onboard, j["onboard_time_ns"].get<uint64_t>());
      oldest_onboard = std::min(oldest_onboard, j["onboard_time_ns"].get<uint64_t>());
    }
  }
  // In chromium, at both sizes: the banner is the housekeeping packet it names, the clock has
  // on-board time and the light time, nothing sticks out of a panel, no panel overlaps another.
  ASSERT_EQ(report["sizes"].size(), 2u);
  for (const json& size : report["sizes"]) {
    SCOPED_TRACE(size["width"].dump());
    // The page has the time as a double (ns since 1970 need 61 bits): the packet whose time
    // rounds to it (packets are far more than the 256 ns apart that doubles resolve here).
    const double onboard = std::stod(size["housekeeping_onboard_ns"].get<std::string>());
    const json* found = nullptr;
    for (const auto& [t, line] : housekeeping) {
      if (static_cast<double>(t) == onboard) found = line;
    }
    ASSERT_NE(found, nullptr) << size["housekeeping_onboard_ns"];
    const json& hk = *found;
    EXPECT_EQ(size["mode"], short_enum(hk["data"]["mode"], "ROVER_MODE_"));
    EXPECT_EQ(size["mode_text"], size["mode"]);
    EXPECT_TRUE(SameNumber(size["soc"], hk["data"]["battery_soc_percent"].get<double>()));
    EXPECT_NE(size["battery_text"].get<std::string>().find(
                  fmt::format("{:.1f} %", hk["data"]["battery_soc_percent"].get<double>())),
              std::string::npos)
        << size["battery_text"];
    EXPECT_FALSE(size["scet_ns"].get<std::string>().empty());
    EXPECT_EQ(size["scet_text"].get<std::string>().size(), 20u) << size["scet_text"];  // ISO, s
    EXPECT_EQ(size["light_time_s"], 0.0);  // the fixture's --light-time 0
    EXPECT_EQ(size["light_text"], "0.00 s");
    // Sunlit, the plan's first shadow ahead: its start on board, from the first run's epoch.
    EXPECT_EQ(size["in_shadow"], "false");
    const auto loss_ns = static_cast<uint64_t>(std::llround(sun->shadows.front().start_s * 1e9));
    EXPECT_EQ(std::stod(size["next_loss_of_sun_scet_ns"].get<std::string>()),
              static_cast<double>(oldest_onboard + loss_ns));
    EXPECT_TRUE(
        size["sunlight_text"].get<std::string>().starts_with("sunlit · next loss of sun SCET "))
        << size["sunlight_text"];
    const json& layout = size["layout"];
    EXPECT_EQ(layout["panels"].size(), 6u);
    EXPECT_EQ(layout["overflowing"], json::array()) << layout["overflowing"].dump(2);
    EXPECT_EQ(layout["overlaps"], json::array()) << layout["overlaps"].dump(2);
    EXPECT_GT(layout["cells_checked"].get<int>(), 30);
    EXPECT_TRUE(std::filesystem::file_size(size["screenshot"].get<std::string>()) > 20'000);
    // One line per run of housekeeping in the range: the pause between the runs is a gap.
    EXPECT_EQ(size["power"]["segments"]["housekeeping.battery_soc_percent"], 2) << size["power"];
    EXPECT_GT(size["timeline_entries"].get<int>(), 10);
  }
  // Every housekeeping packet of both runs was taken: the second run's numbers, which overlap
  // the first's, were not dropped as copies.
  EXPECT_EQ(lines["housekeeping"].size(),
            CountStream(dir_.File("truth-first.jsonl"), "housekeeping") +
                CountStream(dir_.File("truth.jsonl"), "housekeeping"));
  // Open MCT's plot of the state of charge draws the first run, and no line across the pause.
  EXPECT_GT(report["gap_plot"]["before_pixels"].get<int>(), 20) << report["gap_plot"];
  EXPECT_EQ(report["gap_plot"]["gap_pixels"], 0) << report["gap_plot"];
  // The station's JSON lines say there was exactly one such pause.
  int pauses = 0;
  for (size_t i = 1; i < lines["housekeeping"].size(); ++i) {
    const int64_t dt = lines["housekeeping"][i]["ground_time_ns"].get<int64_t>() -
                       lines["housekeeping"][i - 1]["ground_time_ns"].get<int64_t>();
    if (dt > 5'000'000'000) ++pauses;
  }
  EXPECT_EQ(pauses, 1);

  // The turn's stages on the timeline, in the order the station went through them.
  const json& turn = report["turn"];
  std::vector<std::string> stages;
  for (const json& s : turn["stages"]) stages.push_back(s["state"]);
  ASSERT_GE(stages.size(), 6u) << turn.dump();
  EXPECT_EQ(std::vector<std::string>(stages.begin(), stages.begin() + 5),
            (std::vector<std::string>{"queued", "released", "sent", "accepted", "started"}))
      << turn.dump();
  EXPECT_EQ(stages.back(), "completed");
  for (size_t i = 5; i + 1 < stages.size(); ++i) EXPECT_EQ(stages[i], "progress") << i;
  EXPECT_GE(turn["command_marks"].get<size_t>(), stages.size());
  // The storm's dose alarm on the timeline, coloured by its severity.
  EXPECT_EQ(report["alarm"]["name"], kDose) << report["alarm"];
  const std::string alarm_class = report["alarm"]["class"];
  EXPECT_TRUE(alarm_class.find("lgs-warning") != std::string::npos ||
              alarm_class.find("lgs-critical") != std::string::npos)
      << alarm_class;

  // Over HTTP, after the rover stopped: the state is the newest housekeeping and on-board time.
  const json& newest_hk = *housekeeping.rbegin()->second;
  EXPECT_EQ(state["rover"]["housekeeping"]["onboard_ns"], housekeeping.rbegin()->first);
  EXPECT_EQ(state["rover"]["mode"], short_enum(newest_hk["data"]["mode"], "ROVER_MODE_"));
  EXPECT_TRUE(SameNumber(state["rover"]["housekeeping"]["battery_soc_percent"],
                         newest_hk["data"]["battery_soc_percent"].get<double>()));
  EXPECT_EQ(state["clock"]["scet_ns"], newest_onboard);
  EXPECT_EQ(state["clock"]["mission_epoch_ns"], oldest_onboard);
  EXPECT_EQ(state["clock"]["light_time_s"], 0.0);
  EXPECT_EQ(state["commands"]["last"]["name"], "turn");
  EXPECT_EQ(state["commands"]["last"]["stage"], "completed");
  EXPECT_TRUE(state["commands"]["running"].is_null());

  // The timeline's events are the station's event packets, one entry each, in order.
  std::vector<std::pair<std::string, std::string>> events, truth_events;
  for (const json& e : timeline) {
    if (e["kind"] == "event") events.emplace_back(e["name"], e["message"]);
  }
  for (const json& j : lines["event"]) {
    truth_events.emplace_back(short_enum(j["data"]["kind"], "EVENT_KIND_"),
                              j["data"].value("message", ""));
  }
  ASSERT_GT(truth_events.size(), 3u);
  EXPECT_EQ(events, truth_events);
  // The events view in the tree, read while the rover still ran: the events recorded until
  // then, one row each (at least every one older than 3 s then: the recording is read back up
  // to its last chunk, closed every second, and the view asks every 2 s).
  std::vector<std::pair<std::string, std::string>> rows;
  for (const json& r : report["events_view"]) {
    EXPECT_EQ(r["kind"], "event");
    rows.emplace_back(r["name"], r["message"]);
  }
  const int64_t read_ns = report["events_view_read_ms"].get<int64_t>() * 1'000'000;
  size_t settled = 0;
  for (const json& j : lines["event"])
    settled += j["ground_time_ns"].get<int64_t>() < read_ns - 3'000'000'000;
  ASSERT_LE(rows.size(), truth_events.size());
  EXPECT_GE(rows.size(), settled);
  EXPECT_GT(rows.size(), 3u);
  EXPECT_TRUE(std::equal(rows.begin(), rows.end(), truth_events.begin()));
  // Filters: only alarms; only critical; the newest three.
  size_t alarm_entries = 0, critical_entries = 0;
  for (const json& e : timeline) {
    alarm_entries += e["kind"] == "alarm";
    critical_entries += e["severity"] == "critical";
  }
  EXPECT_GT(alarm_entries, 0u);
  EXPECT_EQ(alarms_only["entries"].size(), alarm_entries);
  for (const json& e : alarms_only["entries"]) EXPECT_EQ(e["kind"], "alarm");
  EXPECT_EQ(critical["entries"].size(), critical_entries);
  for (const json& e : critical["entries"]) EXPECT_EQ(e["severity"], "critical");
  ASSERT_EQ(newest3["entries"].size(), 3u);
  EXPECT_TRUE(newest3["truncated"]);
  EXPECT_EQ(newest3["entries"][2], timeline.back());
}

// Open MCT's own plot in real time while the field's stream falls silent (the rover's process
// stopped for 8 s, then let go): the line stops at the silence and starts again after it, with
// nothing drawn across it. Without the plugin's gap point the plot joins the two (counted 0
// pixels with it; without it, a line across the silence).
TEST_F(Web, ALivePlotIsNotJoinedAcrossAStreamsSilenceInChromium) {
  Start("nominal", "5");
  ASSERT_TRUE(WaitUntil([&] { return Received() > 20; }, 20s));
  std::filesystem::create_directories(LGS_TEST_OUTPUT_DIR);
  const std::string screenshot = std::string(LGS_TEST_OUTPUT_DIR) + "/live-gap.png";
  ChildProcess browser(
      LGS_NODE,
      {std::string(LGS_SOURCE_DIR) + "/tests/web/live_gap_check.mjs", "--url",
       "http://127.0.0.1:" + std::to_string(port_), "--key", kSoc, "--pid",
       std::to_string(emulator_->pid()), "--silence-ms", "8000", "--screenshot", screenshot},
      dir_.path(), "browser");
  ASSERT_EQ(browser.Wait(90s), 0) << browser.Stderr();
  const json report = json::parse(browser.Stdout());
  { std::ofstream(std::string(LGS_TEST_OUTPUT_DIR) + "/live-gap-report.json") << report.dump(2); }
  Stop();
  ASSERT_FALSE(report.contains("error")) << report.dump(2);
  EXPECT_EQ(report["console_errors"], json::array()) << report.dump(2);
  EXPECT_GT(report["points_after"].get<int>(), 0) << report.dump(2);
  // The station's JSON lines: housekeeping stopped for the silence, and only then.
  const auto lines = ReadStationLines(dir_.File("station.jsonl"));
  const double from_ns = report["silence_from"].get<double>() * 1e6,
               to_ns = report["silence_to"].get<double>() * 1e6;
  size_t during = 0, before = 0;
  for (const json& j : lines.at("housekeeping")) {
    const auto t = j["ground_time_ns"].get<double>();
    during += t > from_ns + 500e6 && t < to_ns;
    before += t > from_ns - 10e9 && t < from_ns;
  }
  EXPECT_EQ(during, 0u);
  EXPECT_GT(before, 20u);
  // The chart: the line before the silence, none across it.
  EXPECT_GT(report["before_pixels"].get<int>(), 20) << report.dump(2);
  EXPECT_EQ(report["gap_pixels"], 0) << report.dump(2);
  // The live table of the same field: its rows, none of them the plot's gap point.
  EXPECT_GT(report["table_rows"].get<int>(), 20) << report.dump(2);
  EXPECT_EQ(report["table_nan_cells"], 0) << report.dump(2);
}

// The mission clock's relay prediction from a pass plan (the scenario file the rover runs),
// against the rover's own loss- and acquisition-of-signal events (stored on board during the
// outage, played back after it).
// A station with the relay-outage scenario as its pass plan (recording, JSON lines, web), and
// the emulator flying that scenario at `speed` for `duration_s` wall seconds: 30-minute outages
// every 4 h, the first 10 minutes in (at 200× after 3 s), the rover's store played back after.
class RelayOutageRun {
 public:
  RelayOutageRun(double speed, double duration_s) {
    const std::string tm = dir.IpcEndpoint("tm");
    station = std::make_unique<ChildProcess>(
        LGS_STATION_BIN,
        StationArgs()
            .Connect(tm)
            .Http(port)
            .Record(dir.File("rec"))
            .Jsonl(dir.File("station.jsonl"))
            .Quiet()
            .StatsInterval(0)
            .Arg("--link-schedule",
                 std::string(LGS_SOURCE_DIR) + "/rover_emulator/scenarios/relay-outage.yaml")
            .Args(),
        dir.path(), "station");
    serving = WaitUntil([&] { return Get(port, "/api/link").status == 200; }, 10s);
    emulator = std::make_unique<ChildProcess>(LGS_EMULATOR_BIN,
                                              EmulatorArgs()
                                                  .Bind(tm)
                                                  .WaitForSubscribers()
                                                  .Duration(duration_s)
                                                  .Scenario("relay-outage")
                                                  .Speed(speed)
                                                  .Args(),
                                              dir.path(), "emulator");
  }
  // /api/state's clock once the mission has run a second (null if it never did).
  json ClockOnceRunning() {
    json clock;
    const bool running = WaitUntil(
        [&] {
          const Reply r = Get(port, "/api/state");
          if (r.status != 200) return false;
          clock = json::parse(r.body)["clock"];
          return clock["met_s"].is_number() && clock["met_s"].get<double>() > 1;
        },
        20s);
    return running ? clock : json();
  }
  void Stop() {
    emulator->Signal(SIGTERM);
    EXPECT_EQ(emulator->Wait(20s), 0) << emulator->Stderr();
    station->Signal(SIGTERM);
    EXPECT_EQ(station->Wait(20s), 0) << station->Stderr();
  }

  ScratchDir dir;
  const int port = FreeTcpPort();
  std::unique_ptr<ChildProcess> station, emulator;
  bool serving = false;
};

TEST(WebClock, TheRelaysPredictedLossAndAcquisitionAreWhenTheRoverSawThem) {
  RelayOutageRun run(200, 40);
  ASSERT_TRUE(run.serving) << run.station->Stderr();
  const int port = run.port;
  const json before = run.ClockOnceRunning();
  ASSERT_FALSE(before.is_null());
  ASSERT_LT(before["met_s"].get<double>(), 600.0) << before.dump(2);  // before the outage
  const json& plan = before["link_schedule"];
  EXPECT_FALSE(plan["in_outage"]);
  EXPECT_NEAR(plan["los_in_s"].get<double>(), 600.0 - before["met_s"].get<double>(), 1e-6);
  EXPECT_NEAR(plan["aos_in_s"].get<double>(), 2400.0 - before["met_s"].get<double>(), 1e-6);

  json los, aos;
  const uint64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  const std::string range =
      fmt::format("/api/timeline?kinds=event&start={}&end={}", now - 600'000, now + 600'000);
  ASSERT_TRUE(WaitUntil(
      [&] {
        const json answer = json::parse(Get(port, range).body);
        for (const json& e : answer["entries"]) {
          if (e["name"] == "LOSS_OF_SIGNAL") los = e;
          if (e["name"] == "ACQUISITION_OF_SIGNAL") aos = e;
        }
        return !los.is_null() && !aos.is_null();
      },
      40s))
      << Get(port, range).body;
  // Within the rover model's step: the predictions are the rover's own on-board times.
  EXPECT_NEAR(los["scet"].get<double>(), plan["next_los_scet_ns"].get<double>() / 1e6, 500);
  EXPECT_NEAR(aos["scet"].get<double>(), plan["next_aos_scet_ns"].get<double>() / 1e6, 500);
  run.Stop();
}

// On-board time (SCET) in the browser, over a loss of signal the rover stored and played back
// after it (relay-outage at 200×: 30 on-board minutes in 9 s, played back at once after): the
// history by on-board time holds every sample of the outage the station logged (its JSON lines,
// on-board times one for one); Open MCT's plot in SCET draws the outage's on-board span, while
// in UTC the ground span of the outage is empty; the power panel and the timeline follow the
// time system (the rover's loss-of-signal event at its on-board time); the real-time SCET clock
// runs at the rover's rate (--speed) from the station's newest on-board time, and the live line
// across its window has no gap.
TEST(WebScet, PlotsPowerAndTimelineReadOnBoardTimeAndItsClockRunsAtTheRoversRate) {
  constexpr double kSpeed = 200;
  RelayOutageRun run(kSpeed, 90);
  ASSERT_TRUE(run.serving) << run.station->Stderr();
  const int port = run.port;
  ScratchDir& dir = run.dir;
  const json clock = run.ClockOnceRunning();
  ASSERT_FALSE(clock.is_null());
  ASSERT_LT(clock["met_s"].get<double>(), 600.0) << clock.dump(2);  // before the outage
  const auto los_ns = clock["link_schedule"]["next_los_scet_ns"].get<int64_t>();
  const auto aos_ns = clock["link_schedule"]["next_aos_scet_ns"].get<int64_t>();
  // The station's JSON lines (whole lines only: it is still writing) once live data 60 on-board
  // seconds past the outage's end came.
  std::vector<json> hk, events;
  const auto read_lines = [&] {
    hk.clear();
    events.clear();
    std::ifstream in(dir.File("station.jsonl"));
    for (std::string line; std::getline(in, line);) {
      if (in.eof()) break;  // no newline yet: a line being written
      json j = json::parse(line, nullptr, false);
      if (j.is_discarded()) continue;
      if (j["stream"] == "housekeeping") hk.push_back(std::move(j));
      if (j["stream"] == "event") events.push_back(std::move(j));
    }
  };
  const auto onboard = [](const json& j) { return j["onboard_time_ns"].get<int64_t>(); };
  const auto ground = [](const json& j) { return j["ground_time_ns"].get<int64_t>(); };
  // The outage's housekeeping, on-board ns, over the range history is asked for below (whole
  // milliseconds: a sample a few ns past the predicted end is in both or in neither).
  const int64_t from_ms = los_ns / 1'000'000, to_ms = (aos_ns + 999'999) / 1'000'000;
  std::set<int64_t> logged;
  const auto read_logged = [&] {
    read_lines();
    logged.clear();
    bool past = false;
    for (const json& j : hk) {
      if (onboard(j) >= from_ms * 1'000'000 && onboard(j) <= to_ms * 1'000'000) {
        logged.insert(onboard(j));
      }
      past = past || onboard(j) > aos_ns + 60'000'000'000;
    }
    return past && logged.size() > 1700;  // one a second on board, 1800 s
  };
  ASSERT_TRUE(WaitUntil(read_logged, 40s)) << logged.size();
  // History by on-board time: exactly those samples, in on-board order. The recorder writes
  // its chunks a moment after the JSON lines: asked until the two agree (or 20 s).
  const std::string range =
      fmt::format("/api/history?key={}&time=onboard&start={}&end={}", kSoc, from_ms, to_ms);
  std::vector<int64_t> answered, expected;
  const bool agree = WaitUntil(
      [&] {
        read_logged();
        expected.clear();
        for (int64_t t : logged) expected.push_back(std::llround(static_cast<double>(t) / 1e3));
        answered.clear();
        const json samples = json::parse(Get(port, range).body, nullptr, false);
        if (!samples.is_array()) return false;
        for (const json& d : samples) {
          answered.push_back(std::llround(d["scet"].get<double>() * 1e3));
        }
        return answered == expected;
      },
      20s);
  EXPECT_TRUE(agree) << answered.size() << " samples answered, " << expected.size() << " logged";
  EXPECT_EQ(answered, expected);
  // Ground truth for the UTC plot: the outage on the ground runs from the last housekeeping
  // taken before it to the first one taken after its start (played back or live).
  int64_t ground_from = 0, ground_to = INT64_MAX;
  for (const json& j : hk) {
    if (onboard(j) < los_ns) ground_from = std::max(ground_from, ground(j));
    if (onboard(j) >= los_ns) ground_to = std::min(ground_to, ground(j));
  }
  size_t in_ground_outage = 0;
  for (const json& j : hk) in_ground_outage += ground(j) > ground_from && ground(j) < ground_to;
  EXPECT_EQ(in_ground_outage, 0u);
  ASSERT_GT(ground_to - ground_from, 5'000'000'000);  // 1800 s on board at 200×: 9 s
  int64_t los_event_ns = 0;
  for (const json& e : events) {
    if (e["data"]["kind"] == "EVENT_KIND_LOSS_OF_SIGNAL") los_event_ns = onboard(e);
  }
  ASSERT_NE(los_event_ns, 0);

  std::filesystem::create_directories(LGS_TEST_OUTPUT_DIR);
  ChildProcess browser(
      LGS_NODE,
      {std::string(LGS_SOURCE_DIR) + "/tests/web/scet_check.mjs", "--url",
       "http://127.0.0.1:" + std::to_string(port), "--key", kSoc, "--los",
       std::to_string(los_ns / 1'000'000), "--aos", std::to_string(aos_ns / 1'000'000),
       "--ground-from", std::to_string(ground_from / 1'000'000), "--ground-to",
       std::to_string(ground_to / 1'000'000), "--screenshot-prefix",
       std::string(LGS_TEST_OUTPUT_DIR) + "/scet"},
      dir.path(), "browser");
  ASSERT_EQ(browser.Wait(90s), 0) << browser.Stderr();
  const json report = json::parse(browser.Stdout());
  { std::ofstream(std::string(LGS_TEST_OUTPUT_DIR) + "/scet-report.json") << report.dump(2); }
  run.Stop();
  ASSERT_FALSE(report.contains("error")) << report.dump(2);
  EXPECT_EQ(report["console_errors"], json::array()) << report.dump(2);
  // The plot: the outage's on-board span drawn in SCET, its ground span empty in UTC.
  EXPECT_TRUE(report["scet_plot"]["asked_onboard"]) << report.dump(2);
  EXPECT_GT(report["scet_plot"]["middle"].get<int>(), 100) << report.dump(2);
  EXPECT_FALSE(report["utc_plot"]["asked_onboard"]) << report.dump(2);
  EXPECT_EQ(report["utc_plot"]["middle"], 0) << report.dump(2);
  // The power panel holds the played-back samples where they were taken.
  EXPECT_EQ(report["power"]["domain"], "scet") << report.dump(2);
  EXPECT_GT(report["power"]["in_outage"].get<int>(), 50) << report.dump(2);
  // The timeline places the rover's event at its on-board time (it arrived after the outage).
  EXPECT_EQ(report["timeline"]["domain"], "scet") << report.dump(2);
  EXPECT_NEAR(report["timeline"]["los_at"].get<double>(), static_cast<double>(los_event_ns) / 1e6,
              1.0)
      << report.dump(2);
  EXPECT_GT(report["timeline"]["los_utc"].get<double>(), static_cast<double>(ground_from) / 1e6);
  // The clock: the rover's rate (--speed), and the station's newest SCET run on at it (within
  // 1 s of ground time).
  const json& c = report["clock"];
  EXPECT_EQ(c["key"], "lgs.scet");
  EXPECT_EQ(c["time_system"], "scet");
  EXPECT_NEAR(c["rate"].get<double>(), kSpeed, 0.02 * kSpeed) << report.dump(2);
  EXPECT_NEAR(c["value"].get<double>(), c["expected"].get<double>(), 1000 * kSpeed)
      << report.dump(2);
  EXPECT_EQ(report["live_plot"]["empty"], 0) << report.dump(2);
}

// The mission clock's loss-of-sun prediction from an illumination plan the emulator wrote for
// its own terrain and sun (rover_emulator --write-sun-plan), against the rover's own array: the
// first housekeeping packet with no solar power, on board. The site is the nominal plateau with
// the sun placed so it goes behind the massifs about 11 minutes in; the rover stays where it
// landed (its one waypoint is 20 cm away), where the plan is for.
TEST(WebClock, TheNextLossOfSunIsWhenTheRoversArrayGoesDark) {
  ScratchDir dir;
  const std::string scenario = dir.File("sunset.yaml");
  std::ofstream(scenario) << "name: sunset\nseed: 1\nsite:\n  sun_azimuth_deg: 122.4\n"
                             "traverse:\n  waypoints: [[0.0, 0.2]]\n";
  const std::string plan_path = dir.File("sun.yaml");
  {
    ChildProcess plan(
        LGS_EMULATOR_BIN,
        EmulatorArgs().Scenario(scenario).Until("1d").Arg("--write-sun-plan", plan_path).Args(),
        dir.path(), "plan");
    ASSERT_EQ(plan.Wait(30s), 0) << plan.Stderr();
  }
  auto plan = station::LoadSunSchedule(plan_path);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  ASSERT_FALSE(plan->shadows.empty()) << ReadFile(plan_path);
  const double loss_s = plan->shadows.front().start_s;
  ASSERT_GT(loss_s, 300.0) << ReadFile(plan_path);
  ASSERT_LT(loss_s, 1200.0) << ReadFile(plan_path);

  const int port = FreeTcpPort();
  const std::string tm = dir.IpcEndpoint("tm");
  ChildProcess station(LGS_STATION_BIN,
                       StationArgs()
                           .Connect(tm)
                           .Http(port)
                           .Jsonl(dir.File("station.jsonl"))
                           .Quiet()
                           .StatsInterval(0)
                           .Arg("--sun-schedule", plan_path)
                           .Args(),
                       dir.path(), "station");
  ASSERT_TRUE(WaitUntil([&] { return Get(port, "/api/link").status == 200; }, 10s));
  // At 60× the loss comes some 11 s in; the run ends 2 minutes of mission time after it.
  ChildProcess emulator(LGS_EMULATOR_BIN,
                        EmulatorArgs()
                            .Bind(tm)
                            .WaitForSubscribers()
                            .Scenario(scenario)
                            .IdealLink()
                            .Speed(60)
                            .Until(FormatNumber(loss_s + 120))
                            .Args(),
                        dir.path(), "emulator");
  const auto clock_now = [&] {
    const Reply r = Get(port, "/api/state");
    return r.status == 200 ? json::parse(r.body)["clock"] : json();
  };
  json before;
  ASSERT_TRUE(WaitUntil(
      [&] {
        before = clock_now();
        return before["met_s"].is_number() && before["met_s"].get<double>() > 1;
      },
      20s));
  ASSERT_LT(before["met_s"].get<double>(), loss_s - 60) << before.dump(2);
  const json& sunlit = before["sun_schedule"];
  EXPECT_TRUE(before["sun_schedule_configured"]);
  EXPECT_FALSE(sunlit["in_shadow"]);
  EXPECT_TRUE(sunlit["covered"]);
  EXPECT_NEAR(sunlit["loss_in_s"].get<double>(), loss_s - before["met_s"].get<double>(), 1e-6);
  const int64_t epoch = before["mission_epoch_ns"];
  const int64_t predicted_ns = sunlit["next_loss_scet_ns"];
  EXPECT_EQ(predicted_ns, epoch + static_cast<int64_t>(std::llround(loss_s * 1e9)));
  const double back_s = loss_s + plan->shadows.front().duration_s;
  if (back_s < plan->until_s) {
    EXPECT_NEAR(sunlit["return_in_s"].get<double>(), back_s - before["met_s"].get<double>(), 1e-6);
  }
  // After the loss: in shadow, and the sun's return is the spell's end.
  json after;
  ASSERT_TRUE(WaitUntil(
      [&] {
        after = clock_now();
        return after["met_s"].is_number() && after["met_s"].get<double>() > loss_s + 30;
      },
      40s))
      << after.dump(2);
  EXPECT_TRUE(after["sun_schedule"]["in_shadow"]) << after.dump(2);
  ASSERT_EQ(emulator.Wait(40s), 0) << emulator.Stderr();
  std::this_thread::sleep_for(500ms);
  station.Signal(SIGTERM);
  ASSERT_EQ(station.Wait(20s), 0) << station.Stderr();

  // The rover's array: lit until the loss, dark from it (the rover looks at the sun every 10 s of
  // mission time, as the plan is stepped; a housekeeping packet a second).
  int64_t last_lit_ns = 0, first_dark_ns = 0;
  size_t dark_packets = 0, lit_after = 0;
  for (const std::string& line : ReadLines(dir.File("station.jsonl"))) {
    const json j = json::parse(line);
    if (j["stream"] != "housekeeping") continue;
    const int64_t t = j["onboard_time_ns"];
    const double solar = j["data"].value("solar_power_w", 0.0);
    if (solar > 0) {
      if (first_dark_ns != 0) ++lit_after;
      last_lit_ns = first_dark_ns == 0 ? t : last_lit_ns;
    } else {
      if (first_dark_ns == 0) first_dark_ns = t;
      ++dark_packets;
    }
  }
  ASSERT_NE(first_dark_ns, 0) << "the array never went dark";
  std::printf(
      "loss of sun predicted at mission %.0f s; the array: last lit %+.3f s, first dark "
      "%+.3f s from it; %zu dark packets\n",
      loss_s, static_cast<double>(last_lit_ns - predicted_ns) / 1e9,
      static_cast<double>(first_dark_ns - predicted_ns) / 1e9, dark_packets);
  EXPECT_GT(dark_packets, 60u);
  EXPECT_EQ(lit_after, 0u);
  EXPECT_NEAR(static_cast<double>(first_dark_ns - predicted_ns) / 1e9, 0.0, 12.0);
  EXPECT_LT(last_lit_ns, predicted_ns + 10'000'000'000);
}

}  // namespace
}  // namespace lgs::test
