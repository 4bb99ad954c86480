#include "rover_emulator/scenario.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/process.h"

namespace lgs::emulator {
namespace {

TEST(Scenario, EveryBuiltInLoadsAndIsNamedAfterItsFile) {
  const std::vector<std::string> names = BuiltinScenarioNames();
  for (const char* expected :
       {"nominal", "spe-storm", "lossy-link", "relay-outage", "night-fall"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
  for (const std::string& name : names) {
    auto s = LoadScenario(name);
    ASSERT_TRUE(s.ok()) << s.error().message();
    EXPECT_EQ(s->name, name);
    EXPECT_EQ(s->source, "built-in");
    EXPECT_FALSE(s->description.empty());
  }
}

TEST(Scenario, BuiltInsCarryTheirSignatures) {
  EXPECT_EQ(LoadScenario("spe-storm")->solar_particle_events.size(), 1u);
  EXPECT_DOUBLE_EQ(LoadScenario("spe-storm")->solar_particle_events[0].peak_factor, 40.0);
  EXPECT_DOUBLE_EQ(LoadScenario("lossy-link")->link.loss_probability, 0.02);
  const Scenario outage = *LoadScenario("relay-outage");
  EXPECT_DOUBLE_EQ(outage.link.outage_first_s, 600.0);
  EXPECT_DOUBLE_EQ(outage.link.outage_every_s, 4 * 3600.0);
  EXPECT_DOUBLE_EQ(outage.link.outage_duration_s, 1800.0);
  EXPECT_DOUBLE_EQ(LoadScenario("nominal")->link.light_time_s, 1.28);
}

TEST(Scenario, DurationsTakeUnits) {
  EXPECT_EQ(ParseDurationSeconds("90"), 90.0);
  EXPECT_EQ(ParseDurationSeconds("90s"), 90.0);
  EXPECT_EQ(ParseDurationSeconds("15m"), 900.0);
  EXPECT_EQ(ParseDurationSeconds("15 min"), 900.0);
  EXPECT_EQ(ParseDurationSeconds("2h"), 7200.0);
  EXPECT_EQ(ParseDurationSeconds("1.5d"), 129600.0);
  EXPECT_FALSE(ParseDurationSeconds("soon"));
  EXPECT_FALSE(ParseDurationSeconds("5 parsecs"));
  EXPECT_FALSE(ParseDurationSeconds(""));
}

// Each bad file: the error names the file, the line and the field.
struct BadCase {
  const char* yaml;
  const char* expect_line;
  const char* expect_field;
  const char* expect_problem;
};

TEST(Scenario, BadFilesNameFileLineAndField) {
  const BadCase cases[] = {
      {"name: x\nlink:\n  loss_probability: 2\n", ":3:", "link.loss_probability", "outside 0..1"},
      {"name: x\nlink:\n  los_probability: 0.1\n", ":3:", "link.los_probability", "unknown field"},
      {"site:\n  latitude_deg: north\n", ":2:", "site.latitude_deg", "not a number"},
      {"events:\n  - kind: solar_particle_event\n    at: tomorrow\n", ":3:", "events[0].at",
       "not a duration"},
      {"events:\n  - kind: meteor\n", ":2:", "events[0].kind", "unknown event kind 'meteor'"},
      {"traverse:\n  waypoints: [[1, 2], [3]]\n", ":2:", "traverse.waypoints[1]", "[x_m, y_m]"},
      {"link:\n  periodic_outage: {every: 1h, duration: 2h}\n",
       ":2:", "link.periodic_outage.duration", "shorter than 'every'"},
      {"seed: 1.5\n", ":1:", "seed", "whole number"},
      {"bogus: 1\n", ":1:", "bogus", "unknown field"},
  };
  for (const BadCase& c : cases) {
    auto s = ParseScenario(c.yaml, "plan.yaml");
    ASSERT_FALSE(s.ok()) << c.yaml;
    const std::string& m = s.error().message();
    EXPECT_NE(m.find(std::string("plan.yaml") + c.expect_line), std::string::npos) << m;
    EXPECT_NE(m.find(c.expect_field), std::string::npos) << m;
    EXPECT_NE(m.find(c.expect_problem), std::string::npos) << m;
  }
}

TEST(Scenario, SyntaxErrorsAndMissingFilesAreClear) {
  auto syntax = ParseScenario("link: [unclosed\n", "broken.yaml");
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.error().message().find("broken.yaml:"), std::string::npos);
  EXPECT_NE(syntax.error().message().find("not valid YAML"), std::string::npos);

  auto missing = LoadScenario("/nonexistent/plan.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("neither a built-in scenario"), std::string::npos);
  EXPECT_NE(missing.error().message().find("nominal"), std::string::npos);
}

TEST(Scenario, FileOverridesOnlyWhatItNames) {
  test::ScratchDir dir;
  const std::string path = dir.File("custom.yaml");
  std::ofstream(path) << "name: custom\nseed: 77\nlink:\n  light_time_s: 0.5\n"
                         "traverse:\n  waypoints: [[1, 1], [5, 5]]\n";
  auto s = LoadScenario(path);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->seed, 77u);
  EXPECT_EQ(s->source, path);
  EXPECT_DOUBLE_EQ(s->link.light_time_s, 0.5);
  EXPECT_DOUBLE_EQ(s->link.bandwidth_bps, Scenario().link.bandwidth_bps);
  ASSERT_EQ(s->traverse.waypoints.size(), 2u);
  EXPECT_DOUBLE_EQ(s->traverse.waypoints[1].second, 5.0);
}

TEST(Scenario, OutageWindowsAndTheirEnds) {
  LinkProfile l;
  l.outages = {{100.0, 50.0}};
  l.outage_first_s = 1000.0;
  l.outage_every_s = 500.0;
  l.outage_duration_s = 60.0;
  EXPECT_FALSE(l.InOutage(99.9));
  EXPECT_TRUE(l.InOutage(100.0));
  EXPECT_DOUBLE_EQ(l.OutageEnd(120.0), 150.0);
  EXPECT_FALSE(l.InOutage(150.0));
  EXPECT_TRUE(l.InOutage(1510.0));
  EXPECT_DOUBLE_EQ(l.OutageEnd(1510.0), 1560.0);
  EXPECT_FALSE(l.InOutage(1560.0));
  EXPECT_DOUBLE_EQ(l.OutageEnd(200.0), 200.0);
}

}  // namespace
}  // namespace lgs::emulator
