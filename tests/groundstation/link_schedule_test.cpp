// LinkSchedule: the relay's planned outages, read from a pass plan or a scenario's link section.
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

}  // namespace
}  // namespace lgs::station
