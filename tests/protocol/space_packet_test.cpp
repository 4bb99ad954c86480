#include "protocol/space_packet.h"

#include <gtest/gtest.h>

#include "protocol/crc16.h"
#include "support/packets.h"

namespace lgs::protocol {
namespace {

TEST(SpacePacket, HeaderBytesFollowFormatMd) {
  const std::string payload = "\x08\x01";  // a 2-byte protobuf
  std::string packet;
  ASSERT_TRUE(EncodeTmPacket(0x101, 0x12345, 1'000'000'000LL * 0x01020304 + 500'000'000,
                             AsBytes(payload), packet)
                  .ok());
  ASSERT_EQ(packet.size(), 6u + 11u + 2u + 2u);
  const auto* p = reinterpret_cast<const uint8_t*>(packet.data());
  // version 000, type 0, secondary header 1, APID 0x101 -> 0000 1001 0000 0001
  EXPECT_EQ(p[0], 0x09);
  EXPECT_EQ(p[1], 0x01);
  // sequence flags 11, count = 0x12345 & 0x3FFF = 0x2345 -> 0xE3 0x45
  EXPECT_EQ(p[2], 0xE3);
  EXPECT_EQ(p[3], 0x45);
  // data length = 11 + 2 + 2 - 1 = 14
  EXPECT_EQ(p[4], 0x00);
  EXPECT_EQ(p[5], 14);
  // CUC: coarse 0x01020304, fine 0x800000 (half a second)
  EXPECT_EQ(std::vector<uint8_t>(p + 6, p + 13),
            (std::vector<uint8_t>{0x01, 0x02, 0x03, 0x04, 0x80, 0x00, 0x00}));
  // extended sequence, big-endian
  EXPECT_EQ(std::vector<uint8_t>(p + 13, p + 17), (std::vector<uint8_t>{0x00, 0x01, 0x23, 0x45}));
  EXPECT_EQ(p[17], 0x08);
  EXPECT_EQ(p[18], 0x01);
  const uint16_t crc = Crc16CcittFalse({p, packet.size() - 2});
  EXPECT_EQ(p[19], crc >> 8);
  EXPECT_EQ(p[20], crc & 0xFF);
}

TEST(SpacePacket, ParseReturnsWhatWasEncoded) {
  const std::string packet = test::HousekeepingPacket(70'000, 55.0);
  auto parsed = ParseTmPacket(AsBytes(packet));
  ASSERT_TRUE(parsed.ok()) << parsed.error().detail;
  EXPECT_EQ(parsed->apid, Stream(StreamId::kHousekeeping).apid);
  EXPECT_EQ(parsed->extended_sequence, 70'000u);
  EXPECT_EQ(parsed->sequence_count, 70'000u & kSequenceCountMask);
  EXPECT_NEAR(parsed->onboard_time_ns, test::kSomeTimeNs, 30);
  EXPECT_EQ(parsed->bytes.size(), packet.size());
  EXPECT_EQ(parsed->payload.size(), packet.size() - kTmOverheadSize);
}

TEST(SpacePacket, EmptyPayloadIsLegal) {
  std::string packet;
  ASSERT_TRUE(EncodeTmPacket(0x101, 1, test::kSomeTimeNs, {}, packet).ok());
  EXPECT_EQ(packet.size(), kMinTmPacketSize);
  EXPECT_TRUE(ParseTmPacket(AsBytes(packet)).ok());
}

TEST(SpacePacket, LargestPayloadRoundTripsAndOneMoreIsRefused) {
  std::string payload(kMaxTmPayloadSize, 'x');
  std::string packet;
  ASSERT_TRUE(EncodeTmPacket(0x101, 1, test::kSomeTimeNs, AsBytes(payload), packet).ok());
  EXPECT_EQ(packet.size(), kMaxPacketSize);
  EXPECT_TRUE(ParseTmPacket(AsBytes(packet)).ok());
  payload.push_back('x');
  const Status too_big = EncodeTmPacket(0x101, 1, test::kSomeTimeNs, AsBytes(payload), packet);
  EXPECT_FALSE(too_big.ok());
  EXPECT_NE(too_big.message().find("exceeds"), std::string::npos);
}

TEST(SpacePacket, EncodeRefusesApidAndTimeOutOfRange) {
  std::string packet;
  EXPECT_FALSE(EncodeTmPacket(0x800, 1, test::kSomeTimeNs, {}, packet).ok());
  EXPECT_FALSE(EncodeTmPacket(0x101, 1, -5, {}, packet).ok());
}

}  // namespace
}  // namespace lgs::protocol
