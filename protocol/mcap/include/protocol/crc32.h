// CRC-32 (IEEE 802.3 / zlib): the checksum of MCAP chunks, data section and summary.
//
// Reflected polynomial 0xEDB88320, initial 0xFFFFFFFF, final XOR 0xFFFFFFFF;
// CRC("123456789") = 0xCBF43926. Thread-safe.
#pragma once

#include <cstdint>
#include <span>

namespace lgs::protocol {

// Running form: start with kCrc32Initial, Update() any number of times, Finish() once.
inline constexpr uint32_t kCrc32Initial = 0xFFFFFFFF;
// Uses carry-less multiplication where the CPU has it (x86-64 PCLMULQDQ), tables otherwise.
uint32_t Crc32Update(uint32_t state, std::span<const uint8_t> data);
// The table implementation alone, so tests can compare the two paths on the same input.
uint32_t Crc32UpdatePortable(uint32_t state, std::span<const uint8_t> data);
inline uint32_t Crc32Finish(uint32_t state) {
  return state ^ 0xFFFFFFFF;
}

inline uint32_t Crc32(std::span<const uint8_t> data) {
  return Crc32Finish(Crc32Update(kCrc32Initial, data));
}

}  // namespace lgs::protocol
