#include "groundstation/gap_filler.h"

#include <gtest/gtest.h>

namespace lgs::station {
namespace {

using namespace std::chrono_literals;
using protocol::StreamId;
using Clock = GapFiller::Clock;

const uint32_t kHkApid = protocol::Stream(StreamId::kHousekeeping).apid;

class GapFillerTest : public ::testing::Test {
 protected:
  GapFillerTest() : filler_(Options(), 1.0) {}
  static GapFillOptions Options() {
    GapFillOptions o;
    o.enabled = true;
    o.grace_s = 1.0;
    o.margin_s = 1.0;  // + 2 s round trip: a retry after 3 s (plus packets / 500 per s)
    o.max_backoff_s = 30.0;
    o.tail_probe_s = 0;
    return o;
  }
  void See(uint32_t seq, StreamId stream = StreamId::kHousekeeping) {
    accounting_.Observe(stream, seq, 100, 0, 0);
  }
  std::vector<rover::v1::RetransmitRequest> Poll(Clock::duration since_start) {
    return filler_.Poll(accounting_, start_ + since_start);
  }
  rover::v1::CommandVerification Completion(std::vector<std::pair<uint32_t, uint32_t>> lost,
                                            uint32_t request_sequence = 77) {
    rover::v1::CommandVerification r;
    r.set_source_id(1);
    r.set_request_sequence(request_sequence);
    r.set_stage(rover::v1::VERIFICATION_STAGE_COMPLETION);
    r.set_success(true);
    for (auto [first, last] : lost) {
      auto* range = r.add_unavailable();
      range->set_apid(kHkApid);
      range->set_first(first);
      range->set_last(last);
    }
    return r;
  }
  Clock::time_point start_ = Clock::now();
  LinkAccounting accounting_;
  GapFiller filler_;
};

TEST_F(GapFillerTest, WaitsForTheGraceThenAsksOnceUntilTheRoundTripHasPassed) {
  See(0);
  See(5);                          // 1..4 missing
  See(9);                          // 6..8 missing
  EXPECT_TRUE(Poll(0ms).empty());  // reordering may still close it
  EXPECT_TRUE(Poll(900ms).empty());
  auto requests = Poll(1100ms);
  ASSERT_EQ(requests.size(), 1u);
  ASSERT_EQ(requests[0].ranges_size(), 2);  // batched: both gaps in one request
  EXPECT_EQ(requests[0].ranges(0).apid(), kHkApid);
  EXPECT_EQ(requests[0].ranges(0).first(), 1u);
  EXPECT_EQ(requests[0].ranges(0).last(), 4u);
  EXPECT_EQ(requests[0].ranges(1).first(), 6u);
  EXPECT_EQ(requests[0].ranges(1).last(), 8u);
  EXPECT_TRUE(Poll(2s).empty());  // in flight
  EXPECT_TRUE(filler_.busy());
  // Two packets come back; the rest of that range keeps its request state.
  See(1);
  See(2);
  EXPECT_TRUE(Poll(3s).empty());
  auto retry = Poll(4200ms);  // one round trip + margin after the request: ask again
  ASSERT_EQ(retry.size(), 1u);
  ASSERT_EQ(retry[0].ranges_size(), 2);
  EXPECT_EQ(retry[0].ranges(0).first(), 3u);
  EXPECT_EQ(filler_.stats().retries, 2u);
  for (uint32_t s : {3, 4, 6, 7, 8}) See(s);
  EXPECT_TRUE(Poll(5s).empty());
  EXPECT_FALSE(filler_.busy());
}

TEST_F(GapFillerTest, BacksOffOnlyWhileTheLinkIsSilent) {
  See(0);
  See(10);
  EXPECT_TRUE(Poll(0ms).empty());  // the gap is seen here
  ASSERT_EQ(Poll(1100ms).size(), 1u);
  // Nothing at all arrives: every timeout doubles the wait (3 s, 6 s, 12 s ...).
  ASSERT_EQ(Poll(4200ms).size(), 1u);  // first retry at 1.1 + 3.018
  EXPECT_TRUE(Poll(9s).empty());       // backed off: not before 4.2 + 6
  ASSERT_EQ(Poll(10300ms).size(), 1u);
  // Telemetry flows again: the next timeout is one round trip, not 24 s.
  See(11);
  EXPECT_TRUE(Poll(20s).empty());
  ASSERT_EQ(Poll(22600ms).size(), 1u);
}

TEST_F(GapFillerTest, UnavailableRangesBecomeLostAndAreNotAskedAgain) {
  See(0);
  See(20);
  EXPECT_TRUE(Poll(0ms).empty());
  auto requests = Poll(1100ms);
  ASSERT_EQ(requests.size(), 1u);
  filler_.OnSent(77, requests[0]);
  EXPECT_TRUE(filler_.OnReport(Completion({{1, 10}}), accounting_));  // its own request's
  EXPECT_EQ(accounting_.Snapshot().streams[0].lost, 10u);
  for (uint32_t s = 11; s < 20; ++s) See(s);
  EXPECT_TRUE(Poll(10s).empty());
  EXPECT_FALSE(filler_.busy());
  EXPECT_EQ(filler_.stats().lost, 10u);
  // Reports for another station's requests are not ours to act on.
  auto theirs = Completion({{0, 0}});
  theirs.set_source_id(2);
  EXPECT_FALSE(filler_.OnReport(theirs, accounting_));
  EXPECT_EQ(filler_.stats().lost, 10u);
}

// A report is believed only for a request this station sent, and only for what that request
// asked: a stale, corrupted or forged one cannot declare a mission's worth of packets lost.
TEST_F(GapFillerTest, OnlyReportsToSentRequestsCountAndOnlyForTheRangesAsked) {
  See(0);
  See(20);  // 1..19 missing
  EXPECT_TRUE(Poll(0ms).empty());
  auto requests = Poll(1100ms);
  ASSERT_EQ(requests.size(), 1u);
  filler_.OnSent(500, requests[0]);
  // Never sent: ignored, whatever it says.
  filler_.OnReport(Completion({{0, 0xFFFFFFFF}}, 499), accounting_);
  EXPECT_EQ(accounting_.Snapshot().streams[0].lost, 0u);
  EXPECT_EQ(filler_.stats().unmatched_reports, 1u);
  // Ours, but claiming more than was asked (1..19): only 5..19 of 5..0xFFFFFFFF count.
  filler_.OnReport(Completion({{5, 0xFFFFFFFF}}, 500), accounting_);
  const StreamStats hk = accounting_.Snapshot().streams[0];
  EXPECT_EQ(hk.lost, 15u);
  EXPECT_EQ(hk.highest_seq, 20u);
  EXPECT_EQ(hk.missing, 4u);
  // Answered: a copy of the same report changes nothing.
  filler_.OnReport(Completion({{1, 4}}, 500), accounting_);
  EXPECT_EQ(accounting_.Snapshot().streams[0].lost, 15u);
  EXPECT_EQ(filler_.stats().unmatched_reports, 2u);
}

// At the last sequence there is, a tail probe would ask for "0xFFFFFFFF + 1 onwards": wrapped,
// that is the rover's whole store. Nothing comes after the last sequence: no probe.
TEST_F(GapFillerTest, AStreamAtTheLastSequenceIsNotProbed) {
  GapFillOptions o = Options();
  o.tail_probe_s = 5;
  GapFiller filler(o, 1.0);
  LinkAccounting accounting;
  accounting.Observe(StreamId::kRadiation, 0xFFFFFFFE, 100, 0, 0);
  accounting.Observe(StreamId::kRadiation, 0xFFFFFFFF, 100, 0, 0);
  EXPECT_TRUE(filler.Poll(accounting, start_).empty());
  for (const auto& request : filler.Poll(accounting, start_ + 6s)) {
    for (const auto& range : request.ranges()) {
      EXPECT_NE(range.apid(), protocol::Stream(StreamId::kRadiation).apid) << range.first();
      EXPECT_GE(range.last(), range.first());
    }
  }
}

TEST_F(GapFillerTest, PacesBigGapsToThePacketsInFlightBudget) {
  GapFillOptions o = Options();
  o.max_packets_in_flight = 100;
  GapFiller filler(o, 1.0);
  See(0);
  See(1000);
  EXPECT_TRUE(filler.Poll(accounting_, start_).empty());
  auto first = filler.Poll(accounting_, start_ + 1100ms);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(first[0].ranges_size(), 1);
  EXPECT_EQ(first[0].ranges(0).first(), 1u);
  EXPECT_EQ(first[0].ranges(0).last(), 100u);
  EXPECT_TRUE(filler.Poll(accounting_, start_ + 1200ms).empty());  // budget used
  for (uint32_t s = 1; s <= 100; ++s) See(s);
  auto next = filler.Poll(accounting_, start_ + 1300ms);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].ranges(0).first(), 101u);
  EXPECT_EQ(next[0].ranges(0).last(), 200u);
}

// The streams gap fill looks after (file delivery recovers its own losses with CFDP).
int GapFilledStreams() {
  int n = 0;
  for (const protocol::StreamInfo& s : protocol::AllStreams()) n += s.gap_fill ? 1 : 0;
  return n;
}

TEST_F(GapFillerTest, ProbesQuietStreamsForWhatCameAfterTheNewest) {
  ASSERT_EQ(GapFilledStreams(), static_cast<int>(protocol::kStreamCount) - 1);
  GapFillOptions o = Options();
  o.tail_probe_s = 5;
  GapFiller filler(o, 1.0);
  See(0);
  See(1);
  EXPECT_TRUE(filler.Poll(accounting_, start_).empty());
  auto probe = filler.Poll(accounting_, start_ + 5100ms);
  ASSERT_EQ(probe.size(), 1u);
  // Every stream: housekeeping after 1, the others (none seen) from 0.
  ASSERT_EQ(probe[0].ranges_size(), GapFilledStreams());
  for (const auto& r : probe[0].ranges()) {
    EXPECT_NE(r.apid(), protocol::Stream(protocol::StreamId::kFileDelivery).apid);
  }
  EXPECT_EQ(probe[0].ranges(0).first(), 2u);
  EXPECT_EQ(probe[0].ranges(0).last(), 0xFFFFFFFFu);
  EXPECT_EQ(probe[0].ranges(1).first(), 0u);
  EXPECT_TRUE(filler.Poll(accounting_, start_ + 6s).empty());  // not again so soon
  EXPECT_EQ(filler.stats().probes, static_cast<uint64_t>(GapFilledStreams()));
  filler.OnSent(77, probe[0]);
  // Unanswered after a round trip (+ margin): probed again.
  auto again = filler.Poll(accounting_, start_ + 10200ms);
  ASSERT_EQ(again.size(), 1u);
  filler.OnSent(78, again[0]);
  rover::v1::CommandVerification answer;
  answer.set_source_id(1);
  answer.set_request_sequence(78);
  answer.set_stage(rover::v1::VERIFICATION_STAGE_COMPLETION);
  answer.set_success(true);
  filler.OnReport(answer, accounting_);
  // Answered and nothing new: a quiet stream is left alone (no endless report traffic) ...
  EXPECT_TRUE(filler.Poll(accounting_, start_ + 20s).empty());
  // ... until it changes and falls quiet again (only that stream), or the re-probe interval.
  See(2);
  EXPECT_TRUE(filler.Poll(accounting_, start_ + 21s).empty());
  auto changed = filler.Poll(accounting_, start_ + 26100ms);
  ASSERT_EQ(changed.size(), 1u);
  ASSERT_EQ(changed[0].ranges_size(), 1);
  EXPECT_EQ(changed[0].ranges(0).first(), 3u);
  filler.OnSent(79, changed[0]);
  answer.set_request_sequence(79);
  filler.OnReport(answer, accounting_);
  auto periodic = filler.Poll(accounting_, start_ + 71s);  // 60 s after the answered probe
  ASSERT_EQ(periodic.size(), 1u);
  EXPECT_EQ(periodic[0].ranges_size(), GapFilledStreams() - 1);
}

TEST_F(GapFillerTest, AProbeThatBroughtPacketsIsRepeatedUntilOneBringsNothing) {
  GapFillOptions o = Options();
  o.tail_probe_s = 5;
  GapFiller filler(o, 1.0);
  See(0);
  EXPECT_TRUE(filler.Poll(accounting_, start_).empty());
  auto probe = filler.Poll(accounting_, start_ + 5100ms);
  ASSERT_EQ(probe.size(), 1u);
  filler.OnSent(5, probe[0]);
  rover::v1::CommandVerification answer;
  answer.set_source_id(1);
  answer.set_request_sequence(5);
  answer.set_stage(rover::v1::VERIFICATION_STAGE_COMPLETION);
  answer.set_success(true);
  answer.set_packets_queued(1);  // sent again ... and lost again on the way: nothing changed
  filler.OnReport(answer, accounting_);
  auto again = filler.Poll(accounting_, start_ + 10200ms);
  ASSERT_EQ(again.size(), 1u);
  filler.OnSent(6, again[0]);
  answer.set_request_sequence(6);
  answer.set_packets_queued(0);
  filler.OnReport(answer, accounting_);
  EXPECT_TRUE(filler.Poll(accounting_, start_ + 20s).empty());
}

TEST_F(GapFillerTest, ReportsToOurOwnProbesDoNotMakeTheReportStreamWorthProbing) {
  GapFillOptions o = Options();
  o.tail_probe_s = 5;
  GapFiller filler(o, 1.0);
  const auto report_stream = StreamId::kCommandVerification;
  EXPECT_TRUE(filler.Poll(accounting_, start_).empty());
  auto probe = filler.Poll(accounting_, start_ + 5100ms);
  ASSERT_EQ(probe.size(), 1u);
  filler.OnSent(9, probe[0]);
  // The answer arrives on the report stream itself.
  See(0, report_stream);
  rover::v1::CommandVerification answer;
  answer.set_source_id(1);
  answer.set_request_sequence(9);
  answer.set_stage(rover::v1::VERIFICATION_STAGE_COMPLETION);
  answer.set_success(true);
  filler.OnReport(answer, accounting_);
  EXPECT_TRUE(filler.Poll(accounting_, start_ + 5200ms).empty());
  // Quiet again: nothing new was said on any stream, so no probe follows (no endless loop).
  EXPECT_TRUE(filler.Poll(accounting_, start_ + 11s).empty());
  EXPECT_TRUE(filler.Poll(accounting_, start_ + 30s).empty());
}

TEST_F(GapFillerTest, ARequestTheUplinkRefusedIsDueAgainAtOnce) {
  See(0);
  See(3);
  EXPECT_TRUE(Poll(0ms).empty());
  auto r = Poll(1100ms);
  ASSERT_EQ(r.size(), 1u);
  filler_.OnSendFailed(r[0]);
  EXPECT_EQ(Poll(1200ms).size(), 1u);
  EXPECT_EQ(filler_.stats().send_failures, 1u);
  EXPECT_EQ(filler_.stats().retries, 0u);
}

}  // namespace
}  // namespace lgs::station
