// The on-board side of gap fill: the packet store answers retransmit requests byte-identically,
// forgets and evicts what it must (and says so), the uplink has light time and loss, and the
// command handler executes each request at most once.
#include "rover_emulator/command_handler.h"

#include <gtest/gtest.h>

#include <limits>

#include "protocol/space_packet.h"
#include "protocol/telecommand.h"
#include "rover/v1/command.pb.h"
#include "rover_emulator/link_model.h"

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

class CommandHandlerTest : public ::testing::Test {
 protected:
  CommandHandlerTest() : link_(LinkProfile::Ideal(), 1, kStart), handler_(link_) {
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
    handler_.Handle(protocol::AsBytes(packet), reports);
    return reports;
  }
  LinkModel link_;
  CommandHandler handler_;
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

}  // namespace
}  // namespace lgs::emulator
