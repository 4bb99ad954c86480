// CRC-16/CCITT-FALSE, the packet error control of every space packet on our links.
//
// Polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR; CRC("123456789") = 0x29B1.
// Thread-safe (pure functions over a constant table).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace lgs::protocol {

inline constexpr uint16_t kCrc16Initial = 0xFFFF;

// CRC of `data`, continuing from `crc` (pass the previous result to checksum in pieces).
uint16_t Crc16CcittFalse(std::span<const uint8_t> data, uint16_t crc = kCrc16Initial);

}  // namespace lgs::protocol
