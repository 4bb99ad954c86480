#include "protocol/crc16.h"

#include <immintrin.h>

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

uint16_t Crc16Sliced(const uint8_t* p, size_t n, uint16_t crc) {
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

// Folding with carry-less multiplication (x86 PCLMULQDQ), for packets of 32 bytes and more. The
// data, most significant bit first, is a polynomial M(x); the CRC is (M with the running CRC
// XORed into its first 16 bits)(x) * x^16 mod P. Sixteen bytes A followed by more data B stand
// for A * x^128 + B, and A * x^128 = A_hi * x^192 + A_lo * x^128 is congruent mod P to
// A_hi * (x^192 mod P) + A_lo * (x^128 mod P): under 80 bits, so it folds into B. What is left,
// one 16-byte block and a tail under 16 bytes, goes through the tables (from a CRC of 0).
constexpr uint64_t XPowerModP(unsigned power) {
  uint32_t r = 1;
  for (unsigned i = 0; i < power; ++i) {
    r <<= 1;
    if (r & 0x10000) r ^= 0x10000 | kPolynomial;
  }
  return r;
}
constexpr uint64_t kX128 = XPowerModP(128);
constexpr uint64_t kX192 = XPowerModP(192);
constexpr size_t kFoldMinimum = 32;

// Byte 0 of the data becomes the most significant byte of the 128-bit polynomial.
__attribute__((target("ssse3"))) inline __m128i ByteReverse() {
  return _mm_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
}
__attribute__((target("ssse3"))) inline __m128i LoadReversed(const uint8_t* at, __m128i reverse) {
  return _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(at)), reverse);
}

__attribute__((target("pclmul,ssse3"))) uint16_t Crc16Folding(const uint8_t* p, size_t n,
                                                              uint16_t crc) {
  const __m128i reverse = ByteReverse();
  const __m128i constants = _mm_set_epi64x(kX192, kX128);
  __m128i folded = _mm_xor_si128(LoadReversed(p, reverse),
                                 _mm_set_epi64x(static_cast<int64_t>(uint64_t{crc} << 48), 0));
  p += 16;
  n -= 16;
  while (n >= 16) {
    const __m128i high = _mm_clmulepi64_si128(folded, constants, 0x11);
    const __m128i low = _mm_clmulepi64_si128(folded, constants, 0x00);
    folded = _mm_xor_si128(_mm_xor_si128(high, low), LoadReversed(p, reverse));
    p += 16;
    n -= 16;
  }
  alignas(16) uint8_t block[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(block), _mm_shuffle_epi8(folded, reverse));
  return Crc16Sliced(p, n, Crc16Sliced(block, sizeof block, 0));
}

const bool kHasFolding = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("ssse3");

}  // namespace

uint16_t Crc16CcittFalse(std::span<const uint8_t> data, uint16_t crc) {
  if (data.size() >= kFoldMinimum && kHasFolding)
    return Crc16Folding(data.data(), data.size(), crc);
  return Crc16Sliced(data.data(), data.size(), crc);
}

}  // namespace lgs::protocol
