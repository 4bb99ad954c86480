#include "groundstation/latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace lgs::station {
namespace {

TEST(LatencyHistogram, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(0.99), 0u);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (int v = 0; v < 16; ++v) h.Record(v);
  EXPECT_EQ(h.Percentile(0.5), 7u);
  EXPECT_EQ(h.max(), 15u);
}

TEST(LatencyHistogram, PercentilesWithinResolutionOfTheTruth) {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> dist(11.0, 1.5);  // around 60 us with a long tail
  std::vector<int64_t> samples;
  LatencyHistogram h;
  for (int i = 0; i < 200'000; ++i) {
    samples.push_back(static_cast<int64_t>(dist(rng)));
    h.Record(samples.back());
  }
  std::sort(samples.begin(), samples.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const double truth = static_cast<double>(samples[static_cast<size_t>(q * samples.size()) - 1]);
    const double got = static_cast<double>(h.Percentile(q));
    EXPECT_GE(got, truth * 0.999) << q;
    EXPECT_LE(got, truth * 1.07) << q;
  }
  EXPECT_EQ(h.max(), static_cast<uint64_t>(samples.back()));
}

TEST(LatencyHistogram, NegativeSamplesAreCountedAsZero) {
  LatencyHistogram h;
  h.Record(-5);
  h.Record(100);
  EXPECT_EQ(h.negative(), 1u);
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.Percentile(0.5), 0u);
}

}  // namespace
}  // namespace lgs::station
