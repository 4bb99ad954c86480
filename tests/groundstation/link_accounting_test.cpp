#include "groundstation/link_accounting.h"

#include <gtest/gtest.h>

namespace lgs::station {
namespace {

using protocol::StreamId;

class LinkAccountingTest : public ::testing::Test {
 protected:
  Arrival See(uint32_t seq, StreamId stream = StreamId::kHousekeeping) {
    return accounting_.Observe(stream, seq, 100, 0, 0);
  }
  const StreamStats& Hk() {
    snapshot_ = accounting_.Snapshot();
    return snapshot_.streams[static_cast<size_t>(StreamId::kHousekeeping)];
  }
  LinkAccounting accounting_;
  LinkSnapshot snapshot_;
};

TEST_F(LinkAccountingTest, InOrderStreamHasNoGaps) {
  EXPECT_EQ(See(0), Arrival::kFirst);
  for (uint32_t s = 1; s < 100; ++s) EXPECT_EQ(See(s), Arrival::kInOrder);
  EXPECT_EQ(Hk().received, 100u);
  EXPECT_EQ(Hk().bytes, 10'000u);
  EXPECT_EQ(Hk().missing, 0u);
  EXPECT_EQ(Hk().gaps, 0u);
}

TEST_F(LinkAccountingTest, FirstPacketIsTheBaselineWhenJoiningMidStream) {
  EXPECT_EQ(See(500), Arrival::kFirst);
  EXPECT_EQ(See(501), Arrival::kInOrder);
  EXPECT_EQ(Hk().missing, 0u);
  EXPECT_EQ(Hk().first_seq, 500u);
}

TEST_F(LinkAccountingTest, JumpOpensAGapAndLateArrivalsFillIt) {
  See(0);
  EXPECT_EQ(See(5), Arrival::kAfterGap);
  EXPECT_EQ(Hk().missing, 4u);
  EXPECT_EQ(Hk().gaps, 1u);
  ASSERT_EQ(accounting_.MissingRanges(StreamId::kHousekeeping).size(), 1u);
  EXPECT_EQ(accounting_.MissingRanges(StreamId::kHousekeeping)[0].first, 1u);
  EXPECT_EQ(accounting_.MissingRanges(StreamId::kHousekeeping)[0].last, 4u);

  EXPECT_EQ(See(3), Arrival::kLate);  // splits 1..4 into 1..2 and 4..4
  const auto ranges = accounting_.MissingRanges(StreamId::kHousekeeping);
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0].first, 1u);
  EXPECT_EQ(ranges[0].last, 2u);
  EXPECT_EQ(ranges[1].first, 4u);
  EXPECT_EQ(ranges[1].last, 4u);
  EXPECT_EQ(See(1), Arrival::kLate);
  EXPECT_EQ(See(2), Arrival::kLate);
  EXPECT_EQ(See(4), Arrival::kLate);
  EXPECT_EQ(Hk().missing, 0u);
  EXPECT_EQ(Hk().out_of_order, 4u);
  EXPECT_EQ(Hk().received, 6u);
  EXPECT_TRUE(accounting_.MissingRanges(StreamId::kHousekeeping).empty());
}

TEST_F(LinkAccountingTest, DuplicatesAreCountedNotReceived) {
  See(0);
  See(1);
  EXPECT_EQ(See(1), Arrival::kDuplicate);
  EXPECT_EQ(See(0), Arrival::kDuplicate);
  See(4);
  See(2);
  EXPECT_EQ(See(2), Arrival::kDuplicate);  // a late packet that arrives twice
  EXPECT_EQ(Hk().duplicates, 3u);
  EXPECT_EQ(Hk().received, 4u);
  EXPECT_EQ(Hk().missing, 1u);
}

TEST_F(LinkAccountingTest, StreamsAreIndependent) {
  See(0, StreamId::kHousekeeping);
  See(0, StreamId::kRadiation);
  See(10, StreamId::kRadiation);
  EXPECT_EQ(Hk().missing, 0u);
  EXPECT_EQ(snapshot_.streams[static_cast<size_t>(StreamId::kRadiation)].missing, 9u);
  EXPECT_EQ(snapshot_.total_missing(), 9u);
  EXPECT_EQ(snapshot_.total_received(), 3u);
}

TEST_F(LinkAccountingTest, HugeJumpIsCountedWithoutStoringEachSequence) {
  See(0);
  See(4'000'000'000u);
  EXPECT_EQ(Hk().missing, 3'999'999'999u);
  EXPECT_EQ(accounting_.MissingRanges(StreamId::kHousekeeping).size(), 1u);
}

TEST_F(LinkAccountingTest, RejectionsAreCountedByReason) {
  accounting_.Reject(protocol::RejectReason::kCrcMismatch);
  accounting_.Reject(protocol::RejectReason::kCrcMismatch);
  accounting_.Reject(protocol::RejectReason::kTooShort);
  const LinkSnapshot s = accounting_.Snapshot();
  EXPECT_EQ(s.rejected[static_cast<size_t>(protocol::RejectReason::kCrcMismatch)], 2u);
  EXPECT_EQ(s.rejected[static_cast<size_t>(protocol::RejectReason::kTooShort)], 1u);
  EXPECT_EQ(s.total_rejected(), 3u);
}

}  // namespace
}  // namespace lgs::station

namespace lgs::station {
namespace {

TEST(LinkAccountingLatency, SubtractsTheLightTimeAndKeepsPercentilesPerStream) {
  LinkAccounting accounting(1'280'000'000);  // 1.28 s one-way light time
  constexpr protocol::TimestampNs kOnboard = 1'000'000'000'000;
  for (uint32_t seq = 0; seq < 1000; ++seq) {
    // 1.28 s of light time plus 1..1000 us of ground latency.
    accounting.Observe(protocol::StreamId::kRadiation, seq, 10, kOnboard,
                       kOnboard + 1'280'000'000 + (seq + 1) * 1000);
  }
  accounting.Observe(protocol::StreamId::kRadiation, 0, 10, kOnboard, kOnboard);  // duplicate
  const LatencySummary all = accounting.Latency();
  EXPECT_EQ(all.count, 1000u);
  EXPECT_EQ(all.negative, 0u);
  EXPECT_NEAR(static_cast<double>(all.p50_ns), 500'000.0, 500'000.0 * 0.07);
  EXPECT_NEAR(static_cast<double>(all.p99_ns), 990'000.0, 990'000.0 * 0.07);
  EXPECT_EQ(all.max_ns, 1'000'000u);
  EXPECT_EQ(accounting.Latency(protocol::StreamId::kRadiation).count, 1000u);
  EXPECT_EQ(accounting.Latency(protocol::StreamId::kHousekeeping).count, 0u);
  const LinkSnapshot s = accounting.Snapshot();
  EXPECT_EQ(s.first_ground_ns(), kOnboard + 1'280'000'000 + 1000);
  EXPECT_EQ(s.last_ground_ns(), kOnboard + 1'280'000'000 + 1'000'000);
}

}  // namespace
}  // namespace lgs::station

namespace lgs::station {
namespace {

TEST(LinkAccountingLost, RangesTheRoverNoLongerHasStopBeingMissing) {
  LinkAccounting a;
  const auto hk = protocol::StreamId::kHousekeeping;
  a.Observe(hk, 0, 10, 0, 0);
  a.Observe(hk, 10, 10, 0, 0);           // 1..9 missing
  a.Observe(hk, 20, 10, 0, 0);           // 11..19 missing
  EXPECT_EQ(a.MarkLost(hk, 5, 12), 7u);  // 5..9 and 11..12 (10 was received)
  auto s = a.Snapshot().streams[0];
  EXPECT_EQ(s.missing, 18u - 7u);
  EXPECT_EQ(s.lost, 7u);
  const auto missing = a.MissingRanges(hk);
  ASSERT_EQ(missing.size(), 2u);
  EXPECT_EQ(missing[0].first, 1u);
  EXPECT_EQ(missing[0].last, 4u);
  EXPECT_EQ(missing[1].first, 13u);
  EXPECT_EQ(missing[1].last, 19u);
  const auto lost = a.LostRanges(hk);
  ASSERT_EQ(lost.size(), 2u);
  EXPECT_EQ(lost[0].first, 5u);
  EXPECT_EQ(lost[0].last, 9u);
  EXPECT_EQ(lost[1].first, 11u);
  EXPECT_EQ(lost[1].last, 12u);
  // Beyond the newest: lost, and the newest moves up so 26 is in order.
  EXPECT_EQ(a.MarkLost(hk, 21, 25), 5u);
  EXPECT_EQ(a.Observe(hk, 26, 10, 0, 0), Arrival::kInOrder);
  // A lost packet that turns up after all is accepted, not dropped as a duplicate.
  EXPECT_EQ(a.Observe(hk, 7, 10, 0, 0), Arrival::kLate);
  s = a.Snapshot().streams[0];
  EXPECT_EQ(s.lost, 11u);
  EXPECT_EQ(s.duplicates, 0u);
  // Marking twice counts once.
  EXPECT_EQ(a.MarkLost(hk, 5, 9), 0u);
}

TEST(LinkAccountingLost, FromZeroMakesTheBeginningOfAStreamMissing) {
  LinkAccounting a;
  a.ExpectSequencesFromZero(true);
  const auto nav = protocol::StreamId::kNavigationPose;
  EXPECT_EQ(a.Observe(nav, 3, 10, 0, 0), Arrival::kAfterGap);
  const auto missing = a.MissingRanges(nav);
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].first, 0u);
  EXPECT_EQ(missing[0].last, 2u);
  EXPECT_EQ(a.Observe(nav, 0, 10, 0, 0), Arrival::kLate);
  // A stream never seen: what the rover reports lost starts it.
  EXPECT_EQ(a.MarkLost(protocol::StreamId::kSoilMeasurement, 0, 4), 5u);
  EXPECT_EQ(a.Observe(protocol::StreamId::kSoilMeasurement, 5, 10, 0, 0), Arrival::kInOrder);
}

}  // namespace
}  // namespace lgs::station
