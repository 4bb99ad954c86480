// The real emulator and the real station on loopback: the station must see exactly what the
// emulator's truth file says it sent.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/programs.h"

namespace lgs::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

struct RunResult {
  std::vector<json> truth;
  std::vector<json> received;
  json summary;
  int station_exit = -1;
  std::string station_stdout;
};

// Starts the station, then an emulator that waits for it, lets the emulator run `duration_s`,
// waits until the station has written everything the truth file lists, then stops the station
// with `stop_signal`.
RunResult RunLink(const ScratchDir& dir, const std::string& endpoint, double duration_s,
                  double speed, int stop_signal) {
  RunResult r;
  ChildProcess station(LGS_STATION_BIN,
                       StationArgs()
                           .Connect(endpoint)
                           .Jsonl(dir.File("station.jsonl"))
                           .SummaryJson(dir.File("summary.json"))
                           .StatsInterval(1)
                           .Args(),
                       dir.path(), "station");
  EXPECT_TRUE(station.started());
  ChildProcess emulator(LGS_EMULATOR_BIN,
                        EmulatorArgs()
                            .IdealLink()
                            .Bind(endpoint)
                            .WaitForSubscribers()
                            .Speed(speed)
                            .Duration(duration_s)
                            .Truth(dir.File("truth.jsonl"))
                            .Seed(21)
                            .Args(),
                        dir.path(), "emulator");
  EXPECT_EQ(emulator.Wait(60s), 0) << emulator.Stderr();
  for (const std::string& line : ReadLines(dir.File("truth.jsonl"))) {
    r.truth.push_back(json::parse(line));
  }
  WaitUntil([&] { return ReadLines(dir.File("station.jsonl")).size() >= r.truth.size(); }, 20s);
  station.Signal(stop_signal);
  r.station_exit = station.Wait(20s).value_or(-1);
  r.station_stdout = station.Stdout();
  for (const std::string& line : ReadLines(dir.File("station.jsonl"))) {
    r.received.push_back(json::parse(line));
  }
  r.summary = json::parse(ReadFile(dir.File("summary.json")));
  return r;
}

void ExpectStationSawExactlyTheTruth(const RunResult& r) {
  ASSERT_GT(r.truth.size(), 50u);
  ASSERT_EQ(r.received.size(), r.truth.size());
  for (size_t i = 0; i < r.truth.size(); ++i) {
    const json& t = r.truth[i];
    const json& s = r.received[i];
    ASSERT_EQ(s["stream"], t["stream"]) << "line " << i;
    ASSERT_EQ(s["apid"], t["apid"]) << "line " << i;
    ASSERT_EQ(s["seq"], t["seq"]) << "line " << i;
    ASSERT_EQ(s["size"], t["size"]) << "line " << i;
    ASSERT_EQ(s["onboard_time_ns"], t["onboard_time_ns"]) << "line " << i;
    ASSERT_TRUE(s["data"].is_object()) << "line " << i;
    // Ground receipt times follow the order of arrival (mission time may run faster).
    if (i > 0) {
      ASSERT_GE(s["ground_time_ns"].get<int64_t>(),
                r.received[i - 1]["ground_time_ns"].get<int64_t>());
    }
  }
  EXPECT_EQ(r.summary["totals"]["received"], r.truth.size());
  EXPECT_EQ(r.summary["totals"]["rejected"], 0);
  EXPECT_EQ(r.summary["totals"]["missing"], 0);
  EXPECT_EQ(r.summary["totals"]["gaps"], 0);
  EXPECT_EQ(r.summary["totals"]["duplicates"], 0);
}

TEST(LiveLink, StationSeesEveryPacketTheEmulatorSentOverIpc) {
  ScratchDir dir;
  // 3 s at 50x: 150 s of mission time, long enough for a neutron integration (60 s) to finish.
  const RunResult r = RunLink(dir, dir.IpcEndpoint("tm"), 3.0, 50.0, SIGINT);
  ExpectStationSawExactlyTheTruth(r);
  EXPECT_EQ(r.station_exit, 0);
  // Every periodic stream showed up, and the summary and statistics lines were printed.
  for (const char* stream : {"housekeeping", "navigation_pose", "terrain_tile", "camera_frame",
                             "soil", "radiation", "event"}) {
    EXPECT_GT(r.summary["streams"][stream]["received"].get<int>(), 0) << stream;
  }
  EXPECT_NE(r.station_stdout.find("station summary"), std::string::npos);
  EXPECT_NE(r.station_stdout.find("LINK "), std::string::npos);
  EXPECT_NE(r.station_stdout.find("RAD "), std::string::npos);
}

TEST(LiveLink, StationSeesEveryPacketOverTcpAndStopsOnSigterm) {
  ScratchDir dir;
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(FreeTcpPort());
  const RunResult r = RunLink(dir, endpoint, 2.0, 50.0, SIGTERM);
  ExpectStationSawExactlyTheTruth(r);
  EXPECT_EQ(r.station_exit, 0);
}

TEST(LiveLink, TruthFileHasOneLinePerPacketWithConsecutiveSequences) {
  ScratchDir dir;
  ChildProcess emulator(LGS_EMULATOR_BIN,
                        EmulatorArgs()
                            .IdealLink()
                            .Bind(dir.IpcEndpoint("tm"))
                            .Speed(100)
                            .Duration(1)
                            .Truth(dir.File("truth.jsonl"))
                            .Args(),
                        dir.path(), "emulator");
  ASSERT_EQ(emulator.Wait(30s), 0) << emulator.Stderr();
  std::map<std::string, int64_t> next;
  for (const std::string& line : ReadLines(dir.File("truth.jsonl"))) {
    const json t = json::parse(line);
    const std::string stream = t["stream"];
    EXPECT_EQ(t["seq"].get<int64_t>(), next[stream]++) << stream;
    EXPECT_GE(t["size"].get<int>(), 19);
  }
  // 100 mission seconds at 10 Hz navigation: about a thousand poses.
  EXPECT_GT(next["navigation_pose"], 500);
  EXPECT_GT(next["housekeeping"], 50);
}

}  // namespace
}  // namespace lgs::test
