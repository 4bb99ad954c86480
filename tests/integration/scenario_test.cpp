// Scenarios end to end: the real emulator (link model on) and the real station on loopback, run
// at --max for a bounded mission time. The emulator's truth file says what the link did to every
// packet; the station must account for exactly that.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "support/capture.h"
#include "support/process.h"
#include "support/programs.h"

namespace lgs::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int64_t kMissionStartS = 1'800'000'000;
constexpr int64_t kNs = 1'000'000'000;

struct ScenarioRun {
  std::vector<json> truth;
  std::vector<json> received;  // the station's JSON lines, in arrival order
  json summary;
};

ScenarioRun RunScenario(const ScratchDir& dir, const std::string& scenario,
                        const std::string& until) {
  ScenarioRun r;
  const std::string endpoint = dir.IpcEndpoint("tm");
  ChildProcess station(LGS_STATION_BIN,
                       StationArgs()
                           .Connect(endpoint)
                           .Jsonl(dir.File("station.jsonl"))
                           .Quiet()
                           .SummaryJson(dir.File("summary.json"))
                           .IdleExit(2)
                           .Args(),
                       dir.path(), "station");
  EXPECT_TRUE(station.started());
  ChildProcess emulator(LGS_EMULATOR_BIN,
                        EmulatorArgs()
                            .Scenario(scenario)
                            .Flag("--max")
                            .Until(until)
                            .Bind(endpoint)
                            .WaitForSubscribers()
                            .MissionStart(kMissionStartS)
                            .Truth(dir.File("truth.jsonl"))
                            .Args(),
                        dir.path(), "emulator");
  EXPECT_EQ(emulator.Wait(90s), 0) << emulator.Stderr();
  EXPECT_EQ(station.Wait(60s), 0) << station.Stderr();
  for (const std::string& line : ReadLines(dir.File("truth.jsonl")))
    r.truth.push_back(json::parse(line));
  for (const std::string& line : ReadLines(dir.File("station.jsonl"))) {
    r.received.push_back(json::parse(line));
  }
  r.summary = json::parse(ReadFile(dir.File("summary.json")));
  return r;
}

using Key = std::pair<std::string, uint32_t>;
Key KeyOf(const json& j) {
  return {j["stream"].get<std::string>(), j["seq"].get<uint32_t>()};
}

TEST(Scenario, SameSeedAndScenarioPutTheSameBytesOnTheWire) {
  const auto capture = [](const std::string& seed) {
    ScratchDir dir;
    const std::string endpoint = dir.IpcEndpoint("tm");
    WireCapture wire(endpoint);
    ChildProcess emulator(LGS_EMULATOR_BIN,
                          EmulatorArgs()
                              .Scenario("lossy-link")
                              .Arg("--seed", seed)
                              .Flag("--max")
                              .Until("20m")
                              .Bind(endpoint)
                              .WaitForSubscribers()
                              .MissionStart(kMissionStartS)
                              .Args(),
                          dir.path(), "emulator");
    EXPECT_EQ(emulator.Wait(60s), 0) << emulator.Stderr();
    WaitUntil([&] { return false; }, 300ms);  // the last messages in flight
    return wire.messages();
  };
  const auto a = capture("8"), b = capture("8"), c = capture("9");
  ASSERT_GT(a.size(), 10'000u);
  EXPECT_TRUE(a == b) << a.size() << " vs " << b.size();
  EXPECT_FALSE(a == c);
}

TEST(Scenario, LossyLinkStationAccountsForExactlyWhatTheLinkDid) {
  ScratchDir dir;
  const ScenarioRun r = RunScenario(dir, "lossy-link", "40m");
  std::set<Key> intact, generated;
  size_t dropped = 0, corrupted = 0, copies = 0, offered = 0;
  for (const json& t : r.truth) {
    const std::string fate = t["fate"];
    if (fate != "duplicate") {
      ++offered;
      generated.insert(KeyOf(t));
    }
    if (fate == "delivered") intact.insert(KeyOf(t));
    if (fate == "duplicate") ++copies;
    if (fate == "dropped") ++dropped;
    if (fate == "corrupted") ++corrupted;
  }
  ASSERT_GT(offered, 25'000u);
  // Measured loss lies within five standard deviations of the scenario's 2%.
  const double sigma = std::sqrt(offered * 0.02 * 0.98);
  EXPECT_NEAR(static_cast<double>(dropped), offered * 0.02, 5 * sigma);
  EXPECT_GT(corrupted, 0u);
  EXPECT_GT(copies, 0u);

  // The station received each intact packet once, rejected every corrupted one, dropped every
  // extra copy, and knows what it is missing.
  std::set<Key> received;
  for (const json& s : r.received) EXPECT_TRUE(received.insert(KeyOf(s)).second);
  EXPECT_EQ(received, intact);
  const json& totals = r.summary["totals"];
  EXPECT_EQ(totals["received"], intact.size());
  EXPECT_EQ(totals["rejected"], corrupted);
  EXPECT_EQ(totals["duplicates"], copies);
  EXPECT_GT(totals["out_of_order"].get<uint64_t>(), 0u);
  // Missing: everything generated and not received, below each stream's highest received.
  std::map<std::string, uint32_t> highest;
  for (const Key& k : received) highest[k.first] = std::max(highest[k.first], k.second);
  size_t expected_missing = 0;
  for (const Key& k : generated) {
    expected_missing += received.count(k) == 0 && k.second < highest[k.first];
  }
  EXPECT_EQ(totals["missing"], expected_missing);
}

TEST(Scenario, RelayOutageGivesAGapThenPlaybackOfEverythingStored) {
  ScratchDir dir;
  const ScenarioRun r = RunScenario(dir, "relay-outage", "75m");
  const int64_t outage_start = (kMissionStartS + 600) * kNs,
                outage_end = (kMissionStartS + 2400) * kNs;
  size_t stored = 0;
  std::set<Key> delivered;
  size_t pending = 0;
  for (const json& t : r.truth) {
    if (t["fate"] == "pending") {  // still on its way when the run ended
      ++pending;
      continue;
    }
    EXPECT_EQ(t["fate"], "delivered") << t.dump();
    delivered.insert(KeyOf(t));
    const int64_t onboard = t["onboard_time_ns"];
    const bool in_outage = onboard >= outage_start && onboard < outage_end;
    EXPECT_EQ(t["stored"].get<bool>(), in_outage) << t.dump();
    if (in_outage) {
      ++stored;
      EXPECT_GE(t["sent_ns"].get<int64_t>(), outage_end);  // nothing leaves during the outage
    }
  }
  EXPECT_GT(stored, 20'000u);  // 30 minutes of telemetry
  EXPECT_LT(pending, 100u);    // a light time's worth at most
  // Station: everything arrived once; the outage's packets after the first post-outage ones.
  ASSERT_EQ(r.received.size(), delivered.size());
  EXPECT_EQ(r.summary["totals"]["missing"], 0);
  // A gap: nothing generated during the outage arrives before the last packet generated before
  // it. Then playback, sharing the link with real time: post-outage packets arrive before the
  // playback has finished.
  size_t last_before = 0, first_playback = r.received.size(), last_playback = 0;
  size_t first_after = r.received.size();
  for (size_t i = 0; i < r.received.size(); ++i) {
    const int64_t onboard = r.received[i]["onboard_time_ns"];
    if (onboard < outage_start) last_before = i;
    if (onboard >= outage_start && onboard < outage_end) {
      first_playback = std::min(first_playback, i);
      last_playback = i;
    }
    if (onboard >= outage_end) first_after = std::min(first_after, i);
  }
  EXPECT_GT(first_playback, last_before);
  EXPECT_LT(first_after, last_playback) << "playback must share the link with real time";
  EXPECT_GT(r.summary["totals"]["out_of_order"].get<uint64_t>(), 20'000u);
  // The rover said so: loss of signal, then acquisition.
  bool los = false, aos = false;
  for (const json& s : r.received) {
    if (s["stream"] != "event") continue;
    const std::string text = s["data"].dump();
    los |= text.find("LOSS_OF_SIGNAL") != std::string::npos;
    aos |= text.find("ACQUISITION_OF_SIGNAL") != std::string::npos;
  }
  EXPECT_TRUE(los);
  EXPECT_TRUE(aos);
}

TEST(Scenario, BadScenarioIsAClearErrorNamingTheFileLineAndField) {
  ScratchDir dir;
  const std::string path = dir.File("bad.yaml");
  { std::ofstream(path) << "name: bad\nlink:\n  loss_probability: 7\n"; }
  ChildProcess emulator(LGS_EMULATOR_BIN,
                        EmulatorArgs().Scenario(path).Bind(dir.IpcEndpoint("x")).Args(), dir.path(),
                        "emulator");
  EXPECT_EQ(emulator.Wait(10s), 1);
  EXPECT_NE(emulator.Stderr().find(path + ":3:"), std::string::npos) << emulator.Stderr();
  EXPECT_NE(emulator.Stderr().find("link.loss_probability"), std::string::npos);
  ChildProcess unknown(LGS_EMULATOR_BIN,
                       EmulatorArgs().Scenario("moonquake").Bind(dir.IpcEndpoint("y")).Args(),
                       dir.path(), "emulator2");
  EXPECT_EQ(unknown.Wait(10s), 1);
  EXPECT_NE(unknown.Stderr().find("relay-outage"), std::string::npos) << unknown.Stderr();
}

}  // namespace
}  // namespace lgs::test
