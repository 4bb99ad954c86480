#include "rover_emulator/link_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "protocol/crc16.h"
#include "protocol/space_packet.h"

namespace lgs::emulator {
namespace {

constexpr TimestampNs kStart = 1'800'000'000LL * 1'000'000'000;
constexpr TimestampNs kMs = 1'000'000;
constexpr TimestampNs kS = 1'000'000'000;

const protocol::StreamInfo& Nav() {
  return protocol::Stream(protocol::StreamId::kNavigationPose);
}

LinkPacket MakePacket(uint32_t seq, TimestampNs t, size_t payload = 100) {
  static const std::string topic = protocol::TelemetryTopic("rover1", Nav());
  LinkPacket p;
  p.stream = &Nav();
  p.topic = &topic;
  p.sequence = seq;
  p.onboard_time_ns = t;
  std::string body(payload, static_cast<char>(seq & 0x7F));
  EXPECT_TRUE(protocol::EncodeTmPacket(Nav().apid, seq, t, protocol::AsBytes(body), p.bytes).ok());
  return p;
}

// Offers `count` packets every `period`, runs the link to the end, and returns every outcome.
std::vector<LinkOutcome> RunLink(const LinkProfile& profile, uint32_t count, TimestampNs period,
                                 uint64_t seed = 1, size_t payload = 100) {
  LinkModel link(profile, seed, kStart);
  std::vector<LinkOutcome> out;
  for (uint32_t i = 0; i < count; ++i) {
    const TimestampNs t = kStart + i * period;
    // Anything due before this packet is generated happens first.
    while (link.NextEventNs() < t) link.Advance(std::max(kStart, link.NextEventNs()), out);
    link.Advance(t, out);
    link.Offer(MakePacket(i, t, payload), t);
    link.Advance(t, out);
  }
  while (link.NextEventNs() != std::numeric_limits<TimestampNs>::max()) {
    link.Advance(std::max(kStart, link.NextEventNs()), out);
  }
  return out;
}

TEST(LinkModel, IdealLinkDeliversEverythingInOrderAtOnce) {
  const auto out = RunLink(LinkProfile::Ideal(), 1000, 100 * kMs);
  ASSERT_EQ(out.size(), 1000u);
  for (uint32_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].fate, LinkFate::kDelivered);
    EXPECT_EQ(out[i].packet.sequence, i);
    EXPECT_EQ(out[i].arrival_ns, kStart + i * 100 * kMs);
  }
}

TEST(LinkModel, LightTimeAndBandwidthDelayArrival) {
  LinkProfile p = LinkProfile::Ideal();
  p.light_time_s = 1.28;
  p.bandwidth_bps = 100'000;
  const auto out = RunLink(p, 10, 1 * kS, 1, 100);
  ASSERT_EQ(out.size(), 10u);
  const double bits = out[0].packet.bytes.size() * 8.0;
  for (uint32_t i = 0; i < out.size(); ++i) {
    const TimestampNs expected =
        kStart + i * kS + static_cast<TimestampNs>(bits / 100'000 * 1e9) + 1280 * kMs;
    EXPECT_NEAR(static_cast<double>(out[i].arrival_ns), static_cast<double>(expected), 1e3);
  }
}

TEST(LinkModel, BandwidthQueuesABurst) {
  LinkProfile p = LinkProfile::Ideal();
  p.bandwidth_bps = 10'000;            // ~100 ms per 125-byte packet
  const auto out = RunLink(p, 20, 0);  // all offered at the same instant
  ASSERT_EQ(out.size(), 20u);
  for (size_t i = 1; i < out.size(); ++i) {
    EXPECT_NEAR(static_cast<double>(out[i].sent_ns - out[i - 1].sent_ns),
                out[i].packet.bytes.size() * 8.0 / 10'000 * 1e9, 1e3);
  }
}

TEST(LinkModel, LossRateLiesWithinStatisticalBounds) {
  LinkProfile p = LinkProfile::Ideal();
  p.loss_probability = 0.02;
  const uint32_t n = 100'000;
  const auto out = RunLink(p, n, 10 * kMs);
  size_t dropped = 0;
  for (const LinkOutcome& o : out) dropped += o.fate == LinkFate::kDropped;
  const double sigma = std::sqrt(n * 0.02 * 0.98);
  EXPECT_NEAR(static_cast<double>(dropped), n * 0.02, 5 * sigma);
  EXPECT_EQ(out.size(), n);
}

TEST(LinkModel, BitErrorsBreakTheCrcOfExactlyOneBit) {
  LinkProfile p = LinkProfile::Ideal();
  p.bit_error_rate = 1e-4;  // ~10% of 1 kbit packets
  const auto out = RunLink(p, 2000, 10 * kMs);
  size_t corrupted = 0;
  for (const LinkOutcome& o : out) {
    const LinkPacket original = MakePacket(o.packet.sequence, o.packet.onboard_time_ns);
    if (o.fate != LinkFate::kCorrupted) {
      EXPECT_EQ(o.packet.bytes, original.bytes);
      continue;
    }
    ++corrupted;
    int differing_bits = 0;
    for (size_t i = 0; i < original.bytes.size(); ++i) {
      differing_bits += std::popcount(
          static_cast<unsigned>(static_cast<uint8_t>(original.bytes[i] ^ o.packet.bytes[i])));
    }
    EXPECT_EQ(differing_bits, 1);
    EXPECT_NE(protocol::Crc16CcittFalse(protocol::AsBytes(o.packet.bytes)), 0);
  }
  EXPECT_GT(corrupted, 100u);
  EXPECT_LT(corrupted, 300u);
}

TEST(LinkModel, DuplicatesAreIdenticalExtraCopies) {
  LinkProfile p = LinkProfile::Ideal();
  p.duplicate_probability = 0.05;
  const auto out = RunLink(p, 2000, 10 * kMs);
  std::map<uint32_t, int> copies;
  size_t duplicates = 0;
  for (const LinkOutcome& o : out) {
    ++copies[o.packet.sequence];
    if (o.fate == LinkFate::kDuplicate) {
      ++duplicates;
      EXPECT_EQ(o.packet.bytes, MakePacket(o.packet.sequence, o.packet.onboard_time_ns).bytes);
    }
  }
  EXPECT_EQ(copies.size(), 2000u);
  EXPECT_EQ(out.size(), 2000u + duplicates);
  EXPECT_GT(duplicates, 50u);
}

TEST(LinkModel, ReorderingStaysWithinTheWindow) {
  LinkProfile p = LinkProfile::Ideal();
  p.reorder_probability = 0.05;
  p.reorder_window = 6;
  const auto out = RunLink(p, 5000, 10 * kMs);
  ASSERT_EQ(out.size(), 5000u);
  // A late packet was overtaken by at most `window` packets (those that arrived before it with a
  // higher sequence number).
  size_t late = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const uint32_t seq = out[i].packet.sequence;
    size_t overtaken_by = 0;
    for (size_t j = i > 100 ? i - 100 : 0; j < i; ++j) overtaken_by += out[j].packet.sequence > seq;
    if (overtaken_by > 0) {
      ++late;
      EXPECT_TRUE(out[i].reordered);
      EXPECT_LE(overtaken_by, 6u) << "overtaken by more than the window";
    }
  }
  EXPECT_GT(late, 100u);
  for (size_t i = 1; i < out.size(); ++i) EXPECT_GE(out[i].arrival_ns, out[i - 1].arrival_ns);
}

TEST(LinkModel, OutageStoresAndPlaysBackAfterAcquisitionRealTimeFirst) {
  LinkProfile p = LinkProfile::Ideal();
  p.bandwidth_bps = 50'000;
  p.outages = {{10.0, 20.0}};                   // mission seconds 10..30
  const auto out = RunLink(p, 600, 100 * kMs);  // 60 s at 10 Hz
  ASSERT_EQ(out.size(), 600u);
  std::set<uint32_t> seen;
  for (const LinkOutcome& o : out) {
    ASSERT_EQ(o.fate, LinkFate::kDelivered);
    seen.insert(o.packet.sequence);
    const double sent_s = static_cast<double>(o.sent_ns - kStart) / 1e9;
    EXPECT_FALSE(sent_s >= 10.0 && sent_s < 30.0) << "sent during the outage at " << sent_s;
    const double generated_s = static_cast<double>(o.packet.onboard_time_ns - kStart) / 1e9;
    EXPECT_EQ(o.from_store, generated_s >= 10.0 && generated_s < 30.0) << generated_s;
  }
  EXPECT_EQ(seen.size(), 600u);
  // Stored packets come out in order after 30 s, interleaved with (never ahead of) real time.
  uint32_t last_stored = 0;
  bool first = true;
  for (const LinkOutcome& o : out) {
    if (!o.from_store) continue;
    if (!first) {
      EXPECT_GT(o.packet.sequence, last_stored);
    }
    last_stored = o.packet.sequence;
    first = false;
  }
}

TEST(LinkModel, FullStoreEvictsOldestFirstAndCountsThem) {
  LinkProfile p = LinkProfile::Ideal();
  p.outages = {{0.0, 100.0}};
  p.store_capacity_packets = 50;
  const auto out = RunLink(p, 200, 100 * kMs);  // 20 s, all inside the outage
  std::vector<uint32_t> evicted, delivered;
  for (const LinkOutcome& o : out) {
    if (o.fate == LinkFate::kEvicted) evicted.push_back(o.packet.sequence);
    if (o.fate == LinkFate::kDelivered) delivered.push_back(o.packet.sequence);
  }
  ASSERT_EQ(evicted.size(), 150u);
  ASSERT_EQ(delivered.size(), 50u);
  for (uint32_t i = 0; i < 150; ++i) EXPECT_EQ(evicted[i], i);
  for (uint32_t i = 0; i < 50; ++i) EXPECT_EQ(delivered[i], 150 + i);
}

TEST(LinkModel, EveryPacketHasExactlyOneFateAndTheSameSeedTheSameFaults) {
  LinkProfile p = LinkProfile::Ideal();
  p.loss_probability = 0.03;
  p.bit_error_rate = 1e-5;
  p.duplicate_probability = 0.02;
  p.reorder_probability = 0.02;
  p.bandwidth_bps = 200'000;
  p.outages = {{5.0, 3.0}};
  const auto a = RunLink(p, 3000, 10 * kMs, 9);
  const auto b = RunLink(p, 3000, 10 * kMs, 9);
  std::map<uint32_t, int> primary;
  for (const LinkOutcome& o : a) primary[o.packet.sequence] += o.fate != LinkFate::kDuplicate;
  EXPECT_EQ(primary.size(), 3000u);
  for (const auto& [seq, n] : primary) EXPECT_EQ(n, 1) << seq;
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].fate, b[i].fate);
    EXPECT_EQ(a[i].packet.bytes, b[i].packet.bytes);
    EXPECT_EQ(a[i].arrival_ns, b[i].arrival_ns);
  }
}

}  // namespace
}  // namespace lgs::emulator
