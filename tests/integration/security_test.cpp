// CurveZMQ end to end with real processes: keys from `gsctl keygen`, a rover that admits only
// its ground station's key, a station that believes only the rover's key, and plain text only
// when asked for.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "support/process.h"

namespace lgs::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

void Keygen(const ScratchDir& dir, const std::string& name) {
  ChildProcess keygen(LGS_GSCTL_BIN, {"keygen", name, "--dir", dir.File("keys")}, dir.path(),
                      "keygen-" + name);
  ASSERT_EQ(keygen.Wait(20s), 0) << keygen.Stderr();
}

TEST(Security, OnlyKeysTheOtherSideKnowsGetTelemetryOrCommandThrough) {
  ScratchDir dir;
  for (const char* name : {"rover", "ground", "stranger"}) Keygen(dir, name);
  const std::string tm = dir.IpcEndpoint("tm"), tc = dir.IpcEndpoint("tc");
  const auto station = [&](const std::string& key, const std::string& name) {
    return std::make_unique<ChildProcess>(
        LGS_STATION_BIN,
        std::vector<std::string>{"--connect", tm, "--secret-key", dir.File("keys/" + key + ".key"),
                                 "--rover-key", dir.File("keys/rover.pub"), "--gap-fill",
                                 "--uplink", tc, "--tail-probe", "1", "--quiet", "--light-time",
                                 "0", "--summary-json", dir.File(name + ".json")},
        dir.path(), name);
  };
  auto ground = station("ground", "ground");
  auto stranger = station("stranger", "stranger");
  ChildProcess emulator(
      LGS_EMULATOR_BIN,
      {"--scenario", "lossy-link", "--light-time", "0", "--speed", "20", "--bind", tm,
       "--command-bind", tc, "--secret-key", dir.File("keys/rover.key"), "--allow-key",
       dir.File("keys/ground.pub"), "--wait-for-subscribers", "1", "--duration", "5"},
      dir.path(), "emulator");
  EXPECT_EQ(emulator.Wait(30s), 0) << emulator.Stderr();
  std::this_thread::sleep_for(500ms);
  ground->Signal(SIGTERM);
  stranger->Signal(SIGTERM);
  EXPECT_EQ(ground->Wait(20s), 0) << ground->Stderr();
  EXPECT_EQ(stranger->Wait(20s), 0) << stranger->Stderr();

  const json g = json::parse(ReadFile(dir.File("ground.json")));
  const json s = json::parse(ReadFile(dir.File("stranger.json")));
  EXPECT_GT(g["totals"]["received"].get<int>(), 500);
  EXPECT_EQ(s["totals"]["received"], 0);  // the stranger's key was refused: no telemetry
  // The known station's retransmit requests were executed; the stranger's never arrived.
  EXPECT_GT(g["gap_fill"]["reports"].get<int>(), 0);
  EXPECT_EQ(s["gap_fill"]["reports"], 0);
  const std::string log = emulator.Stderr();
  EXPECT_NE(log.find("authentication failure"), std::string::npos) << log;
  EXPECT_EQ(log.find("INSECURE"), std::string::npos);
}

TEST(Security, PlainTextOnlyWhenAskedForAndThenWithAWarning) {
  ScratchDir dir;
  ChildProcess station(LGS_STATION_BIN, {"--duration", "1"}, dir.path(), "station");
  EXPECT_EQ(station.Wait(20s), 1);
  EXPECT_NE(station.Stderr().find("--insecure"), std::string::npos) << station.Stderr();
  ChildProcess emulator(LGS_EMULATOR_BIN, {"--duration", "1", "--bind", dir.IpcEndpoint("x")},
                        dir.path(), "emulator");
  EXPECT_EQ(emulator.Wait(20s), 1);
  EXPECT_NE(emulator.Stderr().find("--secret-key"), std::string::npos) << emulator.Stderr();

  ChildProcess plain(
      LGS_EMULATOR_BIN,
      {"--insecure", "--duration", "0.5", "--bind", dir.IpcEndpoint("y"), "--command-bind", "none"},
      dir.path(), "plain");
  EXPECT_EQ(plain.Wait(20s), 0) << plain.Stderr();
  EXPECT_NE(plain.Stderr().find("INSECURE"), std::string::npos);
  // A secret key file others can read is refused with the fix in the message.
  Keygen(dir, "rover");
  ::chmod(dir.File("keys/rover.key").c_str(), 0644);
  ChildProcess loose(
      LGS_EMULATOR_BIN,
      {"--secret-key", dir.File("keys/rover.key"), "--allow-key", dir.File("keys/rover.pub"),
       "--duration", "1", "--bind", dir.IpcEndpoint("z")},
      dir.path(), "loose");
  EXPECT_EQ(loose.Wait(20s), 1);
  EXPECT_NE(loose.Stderr().find("chmod 600"), std::string::npos) << loose.Stderr();
}

}  // namespace
}  // namespace lgs::test
