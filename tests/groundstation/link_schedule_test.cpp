// LinkSchedule: the relay's planned outages, read from a pass plan or a scenario's link section.
// SunSchedule: the site's predicted shadows, read from an illumination plan.
#include "groundstation/link_schedule.h"

#include <gtest/gtest.h>

#include <string>

namespace lgs::station {
namespace {

TEST(LinkSchedule, AScenariosPeriodicOutagesGiveTheNextLossAndAcquisition) {
  // The repository's own scenario: 30-minute outages every 4 hours, the first after 10 minutes.
  auto s =
      LoadLinkSchedule(std::string(LGS_SOURCE_DIR) + "/rover_emulator/scenarios/relay-outage.yaml");
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_FALSE(s->InOutage(599));
  EXPECT_TRUE(s->InOutage(600));
  EXPECT_TRUE(s->InOutage(600 + 1799));
  EXPECT_FALSE(s->InOutage(600 + 1800));
  EXPECT_EQ(s->NextLoss(0), 600.0);
  EXPECT_EQ(s->NextAcquisition(0), 2400.0);
  // Inside an outage: back at its end; the next loss is the next period's.
  EXPECT_EQ(s->NextAcquisition(1000), 2400.0);
  EXPECT_EQ(s->NextLoss(1000), 600.0 + 4 * 3600);
  EXPECT_EQ(s->NextLoss(2400), 600.0 + 4 * 3600);
  EXPECT_EQ(s->NextAcquisition(3 * 86400 + 1), 600.0 + 18 * 4 * 3600 + 1800);  // the 19th
}

TEST(LinkSchedule, OneOffWindowsChainWithThePeriodicOnes) {
  auto s = ParseLinkSchedule(R"(
outages:
  - {start: 1h, duration: 20m}
  - {start: 70m, duration: 30m}
periodic_outage: {first: 3h, every: 6h, duration: 10m}
)",
                             "plan.yaml");
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->NextLoss(0), 3600.0);
  EXPECT_EQ(s->NextAcquisition(0), 3600.0 + 40 * 60);  // two windows that overlap: one outage
  EXPECT_EQ(s->NextLoss(3700), 3.0 * 3600);            // not the second window, inside the first
  EXPECT_EQ(s->NextLoss(3.0 * 3600 + 1), 9.0 * 3600);
}

TEST(LinkSchedule, BadPlansAreRefusedWithTheKeyAndTheReason) {
  const auto error = [](const std::string& yaml) {
    auto s = ParseLinkSchedule(yaml, "plan.yaml");
    return s.ok() ? std::string("accepted") : s.error().message();
  };
  EXPECT_NE(error("periodic_outage: {every: 4h, duration: 5h}").find("shorter than 'every'"),
            std::string::npos);
  EXPECT_NE(error("periodic_outage: {every: soon, duration: 5m}").find("periodic_outage.every"),
            std::string::npos);
  EXPECT_NE(error("outages: [{start: 1h}]").find("'duration' is missing"), std::string::npos);
  EXPECT_NE(error("outage: []").find("unknown field"), std::string::npos);
  EXPECT_NE(error("name: empty").find("nothing to predict"), std::string::npos);
  EXPECT_NE(error("[1, 2").find("plan.yaml"), std::string::npos);
  EXPECT_NE(error("outages: {start: 1h}").find("must be a list"), std::string::npos);
  auto missing = LoadLinkSchedule("/nonexistent/plan.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("cannot be read"), std::string::npos);
}

TEST(SunSchedule, ShadowsGiveTheNextLossAndReturnOfSunWithinThePlan) {
  auto s = ParseSunSchedule(R"(
sun:
  site: "Leibnitz-Beta plateau"
  at_m: [0, 0]
  step: 10
  until: 2d
  shadows:
    - {start: 690, duration: 30m}
    - {start: 1d, duration: 2d}
)",
                            "sun.yaml");
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->until_s, 2 * 86400.0);
  EXPECT_FALSE(s->InShadow(689));
  EXPECT_TRUE(s->InShadow(690));
  EXPECT_EQ(s->NextLoss(0), 690.0);
  EXPECT_EQ(s->NextReturn(0), 690.0 + 1800);
  // In the first spell: the sun is back at its end; the next loss is the second spell.
  EXPECT_EQ(s->NextReturn(1000), 690.0 + 1800);
  EXPECT_EQ(s->NextLoss(1000), 86400.0);
  // The second spell runs past the plan's end: when the sun returns the plan does not say.
  EXPECT_TRUE(s->InShadow(86400));
  EXPECT_EQ(s->NextReturn(86400), std::nullopt);
  EXPECT_EQ(s->NextReturn(3000), std::nullopt);
  // Beyond the plan nothing is predicted, not even the rest of a spell.
  EXPECT_FALSE(s->InShadow(2 * 86400 + 1));
  EXPECT_EQ(s->NextLoss(2 * 86400 + 1), std::nullopt);

  auto lit = ParseSunSchedule("sun: {until: 30d, shadows: []}", "lit.yaml");
  ASSERT_TRUE(lit.ok()) << lit.error().message();
  EXPECT_EQ(lit->NextLoss(0), std::nullopt);
  EXPECT_FALSE(lit->InShadow(0));
}

TEST(SunSchedule, BadPlansAreRefusedWithTheKeyAndTheReason) {
  const auto error = [](const std::string& yaml) {
    auto s = ParseSunSchedule(yaml, "sun.yaml");
    return s.ok() ? std::string("accepted") : s.error().message();
  };
  EXPECT_NE(error("link: {}").find("expected a 'sun:' mapping"), std::string::npos);
  EXPECT_NE(error("sun: {shadows: []}").find("'until' is missing"), std::string::npos);
  EXPECT_NE(error("sun: {until: 1d}").find("sun.shadows: must be a list"), std::string::npos);
  EXPECT_NE(error("sun: {until: 1d, shadows: [{start: 1h}]}").find("'duration' is missing"),
            std::string::npos);
  EXPECT_NE(error("sun: {until: 1d, shadows: [{start: later, duration: 1h}]}")
                .find("sun.shadows[0].start: not a duration"),
            std::string::npos);
  EXPECT_NE(error("sun: {until: 1d, shadow: []}").find("unknown field"), std::string::npos);
  EXPECT_NE(error("sun: {until: 1d, shadows: [").find("sun.yaml"), std::string::npos);
  auto missing = LoadSunSchedule("/nonexistent/sun.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("cannot be read"), std::string::npos);
}

}  // namespace
}  // namespace lgs::station
