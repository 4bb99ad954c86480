// Internal: building and parsing MCAP record bytes (little-endian, length-prefixed).
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "protocol/mcap_format.h"

namespace lgs::protocol::mcap {

template <typename T>
void PutLe(char* p, T v) {
  for (size_t i = 0; i < sizeof(T); ++i)
    p[i] = static_cast<char>(static_cast<uint64_t>(v) >> (8 * i));
}
template <typename T>
void PutLe(std::string& out, T v) {
  char buf[sizeof(T)];
  PutLe<T>(buf, v);
  out.append(buf, sizeof(T));
}
template <typename T>
T GetLe(const uint8_t* p) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return static_cast<T>(v);
}

// Appends one record: opcode, a length placeholder, fields; Finish() fills in the length.
class RecordBuilder {
 public:
  RecordBuilder(std::string& out, Opcode opcode) : out_(out), start_(out.size()) {
    out_.push_back(static_cast<char>(opcode));
    out_.append(8, '\0');
  }
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U16(uint16_t v) { PutLe(out_, v); }
  void U32(uint32_t v) { PutLe(out_, v); }
  void U64(uint64_t v) { PutLe(out_, v); }
  void String(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  void Bytes(std::span<const uint8_t> b) {
    out_.append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  void StringMap(const std::map<std::string, std::string>& m) {
    size_t bytes = 0;
    for (const auto& [k, v] : m) bytes += 8 + k.size() + v.size();
    U32(static_cast<uint32_t>(bytes));
    for (const auto& [k, v] : m) {
      String(k);
      String(v);
    }
  }
  void U16U64Map(const std::map<uint16_t, uint64_t>& m) {
    U32(static_cast<uint32_t>(m.size() * 10));
    for (const auto& [k, v] : m) {
      U16(k);
      U64(v);
    }
  }
  void Finish() { FinishWithTrailingBytes(0); }
  // For records whose last bytes are written separately (a chunk's records, the footer's CRC).
  void FinishWithTrailingBytes(uint64_t trailing) {
    PutLe<uint64_t>(out_.data() + start_ + 1, out_.size() - start_ - kRecordPrefixSize + trailing);
  }

 private:
  std::string& out_;
  size_t start_;
};

// Reads fields from a record's content, refusing to run past its end.
class FieldReader {
 public:
  explicit FieldReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  bool U8(uint8_t& v) { return Fixed(v); }
  bool U16(uint16_t& v) { return Fixed(v); }
  bool U32(uint32_t& v) { return Fixed(v); }
  bool U64(uint64_t& v) { return Fixed(v); }
  bool String(std::string_view& s) {
    uint32_t n = 0;
    if (!U32(n) || remaining() < n) return false;
    s = std::string_view(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
    pos_ += n;
    return true;
  }
  bool String(std::string& s) {
    std::string_view v;
    if (!String(v)) return false;
    s.assign(v);
    return true;
  }
  bool Bytes(size_t n, std::span<const uint8_t>& out) {
    if (remaining() < n) return false;
    out = bytes_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool StringMap(std::map<std::string, std::string>& m) {
    uint32_t n = 0;
    if (!U32(n) || remaining() < n) return false;
    FieldReader inner(bytes_.subspan(pos_, n));
    pos_ += n;
    while (inner.remaining() > 0) {
      std::string k, v;
      if (!inner.String(k) || !inner.String(v)) return false;
      m[std::move(k)] = std::move(v);
    }
    return true;
  }
  bool U16U64Map(std::map<uint16_t, uint64_t>& m) {
    uint32_t n = 0;
    if (!U32(n) || remaining() < n || n % 10 != 0) return false;
    for (uint32_t i = 0; i < n / 10; ++i) {
      uint16_t k = 0;
      uint64_t v = 0;
      if (!U16(k) || !U64(v)) return false;
      m[k] = v;
    }
    return true;
  }
  std::span<const uint8_t> Rest() {
    auto r = bytes_.subspan(pos_);
    pos_ = bytes_.size();
    return r;
  }
  size_t remaining() const { return bytes_.size() - pos_; }
  size_t position() const { return pos_; }

 private:
  template <typename T>
  bool Fixed(T& v) {
    if (remaining() < sizeof(T)) return false;
    v = GetLe<T>(bytes_.data() + pos_);
    pos_ += sizeof(T);
    return true;
  }
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

// No chunk is inflated beyond this, whatever its header claims (the writer's chunks are ~1 MiB).
inline constexpr uint64_t kMaxInflatedChunkBytes = uint64_t{1} << 30;

// Inflates a chunk's records into `out`; an empty string on success, else the reason.
// `zstd_context` is a reusable ZSTD_DCtx* (created on first use, freed by the caller).
std::string InflateChunk(std::string_view compression, std::span<const uint8_t> records,
                         uint64_t uncompressed_size, std::string& out, void*& zstd_context);

}  // namespace lgs::protocol::mcap
