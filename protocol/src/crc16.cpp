#include "protocol/crc16.h"

#include <array>

namespace lgs::protocol {
namespace {

constexpr uint16_t kPolynomial = 0x1021;

constexpr std::array<uint16_t, 256> MakeTable() {
  std::array<uint16_t, 256> table{};
  for (uint32_t byte = 0; byte < 256; ++byte) {
    uint16_t crc = static_cast<uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ kPolynomial)
                           : static_cast<uint16_t>(crc << 1);
    }
    table[byte] = crc;
  }
  return table;
}

constexpr std::array<uint16_t, 256> kTable = MakeTable();

// Slicing-by-8: kSlices[k][x] is the CRC contribution of byte x followed by k zero bytes, so
// eight bytes are folded per step (every packet is checked on the ingest hot path).
constexpr std::array<std::array<uint16_t, 256>, 8> MakeSlices() {
  std::array<std::array<uint16_t, 256>, 8> t{};
  t[0] = MakeTable();
  for (size_t k = 1; k < 8; ++k) {
    for (size_t x = 0; x < 256; ++x) {
      const uint16_t prev = t[k - 1][x];
      t[k][x] = static_cast<uint16_t>((prev << 8) ^ t[0][prev >> 8]);
    }
  }
  return t;
}

constexpr auto kSlices = MakeSlices();

}  // namespace

uint16_t Crc16CcittFalse(std::span<const uint8_t> data, uint16_t crc) {
  const uint8_t* p = data.data();
  size_t n = data.size();
  while (n >= 8) {
    crc = static_cast<uint16_t>(kSlices[7][p[0] ^ (crc >> 8)] ^ kSlices[6][p[1] ^ (crc & 0xFF)] ^
                                kSlices[5][p[2]] ^ kSlices[4][p[3]] ^ kSlices[3][p[4]] ^
                                kSlices[2][p[5]] ^ kSlices[1][p[6]] ^ kSlices[0][p[7]]);
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = static_cast<uint16_t>((crc << 8) ^ kTable[((crc >> 8) ^ *p++) & 0xFF]);
  return crc;
}

}  // namespace lgs::protocol
