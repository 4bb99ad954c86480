#include "protocol/cfdp_extents.h"

#include <algorithm>

namespace lgs::protocol::cfdp {

uint64_t ExtentSet::Add(uint64_t start, uint64_t end,
                        const std::function<void(uint64_t, uint64_t)>& fresh) {
  if (end <= start) return 0;
  // The first extent that could touch [start, end): the one starting at or before `start`.
  auto it = extents_.upper_bound(start);
  if (it != extents_.begin()) {
    auto prev = std::prev(it);
    if (prev->second >= start) it = prev;
  }
  uint64_t new_start = start, new_end = end, added = 0, cursor = start;
  while (it != extents_.end() && it->first <= end) {
    // [cursor, it->first) is new, inside [start, end).
    if (it->first > cursor) {
      const uint64_t piece_end = std::min(it->first, end);
      if (fresh) fresh(cursor, piece_end);
      added += piece_end - cursor;
    }
    cursor = std::max(cursor, it->second);
    new_start = std::min(new_start, it->first);
    new_end = std::max(new_end, it->second);
    covered_ -= it->second - it->first;
    it = extents_.erase(it);
  }
  if (cursor < end) {
    if (fresh) fresh(cursor, end);
    added += end - cursor;
  }
  extents_.emplace(new_start, new_end);
  covered_ += new_end - new_start;
  return added;
}

bool ExtentSet::Contains(uint64_t start, uint64_t end) const {
  if (end <= start) return true;
  auto it = extents_.upper_bound(start);
  if (it == extents_.begin()) return false;
  --it;
  return it->first <= start && it->second >= end;
}

std::vector<Extent> ExtentSet::Missing(uint64_t upto, size_t limit) const {
  std::vector<Extent> gaps;
  uint64_t cursor = 0;
  for (const auto& [s, e] : extents_) {
    if (gaps.size() >= limit || cursor >= upto) break;
    if (s > cursor) gaps.push_back({cursor, std::min(s, upto)});
    cursor = std::max(cursor, e);
  }
  if (gaps.size() < limit && cursor < upto) gaps.push_back({cursor, upto});
  return gaps;
}

uint64_t ExtentSet::MissingBytes(uint64_t upto) const {
  uint64_t present = 0;
  for (const auto& [s, e] : extents_) {
    if (s >= upto) break;
    present += std::min(e, upto) - s;
  }
  return upto - present;
}

std::vector<Extent> ExtentSet::Present() const {
  std::vector<Extent> out;
  out.reserve(extents_.size());
  for (const auto& [s, e] : extents_) out.push_back({s, e});
  return out;
}

}  // namespace lgs::protocol::cfdp
