#include "rover_emulator/rover_model.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <map>

#include "rover_emulator/telemetry_generator.h"

namespace lgs::emulator {
namespace {

constexpr TimestampNs kStart = 1'800'000'000LL * 1'000'000'000;
constexpr TimestampNs kSecond = 1'000'000'000;

RoverModelOptions Options(uint64_t seed) {
  RoverModelOptions o;
  o.seed = seed;
  o.mission_start_ns = kStart;
  return o;
}

TEST(RoverModel, SameSeedGivesTheSameTelemetry) {
  RoverModel a(Options(3)), b(Options(3));
  for (int i = 0; i < 50; ++i) {
    rover::v1::NavigationPose pa, pb;
    a.FillNavigationPose(kStart + i * kSecond, pa);
    b.FillNavigationPose(kStart + i * kSecond, pb);
    ASSERT_TRUE(google::protobuf::util::MessageDifferencer::Equals(pa, pb)) << i;
    rover::v1::Radiation ra, rb;
    a.FillRadiation(kStart + i * kSecond, ra);
    b.FillRadiation(kStart + i * kSecond, rb);
    ASSERT_TRUE(google::protobuf::util::MessageDifferencer::Equals(ra, rb)) << i;
  }
}

TEST(RoverModel, DifferentSeedsGiveDifferentTraverses) {
  RoverModel a(Options(1)), b(Options(2));
  rover::v1::NavigationPose pa, pb;
  a.FillNavigationPose(kStart + 60 * kSecond, pa);
  b.FillNavigationPose(kStart + 60 * kSecond, pb);
  EXPECT_NE(pa.heading_deg(), pb.heading_deg());
}

TEST(RoverModel, DrivesNoFasterThan200MetresPerHour) {
  RoverModel model(Options(5));
  rover::v1::NavigationPose start, later;
  model.FillNavigationPose(kStart, start);
  model.FillNavigationPose(kStart + 600 * kSecond, later);
  const double moved = std::hypot(later.x_m() - start.x_m(), later.y_m() - start.y_m());
  EXPECT_GT(moved, 1.0);
  EXPECT_LE(moved, 200.0 / 6.0 + 1e-6);
}

TEST(RoverModel, RadiationIsNearTheGcrBaseline) {
  RoverModel model(Options(9));
  double sum = 0.0;
  for (int i = 1; i <= 100; ++i) {
    rover::v1::Radiation r;
    model.FillRadiation(kStart + i * kSecond, r);
    sum += r.dose_rate_ugy_per_h();
    EXPECT_EQ(r.let_counts_size(), 30);
    EXPECT_EQ(r.channels_size(), 3);
  }
  EXPECT_NEAR(sum / 100.0, 13.2, 0.5);
}

TEST(RoverModel, ApxsOxidesAreHighlandAndSumNearHundred) {
  // APXS reads at science stops only, one three-minute integration at a time.
  RoverModel model(Options(4));
  int apxs_seen = 0;
  TimestampNs last_apxs = 0;
  for (int i = 0; i < 4 * 720 && apxs_seen < 3; ++i) {  // up to 4 h, a tick every 5 s
    rover::v1::SoilMeasurement m;
    const TimestampNs t = kStart + i * 5 * kSecond;
    if (!model.FillSoilMeasurement(t, m)) continue;
    if (m.result_case() != rover::v1::SoilMeasurement::kApxs) continue;
    EXPECT_EQ(model.mode(), rover::v1::ROVER_MODE_SCIENCE);
    EXPECT_EQ(m.integration_s(), 180.0);
    if (last_apxs != 0) {
      EXPECT_GE(t - last_apxs, 180 * kSecond);
    }
    last_apxs = t;
    ++apxs_seen;
    EXPECT_NEAR(m.apxs().al2o3_wt_percent(), 27.3, 3.0);
    EXPECT_NEAR(m.apxs().sio2_wt_percent(), 45.0, 3.0);
    EXPECT_NEAR(m.apxs().total_wt_percent(), 99.5, 2.0);
  }
  EXPECT_EQ(apxs_seen, 3);
}

TEST(RoverModel, WhatEachModeSendsFollowsTheModel) {
  using protocol::StreamId;
  using rover::v1::RoverMode;
  for (const protocol::StreamInfo& s : protocol::AllStreams()) {
    // Hibernation: no telemetry but events (the command dictionary says so to operators).
    EXPECT_EQ(ModeEmits(rover::v1::ROVER_MODE_HIBERNATE, s.id),
              s.id == StreamId::kEvent || s.id == StreamId::kCommandVerification)
        << s.name;
  }
  for (StreamId id : {StreamId::kHousekeeping, StreamId::kNavigationPose, StreamId::kRadiation}) {
    EXPECT_TRUE(ModeEmits(rover::v1::ROVER_MODE_SAFE, id));
  }
  EXPECT_FALSE(ModeEmits(rover::v1::ROVER_MODE_SAFE, StreamId::kSoilMeasurement));
  EXPECT_FALSE(ModeEmits(rover::v1::ROVER_MODE_STANDBY, StreamId::kCameraFrame));
  EXPECT_TRUE(ModeEmits(rover::v1::ROVER_MODE_DRIVE, StreamId::kCameraFrame));
}

TEST(RoverModel, HousekeepingIsPlausible) {
  RoverModel model(Options(8));
  rover::v1::Housekeeping hk;
  model.FillHousekeeping(kStart + 10 * kSecond, hk);
  EXPECT_GT(hk.battery_soc_percent(), 0.0);
  EXPECT_LE(hk.battery_soc_percent(), 100.0);
  EXPECT_GT(hk.bus_voltage_v(), 24.0);
  EXPECT_LT(hk.bus_voltage_v(), 34.0);
  EXPECT_GT(hk.load_power_w(), 10.0);
  auto events = model.TakeEvents();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().kind(), rover::v1::EVENT_KIND_BOOT);
  EXPECT_TRUE(model.TakeEvents().empty());
}

}  // namespace
}  // namespace lgs::emulator

namespace lgs::emulator {
namespace {

std::vector<std::string> Packets(uint64_t seed, int batches) {
  TelemetryGenerator generator(seed, "rover1", kStart);
  std::vector<GeneratedPacket> batch;
  std::vector<std::string> out;
  for (int i = 0; i < batches; ++i) {
    EXPECT_TRUE(generator.Next(batch).ok());
    for (const auto& p : batch) out.push_back(*p.topic + p.packet);
  }
  return out;
}

TEST(TelemetryGenerator, SameSeedGivesAByteIdenticalPacketStream) {
  EXPECT_EQ(Packets(17, 3000), Packets(17, 3000));
  EXPECT_NE(Packets(17, 300), Packets(18, 300));
}

TEST(TelemetryGenerator, EveryPeriodicStreamAtItsNominalRateWhileItsModeSendsIt) {
  TelemetryGenerator generator(2, "rover1", kStart);
  std::vector<GeneratedPacket> batch;
  std::map<std::string_view, int> counts;
  while (generator.next_due_ns() < kStart + 100 * kSecond) {
    ASSERT_TRUE(generator.Next(batch).ok());
    for (const auto& p : batch) ++counts[p.stream->name];
  }
  // Awake, the health streams and mapping go at their nominal rates whatever the mode...
  for (const char* name : {"housekeeping", "navigation_pose", "radiation", "terrain_tile"}) {
    const protocol::StreamInfo* s = protocol::FindStreamByName(name);
    EXPECT_EQ(counts[name], static_cast<int>(100 * s->nominal_rate_hz)) << name;
  }
  // ...navigation frames while driving (a science stop pauses them), soil as instruments finish.
  EXPECT_LE(counts["camera_frame"], 50);
  EXPECT_GE(counts["camera_frame"], 30);
  EXPECT_LT(counts["soil"], 20);
  EXPECT_GE(counts["event"], 2);  // boot and the first mode change at least
}

}  // namespace
}  // namespace lgs::emulator
