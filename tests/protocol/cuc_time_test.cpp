#include "protocol/cuc_time.h"

#include <gtest/gtest.h>

#include <array>
#include <random>

namespace lgs::protocol {
namespace {

TEST(CucTime, WholeSecondsHaveZeroFine) {
  const auto cuc = CucFromUnixNs(1'700'000'000LL * 1'000'000'000);
  ASSERT_TRUE(cuc);
  EXPECT_EQ(cuc->coarse_s, 1'700'000'000u);
  EXPECT_EQ(cuc->fine, 0u);
}

TEST(CucTime, HalfSecondIsHalfTheFineRange) {
  const auto cuc = CucFromUnixNs(500'000'000);
  ASSERT_TRUE(cuc);
  EXPECT_EQ(cuc->coarse_s, 0u);
  EXPECT_EQ(cuc->fine, 1u << 23);
}

TEST(CucTime, FractionRoundingUpCarriesIntoSeconds) {
  const auto cuc = CucFromUnixNs(41LL * 1'000'000'000 + 999'999'999);
  ASSERT_TRUE(cuc);
  EXPECT_EQ(cuc->coarse_s, 42u);
  EXPECT_EQ(cuc->fine, 0u);
}

TEST(CucTime, OutOfRangeTimesAreRefused) {
  EXPECT_FALSE(CucFromUnixNs(-1));
  EXPECT_FALSE(CucFromUnixNs((int64_t{1} << 32) * 1'000'000'000));
}

TEST(CucTime, EveryCucSurvivesTheNanosecondRoundTrip) {
  // Replay rebuilds packets from nanosecond times, so CUC -> ns -> CUC must be exact.
  std::mt19937 rng(7);
  for (int i = 0; i < 200'000; ++i) {
    const CucTime cuc{static_cast<uint32_t>(rng()), static_cast<uint32_t>(rng() & 0xFFFFFF)};
    const auto back = CucFromUnixNs(UnixNsFromCuc(cuc));
    ASSERT_TRUE(back);
    ASSERT_EQ(*back, cuc) << "coarse " << cuc.coarse_s << " fine " << cuc.fine;
  }
}

TEST(CucTime, NanosecondsRoundTripWithinHalfAFineUnit) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 100'000; ++i) {
    const int64_t ns = static_cast<int64_t>(rng() % (int64_t{4'000'000'000} * 1'000'000'000));
    const auto cuc = CucFromUnixNs(ns);
    ASSERT_TRUE(cuc);
    EXPECT_LE(std::abs(UnixNsFromCuc(*cuc) - ns), 30);  // 2^-24 s / 2 = 29.8 ns
  }
}

TEST(CucTime, EncodesBigEndianCoarseThenFine) {
  std::array<uint8_t, kCucSize> bytes{};
  EncodeCuc({0x01020304, 0x0A0B0C}, bytes);
  EXPECT_EQ(bytes, (std::array<uint8_t, kCucSize>{0x01, 0x02, 0x03, 0x04, 0x0A, 0x0B, 0x0C}));
  EXPECT_EQ(DecodeCuc(bytes), (CucTime{0x01020304, 0x0A0B0C}));
}

TEST(CucTime, PFieldDescribesAgencyEpochFourCoarseThreeFine) {
  EXPECT_EQ(kCucPField >> 7, 0);          // no extension
  EXPECT_EQ((kCucPField >> 4) & 0x7, 2);  // time code id 010: agency-defined epoch
  EXPECT_EQ(((kCucPField >> 2) & 0x3) + 1, kCucCoarseOctets);
  EXPECT_EQ(kCucPField & 0x3, kCucFineOctets);
}

}  // namespace
}  // namespace lgs::protocol
