// The on-board side of gap fill: the packet store answers retransmit requests byte-identically,
// forgets and evicts what it must (and says so), the uplink has light time and loss, and the
// command handler executes each request at most once.
#include "rover_emulator/command_handler.h"

#include <gtest/gtest.h>

#include <limits>
#include <map>

#include "protocol/space_packet.h"
#include "protocol/telecommand.h"
#include "protocol/telemetry_decoder.h"
#include "rover/v1/command.pb.h"
#include "rover_emulator/link_model.h"
#include "support/log_capture.h"

namespace lgs::emulator {
namespace {

constexpr TimestampNs kStart = 1'800'000'000LL * 1'000'000'000;
constexpr TimestampNs kS = 1'000'000'000;
constexpr TimestampNs kNever = std::numeric_limits<TimestampNs>::max();

const protocol::StreamInfo& Hk() {
  return protocol::Stream(protocol::StreamId::kHousekeeping);
}

LinkPacket MakePacket(uint32_t seq, TimestampNs t) {
  static const std::string topic = protocol::TelemetryTopic("rover1", Hk());
  LinkPacket p;
  p.stream = &Hk();
  p.topic = &topic;
  p.sequence = seq;
  p.onboard_time_ns = t;
  const std::string body = "hk" + std::to_string(seq);
  EXPECT_TRUE(protocol::EncodeTmPacket(Hk().apid, seq, t, protocol::AsBytes(body), p.bytes).ok());
  return p;
}

// Offers packets 0..count-1, one a second, and runs the link until idle.
void Generate(LinkModel& link, uint32_t count, std::vector<LinkOutcome>& out) {
  for (uint32_t i = 0; i < count; ++i) {
    const TimestampNs t = kStart + i * kS;
    link.Advance(t, out);
    link.Offer(MakePacket(i, t), t);
    link.Advance(t, out);
  }
  while (link.NextEventNs() != kNever) link.Advance(link.NextEventNs(), out);
}

void RunUntilIdle(LinkModel& link, std::vector<LinkOutcome>& out) {
  while (link.NextEventNs() != kNever) link.Advance(link.NextEventNs(), out);
}

TEST(PacketStore, RetransmissionsAreByteIdenticalAndFlagged) {
  LinkModel link(LinkProfile::Ideal(), 1, kStart);
  std::vector<LinkOutcome> first, again;
  Generate(link, 50, first);
  ASSERT_EQ(first.size(), 50u);
  const RetransmitResult r = link.Retransmit(protocol::StreamId::kHousekeeping, 10, 19);
  EXPECT_EQ(r.queued, 10u);
  EXPECT_TRUE(r.unavailable.empty());
  RunUntilIdle(link, again);
  ASSERT_EQ(again.size(), 10u);
  for (size_t i = 0; i < again.size(); ++i) {
    EXPECT_TRUE(again[i].retransmitted);
    EXPECT_EQ(again[i].packet.sequence, 10 + i);
    EXPECT_EQ(again[i].packet.bytes, first[10 + i].packet.bytes);
    EXPECT_EQ(again[i].packet.onboard_time_ns, first[10 + i].packet.onboard_time_ns);
    const std::string& b = first[10 + i].packet.bytes;
    EXPECT_EQ(again[i].packet.crc,
              static_cast<uint16_t>((static_cast<uint8_t>(b[b.size() - 2]) << 8) |
                                    static_cast<uint8_t>(b.back())));
  }
  // Beyond the newest generated nothing is sent and nothing is unavailable.
  const RetransmitResult tail =
      link.Retransmit(protocol::StreamId::kHousekeeping, 48, std::numeric_limits<uint32_t>::max());
  EXPECT_EQ(tail.queued, 2u);
  EXPECT_TRUE(tail.unavailable.empty());
}

TEST(PacketStore, ForgetsTheOldestAndReportsThemUnavailable) {
  LinkProfile p = LinkProfile::Ideal();
  p.retransmit_store_packets = 20;
  LinkModel link(p, 1, kStart);
  std::vector<LinkOutcome> out;
  Generate(link, 50, out);
  const RetransmitResult r = link.Retransmit(protocol::StreamId::kHousekeeping, 0, 49);
  EXPECT_EQ(r.queued, 20u);
  ASSERT_EQ(r.unavailable.size(), 1u);
  EXPECT_EQ(r.unavailable[0], std::make_pair(0u, 29u));
}

TEST(PacketStore, PacketsEvictedInAnOutageAreUnavailableAndUnsentOnesSkipped) {
  LinkProfile p = LinkProfile::Ideal();
  p.outages = {{10.0, 1000.0}};  // from mission second 10 on
  p.store_capacity_packets = 5;
  LinkModel link(p, 1, kStart);
  std::vector<LinkOutcome> out;
  for (uint32_t i = 0; i < 30; ++i) {
    const TimestampNs t = kStart + i * kS;
    link.Advance(t, out);
    link.Offer(MakePacket(i, t), t);
    link.Advance(t, out);
  }
  // 0..9 went out; 10..24 were evicted from the outage store; 25..29 wait in it, unsent.
  const RetransmitResult r = link.Retransmit(protocol::StreamId::kHousekeeping, 5, 29);
  EXPECT_EQ(r.queued, 5u);  // 5..9
  ASSERT_EQ(r.unavailable.size(), 1u);
  EXPECT_EQ(r.unavailable[0], std::make_pair(10u, 24u));
}

TEST(Uplink, TelecommandsArriveAfterTheLightTimeAndAreLostInOutages) {
  LinkProfile p = LinkProfile::Ideal();
  p.light_time_s = 1.28;
  p.outages = {{100.0, 50.0}};
  LinkModel link(p, 1, kStart);
  std::vector<std::string> arrived;
  link.OfferUplink("a", kStart);
  EXPECT_EQ(link.NextEventNs(), kStart + 1'280'000'000);
  link.TakeUplink(kStart + 1'279'999'999, arrived);
  EXPECT_TRUE(arrived.empty());
  link.TakeUplink(kStart + 1'280'000'000, arrived);
  ASSERT_EQ(arrived.size(), 1u);
  link.OfferUplink("b", kStart + 120 * kS);  // relay out of view
  link.TakeUplink(kStart + 200 * kS, arrived);
  EXPECT_EQ(arrived.size(), 1u);
  EXPECT_EQ(link.stats().uplink_lost, 1u);
}

TEST(Uplink, LossFollowsTheConfiguredProbability) {
  LinkProfile p = LinkProfile::Ideal();
  p.uplink_loss_probability = 0.1;
  LinkModel link(p, 5, kStart);
  for (int i = 0; i < 20'000; ++i) link.OfferUplink("x", kStart + i);
  // 10% of 20000 = 2000, sigma = 42: within five sigma.
  EXPECT_NEAR(static_cast<double>(link.stats().uplink_lost), 2000.0, 5 * 42.4);
}

// The nominal mission with small cameras: these tests are about commanding, and rendering
// full-size frames would only cost time (the cameras have their own tests).
Scenario SmallCameras() {
  Scenario s;
  for (CameraSpec* c : {&s.cameras.navcam, &s.cameras.pancam, &s.cameras.hazcam}) {
    c->width_px = 128;
    c->height_px = 96;
  }
  return s;
}

class CommandHandlerTest : public ::testing::Test {
 protected:
  CommandHandlerTest()
      : link_(LinkProfile::Ideal(), 1, kStart),
        generator_(1, "rover1", kStart, SmallCameras()),
        handler_(link_, generator_, log_) {
    std::vector<LinkOutcome> out;
    Generate(link_, 100, out);
  }
  std::string Request(uint32_t request_sequence, uint32_t first, uint32_t last, uint16_t source = 1,
                      uint8_t subtype = 128) {
    rover::v1::RetransmitRequest r;
    auto* range = r.add_ranges();
    range->set_apid(Hk().apid);
    range->set_first(first);
    range->set_last(last);
    protocol::TcHeader h;
    h.service = 15;
    h.subtype = subtype;
    h.source_id = source;
    h.request_sequence = request_sequence;
    std::string payload = r.SerializeAsString(), packet;
    EXPECT_TRUE(protocol::EncodeTcPacket(h, protocol::AsBytes(payload), packet).ok());
    return packet;
  }
  std::vector<rover::v1::CommandVerification> Handle(const std::string& packet) {
    std::vector<rover::v1::CommandVerification> reports;
    handler_.Handle(protocol::AsBytes(packet), now_, reports);
    return reports;
  }
  // A TC packet of any command, arguments given as the dictionary names them.
  std::string Tc(uint32_t request_sequence, std::string_view name,
                 std::vector<protocol::CommandArgument> args = {}) {
    const protocol::CommandInfo* info = protocol::FindCommandByName(name);
    EXPECT_NE(info, nullptr) << name;
    auto built = protocol::BuildArguments(*info, args);
    EXPECT_TRUE(built.ok()) << built.error().message();
    protocol::TcHeader h;
    h.service = info->service;
    h.subtype = info->subtype;
    h.source_id = 1;
    h.request_sequence = request_sequence;
    h.ack_flags = protocol::kAckAcceptance | protocol::kAckStart | protocol::kAckProgress |
                  protocol::kAckCompletion;
    std::string payload = (*built)->SerializeAsString(), packet;
    EXPECT_TRUE(protocol::EncodeTcPacket(h, protocol::AsBytes(payload), packet).ok());
    return packet;
  }
  // Runs the rover's telemetry (and so its model) for `seconds` of mission time; returns the
  // reports of activities and keeps the packets generated.
  std::vector<rover::v1::CommandVerification> Run(double seconds) {
    std::vector<rover::v1::CommandVerification> reports;
    const TimestampNs until = now_ + static_cast<TimestampNs>(seconds * 1e9);
    std::vector<GeneratedPacket> batch;
    while (generator_.next_due_ns() <= until) {
      now_ = generator_.next_due_ns();
      EXPECT_TRUE(generator_.Next(batch).ok());
      for (const GeneratedPacket& p : batch) {
        ++generated_[p.stream->name];
        if (p.stream->id != protocol::StreamId::kSoilMeasurement) continue;
        auto decoded = decoder_.Decode(*p.topic, protocol::AsBytes(p.packet));
        EXPECT_TRUE(decoded.ok());
        if (decoded.ok()) soil_.emplace_back().CopyFrom(*decoded->message);
      }
      handler_.Collect(reports);
    }
    now_ = until;
    return reports;
  }
  test::LogCapture log_;  // before handler_, which logs to it
  LinkModel link_;
  TelemetryGenerator generator_;
  CommandHandler handler_;
  TimestampNs now_ = kStart;
  std::map<std::string_view, int> generated_;
  protocol::TelemetryDecoder decoder_{"rover1"};
  std::vector<rover::v1::SoilMeasurement> soil_;
};

TEST_F(CommandHandlerTest, ExecutesOnceAndAnswersWithAcceptanceAndCompletion) {
  const std::string tc = Request(500, 10, 14);
  const auto reports = Handle(tc);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].stage(), rover::v1::VERIFICATION_STAGE_ACCEPTANCE);
  EXPECT_EQ(reports[1].stage(), rover::v1::VERIFICATION_STAGE_COMPLETION);
  for (const auto& r : reports) {
    EXPECT_TRUE(r.success());
    EXPECT_EQ(r.source_id(), 1u);
    EXPECT_EQ(r.request_sequence(), 500u);
  }
  EXPECT_EQ(reports[1].packets_queued(), 5u);
  EXPECT_EQ(link_.stats().retransmitted, 5u);

  // The same request again (resent by the ground, or duplicated): same reports, not executed.
  const auto again = Handle(tc);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[1].packets_queued(), 5u);
  EXPECT_EQ(link_.stats().retransmitted, 5u);
  EXPECT_EQ(handler_.stats().executed, 1u);
  EXPECT_EQ(handler_.stats().repeated, 1u);

  // Another source with the same sequence is another request.
  EXPECT_EQ(Handle(Request(500, 10, 14, 2)).size(), 2u);
  EXPECT_EQ(link_.stats().retransmitted, 10u);
}

TEST_F(CommandHandlerTest, RefusesUnknownCommandsBadArgumentsAndReplaysOfOldRequests) {
  auto unknown = Handle(Request(1, 0, 1, 1, 99));
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_FALSE(unknown[0].success());
  EXPECT_NE(unknown[0].failure_reason().find("ST[15,99]"), std::string::npos);

  auto reversed = Handle(Request(2, 9, 3));
  ASSERT_EQ(reversed.size(), 1u);
  EXPECT_EQ(reversed[0].stage(), rover::v1::VERIFICATION_STAGE_ACCEPTANCE);
  EXPECT_FALSE(reversed[0].success());
  EXPECT_EQ(link_.stats().retransmitted, 0u);

  ASSERT_EQ(Handle(Request(10'000, 0, 0)).size(), 2u);
  auto old = Handle(Request(10, 0, 0));  // 9990 behind: outside the at-most-once window
  ASSERT_EQ(old.size(), 1u);
  EXPECT_FALSE(old[0].success());
  EXPECT_EQ(handler_.stats().too_old, 1u);

  std::string damaged = Request(10'001, 0, 0);
  damaged[8] ^= 0x40;
  EXPECT_TRUE(Handle(damaged).empty());  // no header to answer to: counted only
  EXPECT_EQ(handler_.stats().rejected, 4u);
  EXPECT_EQ(link_.stats().retransmitted, 1u);
}

// Request sequences are 32-bit and wrap: at most once must hold there too, and one request at
// the top of the range must not make every later one "too old".
TEST_F(CommandHandlerTest, AtMostOnceHoldsNearAndAcross2To32) {
  for (uint32_t seq : {0xFFFFF000u, 0xFFFFFFFFu}) {
    const uint64_t executed = handler_.stats().executed;
    const std::string tc = Request(seq, 10, 14);
    for (int i = 0; i < 5; ++i) {
      const auto reports = Handle(tc);
      ASSERT_EQ(reports.size(), 2u) << seq;
      EXPECT_TRUE(reports[0].success()) << reports[0].failure_reason();
    }
    EXPECT_EQ(handler_.stats().executed, executed + 1) << seq;
  }
  // Across the wrap: 0 and 1 are newer than 0xFFFFFFFF, and 0xFFFFFFFF is still remembered.
  EXPECT_EQ(Handle(Request(0, 10, 10)).size(), 2u);
  EXPECT_EQ(Handle(Request(1, 10, 10)).size(), 2u);
  const uint64_t executed = handler_.stats().executed;
  EXPECT_EQ(Handle(Request(0xFFFFFFFF, 10, 14)).size(), 2u);
  EXPECT_EQ(handler_.stats().executed, executed);
  EXPECT_EQ(handler_.stats().too_old, 0u);
}

TEST_F(CommandHandlerTest, OneRequestAtTheTopOfTheRangeDoesNotLockTheSourceOut) {
  const auto top = Handle(Tc(0xFFFFFFFF, "ping"));
  ASSERT_FALSE(top.empty());
  EXPECT_TRUE(top[0].success());
  // A station numbering from its clock (tenths of a second since 2026): 0x1A000000 or so.
  for (uint32_t seq = 0x1A000000; seq < 0x1A000005; ++seq) {
    const auto reports = Handle(Tc(seq, "ping"));
    ASSERT_FALSE(reports.empty());
    EXPECT_TRUE(reports[0].success()) << seq << ": " << reports[0].failure_reason();
  }
  EXPECT_EQ(handler_.stats().too_old, 0u);
  // Within the window behind the newest, a request not seen is still refused when too old.
  auto old = Handle(Tc(0x1A000004 - 5000, "ping"));
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(handler_.stats().too_old, 1u);
  EXPECT_FALSE(old[0].success());
}

TEST_F(CommandHandlerTest, RefusedTelecommandsAreCountedAllButLoggedOncePerInterval) {
  for (uint32_t i = 0; i < 200; ++i) {
    std::string damaged = Request(100 + i, 0, 0);
    damaged[8] ^= 0x40;
    EXPECT_TRUE(Handle(damaged).empty());
  }
  now_ += 6 * kS;
  std::string damaged = Request(400, 0, 0);
  damaged[8] ^= 0x40;
  EXPECT_TRUE(Handle(damaged).empty());
  const auto lines = log_.lines();
  EXPECT_EQ(handler_.stats().rejected, 201u);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find("[and 199 more refused since the last report]"), std::string::npos)
      << lines[1];
}

}  // namespace
}  // namespace lgs::emulator

namespace lgs::emulator {
namespace {

using rover::v1::VerificationStage;

std::vector<VerificationStage> Stages(const std::vector<rover::v1::CommandVerification>& reports) {
  std::vector<VerificationStage> stages;
  for (const auto& r : reports) stages.push_back(r.stage());
  return stages;
}

TEST_F(CommandHandlerTest, ADriveIsAcceptedStartedReportsProgressAndCompletes) {
  Run(2.0);  // boot
  const auto first = Handle(Tc(1, "drive", {{"distance_m", "1"}, {"heading_deg", "90"}}));
  EXPECT_EQ(Stages(first), (std::vector<VerificationStage>{rover::v1::VERIFICATION_STAGE_ACCEPTANCE,
                                                           rover::v1::VERIFICATION_STAGE_START}));
  EXPECT_EQ(generator_.model().mode(), rover::v1::ROVER_MODE_DRIVE);
  // 1 m at 200 m/h with slip plus a turn of up to 180 deg: well within 90 s.
  const auto later = Run(90.0);
  ASSERT_EQ(later.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(later[i].stage(), rover::v1::VERIFICATION_STAGE_PROGRESS);
    EXPECT_EQ(later[i].progress_step(), static_cast<uint32_t>(i + 1));
  }
  EXPECT_EQ(later[3].stage(), rover::v1::VERIFICATION_STAGE_COMPLETION);
  EXPECT_TRUE(later[3].success()) << later[3].failure_reason();
  EXPECT_EQ(generator_.model().mode(), rover::v1::ROVER_MODE_STANDBY);
  EXPECT_TRUE(generator_.model().ground_hold());
  // A repeat of the finished request: every report again, nothing executed.
  EXPECT_EQ(Handle(Tc(1, "drive", {{"distance_m", "1"}, {"heading_deg", "90"}})).size(), 6u);
  EXPECT_EQ(handler_.stats().executed, 1u);
  EXPECT_EQ(handler_.stats().completed, 1u);
}

TEST_F(CommandHandlerTest, StopEndsTheDriveAsAFailureAndBusyOrSwitchedOffCannotStart) {
  Run(2.0);
  ASSERT_EQ(Handle(Tc(1, "drive", {{"distance_m", "20"}, {"heading_deg", "0"}})).size(), 2u);
  Run(5.0);
  const auto busy = Handle(Tc(2, "turn", {{"angle_deg", "45"}}));
  ASSERT_EQ(busy.size(), 2u);
  EXPECT_FALSE(busy[1].success());
  EXPECT_EQ(busy[1].stage(), rover::v1::VERIFICATION_STAGE_START);
  EXPECT_NE(busy[1].failure_reason().find("busy"), std::string::npos);
  EXPECT_EQ(busy[1].failure_code(), kCannotStart);

  const auto stop = Handle(Tc(3, "stop"));
  // The drive's failed completion (it was stopped), then the stop's own reports.
  std::vector<uint32_t> sequences;
  for (const auto& r : stop) sequences.push_back(r.request_sequence());
  ASSERT_EQ(stop.size(), 4u);
  EXPECT_EQ(stop[0].request_sequence(), 3u);
  EXPECT_EQ(stop[1].request_sequence(), 3u);
  EXPECT_EQ(stop[2].request_sequence(), 1u);
  EXPECT_FALSE(stop[2].success());
  EXPECT_EQ(stop[2].failure_code(), kExecutionFailed);
  EXPECT_NE(stop[2].failure_reason().find("stop"), std::string::npos);
  EXPECT_EQ(stop[3].stage(), rover::v1::VERIFICATION_STAGE_COMPLETION);
  EXPECT_TRUE(stop[3].success());

  ASSERT_EQ(Handle(Tc(4, "instrument_mode", {{"instrument", "apxs"}, {"mode", "off"}})).size(), 3u);
  const auto off = Handle(Tc(5, "soil_measurement", {{"instrument", "apxs"}, {"duration_s", "5"}}));
  ASSERT_EQ(off.size(), 2u);
  EXPECT_FALSE(off[1].success());
  EXPECT_NE(off[1].failure_reason().find("APXS"), std::string::npos);
}

TEST_F(CommandHandlerTest, SoilMeasurementAndPanoramaProduceTheirTelemetry) {
  Run(2.0);
  generated_.clear();
  ASSERT_EQ(
      Handle(Tc(1, "soil_measurement", {{"instrument", "vnis"}, {"duration_s", "10"}})).size(), 2u);
  EXPECT_EQ(generator_.model().mode(), rover::v1::ROVER_MODE_SCIENCE);
  auto reports = Run(12.0);
  ASSERT_FALSE(reports.empty());
  EXPECT_EQ(reports.back().stage(), rover::v1::VERIFICATION_STAGE_COMPLETION);
  EXPECT_TRUE(reports.back().success());
  // The commanded measurement: its instrument, its integration time, once.
  int commanded = 0;
  for (const auto& m : soil_) {
    if (m.instrument() == rover::v1::SOIL_INSTRUMENT_VNIS && m.integration_s() == 10.0) {
      ++commanded;
      EXPECT_EQ(m.vnis().reflectance_size(), 196);
    }
  }
  EXPECT_EQ(commanded, 1);

  generated_.clear();
  ASSERT_EQ(Handle(Tc(2, "capture_image", {{"frames", "4"}, {"pan_step_deg", "30"}})).size(), 2u);
  reports = Run(10.0);
  ASSERT_EQ(reports.size(), 4u);  // progress after frames 1-3, then completion
  EXPECT_EQ(reports[2].progress_step(), 3u);
  EXPECT_TRUE(reports[3].success());
  // The four commanded frames only: the rover holds in STANDBY for a panorama, and periodic
  // navigation frames are taken while driving (ModeEmits).
  EXPECT_EQ(generated_["camera_frame"], 4);
}

TEST_F(CommandHandlerTest, TelemetryRateHibernateAndWake) {
  Run(2.0);
  ASSERT_EQ(Handle(Tc(1, "telemetry_rate", {{"stream", "radiation"}, {"rate_hz", "4"}})).size(),
            3u);
  EXPECT_DOUBLE_EQ(generator_.rate_hz(protocol::StreamId::kRadiation), 4.0);
  generated_.clear();
  Run(10.0);
  EXPECT_NEAR(generated_["radiation"], 40, 1);

  EXPECT_EQ(Handle(Tc(2, "hibernate")).size(), 3u);
  EXPECT_EQ(generator_.model().mode(), rover::v1::ROVER_MODE_HIBERNATE);
  generated_.clear();
  Run(60.0);  // the sun does not wake a commanded hibernation
  EXPECT_EQ(generator_.model().mode(), rover::v1::ROVER_MODE_HIBERNATE);
  // Hibernating: no telemetry but events.
  for (const auto& [stream, n] : generated_) {
    EXPECT_TRUE(stream == "event" || stream == "command_verification") << stream << ": " << n;
  }
  const auto drive = Handle(Tc(3, "drive", {{"distance_m", "1"}, {"heading_deg", "0"}}));
  ASSERT_EQ(drive.size(), 2u);
  EXPECT_FALSE(drive[1].success());
  EXPECT_NE(drive[1].failure_reason().find("HIBERNATE"), std::string::npos);
  EXPECT_EQ(Handle(Tc(4, "wake")).size(), 3u);
  EXPECT_EQ(generator_.model().mode(), rover::v1::ROVER_MODE_STANDBY);
  // Awake in STANDBY: health and dose again, no navigation frames, and soil only as the neutron
  // spectrometer finishes its 60 s integrations (not one report per 5 s tick).
  generated_.clear();
  soil_.clear();
  Run(130.0);
  EXPECT_GT(generated_["housekeeping"], 100);
  EXPECT_GT(generated_["radiation"], 100);
  EXPECT_EQ(generated_["camera_frame"], 0);
  EXPECT_GE(soil_.size(), 2u);
  EXPECT_LE(soil_.size(), 3u);
  for (const auto& m : soil_) {
    EXPECT_EQ(m.instrument(), rover::v1::SOIL_INSTRUMENT_NEUTRON) << m.ShortDebugString();
    EXPECT_EQ(m.integration_s(), 60.0);
  }
}

TEST_F(CommandHandlerTest, ArgumentsOutOfTheDictionaryRangeAreRefusedAtAcceptance) {
  // Built by hand: BuildArguments would refuse it on the ground already.
  rover::v1::Turn turn;
  turn.set_angle_deg(400.0);
  const protocol::CommandInfo& info = protocol::Command(protocol::CommandId::kTurn);
  protocol::TcHeader h;
  h.service = info.service;
  h.subtype = info.subtype;
  h.source_id = 1;
  h.request_sequence = 7;
  std::string payload = turn.SerializeAsString(), packet;
  ASSERT_TRUE(protocol::EncodeTcPacket(h, protocol::AsBytes(payload), packet).ok());
  const auto reports = Handle(packet);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].stage(), rover::v1::VERIFICATION_STAGE_ACCEPTANCE);
  EXPECT_FALSE(reports[0].success());
  EXPECT_NE(reports[0].failure_reason().find("angle_deg=400"), std::string::npos)
      << reports[0].failure_reason();
  EXPECT_EQ(handler_.stats().executed, 0u);
}

}  // namespace
}  // namespace lgs::emulator
