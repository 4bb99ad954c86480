// Limits and alarms with real processes: the emulator flies the spe-storm scenario, the station
// checks every radiation sample against the built-in limits, and an operator acknowledges the
// alarm with `gsctl alarms`. The recording is the ground truth: the alarm must be raised exactly
// at the third consecutive recorded dose-rate sample beyond the yellow limit.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "ground/v1/ground.pb.h"
#include "protocol/mcap_reader.h"
#include "rover/v1/radiation.pb.h"
#include "support/process.h"
#include "support/programs.h"
#include "support/recording.h"

namespace lgs::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kDoseRate[] = "radiation.dose_rate_ugy_per_h";

TEST(Alarms, ASolarParticleEventRaisesTheDoseRateAlarmAndAnOperatorAcknowledgesIt) {
  ScratchDir dir;
  const std::string tm = dir.IpcEndpoint("tm");
  const std::vector<std::string> control = {"--control", dir.IpcEndpoint("control"),
                                            "--control-token", dir.File("control.token")};
  ChildProcess station(LGS_STATION_BIN,
                       StationArgs()
                           .Connect(tm)
                           .Record(dir.File("rec"))
                           .Quiet()
                           .StatsInterval(0)
                           .SummaryJson(dir.File("summary.json"))
                           .Append(control)
                           .Args(),
                       dir.path(), "station");
  ChildProcess emulator(LGS_EMULATOR_BIN,
                        EmulatorArgs()
                            .Scenario("spe-storm")
                            .Speed(200)
                            .Bind(tm)
                            .WaitForSubscribers()
                            .Duration(60)
                            .Args(),
                        dir.path(), "emulator");
  const auto gsctl = [&](std::vector<std::string> args, const std::string& name) {
    args.insert(args.end(), control.begin(), control.end());
    ChildProcess p(LGS_GSCTL_BIN, args, dir.path(), name);
    const int code = p.Wait(20s).value_or(-1);
    return std::pair{code, p.Stdout() + p.Stderr()};
  };
  // The alarm appears once the event has lifted the dose rate above 50 uGy/h.
  json listed;
  ASSERT_TRUE(WaitUntil(
      [&] {
        const auto [code, out] = gsctl({"alarms", "--json"}, "list");
        if (code != 0) return false;
        listed = json::parse(out);
        for (const json& a : listed["alarms"]) {
          if (a["id"] == kDoseRate) return true;
        }
        return false;
      },
      45s))
      << listed.dump();
  const auto [ack_code, ack_out] = gsctl({"alarms", "--ack", kDoseRate, "--by", "tester"}, "ack");
  EXPECT_EQ(ack_code, 0) << ack_out;
  EXPECT_NE(ack_out.find(std::string("acknowledged ") + kDoseRate), std::string::npos) << ack_out;
  const auto [again_code, again_out] = gsctl({"alarms", "--ack", "no.such_alarm"}, "again");
  EXPECT_EQ(again_code, 1);
  EXPECT_NE(again_out.find("no unacknowledged alarm 'no.such_alarm'"), std::string::npos)
      << again_out;
  station.Signal(SIGTERM);
  EXPECT_EQ(station.Wait(20s), 0) << station.Stderr();
  emulator.Signal(SIGTERM);
  EXPECT_EQ(emulator.Wait(20s), 0) << emulator.Stderr();
  EXPECT_NE(station.Stdout().find(std::string("ALARM WARNING  ") + kDoseRate + " raised"),
            std::string::npos)
      << station.Stdout();
  const json summary = json::parse(ReadFile(dir.File("summary.json")));
  EXPECT_GE(summary["alarms"]["raised"].get<int>(), 1);
  EXPECT_GE(summary["alarms"]["acknowledged"].get<int>(), 1);

  // The recording: dose-rate samples and the alarm transitions.
  std::vector<double> dose;
  std::vector<ground::v1::GroundAlarm> transitions;
  std::vector<size_t> samples_before;  // dose samples recorded before each transition
  const Recording recording = ReadRecording(dir.File("rec"));
  EXPECT_TRUE(recording.incomplete.empty());
  for (const RecordedMessage& m : recording.messages) {
    if (m.topic == "/rover1/radiation") {
      rover::v1::Radiation r;
      ASSERT_TRUE(m.ParseAs(r));
      dose.push_back(r.dose_rate_ugy_per_h());
    } else if (m.topic == "/ground/alarms") {
      ASSERT_TRUE(m.ParseAs(transitions.emplace_back()));
      samples_before.push_back(dose.size());
    }
  }
  ASSERT_FALSE(transitions.empty());
  const ground::v1::GroundAlarm& first = transitions.front();
  EXPECT_EQ(first.id(), kDoseRate);
  EXPECT_EQ(first.state(), "raised");
  EXPECT_EQ(first.severity(), "warning");
  // Ground truth: the first run of three consecutive samples above 50 ends at this sample.
  size_t expected = 0;
  for (size_t i = 2; i < dose.size(); ++i) {
    if (dose[i] > 50 && dose[i - 1] > 50 && dose[i - 2] > 50) {
      expected = i;
      break;
    }
  }
  ASSERT_GT(expected, 0u);
  EXPECT_DOUBLE_EQ(first.value(), dose[expected]);
  // Recorded in the same ingest step as that sample, before the next one.
  EXPECT_EQ(samples_before.front(), expected + 1);
  bool acknowledged = false;
  for (const auto& t : transitions) {
    if (t.state() == "acknowledged" && t.id() == kDoseRate) {
      acknowledged = true;
      EXPECT_EQ(t.acknowledged_by(), "tester");
      EXPECT_TRUE(t.acknowledged());
    }
  }
  EXPECT_TRUE(acknowledged);
}

}  // namespace
}  // namespace lgs::test
