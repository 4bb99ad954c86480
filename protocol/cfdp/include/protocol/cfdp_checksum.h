// File checksums of CFDP (the Metadata PDU names the type; the EOF PDU carries the value).
//
// ModularChecksum is CFDP's type 0: the sum modulo 2^32 of the file read as big-endian 32-bit
// words aligned on file offsets (the last one padded with zeros). Because a word's lane follows
// the file offset, pieces can be added in any order as they arrive — each byte exactly once.
// FileChecksum computes any supported type over the file in order, from offset 0.
// Not thread-safe: one owner each.
#pragma once

#include <cstdint>
#include <span>

#include "protocol/cfdp_pdu.h"

namespace lgs::protocol::cfdp {

class ModularChecksum {
 public:
  // The file's bytes at [offset, offset + data.size()).
  void Add(uint64_t offset, std::span<const uint8_t> data);
  uint32_t value() const { return sum_; }

 private:
  uint32_t sum_ = 0;
};

// CRC-32C (Castagnoli: reflected, polynomial 0x1EDC6F41, init and final XOR 0xFFFFFFFF),
// CFDP's type 2. CRC-32C("123456789") = 0xE3069283.
uint32_t Crc32cUpdate(uint32_t state, std::span<const uint8_t> data);

class FileChecksum {
 public:
  explicit FileChecksum(ChecksumType type);
  // Types this station computes: modular, CRC-32C, CRC-32 and null. Proximity-1's CRC-32 (type
  // 1) is not: its initial value and reflection are not settled in the sources we have.
  static bool Supported(ChecksumType type);

  // The next bytes of the file, in order.
  void Update(std::span<const uint8_t> data);
  uint32_t Finish() const;

 private:
  ChecksumType type_;
  uint64_t offset_ = 0;
  ModularChecksum modular_;
  uint32_t crc_ = 0xFFFFFFFF;
};

}  // namespace lgs::protocol::cfdp
