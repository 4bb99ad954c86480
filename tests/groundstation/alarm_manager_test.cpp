// Limits and alarms: limit files are checked against the protobuf descriptors at load; every
// sample is evaluated; the lifecycle is raised -> escalated -> acknowledged -> cleared, with
// persistence on the way in and out.
#include "groundstation/alarm_manager.h"

#include <gtest/gtest.h>

#include <limits>
#include <set>

#include "rover/v1/housekeeping.pb.h"
#include "rover/v1/navigation.pb.h"

namespace lgs::station {
namespace {

using protocol::StreamId;

LimitSet Parse(std::string_view yaml) {
  auto set = LimitSet::Parse(yaml, "test.yaml");
  EXPECT_TRUE(set.ok()) << set.error().message();
  return set.ok() ? std::move(*set) : LimitSet();
}

std::string ParseError(std::string_view yaml) {
  auto set = LimitSet::Parse(yaml, "test.yaml");
  return set.ok() ? "(accepted)" : set.error().message();
}

TEST(Limits, TheBuiltInSetLoadsAndCoversEverySubsystemTheMissionAsksFor) {
  auto set = LimitSet::Load("");
  ASSERT_TRUE(set.ok()) << set.error().message();
  std::set<std::string> fields;
  for (const LimitSpec& l : set->limits()) fields.insert(l.field);
  for (const char* f :
       {"housekeeping.battery_soc_percent", "housekeeping.bus_voltage_v",
        "housekeeping.temp_battery_c", "radiation.dose_rate_ugy_per_h", "navigation_pose.pitch_deg",
        "navigation_pose.roll_deg", "navigation_pose.wheel_current_a", "link.latency_ms",
        "link.gap_rate_per_min"}) {
    EXPECT_TRUE(fields.contains(f)) << f;
  }
  EXPECT_EQ(set->ForStream(StreamId::kHousekeeping).size(), 6u);
  EXPECT_EQ(set->limits()[0].unit, "%");
}

TEST(Limits, MistakesAreErrorsThatSayWhere) {
  EXPECT_NE(ParseError("limits:\n  - field: housekeeping.battery_soc\n    red_low: 1\n")
                .find("limits[0]: rover.v1.Housekeeping has no field 'battery_soc'"),
            std::string::npos);
  EXPECT_NE(ParseError("limits:\n  - field: weather.wind\n    red_low: 1\n").find("no stream"),
            std::string::npos);
  EXPECT_NE(
      ParseError("limits:\n  - field: housekeeping.mode\n    red_low: 1\n").find("is not a number"),
      std::string::npos);
  EXPECT_NE(ParseError("limits:\n  - field: link.jitter\n    red_high: 1\n").find("latency_ms"),
            std::string::npos);
  EXPECT_NE(ParseError("limits:\n  - field: housekeeping.bus_voltage_v\n    red_low: 30\n"
                       "    yellow_low: 28\n")
                .find("red_low <= yellow_low"),
            std::string::npos);
  EXPECT_NE(ParseError("limits:\n  - field: housekeeping.bus_voltage_v\n    redlow: 30\n")
                .find("unknown key 'redlow'"),
            std::string::npos);
  EXPECT_NE(ParseError("limits:\n  - field: housekeeping.bus_voltage_v\n").find("no bound"),
            std::string::npos);
  EXPECT_NE(ParseError("limits:\n  - field: housekeeping.bus_voltage_v\n    red_low: x\n")
                .find("test.yaml: limits[0]"),
            std::string::npos);
  EXPECT_NE(ParseError("nothing: here\n").find("needs 'limits:'"), std::string::npos);
  EXPECT_NE(ParseError("limits:\n  - field: radiation.dose_rate_ugy_per_h\n    red_high: 1\n"
                       "  - field: radiation.dose_rate_ugy_per_h\n    red_high: 2\n")
                .find("twice"),
            std::string::npos);
}

class AlarmTest : public ::testing::Test {
 protected:
  AlarmTest()
      : alarms_(Parse("limits:\n"
                      "  - field: housekeeping.battery_soc_percent\n"
                      "    yellow_low: 30\n"
                      "    red_low: 15\n"
                      "    persistence: 3\n"
                      "  - field: navigation_pose.wheel_current_a\n"
                      "    red_high: 1.2\n"
                      "    persistence: 1\n")) {}
  void Soc(double percent) {
    rover::v1::Housekeeping hk;
    hk.set_battery_soc_percent(percent);
    alarms_.Evaluate(StreamId::kHousekeeping, hk, ++now_, out_);
  }
  std::vector<std::string> States() const {
    std::vector<std::string> s;
    for (const auto& a : out_) s.push_back(a.severity() + " " + a.state());
    return s;
  }
  AlarmManager alarms_;
  AlarmManager::Transitions out_;
  int64_t now_ = 1'000;
};

TEST_F(AlarmTest, RaisedAfterPersistenceEscalatedAcknowledgedThenCleared) {
  Soc(50);
  Soc(29);
  Soc(28);
  EXPECT_TRUE(out_.empty());  // two samples below: not yet
  Soc(27);
  ASSERT_EQ(States(), std::vector<std::string>{"warning raised"});
  EXPECT_EQ(out_[0].id(), "housekeeping.battery_soc_percent");
  EXPECT_EQ(out_[0].text(), "27 % is below yellow_low 30 %");
  EXPECT_EQ(out_[0].limit(), "yellow_low 30");
  EXPECT_DOUBLE_EQ(out_[0].value(), 27.0);
  Soc(14);
  Soc(13);
  Soc(12);
  EXPECT_EQ(States().back(), "critical escalated");
  EXPECT_EQ(out_.back().raised_ns(), out_[0].raised_ns());  // the same alarm
  ASSERT_TRUE(alarms_.Acknowledge("housekeeping.battery_soc_percent", "ops", now_, out_).ok());
  EXPECT_EQ(States().back(), "critical acknowledged");
  EXPECT_EQ(out_.back().acknowledged_by(), "ops");
  EXPECT_FALSE(alarms_.Acknowledge("housekeeping.battery_soc_percent", "ops", now_, out_).ok());
  Soc(40);
  Soc(41);
  EXPECT_EQ(alarms_.Current().size(), 1u);  // two samples back: not yet cleared
  Soc(42);
  EXPECT_EQ(States().back(), "critical cleared");
  EXPECT_TRUE(alarms_.Current().empty());  // acknowledged and cleared: resolved
  EXPECT_EQ(alarms_.stats().raised, 1u);
  EXPECT_EQ(alarms_.stats().escalated, 1u);
  EXPECT_EQ(alarms_.stats().samples, 10u);
}

TEST_F(AlarmTest, AnAlarmThatClearsByItselfWaitsForAcknowledgement) {
  for (double v : {20.0, 20.0, 20.0, 35.0, 35.0, 35.0}) Soc(v);
  EXPECT_EQ(States(), (std::vector<std::string>{"warning raised", "warning cleared"}));
  auto current = alarms_.Current();
  ASSERT_EQ(current.size(), 1u);
  EXPECT_FALSE(current[0].active());
  EXPECT_FALSE(current[0].acknowledged());
  ASSERT_TRUE(alarms_.Acknowledge("all", "ops", now_, out_).ok());
  EXPECT_NE(out_.back().text().find("already cleared"), std::string::npos);
  EXPECT_TRUE(alarms_.Current().empty());
  EXPECT_FALSE(alarms_.Acknowledge("all", "ops", now_, out_).ok());
}

TEST_F(AlarmTest, NotANumberIsBeyondEveryBound) {
  for (int i = 0; i < 3; ++i) Soc(std::numeric_limits<double>::quiet_NaN());
  ASSERT_EQ(States(), std::vector<std::string>{"critical raised"});
}

TEST_F(AlarmTest, RepeatedFieldsAreCheckedElementByElement) {
  rover::v1::NavigationPose pose;
  for (double a : {0.4, 0.5, 1.5, 0.4, 0.45, 1.3}) pose.add_wheel_current_a(a);
  alarms_.Evaluate(StreamId::kNavigationPose, pose, ++now_, out_);
  ASSERT_EQ(out_.size(), 2u);
  EXPECT_EQ(out_[0].id(), "navigation_pose.wheel_current_a[2]");
  EXPECT_EQ(out_[0].severity(), "critical");
  EXPECT_EQ(out_[1].id(), "navigation_pose.wheel_current_a[5]");
  EXPECT_EQ(alarms_.stats().samples, 6u);
  EXPECT_FALSE(alarms_.Acknowledge("navigation_pose.wheel_current_a[0]", "ops", now_, out_).ok());
  EXPECT_TRUE(alarms_.Acknowledge("navigation_pose.wheel_current_a[5]", "ops", now_, out_).ok());
}

// A value that keeps crossing its bound (here wheel current with persistence 1, every other
// sample at 10 Hz) would print two lines a sample: after three raise/clear cycles the alarm is
// marked flapping once, held raised and quiet, and clears only once it has stayed within limits
// for 30 s, saying how much was not shown.
TEST_F(AlarmTest, AFlappingValueIsMarkedOnceHeldRaisedAndClearsOnlyWhenSteady) {
  int64_t t = 0;
  const auto current = [&](double amps) {
    rover::v1::NavigationPose pose;
    pose.add_wheel_current_a(amps);
    t += 100'000'000;  // 10 Hz
    alarms_.Evaluate(StreamId::kNavigationPose, pose, t, out_);
  };
  for (int i = 0; i < 1000; ++i) current(i % 2 == 0 ? 2.0 : 0.5);  // 100 s of flapping
  std::vector<std::string> states;
  for (const auto& a : out_) states.push_back(a.state());
  const std::vector<std::string> expected = {"raised",  "cleared", "raised",
                                             "cleared", "raised",  "flapping"};
  EXPECT_EQ(states, expected);
  EXPECT_EQ(alarms_.stats().flapping, 1u);
  EXPECT_EQ(alarms_.stats().suppressed, 497u);
  ASSERT_EQ(alarms_.Current().size(), 1u);
  EXPECT_TRUE(alarms_.Current()[0].active());
  // Steady within limits: nothing for 30 s, then one clear.
  out_.clear();
  for (int i = 0; i < 299; ++i) current(0.5);
  EXPECT_TRUE(out_.empty());
  current(0.5);
  ASSERT_EQ(out_.size(), 1u);
  EXPECT_EQ(out_[0].state(), "cleared");
  EXPECT_NE(out_[0].text().find("497 crossings not shown"), std::string::npos) << out_[0].text();
  // Slow crossings (one a minute) are ordinary alarms, never flapping.
  out_.clear();
  for (int i = 0; i < 20; ++i) {
    current(2.0);
    t += 60'000'000'000;
    current(0.5);
  }
  EXPECT_EQ(out_.size(), 40u);
  EXPECT_EQ(alarms_.stats().flapping, 1u);
}

}  // namespace
}  // namespace lgs::station
