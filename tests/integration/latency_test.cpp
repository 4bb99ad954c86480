// Latency and link rates as an operator reads them: an emulated rover at --speed 20 (its clock
// runs twenty times the ground's), a recording replayed a day after it was made, and one lost
// packet among many. None of them is a slow link, and none may raise a link alarm.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "groundstation/recorder.h"
#include "protocol/telemetry_decoder.h"
#include "support/packets.h"
#include "support/process.h"
#include "support/programs.h"

namespace lgs::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

TEST(Latency, MeasuredAgainstTheRightClockForAnEmulatorAtSpeedAndForAReplay) {
  ScratchDir dir;
  // A recording made a day ago: 10 Hz housekeeping for 8 s, one packet (40) lost.
  station::RecorderOptions options;
  options.directory = dir.File("old");
  options.split_duration_s = std::nullopt;
  station::Recorder recorder(options);
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const int64_t day_ago = now_ns - 86'400'000'000'000LL;
  ASSERT_TRUE(recorder.Open(day_ago).ok());
  protocol::TelemetryDecoder decoder("rover1");
  const std::string topic =
      protocol::TelemetryTopic("rover1", protocol::Stream(protocol::StreamId::kHousekeeping));
  for (uint32_t seq = 0; seq < 80; ++seq) {
    if (seq == 40) continue;
    const int64_t t = day_ago + int64_t{seq} * 100'000'000;
    const std::string packet = HousekeepingPacket(seq, 60.0, t);
    auto decoded = decoder.Decode(topic, protocol::AsBytes(packet));
    ASSERT_TRUE(decoded.ok());
    recorder.RecordTelemetry(*decoded, t + 1'300'000'000);
  }
  ASSERT_TRUE(recorder.Close().ok());

  // Both run side by side: the emulator at 20x into one station, the replay into another.
  const std::string live = dir.IpcEndpoint("live"), replayed = dir.IpcEndpoint("replayed");
  const auto station = [&](const std::string& endpoint, const std::string& name) {
    return std::make_unique<ChildProcess>(LGS_STATION_BIN,
                                          StationArgs()
                                              .Connect(endpoint)
                                              .SummaryJson(dir.File(name + ".json"))
                                              .StatsInterval(1)
                                              .Arg("--print-interval", "100")
                                              .NoHttp()
                                              .IdleExit(2)
                                              .Args(),
                                          dir.path(), name);
  };
  auto live_station = station(live, "live");
  auto replay_station = station(replayed, "replay");
  ChildProcess emulator(LGS_EMULATOR_BIN,
                        EmulatorArgs()
                            .Bind(live)
                            .Speed(20)
                            .IdealLink()
                            .Arg("--light-time", "1.28")
                            .WaitForSubscribers()
                            .Duration(7)
                            .Args(),
                        dir.path(), "emulator");
  ChildProcess replay(LGS_GSCTL_BIN,
                      ReplayArgs({recorder.stats().current_file})
                          .Speed(1)
                          .Bind(replayed)
                          .WaitForSubscribers()
                          .Args(),
                      dir.path(), "replay");
  ASSERT_EQ(emulator.Wait(30s), 0) << emulator.Stderr();
  ASSERT_EQ(replay.Wait(30s), 0) << replay.Stderr();
  ASSERT_EQ(live_station->Wait(30s), 0) << live_station->Stderr();
  ASSERT_EQ(replay_station->Wait(30s), 0) << replay_station->Stderr();

  const json l = json::parse(ReadFile(dir.File("live.json")));
  EXPECT_EQ(l["latency"]["basis"], "relative") << l["latency"].dump();
  EXPECT_NEAR(l["latency"]["clock_rate"].get<double>(), 20.0, 0.5);
  EXPECT_GT(l["latency"]["count"].get<int>(), 100);
  EXPECT_LT(l["latency"]["p99_ns"].get<double>(), 500e6) << l["latency"].dump();
  const std::string live_out = live_station->Stdout();
  EXPECT_NE(live_out.find("on-board clock runs at"), std::string::npos) << live_out;
  EXPECT_NE(live_out.find("| latency p50"), std::string::npos) << live_out;  // LINK lines
  EXPECT_EQ(live_out.find("link.latency_ms"), std::string::npos) << live_out;

  const json r = json::parse(ReadFile(dir.File("replay.json")));
  EXPECT_EQ(r["totals"]["received"], 79);
  EXPECT_EQ(r["totals"]["gaps"], 1);
  EXPECT_EQ(r["latency"]["basis"], "relative") << r["latency"].dump();
  EXPECT_LT(r["latency"]["p99_ns"].get<double>(), 1e9) << r["latency"].dump();
  const std::string replay_out = replay_station->Stdout();
  EXPECT_NE(replay_out.find("behind the ground clock"), std::string::npos) << replay_out;
  // Neither a day of "latency" nor one lost packet extrapolated to 60 a minute is an alarm.
  EXPECT_EQ(replay_out.find("link.latency_ms"), std::string::npos) << replay_out;
  EXPECT_EQ(replay_out.find("link.gap_rate_per_min"), std::string::npos) << replay_out;
  EXPECT_EQ(r["alarms"]["raised"], 0) << r["alarms"].dump();
}

}  // namespace
}  // namespace lgs::test
