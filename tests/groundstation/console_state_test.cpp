// ConsoleStateSink: the state banner's facts from the telemetry, newest by on-board time.
#include "groundstation/console_state.h"

#include <gtest/gtest.h>

#include <vector>

#include "rover/v1/camera.pb.h"
#include "rover/v1/event.pb.h"
#include "rover/v1/navigation.pb.h"

namespace lgs::station {
namespace {

constexpr int64_t kS = 1'000'000'000;
constexpr int64_t kT0 = 1'800'000'000 * kS;

class ConsoleStateTest : public ::testing::Test {
 protected:
  void Feed(protocol::StreamId stream, const google::protobuf::Message& m, int64_t onboard_ns,
            int64_t ground_ns) {
    protocol::DecodedPacket p;
    p.stream = &protocol::Stream(stream);
    p.message = &m;
    p.packet.onboard_time_ns = static_cast<protocol::TimestampNs>(onboard_ns);
    sink_.OnAccepted(AcceptedPacket{p, static_cast<protocol::TimestampNs>(ground_ns), nullptr});
  }
  void Housekeeping(rover::v1::RoverMode mode, double soc, int64_t onboard_ns, int64_t ground_ns) {
    rover::v1::Housekeeping hk;
    hk.set_mode(mode);
    hk.set_battery_soc_percent(soc);
    hk.set_solar_power_w(40);
    hk.set_load_power_w(55);
    Feed(protocol::StreamId::kHousekeeping, hk, onboard_ns, ground_ns);
  }
  std::vector<ConsoleState> published_;
  ConsoleStateSink sink_{[this](const ConsoleState& s) { published_.push_back(s); }};
};

TEST_F(ConsoleStateTest, TheNewestHousekeepingByOnBoardTimeWinsAndTheTrendNeedsAMinute) {
  Housekeeping(rover::v1::ROVER_MODE_DRIVE, 80.0, kT0, kT0 + kS);
  EXPECT_FALSE(sink_.state().have_soc_trend);  // one sample: no trend yet
  Housekeeping(rover::v1::ROVER_MODE_DRIVE, 79.0, kT0 + 120 * kS, kT0 + 121 * kS);
  ASSERT_TRUE(sink_.state().have_soc_trend);
  EXPECT_DOUBLE_EQ(sink_.state().soc_trend_percent_per_h, -30.0);  // -1 % in 2 min
  // A stored packet played back after a loss of signal: older on board, arriving later.
  Housekeeping(rover::v1::ROVER_MODE_SCIENCE, 95.0, kT0 + 60 * kS, kT0 + 300 * kS);
  const ConsoleState& s = sink_.state();
  EXPECT_EQ(s.mode, rover::v1::ROVER_MODE_DRIVE);
  EXPECT_DOUBLE_EQ(s.housekeeping.battery_soc_percent(), 79.0);
  EXPECT_EQ(s.housekeeping_onboard_ns, kT0 + 120 * kS);
  EXPECT_EQ(s.latest_onboard_ns, kT0 + 120 * kS);
  EXPECT_EQ(s.first_onboard_ns, kT0);
  // ... but it was delivered: the stream's last arrival is the playback's.
  const StreamSeen& hk = s.streams[static_cast<size_t>(protocol::StreamId::kHousekeeping)];
  EXPECT_EQ(hk.packets, 3u);
  EXPECT_EQ(hk.ground_ns, kT0 + 300 * kS);

  const nlohmann::json j = ConsoleStateJson(s, kT0 + 302 * kS);
  EXPECT_EQ(j["mode"], "DRIVE");
  EXPECT_EQ(j["housekeeping"]["battery_soc_percent"], 79.0);
  EXPECT_EQ(j["housekeeping"]["power_balance_w"], -15.0);
  EXPECT_DOUBLE_EQ(j["streams"]["housekeeping"]["age_s"].get<double>(), 2.0);
  EXPECT_FALSE(j["streams"]["housekeeping"]["stale"]);
  EXPECT_TRUE(j["streams"]["radiation"]["age_s"].is_null());  // never heard
  EXPECT_FALSE(j["safe"]);
}

TEST_F(ConsoleStateTest, APeriodicStreamSilentForThreePeriodsAndFiveSecondsIsStaleOthersNever) {
  Housekeeping(rover::v1::ROVER_MODE_STANDBY, 50.0, kT0, kT0);
  rover::v1::Event event;
  event.set_kind(rover::v1::EVENT_KIND_BOOT);
  Feed(protocol::StreamId::kEvent, event, kT0, kT0);
  const auto stale = [&](int64_t at, const char* stream) {
    return ConsoleStateJson(sink_.state(), at)["streams"][stream]["stale"].get<bool>();
  };
  EXPECT_FALSE(stale(kT0 + 4 * kS, "housekeeping"));  // 1 Hz: 3 periods, but 5 s at least
  EXPECT_TRUE(stale(kT0 + 6 * kS, "housekeeping"));
  EXPECT_FALSE(stale(kT0 + 3600 * kS, "event"));  // speaks when something happens
}

TEST_F(ConsoleStateTest, AHazardStopHoldsUntilTheRoverMovesAgainAndSafeModeShows) {
  rover::v1::Event stop;
  stop.set_kind(rover::v1::EVENT_KIND_HAZARD_STOP);
  stop.set_severity(rover::v1::EVENT_SEVERITY_WARNING);
  stop.set_message("rock ahead");
  Feed(protocol::StreamId::kEvent, stop, kT0 + 10 * kS, kT0 + 11 * kS);
  rover::v1::NavigationPose pose;
  pose.set_speed_m_per_h(0);
  Feed(protocol::StreamId::kNavigationPose, pose, kT0 + 12 * kS, kT0 + 13 * kS);
  EXPECT_TRUE(sink_.state().hazard_stop);
  EXPECT_EQ(sink_.state().hazard_stop_message, "rock ahead");
  // A moving pose from before the stop (played back late) does not lift it.
  pose.set_speed_m_per_h(150);
  Feed(protocol::StreamId::kNavigationPose, pose, kT0 + 5 * kS, kT0 + 14 * kS);
  EXPECT_TRUE(sink_.state().hazard_stop);
  Feed(protocol::StreamId::kNavigationPose, pose, kT0 + 20 * kS, kT0 + 21 * kS);
  EXPECT_FALSE(sink_.state().hazard_stop);

  // A hibernating rover sends no housekeeping: its mode-change event sets the mode.
  rover::v1::Event hibernate;
  hibernate.set_kind(rover::v1::EVENT_KIND_MODE_CHANGE);
  hibernate.set_value(rover::v1::ROVER_MODE_HIBERNATE);
  Feed(protocol::StreamId::kEvent, hibernate, kT0 + 30 * kS, kT0 + 31 * kS);
  const nlohmann::json j = ConsoleStateJson(sink_.state(), kT0 + 32 * kS);
  EXPECT_EQ(j["mode"], "HIBERNATE");
  EXPECT_TRUE(j["safe"]);
  EXPECT_TRUE(j["housekeeping"].is_null());

  rover::v1::CameraFrame frame;
  frame.set_sun_elevation_deg(3.5);
  frame.set_sun_azimuth_deg(91);
  Feed(protocol::StreamId::kCameraFrame, frame, kT0 + 33 * kS, kT0 + 34 * kS);
  EXPECT_EQ(ConsoleStateJson(sink_.state(), kT0 + 35 * kS)["sun"]["elevation_deg"], 3.5);
}

// An emulated rover's clock at 200 times the ground's: the rate over the newest packets, which
// a playback (older on board, arriving late) does not bend, and which follows a change of rate
// within a minute of ground time.
TEST_F(ConsoleStateTest, TheRoversClockRateIsMeasuredFromTheNewestPackets) {
  const auto at = [&](double ground_s, double rate) {
    Housekeeping(rover::v1::ROVER_MODE_DRIVE, 80, kT0 + static_cast<int64_t>(ground_s * rate * kS),
                 kT0 + static_cast<int64_t>(ground_s * kS));
  };
  at(0, 200);
  at(1.5, 200);
  EXPECT_FALSE(sink_.state().ScetRate());  // 1.5 s apart: not yet
  for (double t = 2; t <= 40; t += 0.5) at(t, 200);
  ASSERT_TRUE(sink_.state().ScetRate());
  EXPECT_NEAR(*sink_.state().ScetRate(), 200.0, 1e-6);
  // 20 minutes of stored data played back within a second: the rate stands.
  for (int i = 0; i < 1200; ++i) {
    Housekeeping(rover::v1::ROVER_MODE_DRIVE, 80, kT0 + i * kS, kT0 + 40 * kS + i * 1'000'000);
  }
  EXPECT_NEAR(*sink_.state().ScetRate(), 200.0, 1e-6);
  // The rover's clock from then on at the ground's rate (a new --speed): measured within 60 s.
  const int64_t onboard40 = kT0 + 40 * 200 * kS;
  for (int t = 41; t <= 100; ++t) {
    Housekeeping(rover::v1::ROVER_MODE_DRIVE, 80, onboard40 + (t - 40) * kS, kT0 + t * kS);
  }
  EXPECT_NEAR(*sink_.state().ScetRate(), 1.0, 1e-6);
}

TEST_F(ConsoleStateTest, ChangesArePublishedAtMostFourTimesASecond) {
  const auto t = std::chrono::steady_clock::now();
  Housekeeping(rover::v1::ROVER_MODE_DRIVE, 80.0, kT0, kT0);
  sink_.OnTick(IngestTick{.now = t});
  ASSERT_EQ(published_.size(), 1u);
  Housekeeping(rover::v1::ROVER_MODE_DRIVE, 81.0, kT0 + kS, kT0 + kS);
  sink_.OnTick(IngestTick{.now = t + std::chrono::milliseconds(100)});
  EXPECT_EQ(published_.size(), 1u);  // too soon: kept for the next tick
  sink_.OnTick(IngestTick{.now = t + std::chrono::milliseconds(260)});
  ASSERT_EQ(published_.size(), 2u);
  EXPECT_DOUBLE_EQ(published_.back().housekeeping.battery_soc_percent(), 81.0);
  sink_.OnTick(IngestTick{.now = t + std::chrono::milliseconds(600)});
  EXPECT_EQ(published_.size(), 2u);  // nothing changed
}

}  // namespace
}  // namespace lgs::station
