// ExtentSet: the byte ranges of a file that have arrived, merged as they touch, and what is
// still missing. Memory grows with the number of separate pieces that arrived (at most one entry
// per PDU), never with a size a PDU claims. Not thread-safe: one owner.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

namespace lgs::protocol::cfdp {

struct Extent {
  uint64_t start = 0, end = 0;  // [start, end)
  bool operator==(const Extent&) const = default;
};

class ExtentSet {
 public:
  // Adds [start, end); calls `fresh` with each part of it that was not there before (so a
  // checksum or a byte count takes every byte once). Returns the number of new bytes.
  uint64_t Add(uint64_t start, uint64_t end,
               const std::function<void(uint64_t, uint64_t)>& fresh = {});
  bool Contains(uint64_t start, uint64_t end) const;
  uint64_t covered() const { return covered_; }  // bytes present
  size_t pieces() const { return extents_.size(); }
  uint64_t highest() const { return extents_.empty() ? 0 : extents_.rbegin()->second; }
  // The gaps in [0, upto), in order, at most `limit` of them.
  std::vector<Extent> Missing(uint64_t upto, size_t limit) const;
  uint64_t MissingBytes(uint64_t upto) const;
  std::vector<Extent> Present() const;

 private:
  std::map<uint64_t, uint64_t> extents_;  // start -> end, disjoint and not touching
  uint64_t covered_ = 0;
};

}  // namespace lgs::protocol::cfdp
