// Headless missions: each built-in scenario run through the telemetry generator shows its
// signature in the decoded telemetry, and long runs stay physically sane.
#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "protocol/telemetry_decoder.h"
#include "rover_emulator/scenario.h"
#include "rover_emulator/telemetry_generator.h"
#include "rover_emulator/terrain.h"

namespace lgs::emulator {
namespace {

constexpr TimestampNs kStart = 1'800'000'000LL * 1'000'000'000;
constexpr double kHour = 3600.0;

Scenario Load(const char* name) {
  auto s = LoadScenario(name);
  EXPECT_TRUE(s.ok()) << s.error().message();
  return *s;
}

double Seconds(TimestampNs t) {
  return static_cast<double>(t - kStart) / 1e9;
}

// Runs the scenario's telemetry for `mission_s`, decoding every packet; `visit` may return false
// to stop early. Returns the number of packets.
size_t RunMission(const Scenario& scenario, double mission_s,
                  const std::function<bool(const protocol::DecodedPacket&)>& visit,
                  TelemetryGenerator** generator_out = nullptr) {
  TelemetryGenerator generator(scenario.seed, "rover1", kStart, scenario);
  if (generator_out != nullptr) *generator_out = nullptr;
  protocol::TelemetryDecoder decoder("rover1");
  std::vector<GeneratedPacket> batch;
  size_t packets = 0;
  while (Seconds(generator.next_due_ns()) <= mission_s) {
    EXPECT_TRUE(generator.Next(batch).ok());
    for (const GeneratedPacket& p : batch) {
      auto decoded = decoder.Decode(*p.topic, protocol::AsBytes(p.packet));
      EXPECT_TRUE(decoded.ok()) << decoded.error().detail;
      ++packets;
      if (!visit(*decoded)) return packets;
    }
  }
  return packets;
}

template <typename T>
const T* As(const protocol::DecodedPacket& p, protocol::StreamId id) {
  return p.stream->id == id ? static_cast<const T*>(p.message) : nullptr;
}

TEST(Mission, SameScenarioAndSeedGiveByteIdenticalPackets) {
  const Scenario s = Load("lossy-link");
  const auto capture = [](const Scenario& scenario, uint64_t seed) {
    TelemetryGenerator g(seed, "rover1", kStart, scenario);
    std::vector<GeneratedPacket> batch;
    std::string all;
    for (int i = 0; i < 20'000; ++i) {
      EXPECT_TRUE(g.Next(batch).ok());
      for (const GeneratedPacket& p : batch) all += p.packet;
    }
    return all;
  };
  const std::string a = capture(s, 3), b = capture(s, 3), c = capture(s, 4);
  EXPECT_GT(a.size(), 2'000'000u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(Mission, SolarParticleEventRaisesDoseTenfoldThenDecaysIntoAForbushDip) {
  const Scenario s = Load("spe-storm");
  double baseline_sum = 0, peak = 0, peak_t = 0;
  int baseline_n = 0;
  std::vector<std::pair<double, double>> doses;  // (t, dose): the dosimeter goes quiet when
                                                 // the rover hibernates for the night
  double onset_t = -1, end_t = -1;
  bool flagged_during = false;
  RunMission(s, 24 * kHour, [&](const protocol::DecodedPacket& p) {
    const double t = Seconds(p.packet.onboard_time_ns);
    if (const auto* r = As<rover::v1::Radiation>(p, protocol::StreamId::kRadiation)) {
      const double dose = r->dose_rate_ugy_per_h();
      EXPECT_GT(dose, 0.0);
      if (t < 15 * 60) {
        baseline_sum += dose;
        ++baseline_n;
      }
      doses.emplace_back(t, dose);
      if (dose > peak) {
        peak = dose;
        peak_t = t;
      }
      if (t > 2 * kHour && t < 3 * kHour) flagged_during |= r->solar_particle_event();
    }
    if (const auto* e = As<rover::v1::Event>(p, protocol::StreamId::kEvent)) {
      if (e->kind() == rover::v1::EVENT_KIND_SPE_ONSET) onset_t = t;
      if (e->kind() == rover::v1::EVENT_KIND_SPE_END) end_t = t;
    }
    return true;
  });
  const double baseline = baseline_sum / baseline_n;
  EXPECT_NEAR(baseline, 13.2, 0.3);
  EXPECT_GE(peak / baseline, 10.0);
  EXPECT_GT(peak_t, 20 * 60.0);
  EXPECT_LT(peak_t, 2 * kHour);
  EXPECT_GT(onset_t, 20 * 60.0);
  EXPECT_GT(end_t, peak_t);
  EXPECT_TRUE(flagged_during);
  // Decayed, and the galactic background is depressed below its pre-event level: over the last
  // hour the dosimeter reported, after the event's end.
  ASSERT_FALSE(doses.empty());
  const double last_t = doses.back().first;
  ASSERT_GT(last_t - kHour, end_t);
  double last_hour_sum = 0;
  int last_hour_n = 0;
  for (const auto& [t, dose] : doses) {
    if (t >= last_t - kHour) {
      last_hour_sum += dose;
      ++last_hour_n;
    }
  }
  EXPECT_LT(last_hour_sum / last_hour_n, 0.98 * baseline);
}

TEST(Mission, NightFallDrivesTheRoverIntoHibernation) {
  const Scenario s = Load("night-fall");
  std::vector<rover::v1::RoverMode> modes;
  double first_soc = -1, hibernate_t = -1, solar_after_first_hour = 0;
  std::map<protocol::StreamId, int> after_hibernation;
  RunMission(s, 48 * kHour, [&](const protocol::DecodedPacket& p) {
    const double t = Seconds(p.packet.onboard_time_ns);
    if (hibernate_t >= 0) {
      // Hibernating: no telemetry but events. Two hours of it are enough to tell.
      ++after_hibernation[p.stream->id];
      return t < hibernate_t + 2 * kHour;
    }
    if (const auto* h = As<rover::v1::Housekeeping>(p, protocol::StreamId::kHousekeeping)) {
      if (first_soc < 0) first_soc = h->battery_soc_percent();
      if (modes.empty() || modes.back() != h->mode()) modes.push_back(h->mode());
      if (t > kHour) solar_after_first_hour = std::max(solar_after_first_hour, h->solar_power_w());
    }
    // Housekeeping stops with hibernation: the mode change is the event that says so.
    if (const auto* e = As<rover::v1::Event>(p, protocol::StreamId::kEvent)) {
      if (e->kind() == rover::v1::EVENT_KIND_MODE_CHANGE &&
          e->message().find("HIBERNATE") != std::string::npos) {
        hibernate_t = t;
        modes.push_back(rover::v1::ROVER_MODE_HIBERNATE);
      }
    }
    return true;
  });
  ASSERT_GT(hibernate_t, 0.0) << "never hibernated";
  EXPECT_LT(hibernate_t, 24 * kHour);
  EXPECT_DOUBLE_EQ(solar_after_first_hour, 0.0);
  // Through shedding science and safe mode, in that order.
  const auto at = [&](rover::v1::RoverMode m) {
    return std::find(modes.begin(), modes.end(), m) - modes.begin();
  };
  EXPECT_LT(at(rover::v1::ROVER_MODE_STANDBY), at(rover::v1::ROVER_MODE_SAFE));
  EXPECT_LT(at(rover::v1::ROVER_MODE_SAFE), at(rover::v1::ROVER_MODE_HIBERNATE));
  for (const auto& [stream, n] : after_hibernation) {
    EXPECT_EQ(stream, protocol::StreamId::kEvent) << protocol::Stream(stream).name << ": " << n;
  }
}

TEST(Mission, LongNominalRunStaysPhysicallySane) {
  const Scenario s = Load("nominal");
  const Terrain terrain(s.site.terrain, s.seed);  // the same map the rover drives on
  size_t apxs = 0, poses = 0, hazards = 0, science_stops = 0;
  std::map<int, double> last_report;  // instrument -> on-board time of its last report
  double odometer = 0, min_sun = 90, max_sun = -90;
  RunMission(s, 24 * kHour, [&](const protocol::DecodedPacket& p) {
    if (const auto* h = As<rover::v1::Housekeeping>(p, protocol::StreamId::kHousekeeping)) {
      EXPECT_GE(h->battery_soc_percent(), 0.0);
      EXPECT_LE(h->battery_soc_percent(), 100.0);
      EXPECT_GT(h->bus_voltage_v(), 24.0);
    }
    if (const auto* n = As<rover::v1::NavigationPose>(p, protocol::StreamId::kNavigationPose)) {
      ++poses;
      EXPECT_LE(n->speed_m_per_h(), 200.0 + 1e-9);
      EXPECT_GE(n->speed_m_per_h(), 0.0);
      EXPECT_NEAR(n->z_m(), terrain.Elevation(n->x_m(), n->y_m()), 1e-9);
      EXPECT_GE(n->odometer_m(), odometer);
      odometer = n->odometer_m();
    }
    if (const auto* m = As<rover::v1::SoilMeasurement>(p, protocol::StreamId::kSoilMeasurement)) {
      if (m->has_apxs()) {
        ++apxs;
        EXPECT_NEAR(m->apxs().total_wt_percent(), 100.0, 2.0);
      }
      // No instrument reports more often than it can integrate.
      const double t = Seconds(p.packet.onboard_time_ns);
      double& last = last_report[m->instrument()];
      if (last > 0) {
        EXPECT_GE(t - last, m->integration_s() - 1e-6) << m->instrument();
      }
      last = t;
    }
    if (const auto* e = As<rover::v1::Event>(p, protocol::StreamId::kEvent)) {
      science_stops += e->kind() == rover::v1::EVENT_KIND_MODE_CHANGE &&
                       e->message().find("soil science stop") != std::string::npos;
    }
    if (const auto* r = As<rover::v1::Radiation>(p, protocol::StreamId::kRadiation)) {
      EXPECT_GT(r->dose_rate_ugy_per_h(), 0.0);
    }
    if (const auto* c = As<rover::v1::CameraFrame>(p, protocol::StreamId::kCameraFrame)) {
      min_sun = std::min(min_sun, c->sun_elevation_deg());
      max_sun = std::max(max_sun, c->sun_elevation_deg());
    }
    if (const auto* e = As<rover::v1::Event>(p, protocol::StreamId::kEvent)) {
      hazards += e->kind() == rover::v1::EVENT_KIND_HAZARD_STOP;
    }
    return true;
  });
  EXPECT_GT(poses, 800'000u);
  // One APXS reading (3 min) per five-minute science stop, and only there.
  EXPECT_GT(science_stops, 100u);
  EXPECT_GE(apxs, science_stops * 9 / 10);
  EXPECT_LE(apxs, science_stops);
  EXPECT_GT(odometer, 50.0);  // it drove
  EXPECT_GE(min_sun, -1.5);   // south-pole sun: within ±1.5° of the horizon
  EXPECT_LE(max_sun, 1.5);
  std::printf("nominal 24 h: odometer %.1f m, %zu hazard stops, sun %.2f..%.2f deg\n", odometer,
              hazards, min_sun, max_sun);
}

TEST(Mission, HazardStopRaisesAnEventMapsTheHazardAndWaitsForTheGround) {
  // A boulder field: hazards within minutes.
  auto parsed = ParseScenario(
      "name: boulders\nseed: 12\nsite:\n  terrain:\n    rocks_per_m2: 0.6\n"
      "rover:\n  hazard_replan_after: 20m\n",
      "boulders.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  double stop_t = -1, resumed_t = -1, moving_while_stopped = 0;
  bool mapped = false;
  RunMission(*parsed, 6 * kHour, [&](const protocol::DecodedPacket& p) {
    const double t = Seconds(p.packet.onboard_time_ns);
    if (const auto* e = As<rover::v1::Event>(p, protocol::StreamId::kEvent)) {
      if (e->kind() == rover::v1::EVENT_KIND_HAZARD_STOP && stop_t < 0) {
        stop_t = t;
        EXPECT_EQ(e->severity(), rover::v1::EVENT_SEVERITY_WARNING);
        EXPECT_NE(e->message().find("hazard stop"), std::string::npos);
      }
      if (stop_t >= 0 && resumed_t < 0 && e->kind() == rover::v1::EVENT_KIND_MODE_CHANGE &&
          e->message().find("detour") != std::string::npos) {
        resumed_t = t;
      }
    }
    if (stop_t >= 0 && resumed_t < 0) {
      if (const auto* n = As<rover::v1::NavigationPose>(p, protocol::StreamId::kNavigationPose)) {
        if (t > stop_t + 0.2)
          moving_while_stopped = std::max(moving_while_stopped, n->speed_m_per_h());
      }
      if (const auto* tile = As<rover::v1::TerrainTile>(p, protocol::StreamId::kTerrainTile)) {
        for (char cell : tile->hazard_mask()) mapped |= cell != 0;
      }
    }
    return resumed_t < 0;
  });
  ASSERT_GE(stop_t, 0.0) << "no hazard stop in a boulder field";
  EXPECT_TRUE(mapped) << "the terrain tiles after the stop show the hazard";
  EXPECT_DOUBLE_EQ(moving_while_stopped, 0.0);
  ASSERT_GT(resumed_t, 0.0);
  EXPECT_NEAR(resumed_t - stop_t, 20 * 60.0, 2.0);  // waited for the (stand-in) ground re-plan
}

TEST(Terrain, ShadowsFollowTheTerrainAndTheSunCircles) {
  const Scenario s = Load("nominal");
  const Terrain terrain(s.site.terrain, s.seed);
  const Terrain again(s.site.terrain, s.seed);
  EXPECT_EQ(terrain.Elevation(12.3, -40.1), again.Elevation(12.3, -40.1));
  EXPECT_GT(terrain.rock_count(), 1000u);
  // Over a lunar day the landing point sees both light and dark spells, and points in a crater
  // floor or behind a ridge differ from it.
  int lit = 0, samples = 0;
  for (double t = 0; t < 29.5 * 86400; t += 3600, ++samples) {
    const SunPosition sun = SunAt(s.site, t);
    EXPECT_LE(std::abs(sun.elevation_deg), 1.5);
    lit += terrain.SunlitFraction(0, 0, sun) > 0.5;
  }
  const double fraction = static_cast<double>(lit) / samples;
  std::printf("landing point sunlit %.0f%% of a lunar day\n", fraction * 100);
  EXPECT_GT(fraction, 0.3);
  EXPECT_LT(fraction, 0.99);
  // Rocks never exceed 30 cm; some exceed the 15 cm hazard limit.
  int tall = 0;
  for (double x = -100; x < 100; x += 0.05) {
    for (double y = -20; y < 20; y += 0.5) {
      const double h = terrain.RockHeight(x, y);
      EXPECT_LE(h, 0.30 + 1e-6);
      tall += h > 0.15;
    }
  }
  EXPECT_GT(tall, 0);
}

}  // namespace
}  // namespace lgs::emulator
