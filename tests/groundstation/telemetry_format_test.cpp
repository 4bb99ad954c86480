#include "groundstation/telemetry_format.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "rover/v1/verification.pb.h"
#include "support/packets.h"

namespace lgs::station {
namespace {

TEST(TelemetryFormat, JsonLineCarriesHeaderFieldsAndProtobufJson) {
  protocol::TelemetryDecoder decoder("rover1");
  const std::string packet = test::HousekeepingPacket(17, 64.5);
  auto decoded = decoder.Decode(
      protocol::TelemetryTopic("rover1", protocol::Stream(protocol::StreamId::kHousekeeping)),
      protocol::AsBytes(packet));
  ASSERT_TRUE(decoded.ok());
  std::string line;
  AppendPacketJson(*decoded, 1'790'000'001'000'000'000, line);
  ASSERT_EQ(line.back(), '\n');
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["stream"], "housekeeping");
  EXPECT_EQ(j["apid"], 0x101);
  EXPECT_EQ(j["seq"], 17);
  EXPECT_EQ(j["size"], packet.size());
  EXPECT_NEAR(j["onboard_time_ns"].get<double>(), static_cast<double>(test::kSomeTimeNs), 100.0);
  EXPECT_EQ(j["ground_time_ns"], 1'790'000'001'000'000'000);
  EXPECT_EQ(j["data"]["mode"], "ROVER_MODE_DRIVE");
  EXPECT_DOUBLE_EQ(j["data"]["battery_soc_percent"].get<double>(), 64.5);
  // Defaults are printed too, so every line has every field.
  EXPECT_TRUE(j["data"].contains("temp_motors_c"));
}

TEST(TelemetryFormat, TextLineShowsTheKeyValues) {
  protocol::TelemetryDecoder decoder("rover1");
  const std::string packet = test::HousekeepingPacket(1, 42.25);
  auto decoded = decoder.Decode(
      protocol::TelemetryTopic("rover1", protocol::Stream(protocol::StreamId::kHousekeeping)),
      protocol::AsBytes(packet));
  ASSERT_TRUE(decoded.ok());
  const std::string line = FormatTelemetryLine(*decoded);
  EXPECT_NE(line.find("HK"), std::string::npos);
  EXPECT_NE(line.find("DRIVE"), std::string::npos);
  EXPECT_NE(line.find("42.2"), std::string::npos);
  EXPECT_NE(line.find("30.10 V"), std::string::npos);
}

// 2026-12-07T14:03:27.512Z: the terminal shows the time of day in UTC, to the millisecond.
TEST(TelemetryFormat, TerminalLinesSayWhenAndReportsWhoseRequest) {
  EXPECT_EQ(TerminalLine(1'796'652'207'512'900'000, "HK    x"), "14:03:27.512 HK    x");
  rover::v1::CommandVerification r;
  r.set_request_id(0x1980C697);
  r.set_request_sequence(289'244'823);
  r.set_source_id(1);
  r.set_stage(rover::v1::VERIFICATION_STAGE_COMPLETION);
  r.set_success(true);
  r.set_packets_queued(12);
  EXPECT_EQ(FormatVerificationLine(r, RequestOwner::kCommand),
            "CMD   request 289244823 COMPLETION success");
  EXPECT_EQ(FormatVerificationLine(r, RequestOwner::kGapFill),
            "GAPFILL request 289244823 COMPLETION success: 12 packets queued for the downlink");
  EXPECT_EQ(FormatVerificationLine(r, RequestOwner::kUnknown),
            "CMD   request 289244823 COMPLETION success (source 1)");
  r.set_success(false);
  r.set_failure_code(3);
  r.set_failure_reason("store empty");
  EXPECT_EQ(FormatVerificationLine(r, RequestOwner::kGapFill),
            "GAPFILL request 289244823 COMPLETION FAILURE (3: store empty)");
}

}  // namespace
}  // namespace lgs::station
