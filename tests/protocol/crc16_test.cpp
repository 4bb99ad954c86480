#include "protocol/crc16.h"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "protocol/space_packet.h"

namespace lgs::protocol {
namespace {

TEST(Crc16, CheckValueOfTheStandard) {
  EXPECT_EQ(Crc16CcittFalse(AsBytes("123456789")), 0x29B1);
}

TEST(Crc16, EmptyInputIsTheInitialValue) {
  EXPECT_EQ(Crc16CcittFalse({}), 0xFFFF);
}

TEST(Crc16, PusPingTelecommandVector) {
  // PUS-C ping TC[17,1], APID 1, sequence 22, from spacepackets-py: CRC = 0xAB62.
  const uint8_t tc[] = {0x18, 0x01, 0xC0, 0x16, 0x00, 0x06, 0x2F, 0x11, 0x01, 0x00, 0x00};
  EXPECT_EQ(Crc16CcittFalse(tc), 0xAB62);
}

TEST(Crc16, ComputedInPiecesEqualsComputedWhole) {
  const std::string_view text = "the quick brown fox jumps over the lazy dog";
  const uint16_t whole = Crc16CcittFalse(AsBytes(text));
  const uint16_t first = Crc16CcittFalse(AsBytes(text.substr(0, 17)));
  EXPECT_EQ(Crc16CcittFalse(AsBytes(text.substr(17)), first), whole);
}

TEST(Crc16, ChecksumOverDataAndItsCrcIsZero) {
  std::string data = "ground station";
  const uint16_t crc = Crc16CcittFalse(AsBytes(data));
  data.push_back(static_cast<char>(crc >> 8));
  data.push_back(static_cast<char>(crc & 0xFF));
  EXPECT_EQ(Crc16CcittFalse(AsBytes(data)), 0);
}

}  // namespace
}  // namespace lgs::protocol

namespace lgs::protocol {
namespace {

// The bit-by-bit definition: the fast table code must agree with it for every length.
uint16_t BitwiseCrc16(std::span<const uint8_t> data) {
  uint16_t crc = 0xFFFF;
  for (uint8_t byte : data) {
    crc ^= static_cast<uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc;
}

// The carry-less-multiplication path (32 bytes and more, where the CPU has it) at every length
// up to 1 100 bytes, five alignments, and continued from other CRCs split at several points.
TEST(Crc16, FoldingAgreesWithTheBitwiseDefinitionAtEveryLengthAlignmentAndSplit) {
  std::vector<uint8_t> buffer(1'100 + 8);
  uint32_t state = 12345;
  for (uint8_t& b : buffer) {
    state = state * 1'103'515'245 + 12'345;
    b = static_cast<uint8_t>(state >> 16);
  }
  for (size_t align = 0; align < 5; ++align) {
    for (size_t length = 0; length <= 1'100; ++length) {
      const std::span<const uint8_t> data(buffer.data() + align, length);
      const uint16_t want = BitwiseCrc16(data);
      ASSERT_EQ(Crc16CcittFalse(data), want) << "length " << length << " align " << align;
      for (size_t split : {size_t{1}, size_t{17}, size_t{40}, length / 2}) {
        if (split > length) continue;
        const uint16_t first = Crc16CcittFalse(data.first(split));
        ASSERT_EQ(Crc16CcittFalse(data.subspan(split), first), want)
            << "length " << length << " split " << split;
      }
    }
  }
}

TEST(Crc16, AgreesWithTheBitwiseDefinitionForEveryLength) {
  std::string data;
  for (int length = 0; length < 300; ++length) {
    ASSERT_EQ(Crc16CcittFalse(AsBytes(data)), BitwiseCrc16(AsBytes(data))) << length;
    data.push_back(static_cast<char>(length * 37 + 11));
  }
}

}  // namespace
}  // namespace lgs::protocol
