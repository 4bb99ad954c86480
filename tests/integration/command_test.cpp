// Commanding end to end with real processes: the emulator (1.28 s light time, its rover model
// executing the commands), the station with --command, and `gsctl command` on the control
// channel. The emulator's truth file says which telecommands reached the rover and what it did
// with each (executed, repeated, refused): the ground truth every test compares against.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "ground/v1/ground.pb.h"
#include "protocol/mcap_reader.h"
#include "rover/v1/navigation.pb.h"
#include "rover/v1/verification.pb.h"
#include "support/process.h"
#include "support/programs.h"
#include "support/recording.h"

namespace lgs::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

struct Telecommand {
  uint32_t request = 0;
  std::string command, outcome;
  int64_t onboard_ns = 0;
};

std::vector<Telecommand> TelecommandsInTruth(const std::string& path) {
  std::vector<Telecommand> out;
  for (const std::string& line : ReadLines(path)) {
    const json j = json::parse(line);
    if (!j.value("telecommand", false)) continue;
    out.push_back({j.value("request", 0u), j.value("command", ""), j.value("outcome", ""),
                   j.value("onboard_ns", int64_t{0})});
  }
  return out;
}

// A rover and a commanding station on private endpoints.
class Mission {
 public:
  explicit Mission(const ScratchDir& dir, std::vector<std::string> emulator_extra = {},
                   std::vector<std::string> station_extra = {})
      : dir_(dir) {
    const std::string tm = dir.IpcEndpoint("tm"), tc = dir.IpcEndpoint("tc");
    station_ = std::make_unique<ChildProcess>(LGS_STATION_BIN,
                                              StationArgs()
                                                  .Connect(tm)
                                                  .Uplink(tc)
                                                  .Command()
                                                  .Control(dir)
                                                  .Record(dir.File("rec"))
                                                  .Quiet()
                                                  .StatsInterval(0)
                                                  .SummaryJson(dir.File("summary.json"))
                                                  .Append(station_extra)
                                                  .Args(),
                                              dir.path(), "station");
    emulator_ = std::make_unique<ChildProcess>(LGS_EMULATOR_BIN,
                                               EmulatorArgs()
                                                   .Bind(tm)
                                                   .CommandBind(tc)
                                                   .WaitForSubscribers()
                                                   .Duration(90)
                                                   .Truth(dir.File("truth.jsonl"))
                                                   .Append(emulator_extra)
                                                   .Args(),
                                               dir.path(), "emulator");
    // Commands are checked against the rover's mode: wait for its first housekeeping.
    EXPECT_TRUE(WaitUntil([&] { return std::filesystem::exists(dir.File("control.token")); }, 10s));
    std::this_thread::sleep_for(1500ms);
  }

  struct Result {
    int exit_code = -1;
    std::vector<json> stages;  // gsctl --json lines
    std::string out, err;
  };
  Result Command(std::vector<std::string> args, const std::string& name) {
    args.insert(args.end(), {"--json", "--control", dir_.IpcEndpoint("control"), "--control-token",
                             dir_.File("control.token")});
    args.insert(args.begin(), "command");
    ChildProcess gsctl(LGS_GSCTL_BIN, args, dir_.path(), name);
    Result r;
    r.exit_code = gsctl.Wait(60s).value_or(-1);
    r.out = gsctl.Stdout();
    r.err = gsctl.Stderr();
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) r.stages.push_back(json::parse(line));
    }
    return r;
  }

  // Stops both; returns the station's summary.
  json Finish() {
    station_->Signal(SIGTERM);
    EXPECT_EQ(station_->Wait(20s), 0) << station_->Stderr();
    emulator_->Signal(SIGTERM);
    EXPECT_EQ(emulator_->Wait(20s), 0) << emulator_->Stderr();
    return json::parse(ReadFile(dir_.File("summary.json")));
  }
  std::string EmulatorLog() const { return emulator_->Stderr(); }

 private:
  const ScratchDir& dir_;
  std::unique_ptr<ChildProcess> station_, emulator_;
};

std::vector<std::string> StageNames(const std::vector<json>& stages) {
  std::vector<std::string> names;
  for (const json& s : stages) names.push_back(s["stage"]);
  return names;
}

struct Recorded {
  std::vector<ground::v1::GroundCommand> commands;
  std::vector<std::pair<int64_t, rover::v1::CommandVerification>> reports;  // on-board time
  std::vector<std::pair<int64_t, rover::v1::NavigationPose>> poses;
};

Recorded ReadCommanding(const std::filesystem::path& dir) {
  Recorded r;
  for (const RecordedMessage& m : ReadRecording(dir).messages) {
    const auto t = static_cast<int64_t>(m.publish_time);
    if (m.topic == "/ground/commands") {
      EXPECT_TRUE(m.ParseAs(r.commands.emplace_back()));
    } else if (m.topic == "/rover1/command_verification") {
      EXPECT_TRUE(m.ParseAs(r.reports.emplace_back(t, rover::v1::CommandVerification()).second));
    } else if (m.topic == "/rover1/navigation_pose") {
      EXPECT_TRUE(m.ParseAs(r.poses.emplace_back(t, rover::v1::NavigationPose()).second));
    }
  }
  return r;
}

const std::vector<std::string> kFullLifecycle = {"queued",   "released", "sent",
                                                 "accepted", "started",  "progress",
                                                 "progress", "progress", "completed"};

TEST(Commanding, RoundTripAtLunarLightTimePassesEveryStageAndTheRoverMoves) {
  ScratchDir dir;
  Mission mission(dir);
  // Out of range: refused by the station with its reason, never uplinked.
  const auto bad = mission.Command({"drive", "distance_m=80", "heading_deg=0"}, "bad");
  EXPECT_EQ(bad.exit_code, 1) << bad.err;
  ASSERT_EQ(bad.stages.size(), 1u) << bad.out;
  EXPECT_EQ(bad.stages[0]["stage"], "rejected");
  EXPECT_NE(bad.stages[0]["detail"].get<std::string>().find("outside 0.05..50 m"),
            std::string::npos);

  const auto turn = mission.Command({"turn", "angle_deg=20"}, "turn");
  EXPECT_EQ(turn.exit_code, 0) << turn.err << turn.out;
  EXPECT_EQ(StageNames(turn.stages), kFullLifecycle);
  ASSERT_EQ(turn.stages.size(), kFullLifecycle.size());
  // Acceptance cannot come before the light has gone up and back: 2 x 1.28 s.
  const double round_trip =
      turn.stages[3]["elapsed_s"].get<double>() - turn.stages[2]["elapsed_s"].get<double>();
  EXPECT_GE(round_trip, 2.5);
  EXPECT_LT(round_trip, 4.5);

  const auto drive = mission.Command({"drive", "distance_m=0.3", "heading_deg=90"}, "drive");
  EXPECT_EQ(drive.exit_code, 0) << drive.err << drive.out;
  EXPECT_EQ(StageNames(drive.stages), kFullLifecycle);

  // Hazardous: refused without --confirm, done with it. Once housekeeping shows the rover
  // hibernating (a light time plus at most a second later), the station refuses a drive.
  const auto unconfirmed = mission.Command({"hibernate"}, "unconfirmed");
  EXPECT_EQ(unconfirmed.exit_code, 1);
  const auto hibernate = mission.Command({"hibernate", "--confirm"}, "hibernate");
  EXPECT_EQ(hibernate.exit_code, 0) << hibernate.err << hibernate.out;
  std::this_thread::sleep_for(3s);
  const auto asleep = mission.Command({"drive", "distance_m=1", "heading_deg=0"}, "asleep");
  EXPECT_EQ(asleep.exit_code, 1);
  ASSERT_EQ(asleep.stages.size(), 1u) << asleep.out;
  EXPECT_NE(asleep.stages[0]["detail"].get<std::string>().find(
                "not allowed while the rover is in HIBERNATE mode (only in DRIVE, SCIENCE, "
                "STANDBY) (latest housekeeping)"),
            std::string::npos)
      << asleep.out;
  const json summary = mission.Finish();
  EXPECT_EQ(summary["commands"]["submitted"], 6);
  EXPECT_EQ(summary["commands"]["rejected"], 3);
  EXPECT_EQ(summary["commands"]["completed"], 3);
  EXPECT_EQ(summary["commands"]["sent"], 3);

  // Ground truth: exactly the three valid commands reached the rover, once each, in order.
  const auto truth = TelecommandsInTruth(dir.File("truth.jsonl"));
  ASSERT_EQ(truth.size(), 3u);
  EXPECT_EQ(truth[2].command, "hibernate");
  EXPECT_EQ(truth[0].command, "turn");
  EXPECT_EQ(truth[0].request, turn.stages[1]["request_sequence"].get<uint32_t>());
  EXPECT_EQ(truth[1].command, "drive");
  EXPECT_EQ(truth[1].request, drive.stages[1]["request_sequence"].get<uint32_t>());
  for (const auto& t : truth) EXPECT_EQ(t.outcome, "executed");

  // The recording holds the command history, stage by stage as gsctl saw it, and the rover's
  // reports; the rover's own pose says the drive moved it about 0.3 m east.
  const Recorded rec = ReadCommanding(dir.File("rec"));
  std::map<uint64_t, std::vector<std::string>> history;
  for (const auto& c : rec.commands)
    history[c.command_id()].push_back(
        std::string(ground::v1::CommandStage_Name(c.stage()).substr(14)));
  ASSERT_EQ(history.size(), 6u);
  const auto lower = [](std::vector<std::string> v) {
    for (auto& s : v) std::transform(s.begin(), s.end(), s.begin(), ::tolower);
    return v;
  };
  EXPECT_EQ(lower(history[turn.stages[0]["command_id"].get<uint64_t>()]), kFullLifecycle);
  EXPECT_EQ(lower(history[bad.stages[0]["command_id"].get<uint64_t>()]),
            std::vector<std::string>{"rejected"});
  int64_t started_ns = 0, completed_ns = 0;
  for (const auto& [t, report] : rec.reports) {
    if (report.request_sequence() != truth[1].request) continue;
    if (report.stage() == rover::v1::VERIFICATION_STAGE_START) started_ns = t;
    if (report.stage() == rover::v1::VERIFICATION_STAGE_COMPLETION) completed_ns = t;
  }
  ASSERT_GT(started_ns, 0);
  ASSERT_GT(completed_ns, started_ns);
  const rover::v1::NavigationPose* before = nullptr;
  const rover::v1::NavigationPose* after = nullptr;
  for (const auto& [t, pose] : rec.poses) {
    if (t <= started_ns) before = &pose;
    if (t >= completed_ns && after == nullptr) after = &pose;
  }
  ASSERT_NE(before, nullptr);
  ASSERT_NE(after, nullptr);
  EXPECT_NEAR(after->x_m() - before->x_m(), 0.3, 0.1);
  EXPECT_NEAR(after->y_m() - before->y_m(), 0.0, 0.1);
  EXPECT_NEAR(after->heading_deg(), 90.0, 2.0);
}

TEST(Commanding, ALostOrDuplicatedUplinkIsResentAndExecutedOnce) {
  ScratchDir dir;
  // The rover loses the first telecommand; the station believes a shorter light time than the
  // real 1.28 s, so it also resends before the acceptance can come back: the rover gets copies.
  std::ofstream(dir.File("scenario.yaml")) << "name: lossy-uplink\n"
                                              "link:\n"
                                              "  light_time_s: 1.28\n"
                                              "  uplink_lose_first: 1\n";
  Mission mission(dir, {"--scenario", dir.File("scenario.yaml")},
                  {"--light-time", "0.5", "--acceptance-margin", "0.2", "--command-sends", "6"});
  const auto turn = mission.Command({"turn", "angle_deg=10"}, "turn");
  EXPECT_EQ(turn.exit_code, 0) << turn.err << turn.out;
  int sends = 0;
  for (const json& s : turn.stages) sends += s["stage"] == "sent";
  EXPECT_GE(sends, 3) << turn.out;
  EXPECT_EQ(turn.stages.back()["stage"], "completed");
  const json summary = mission.Finish();
  EXPECT_GE(summary["commands"]["resent"].get<int>(), 2);
  EXPECT_NE(mission.EmulatorLog().find("1 lost on the uplink"), std::string::npos)
      << mission.EmulatorLog();

  const auto truth = TelecommandsInTruth(dir.File("truth.jsonl"));
  int executed = 0, repeated = 0;
  for (const auto& t : truth) {
    EXPECT_EQ(t.request, turn.stages[1]["request_sequence"].get<uint32_t>());
    executed += t.outcome == "executed";
    repeated += t.outcome == "repeated";
  }
  EXPECT_EQ(executed, 1);
  EXPECT_GE(repeated, 1);
  EXPECT_EQ(executed + repeated, sends - 1);  // every copy but the lost one arrived
}

TEST(Commanding, AStackRunsInOrderAndStopsAtTheFirstFailure) {
  ScratchDir dir;
  std::ofstream(dir.File("plan.yaml")) << "steps:\n"
                                          "  - command: instrument_mode\n"
                                          "    args: {instrument: apxs, mode: off}\n"
                                          "  - command: turn\n"
                                          "    args: {angle_deg: -15}\n"
                                          "  - command: soil_measurement\n"
                                          "    args: {instrument: apxs, duration_s: 5}\n"
                                          "  - command: ping\n";
  std::ofstream(dir.File("typo.yaml")) << "- command: ping\n"
                                          "- command: turn\n"
                                          "  args: {angle: 5}\n";
  Mission mission(dir);
  // A plan with a bad step sends nothing.
  const auto typo = mission.Command({"--file", dir.File("typo.yaml")}, "typo");
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("step 2: turn: no argument 'angle'"), std::string::npos) << typo.err;
  EXPECT_TRUE(typo.stages.empty());

  const auto plan = mission.Command({"--file", dir.File("plan.yaml")}, "plan");
  EXPECT_EQ(plan.exit_code, 1) << plan.err << plan.out;
  EXPECT_NE(plan.err.find("plan stopped at step 3 of 4 (soil_measurement); 1 not sent"),
            std::string::npos)
      << plan.err;
  ASSERT_FALSE(plan.stages.empty());
  EXPECT_EQ(plan.stages.back()["stage"], "failed");
  EXPECT_NE(plan.stages.back()["detail"].get<std::string>().find("APXS is not switched on"),
            std::string::npos);
  // Each step was released only after its predecessor completed.
  std::vector<std::string> order;
  for (const json& s : plan.stages) {
    if (s["stage"] == "released") order.push_back(s["name"]);
    if (s["stage"] == "completed") order.push_back(s["name"].get<std::string>() + " done");
  }
  EXPECT_EQ(order, (std::vector<std::string>{"instrument_mode", "instrument_mode done", "turn",
                                             "turn done", "soil_measurement"}));
  // --no-wait returns at release; --status then shows where the command got to.
  const auto ping = mission.Command({"ping", "--no-wait"}, "ping");
  EXPECT_EQ(ping.exit_code, 0) << ping.err;
  ASSERT_FALSE(ping.stages.empty());
  EXPECT_EQ(ping.stages.back()["stage"], "released");
  json status;
  EXPECT_TRUE(WaitUntil(
      [&] {
        const auto s = mission.Command({"--status"}, "status");
        if (s.exit_code != 0 || s.stages.size() != 1) return false;
        status = s.stages[0];
        return status["commands"].back()["stage"] == "completed";
      },
      15s))
      << status.dump();
  EXPECT_EQ(status["commands"].back()["name"], "ping");
  EXPECT_EQ(status["commands"].size(), 4u);  // 3 plan steps, this ping; the typo sent none
  mission.Finish();
  const auto truth = TelecommandsInTruth(dir.File("truth.jsonl"));
  ASSERT_EQ(truth.size(), 4u);
  EXPECT_EQ(truth[3].command, "ping");
  EXPECT_EQ(truth[0].command, "instrument_mode");
  EXPECT_EQ(truth[1].command, "turn");
  EXPECT_EQ(truth[2].command, "soil_measurement");  // accepted, could not start
}

}  // namespace
}  // namespace lgs::test
