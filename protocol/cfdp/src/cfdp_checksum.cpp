#include "protocol/cfdp_checksum.h"

#include <array>

#include "protocol/crc32.h"

namespace lgs::protocol::cfdp {

namespace {

constexpr std::array<uint32_t, 256> MakeCrc32cTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kCrc32cTable = MakeCrc32cTable();

}  // namespace

void ModularChecksum::Add(uint64_t offset, std::span<const uint8_t> data) {
  size_t i = 0;
  // Up to the next word boundary of the file, byte by byte into its lane.
  while (i < data.size() && (offset + i) % 4 != 0) {
    sum_ += uint32_t{data[i]} << (8 * (3 - (offset + i) % 4));
    ++i;
  }
  for (; i + 4 <= data.size(); i += 4) {
    sum_ += (uint32_t{data[i]} << 24) | (uint32_t{data[i + 1]} << 16) |
            (uint32_t{data[i + 2]} << 8) | data[i + 3];
  }
  for (; i < data.size(); ++i) sum_ += uint32_t{data[i]} << (8 * (3 - (offset + i) % 4));
}

uint32_t Crc32cUpdate(uint32_t state, std::span<const uint8_t> data) {
  for (uint8_t b : data) state = kCrc32cTable[(state ^ b) & 0xFF] ^ (state >> 8);
  return state;
}

FileChecksum::FileChecksum(ChecksumType type) : type_(type) {}

bool FileChecksum::Supported(ChecksumType type) {
  return type == ChecksumType::kModular || type == ChecksumType::kCrc32c ||
         type == ChecksumType::kCrc32 || type == ChecksumType::kNull;
}

void FileChecksum::Update(std::span<const uint8_t> data) {
  switch (type_) {
    case ChecksumType::kModular:
      modular_.Add(offset_, data);
      break;
    case ChecksumType::kCrc32c:
      crc_ = Crc32cUpdate(crc_, data);
      break;
    case ChecksumType::kCrc32:
      crc_ = Crc32Update(crc_, data);
      break;
    default:
      break;
  }
  offset_ += data.size();
}

uint32_t FileChecksum::Finish() const {
  switch (type_) {
    case ChecksumType::kModular:
      return modular_.value();
    case ChecksumType::kCrc32c:
    case ChecksumType::kCrc32:
      return crc_ ^ 0xFFFFFFFF;
    default:
      return 0;
  }
}

}  // namespace lgs::protocol::cfdp
