// The programs as a user meets them: help, bad arguments, bad endpoints, stopping by themselves.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/http.h"
#include "support/process.h"

namespace lgs::test {
namespace {

using namespace std::chrono_literals;

struct Outcome {
  int exit_code;
  std::string out, err;
};

Outcome RunProgram(const char* program, std::vector<std::string> args) {
  ScratchDir dir;
  ChildProcess p(program, std::move(args), dir.path(), "p");
  const int code = p.Wait(30s).value_or(-1);
  return {code, p.Stdout(), p.Stderr()};
}

int CountLines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

TEST(CommandLine, HelpDescribesEveryOption) {
  const Outcome station = RunProgram(LGS_STATION_BIN, {"--help"});
  EXPECT_EQ(station.exit_code, 0);
  for (const char* option :
       {"--connect", "--rover-id", "--jsonl", "--duration", "--summary-json"}) {
    EXPECT_NE(station.out.find(option), std::string::npos) << option;
  }
  const Outcome emulator = RunProgram(LGS_EMULATOR_BIN, {"--help"});
  EXPECT_EQ(emulator.exit_code, 0);
  for (const char* option :
       {"--bind", "--rover-id", "--seed", "--speed", "--duration", "--truth"}) {
    EXPECT_NE(emulator.out.find(option), std::string::npos) << option;
  }
}

TEST(CommandLine, UnknownOptionIsAnErrorWithNonZeroExit) {
  const Outcome o = RunProgram(LGS_STATION_BIN, {"--insecure", "--no-such-option"});
  EXPECT_NE(o.exit_code, 0);
  EXPECT_NE(o.err.find("no-such-option"), std::string::npos) << o.err;
}

TEST(CommandLine, BadValuesAreRefusedInOneLine) {
  const Outcome speed =
      RunProgram(LGS_EMULATOR_BIN, {"--insecure", "--command-bind", "none", "--speed", "0"});
  EXPECT_NE(speed.exit_code, 0);
  EXPECT_NE(speed.err.find("speed"), std::string::npos) << speed.err;

  const Outcome rover =
      RunProgram(LGS_STATION_BIN, {"--insecure", "--rover-id", "Bad.Id", "--duration", "1"});
  EXPECT_EQ(rover.exit_code, 1);
  EXPECT_NE(rover.err.find("rover id 'Bad.Id'"), std::string::npos) << rover.err;
  EXPECT_EQ(CountLines(rover.err), 1) << rover.err;
}

// Values that parse but mean nothing: each refused in a line that names the option.
TEST(CommandLine, NonsenseNumbersAndContradictionsAreRefused) {
  for (const char* option :
       {"--light-time", "--stats-interval", "--split-duration", "--print-interval",
        "--uplink-timeout", "--tail-probe", "--reject-log-interval", "--silence-timeout"}) {
    for (const char* value : {"nan", "inf", "-inf"}) {
      const Outcome o =
          RunProgram(LGS_STATION_BIN, {"--insecure", "--duration", "1", option, value});
      EXPECT_NE(o.exit_code, 0) << option << " " << value;
      EXPECT_NE(o.err.find(option), std::string::npos) << option << ": " << o.err;
    }
  }
  for (const char* value : {"-1", "99999999999999999999"}) {
    const Outcome o = RunProgram(LGS_STATION_BIN, {"--insecure", "--split-size", value});
    EXPECT_NE(o.exit_code, 0) << value;
    EXPECT_NE(o.err.find("--split-size"), std::string::npos) << o.err;
  }
  const Outcome level = RunProgram(LGS_STATION_BIN, {"--insecure", "--log-level", "foo"});
  EXPECT_NE(level.exit_code, 0);
  EXPECT_NE(level.err.find("--log-level"), std::string::npos) << level.err;
  const Outcome until =
      RunProgram(LGS_EMULATOR_BIN, {"--insecure", "--command-bind", "none", "--until", "1e30d"});
  EXPECT_EQ(until.exit_code, 2);
  EXPECT_NE(until.err.find("--until"), std::string::npos) << until.err;
  const Outcome seed =
      RunProgram(LGS_EMULATOR_BIN, {"--insecure", "--command-bind", "none", "--seed", "-1"});
  EXPECT_NE(seed.exit_code, 0);
  EXPECT_NE(seed.err.find("--seed"), std::string::npos) << seed.err;
  // Plain text and keys at once: one of them would be silently ignored.
  const Outcome station = RunProgram(
      LGS_STATION_BIN, {"--insecure", "--secret-key", "k", "--rover-key", "r", "--duration", "1"});
  EXPECT_EQ(station.exit_code, 1);
  EXPECT_NE(station.err.find("contradict"), std::string::npos) << station.err;
  const Outcome emulator =
      RunProgram(LGS_EMULATOR_BIN, {"--insecure", "--secret-key", "k", "--command-bind", "none"});
  EXPECT_EQ(emulator.exit_code, 1);
  EXPECT_NE(emulator.err.find("contradict"), std::string::npos) << emulator.err;
}

// The console's pass plan and mission epoch: a bad one stops the station before it starts, in
// one line that says what is wrong.
TEST(CommandLine, ABadPassPlanSunPlanOrMissionEpochIsRefused) {
  ScratchDir dir;
  { std::ofstream(dir.File("plan.yaml")) << "periodic_outage: {every: 1h, duration: 2h}\n"; }
  const Outcome plan =
      RunProgram(LGS_STATION_BIN, {"--insecure", "--duration", "1", "--http", "none",
                                   "--link-schedule", dir.File("plan.yaml")});
  EXPECT_EQ(plan.exit_code, 1);
  EXPECT_NE(plan.err.find("shorter than 'every'"), std::string::npos) << plan.err;
  EXPECT_EQ(CountLines(plan.err), 1) << plan.err;
  const Outcome missing = RunProgram(
      LGS_STATION_BIN, {"--insecure", "--duration", "1", "--link-schedule", "/nonexistent.yaml"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("--link-schedule"), std::string::npos) << missing.err;
  // An illumination plan without its `until`, and the emulator asked for a plan off its site.
  { std::ofstream(dir.File("sun.yaml")) << "sun: {shadows: []}\n"; }
  const Outcome sun = RunProgram(LGS_STATION_BIN, {"--insecure", "--duration", "1", "--http",
                                                   "none", "--sun-schedule", dir.File("sun.yaml")});
  EXPECT_EQ(sun.exit_code, 1);
  EXPECT_NE(sun.err.find("sun schedule " + dir.File("sun.yaml") + ": sun: 'until' is missing"),
            std::string::npos)
      << sun.err;
  EXPECT_EQ(CountLines(sun.err), 1) << sun.err;
  const Outcome off_site =
      RunProgram(LGS_EMULATOR_BIN, {"--write-sun-plan", "-", "--sun-plan-at", "500", "0"});
  EXPECT_EQ(off_site.exit_code, 2);
  EXPECT_NE(off_site.err.find("--sun-plan-at: 500 0 is outside the 256 m region"),
            std::string::npos)
      << off_site.err;
  EXPECT_TRUE(off_site.out.empty());
  const Outcome no_scenario =
      RunProgram(LGS_EMULATOR_BIN, {"--write-sun-plan", "-", "--scenario", "/nonexistent.yaml"});
  EXPECT_EQ(no_scenario.exit_code, 2);
  EXPECT_NE(no_scenario.err.find("/nonexistent.yaml"), std::string::npos) << no_scenario.err;
  for (const char* epoch : {"yesterday", "2026-13-01T00:00:00Z", "-5"}) {
    const Outcome o =
        RunProgram(LGS_STATION_BIN, {"--insecure", "--duration", "1", "--mission-epoch", epoch});
    EXPECT_NE(o.exit_code, 0) << epoch;
    EXPECT_NE(o.err.find("--mission-epoch"), std::string::npos) << o.err;
  }
  // A good one is the clock's epoch.
  const int port = FreeTcpPort();
  ChildProcess station(
      LGS_STATION_BIN,
      {"--insecure", "--duration", "20", "--quiet", "--http", "127.0.0.1:" + std::to_string(port),
       "--mission-epoch", "2026-12-07T06:00:00Z"},
      dir.path(), "station");
  Reply state;
  ASSERT_TRUE(WaitUntil(
      [&] {
        state = Get(port, "/api/state");
        return state.status == 200;
      },
      10s));
  const nlohmann::json clock = nlohmann::json::parse(state.body)["clock"];
  EXPECT_EQ(clock["mission_epoch_ns"], 1'796'623'200'000'000'000LL);
  EXPECT_EQ(clock["mission_epoch_source"], "--mission-epoch");
  EXPECT_TRUE(clock["scet_ns"].is_null());  // no telemetry yet
  station.Signal(SIGTERM);
  EXPECT_EQ(station.Wait(20s), 0) << station.Stderr();
}

TEST(CommandLine, KeygenRefusesBadNamesAndKeyFilesMustHoldAMatchingPair) {
  ScratchDir dir;
  const Outcome long_name =
      RunProgram(LGS_GSCTL_BIN, {"keygen", std::string(300, 'k'), "--dir", dir.File("keys")});
  EXPECT_EQ(long_name.exit_code, 2) << long_name.err;
  EXPECT_NE(long_name.err.find("is not a key name"), std::string::npos) << long_name.err;
  for (const char* name : {"a", "b"}) {
    EXPECT_EQ(RunProgram(LGS_GSCTL_BIN, {"keygen", name, "--dir", dir.File("keys")}).exit_code, 0);
  }
  // a's public key with b's secret key.
  std::string a = ReadFile(dir.File("keys/a.key")), b = ReadFile(dir.File("keys/b.key"));
  const auto field = [](const std::string& text, const std::string& name) {
    const size_t at = text.find(name + " = ");
    return text.substr(at, text.find('\n', at) - at);
  };
  std::string mixed = a;
  mixed.replace(mixed.find(field(a, "secret-key")), field(a, "secret-key").size(),
                field(b, "secret-key"));
  { std::ofstream(dir.File("keys/mixed.key")) << mixed; }
  std::filesystem::permissions(dir.File("keys/mixed.key"), std::filesystem::perms::owner_read |
                                                               std::filesystem::perms::owner_write);
  const Outcome o =
      RunProgram(LGS_STATION_BIN, {"--secret-key", dir.File("keys/mixed.key"), "--rover-key",
                                   dir.File("keys/a.pub"), "--duration", "1", "--http", "none"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("is not the one its secret key makes"), std::string::npos) << o.err;
}

// The control channel belongs to its endpoint: a second station naming the same one (with a
// token file of its own) is refused instead of taking the first one's channel over.
TEST(CommandLine, ASecondStationOnTheSameControlEndpointIsRefused) {
  ScratchDir dir;
  const std::string control = dir.IpcEndpoint("control");
  const auto station = [&](const std::string& name, const std::string& duration) {
    return std::make_unique<ChildProcess>(
        LGS_STATION_BIN,
        std::vector<std::string>{"--insecure", "--connect", dir.IpcEndpoint("tm"), "--command",
                                 "--uplink", dir.IpcEndpoint("tc"), "--control", control,
                                 "--control-token", dir.File(name + ".token"), "--http", "none",
                                 "--duration", duration},
        dir.path(), name);
  };
  auto first = station("first", "20");
  ASSERT_TRUE(WaitUntil([&] { return std::filesystem::exists(dir.File("first.token")); }, 10s));
  auto second = station("second", "5");
  EXPECT_EQ(second->Wait(10s), 1) << second->Stderr();
  EXPECT_NE(second->Stderr().find("another station holds the control channel " + control),
            std::string::npos)
      << second->Stderr();
  EXPECT_TRUE(first->Running());
  first->Signal(SIGTERM);
  EXPECT_EQ(first->Wait(10s), 0) << first->Stderr();
}

TEST(CommandLine, UnusableEndpointsAreClearErrors) {
  const Outcome bind = RunProgram(LGS_EMULATOR_BIN, {"--insecure", "--command-bind", "none",
                                                     "--bind", "nonsense://x", "--duration", "1"});
  EXPECT_EQ(bind.exit_code, 1);
  EXPECT_NE(bind.err.find("cannot bind telemetry publisher to 'nonsense://x'"), std::string::npos)
      << bind.err;
  const Outcome connect =
      RunProgram(LGS_STATION_BIN, {"--insecure", "--connect", "tcp://", "--duration", "1"});
  EXPECT_EQ(connect.exit_code, 1);
  EXPECT_NE(connect.err.find("cannot connect to 'tcp://'"), std::string::npos) << connect.err;
  // A control channel or web endpoint open to the network needs saying so, with or without
  // commanding.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--control", "tcp://0.0.0.0:1"},
        std::vector<std::string>{"--command", "--control", "tcp://0.0.0.0:1"}}) {
    std::vector<std::string> all = {"--insecure", "--duration", "1", "--http", "none"};
    all.insert(all.end(), args.begin(), args.end());
    const Outcome open = RunProgram(LGS_STATION_BIN, all);
    EXPECT_EQ(open.exit_code, 1);
    EXPECT_NE(open.err.find("--control-remote"), std::string::npos) << open.err;
  }
  const Outcome web =
      RunProgram(LGS_STATION_BIN, {"--insecure", "--duration", "1", "--http", "0.0.0.0:1"});
  EXPECT_EQ(web.exit_code, 1);
  EXPECT_NE(web.err.find("--http-remote"), std::string::npos) << web.err;
}

TEST(CommandLine, StationStopsByItselfAfterItsDuration) {
  ScratchDir dir;
  ChildProcess station(LGS_STATION_BIN,
                       {"--insecure", "--connect", dir.IpcEndpoint("nobody"), "--duration", "0.5",
                        "--summary-json", dir.File("summary.json")},
                       dir.path(), "station");
  ASSERT_EQ(station.Wait(20s), 0) << station.Stderr();
  const auto summary = nlohmann::json::parse(ReadFile(dir.File("summary.json")));
  EXPECT_EQ(summary["totals"]["received"], 0);
  EXPECT_NE(station.Stdout().find("station summary"), std::string::npos);
}

TEST(CommandLine, EmulatorGivesUpWhenNobodySubscribes) {
  ScratchDir dir;
  const Outcome o =
      RunProgram(LGS_EMULATOR_BIN,
                 {"--insecure", "--command-bind", "none", "--bind", dir.IpcEndpoint("lonely"),
                  "--wait-for-subscribers", "1", "--subscriber-timeout", "0.3"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("no subscriber"), std::string::npos) << o.err;
}

}  // namespace
}  // namespace lgs::test

namespace lgs::test {
namespace {

TEST(CommandLine, GsctlCommandListsTheDictionaryAndRefusesBadUse) {
  const Outcome list = RunProgram(LGS_GSCTL_BIN, {"command", "--list"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  // FORMAT.md documents the same dictionary: every operator command in both, with its codes.
  const std::string format = ReadFile(std::string(LGS_SOURCE_DIR) + "/protocol/FORMAT.md");
  for (const auto& [row, name] : std::vector<std::pair<std::string, std::string>>{
           {"| 17, 1 | `ping`", "ping"},
           {"| 200, 1 | `drive`", "drive"},
           {"| 200, 2 | `stop`", "stop"},
           {"| 200, 3 | `turn`", "turn"},
           {"| 200, 10 | `soil_measurement`", "soil_measurement"},
           {"| 200, 11 | `capture_image`", "capture_image"},
           {"| 200, 12 | `instrument_mode`", "instrument_mode"},
           {"| 3, 131 | `telemetry_rate`", "telemetry_rate"},
           {"| 200, 20 | `hibernate`", "hibernate"},
           {"| 200, 21 | `wake`", "wake"}}) {
    EXPECT_NE(("\n" + list.out).find("\n" + name + " "), std::string::npos) << name << list.out;
    EXPECT_NE(format.find(row), std::string::npos) << row;
  }
  EXPECT_EQ(list.out.find("retransmit"), std::string::npos);  // the station's own
  EXPECT_NE(list.out.find("distance_m"), std::string::npos);

  EXPECT_EQ(RunProgram(LGS_GSCTL_BIN, {"command"}).exit_code, 2);
  const Outcome malformed = RunProgram(LGS_GSCTL_BIN, {"command", "turn", "angle_deg"});
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_NE(malformed.err.find("'angle_deg' is not NAME=VALUE"), std::string::npos)
      << malformed.err;
  const Outcome missing_plan = RunProgram(LGS_GSCTL_BIN, {"command", "--file", "/nonexistent"});
  EXPECT_EQ(missing_plan.exit_code, 2);
  EXPECT_NE(missing_plan.err.find("cannot open plan '/nonexistent': No such file"),
            std::string::npos)
      << missing_plan.err;
  ScratchDir dir;
  const Outcome no_station =
      RunProgram(LGS_GSCTL_BIN, {"command", "ping", "--control-token", dir.File("none.token")});
  EXPECT_EQ(no_station.exit_code, 1);
  EXPECT_NE(no_station.err.find("is the station running with commanding on?"), std::string::npos)
      << no_station.err;
}

}  // namespace
}  // namespace lgs::test
