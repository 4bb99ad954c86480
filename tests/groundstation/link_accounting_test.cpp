#include "groundstation/link_accounting.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

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

TEST_F(LinkAccountingTest, HugeJumpIsCountedWithoutStoringEachSequenceOnceConfirmed) {
  See(0);
  EXPECT_EQ(See(4'000'000'000u), Arrival::kSuspect);  // no on-board time explains it
  const Observation o = accounting_.Observe(StreamId::kHousekeeping, 4'000'000'001u, 100, 0, 0);
  EXPECT_EQ(o.arrival, Arrival::kInOrder);
  ASSERT_EQ(o.released_count, 1u);
  EXPECT_EQ(o.released[0].seq, 4'000'000'000u);
  EXPECT_EQ(o.released[0].arrival, Arrival::kAfterGap);
  EXPECT_EQ(Hk().missing, 3'999'999'999u);
  EXPECT_EQ(Hk().resyncs, 1u);
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

// Sequences a CRC-16 let through corrupted (about 1 in 65 536 damaged packets) or that someone
// forged: held as suspects, believed only when the packets after them agree.
namespace lgs::station {
namespace {

constexpr auto kHk = protocol::StreamId::kHousekeeping;
constexpr protocol::TimestampNs kS = 1'000'000'000;

StreamStats HkOf(const LinkAccounting& a) {
  return a.Snapshot().streams[static_cast<size_t>(kHk)];
}

TEST(LinkAccountingPlausibility, AFarSequenceArrivingFirstDoesNotMakeTheGenuineOnesDuplicates) {
  LinkAccounting a;
  EXPECT_EQ(a.Observe(kHk, 4'000'000'000u, 10, 0, 0), Arrival::kFirst);  // nothing to doubt it by
  EXPECT_EQ(a.Observe(kHk, 0, 10, 0, 0), Arrival::kSuspect);
  const Observation o = a.Observe(kHk, 1, 10, 0, 0);  // agrees with 0: the stream is here
  EXPECT_EQ(o.arrival, Arrival::kInOrder);
  ASSERT_EQ(o.released_count, 1u);
  EXPECT_EQ(o.released[0].seq, 0u);
  for (uint32_t seq = 2; seq < 100; ++seq)
    EXPECT_EQ(a.Observe(kHk, seq, 10, 0, 0), Arrival::kInOrder);
  const StreamStats s = HkOf(a);
  EXPECT_EQ(s.duplicates, 0u);
  EXPECT_EQ(s.received, 101u);  // the genuine 100 and the one it could not doubt
  EXPECT_EQ(s.first_seq, 0u);
  EXPECT_EQ(s.highest_seq, 99u);
  EXPECT_EQ(s.missing, 0u);
  EXPECT_EQ(s.resyncs, 1u);
}

TEST(LinkAccountingPlausibility, AFarSequenceArrivingLaterIsHeldThenSetAside) {
  LinkAccounting a;
  for (uint32_t seq = 0; seq < 50; ++seq) a.Observe(kHk, seq, 10, seq * kS, seq * kS);
  EXPECT_EQ(a.Observe(kHk, 3'999'999'850u, 10, 50 * kS, 50 * kS), Arrival::kSuspect);
  for (uint32_t seq = 50; seq < 100; ++seq) {
    EXPECT_EQ(a.Observe(kHk, seq, 10, seq * kS, seq * kS), Arrival::kInOrder) << seq;
  }
  std::vector<Expired> expired;
  a.Expire(51 * kS, expired);  // within its hold (3 periods of a 1 Hz stream)
  EXPECT_TRUE(expired.empty());
  a.Expire(54 * kS, expired);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_FALSE(expired[0].accepted);
  EXPECT_EQ(expired[0].seq, 3'999'999'850u);
  const LinkSnapshot snapshot = a.Snapshot();
  const StreamStats& s = snapshot.streams[0];
  EXPECT_EQ(s.missing, 0u);
  EXPECT_EQ(s.out_of_order, 0u);
  EXPECT_EQ(s.highest_seq, 99u);
  EXPECT_EQ(s.suspects, 1u);
  EXPECT_EQ(s.implausible, 1u);
  EXPECT_EQ(snapshot.rejected[static_cast<size_t>(protocol::RejectReason::kImplausibleSequence)],
            1u);
}

// A rover that rebooted and numbers its packets from 0 again: the new numbers overlap the old,
// but their on-board times are newer than anything seen, so they are not copies. The first is
// held until the next agrees; then the stream starts over from it and nothing is dropped.
TEST(LinkAccountingPlausibility, ARoverWhoseNumberingRestartedIsNotTakenForDuplicates) {
  LinkAccounting a;
  for (uint32_t seq = 0; seq < 100; ++seq) a.Observe(kHk, seq, 10, seq * kS, seq * kS + 1);
  // A real copy (a retransmission) keeps its on-board time: a duplicate.
  EXPECT_EQ(a.Observe(kHk, 10, 10, 10 * kS, 101 * kS), Arrival::kDuplicate);
  // The reboot, 200 s on board later.
  EXPECT_EQ(a.Observe(kHk, 0, 10, 300 * kS, 300 * kS), Arrival::kSuspect);
  const Observation o = a.Observe(kHk, 1, 10, 301 * kS, 301 * kS);
  EXPECT_EQ(o.arrival, Arrival::kInOrder);
  ASSERT_EQ(o.released_count, 1u);
  EXPECT_EQ(o.released[0].seq, 0u);
  EXPECT_EQ(o.released[0].arrival, Arrival::kFirst);
  for (uint32_t seq = 2; seq < 50; ++seq) {
    EXPECT_EQ(a.Observe(kHk, seq, 10, (300 + seq) * kS, (300 + seq) * kS), Arrival::kInOrder);
  }
  const StreamStats s = HkOf(a);
  EXPECT_EQ(s.received, 150u);
  EXPECT_EQ(s.duplicates, 1u);  // the copy only
  EXPECT_EQ(s.resyncs, 1u);
  EXPECT_EQ(s.highest_seq, 49u);
  EXPECT_EQ(s.missing, 0u);
  EXPECT_EQ(s.implausible, 0u);
}

// After a reboot a stream that speaks seldom may send one packet only: nothing comes to confirm
// it, and when its hold runs out it is accepted (nothing newer on board contradicted it). One
// the old numbering overtook on board in the meantime was not the rover's restart: discarded.
TEST(LinkAccountingPlausibility, ALoneRestartedPacketIsAcceptedUnlessNewerPacketsContradictIt) {
  LinkAccounting a;
  for (uint32_t seq = 0; seq < 5; ++seq) a.Observe(kHk, seq, 10, seq * kS, seq * kS);
  EXPECT_EQ(a.Observe(kHk, 0, 10, 600 * kS, 600 * kS), Arrival::kSuspect);
  std::vector<Expired> expired;
  a.Expire(601 * kS, expired);  // within its hold
  EXPECT_TRUE(expired.empty());
  a.Expire(700 * kS, expired);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_TRUE(expired[0].accepted);
  EXPECT_EQ(expired[0].seq, 0u);
  EXPECT_EQ(HkOf(a).resyncs, 1u);
  EXPECT_EQ(HkOf(a).implausible, 0u);
  // The new numbering goes on from it.
  EXPECT_EQ(a.Observe(kHk, 1, 10, 601 * kS, 701 * kS), Arrival::kInOrder);

  LinkAccounting b;
  for (uint32_t seq = 0; seq < 5; ++seq) b.Observe(kHk, seq, 10, seq * kS, seq * kS);
  EXPECT_EQ(b.Observe(kHk, 2, 10, 30 * kS, 30 * kS), Arrival::kSuspect);
  // The old numbering goes on, newer on board than the suspect: it was no restart.
  for (uint32_t seq = 5; seq < 40; ++seq) b.Observe(kHk, seq, 10, seq * kS, seq * kS);
  std::vector<Expired> gone;
  b.Expire(INT64_MAX, gone);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_FALSE(gone[0].accepted);
  EXPECT_EQ(HkOf(b).implausible, 1u);
  EXPECT_EQ(HkOf(b).highest_seq, 39u);
}

TEST(LinkAccountingPlausibility, AJumpTheOnboardClockExplainsIsAnOutageNotASuspect) {
  LinkAccounting a;
  a.Observe(kHk, 0, 10, 0, 0);
  // 30 minutes of a 1 Hz stream lost in an outage: 1 800 sequences, 1 800 s of on-board time.
  EXPECT_EQ(a.Observe(kHk, 1800, 10, 1800 * kS, 1801 * kS), Arrival::kAfterGap);
  EXPECT_EQ(HkOf(a).missing, 1799u);
  // The same jump in a tenth of the time is not explained: a suspect.
  EXPECT_EQ(a.Observe(kHk, 3600, 10, 1980 * kS, 1981 * kS), Arrival::kSuspect);
}

TEST(LinkAccountingPlausibility, PacketsOlderThanTheFirstOneSeenArrivedAndAreNotDuplicates) {
  LinkAccounting a;
  a.Observe(kHk, 100, 10, 0, 0);
  EXPECT_EQ(a.Observe(kHk, 98, 10, 0, 0), Arrival::kLate);
  const StreamStats s = HkOf(a);
  EXPECT_EQ(s.duplicates, 0u);
  EXPECT_EQ(s.first_seq, 98u);
  EXPECT_EQ(s.missing, 1u);  // 99
  EXPECT_EQ(a.Observe(kHk, 99, 10, 0, 0), Arrival::kLate);
  EXPECT_EQ(a.Observe(kHk, 98, 10, 0, 0), Arrival::kDuplicate);
}

TEST(LinkAccountingPlausibility, FromZeroAFarFirstPacketWaitsThenBecomesTheBaseline) {
  LinkAccounting a;
  a.ExpectSequencesFromZero(true);
  EXPECT_EQ(a.Observe(kHk, 4'000'000'000u, 10, 0, 0), Arrival::kSuspect);
  std::vector<Expired> expired;
  a.Expire(1 * kS, expired);
  EXPECT_TRUE(expired.empty());
  a.Expire(std::numeric_limits<protocol::TimestampNs>::max(), expired);  // shutdown
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_TRUE(expired[0].accepted);
  EXPECT_EQ(expired[0].arrival, Arrival::kAfterGap);
  EXPECT_EQ(HkOf(a).highest_seq, 4'000'000'000u);
  // A near first packet is believed at once.
  EXPECT_EQ(a.Observe(protocol::StreamId::kRadiation, 3, 10, 0, 0), Arrival::kAfterGap);
}

TEST(LinkAccountingPlausibility, AtMostFourSuspectsAreHeldTheOldestGoesFirst) {
  LinkAccounting a;
  a.Observe(kHk, 0, 10, 0, 0);
  for (uint32_t i = 1; i <= kMaxSuspects; ++i) {
    EXPECT_EQ(a.Observe(kHk, i * 100'000'000u, 10, 0, 0), Arrival::kSuspect);
  }
  const Observation o = a.Observe(kHk, 3'000'000'000u, 10, 0, 0);
  EXPECT_EQ(o.arrival, Arrival::kSuspect);
  ASSERT_EQ(o.discarded_count, 1u);
  EXPECT_EQ(o.discarded[0], 100'000'000u);
  EXPECT_EQ(HkOf(a).implausible, 1u);
}

TEST(LinkAccountingPlausibility, LostReportsBeyondWhatTheStreamCouldHaveSentAreIgnored) {
  LinkAccounting a;
  a.Observe(kHk, 0, 10, 0, 0);
  a.Observe(kHk, 10, 10, 0, 0);
  EXPECT_EQ(a.MarkLost(kHk, 5'000'000, 0xFFFFFFFF), 0u);
  EXPECT_EQ(a.MarkLost(kHk, 1, 0xFFFFFFFF), 9u + 1024u);  // 1..9 and 11..1034
  const StreamStats s = HkOf(a);
  EXPECT_EQ(s.highest_seq, 1034u);
  EXPECT_EQ(s.ignored_reports, 2u);
  EXPECT_EQ(a.Observe(kHk, 1035, 10, 0, 0), Arrival::kInOrder);
}

TEST(LinkAccountingPlausibility, ResumeLeavesOutRecordedSequencesFarFromTheRest) {
  LinkAccounting a;
  const uint64_t left_out = a.SeedRecorded(kHk, {{0, 99}, {4'000'000'000u, 4'000'000'000u}});
  EXPECT_EQ(left_out, 1u);
  const StreamStats s = HkOf(a);
  EXPECT_EQ(s.highest_seq, 99u);
  EXPECT_EQ(s.missing, 0u);
  EXPECT_EQ(s.recorded_before, 100u);
  EXPECT_EQ(a.Observe(kHk, 100, 10, 0, 0), Arrival::kInOrder);
}

}  // namespace
}  // namespace lgs::station

// Latency against the right clock: a live rover whose clock keeps UTC, an emulated one at
// --speed 20, and a recording replayed a day later.
namespace lgs::station {
namespace {

struct Delays {
  std::vector<int64_t> ns;
  int64_t Median() const {
    auto v = ns;
    std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
    return v[v.size() / 2];
  }
};

// 10 Hz for `seconds` of ground time; on-board time runs `rate` times the ground clock from
// `onboard_start`; each packet is delayed by light time (in ground seconds) + 2 ms + 0..20 ms.
Delays Feed(ClockCorrelation& c, double rate, protocol::TimestampNs onboard_start, double seconds,
            int64_t light_ns, std::vector<ClockCorrelation::Sample>& out) {
  Delays d;
  uint64_t x = 12345;
  const protocol::TimestampNs ground_start = 1'800'000'000'000'000'000;
  for (int i = 0; i < static_cast<int>(seconds * 10); ++i) {
    const auto sent = ground_start + i * 100'000'000LL;
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const int64_t delay = 2'000'000 + static_cast<int64_t>((x >> 33) % 20'000'000);
    const auto onboard = onboard_start + static_cast<int64_t>((sent - ground_start) * rate);
    d.ns.push_back(delay);
    out.push_back(c.Observe(onboard, sent + light_ns + delay));
  }
  return d;
}

TEST(ClockCorrelation, ALiveRoverOnUtcGetsAbsoluteLatency) {
  ClockCorrelation c({.light_time_ns = 1'280'000'000});
  std::vector<ClockCorrelation::Sample> s;
  const Delays d = Feed(c, 1.0, 1'800'000'000'000'000'000, 30, 1'280'000'000, s);
  EXPECT_EQ(c.basis(), ClockCorrelation::Basis::kAbsolute);
  EXPECT_FALSE(s.front().settled);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i].settled) {
      EXPECT_EQ(s[i].latency_ns, d.ns[i]);
    }
  }
}

TEST(ClockCorrelation, AnEmulatorAtTwentyTimesSpeedGetsTheDelayAboveTheFastestPacket) {
  ClockCorrelation c({.light_time_ns = 1'280'000'000});
  std::vector<ClockCorrelation::Sample> s;
  // Light time 1.28 s of mission time = 64 ms of ground time at 20x.
  const Delays d = Feed(c, 20.0, 1'800'000'000'000'000'000, 120, 64'000'000, s);
  EXPECT_EQ(c.basis(), ClockCorrelation::Basis::kRelative);
  EXPECT_NEAR(c.rate(), 20.0, 0.001);
  EXPECT_TRUE(c.TakeSwitchedToRelative());
  // After the first minute, each latency is its delay above the fastest (2 ms) within 1 ms.
  for (size_t i = 600; i < s.size(); ++i) {
    ASSERT_TRUE(s[i].settled);
    EXPECT_NEAR(static_cast<double>(s[i].latency_ns), static_cast<double>(d.ns[i] - 2'000'000),
                1.5e6)
        << i;
  }
  EXPECT_NE(c.Describe().find("20.000x"), std::string::npos) << c.Describe();
}

TEST(ClockCorrelation, ARecordingReplayedADayLaterIsNotADayLate) {
  ClockCorrelation c({.light_time_ns = 1'280'000'000});
  std::vector<ClockCorrelation::Sample> s;
  const protocol::TimestampNs day_before = 1'800'000'000'000'000'000 - 86'400'000'000'000;
  Feed(c, 1.0, day_before, 30, 0, s);
  EXPECT_EQ(c.basis(), ClockCorrelation::Basis::kRelative);
  for (const auto& sample : s) {
    if (sample.settled) {
      EXPECT_LT(sample.latency_ns, 25'000'000);  // no day of latency
    }
  }
  EXPECT_NE(c.Describe().find("86399 s behind"), std::string::npos) << c.Describe();
}

}  // namespace
}  // namespace lgs::station
