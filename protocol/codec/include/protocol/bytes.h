// AsBytes: a string's bytes as the span the codecs and the MCAP library take. Thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace lgs::protocol {

inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace lgs::protocol
