// SHA-256 (FIPS 180-4): the digest products are named by in the emulator's truth file, the
// station's product sidecars and `gsctl products`, so a file can be checked with sha256sum.
// Streaming: Update() any number of times, then Final(). Not thread-safe (one owner).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace lgs::protocol {

class Sha256 {
 public:
  Sha256();
  void Update(std::span<const uint8_t> data);
  std::array<uint8_t, 32> Final();
  // Lower-case hex of the digest, as sha256sum prints it.
  std::string FinalHex();

 private:
  void Block(const uint8_t* block);
  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t length_ = 0;
};

std::string Sha256Hex(std::span<const uint8_t> data);

}  // namespace lgs::protocol
