#include "groundstation/link_accounting.h"

#include <algorithm>

namespace lgs::station {
namespace {

template <typename F>
uint64_t SumStreams(const LinkSnapshot& s, F field) {
  uint64_t total = 0;
  for (const StreamStats& stream : s.streams) total += field(stream);
  return total;
}

}  // namespace

uint64_t LinkSnapshot::total_received() const {
  return SumStreams(*this, [](const StreamStats& s) { return s.received; });
}
uint64_t LinkSnapshot::total_bytes() const {
  return SumStreams(*this, [](const StreamStats& s) { return s.bytes; });
}
uint64_t LinkSnapshot::total_missing() const {
  return SumStreams(*this, [](const StreamStats& s) { return s.missing; });
}
uint64_t LinkSnapshot::total_gaps() const {
  return SumStreams(*this, [](const StreamStats& s) { return s.gaps; });
}
uint64_t LinkSnapshot::total_duplicates() const {
  return SumStreams(*this, [](const StreamStats& s) { return s.duplicates; });
}
uint64_t LinkSnapshot::total_lost() const {
  return SumStreams(*this, [](const StreamStats& s) { return s.lost; });
}
uint64_t LinkSnapshot::total_out_of_order() const {
  return SumStreams(*this, [](const StreamStats& s) { return s.out_of_order; });
}
protocol::TimestampNs LinkSnapshot::first_ground_ns() const {
  protocol::TimestampNs first = 0;
  for (const StreamStats& s : streams) {
    if (s.received > 0 && (first == 0 || s.first_ground_ns < first)) first = s.first_ground_ns;
  }
  return first;
}
protocol::TimestampNs LinkSnapshot::last_ground_ns() const {
  protocol::TimestampNs last = 0;
  for (const StreamStats& s : streams) last = std::max(last, s.last_ground_ns);
  return last;
}

uint64_t LinkSnapshot::total_rejected() const {
  uint64_t total = 0;
  for (uint64_t n : rejected) total += n;
  return total;
}

Arrival LinkAccounting::Observe(protocol::StreamId stream, uint32_t seq, size_t bytes,
                                protocol::TimestampNs onboard_ns, protocol::TimestampNs ground_ns) {
  const auto index = static_cast<size_t>(stream);
  std::lock_guard lock(mutex_);
  StreamStats& s = stats_.streams[index];
  auto& missing = missing_[index];

  Arrival arrival;
  if (!s.started) {
    s.started = true;
    s.first_seq = seq;
    s.highest_seq = seq;
    arrival = Arrival::kFirst;
    if (from_zero_ && seq > 0) {
      s.first_seq = 0;
      missing.emplace(0, seq - 1);
      s.missing += seq;
      ++s.gaps;
      arrival = Arrival::kAfterGap;
    }
  } else if (seq == s.highest_seq + 1ULL) {
    s.highest_seq = seq;
    arrival = Arrival::kInOrder;
  } else if (seq > s.highest_seq) {
    missing.emplace(s.highest_seq + 1, seq - 1);
    s.missing += seq - s.highest_seq - 1ULL;
    ++s.gaps;
    s.highest_seq = seq;
    arrival = Arrival::kAfterGap;
  } else {
    // Older than the newest: late if it falls in a missing range, otherwise a duplicate.
    // A sequence given up as lost may still turn up (it was on its way): it is welcome.
    const auto take = [seq](std::map<uint32_t, uint32_t>& ranges) {
      auto it = ranges.upper_bound(seq);
      if (it == ranges.begin() || (--it)->second < seq) return false;
      const uint32_t first = it->first, last = it->second;
      ranges.erase(it);
      if (first < seq) ranges.emplace(first, seq - 1);
      if (seq < last) ranges.emplace(seq + 1, last);
      return true;
    };
    if (take(missing)) {
      --s.missing;
    } else if (take(lost_[index])) {
      --s.lost;
    } else {
      ++s.duplicates;
      return Arrival::kDuplicate;
    }
    ++s.out_of_order;
    arrival = Arrival::kLate;
  }
  if (s.received == 0) s.first_ground_ns = ground_ns;
  ++s.received;
  s.bytes += bytes;
  const int64_t latency = ground_ns - onboard_ns - light_time_ns_;
  all_latency_.Record(latency);
  stream_latency_[index].Record(latency);
  s.last_onboard_ns = onboard_ns;
  s.last_ground_ns = ground_ns;
  return arrival;
}

void LinkAccounting::Reject(protocol::RejectReason reason) {
  std::lock_guard lock(mutex_);
  ++stats_.rejected[static_cast<size_t>(reason)];
}

namespace {

// Adds first..last to a map of disjoint ranges, merging with neighbours.
void AddRange(std::map<uint32_t, uint32_t>& ranges, uint32_t first, uint32_t last) {
  auto next = ranges.upper_bound(first);
  if (next != ranges.begin()) {
    auto prev = std::prev(next);
    if (uint64_t{prev->second} + 1 >= first) {
      first = prev->first;
      last = std::max(last, prev->second);
      ranges.erase(prev);
    }
  }
  next = ranges.lower_bound(first);
  while (next != ranges.end() && uint64_t{last} + 1 >= next->first) {
    last = std::max(last, next->second);
    next = ranges.erase(next);
  }
  ranges.emplace(first, last);
}

}  // namespace

uint64_t LinkAccounting::MarkLost(protocol::StreamId stream, uint32_t first, uint32_t last) {
  if (first > last) return 0;
  const auto index = static_cast<size_t>(stream);
  std::lock_guard lock(mutex_);
  StreamStats& s = stats_.streams[index];
  auto& missing = missing_[index];
  uint64_t newly_lost = 0;
  // Beyond the newest received (or on a stream not started): generated, never seen, gone.
  if (!s.started || last > s.highest_seq) {
    const uint32_t from = s.started ? std::max(first, s.highest_seq + 1) : first;
    if (!s.started) {
      s.started = true;
      s.first_seq = from_zero_ ? 0 : first;
      if (from_zero_ && first > 0) {
        missing.emplace(0, first - 1);
        s.missing += first;
        ++s.gaps;
      }
    } else if (from > s.highest_seq + 1ULL) {
      missing.emplace(s.highest_seq + 1, from - 1);
      s.missing += from - s.highest_seq - 1ULL;
      ++s.gaps;
    }
    AddRange(lost_[index], from, last);
    newly_lost += uint64_t{last} - from + 1;
    s.highest_seq = last;
    if (from == first) {
      s.lost += newly_lost;
      return newly_lost;
    }
    last = from - 1;
  }
  // Within what is known: only what is still missing becomes lost.
  auto it = missing.upper_bound(first);
  if (it != missing.begin() && std::prev(it)->second >= first) --it;
  while (it != missing.end() && it->first <= last) {
    const uint32_t m_first = it->first, m_last = it->second;
    const uint32_t cut_first = std::max(m_first, first), cut_last = std::min(m_last, last);
    it = missing.erase(it);
    if (m_first < cut_first) missing.emplace(m_first, cut_first - 1);
    if (cut_last < m_last) it = missing.emplace(cut_last + 1, m_last).first;
    const uint64_t n = uint64_t{cut_last} - cut_first + 1;
    s.missing -= n;
    newly_lost += n;
    AddRange(lost_[index], cut_first, cut_last);
  }
  s.lost += newly_lost;
  return newly_lost;
}

void LinkAccounting::SeedRecorded(protocol::StreamId stream,
                                  const std::vector<SequenceRange>& recorded) {
  if (recorded.empty()) return;
  const auto index = static_cast<size_t>(stream);
  std::lock_guard lock(mutex_);
  StreamStats& s = stats_.streams[index];
  auto& missing = missing_[index];
  s.started = true;
  s.first_seq = from_zero_ ? 0 : recorded.front().first;
  s.highest_seq = recorded.back().last;
  uint64_t expected = s.first_seq;
  for (const SequenceRange& r : recorded) {
    if (r.first > expected) {
      missing.emplace(static_cast<uint32_t>(expected), r.first - 1);
      s.missing += r.first - expected;
      ++s.gaps;
    }
    s.recorded_before += uint64_t{r.last} - r.first + 1;
    expected = uint64_t{r.last} + 1;
  }
}

std::vector<SequenceRange> LinkAccounting::LostRanges(protocol::StreamId stream,
                                                      size_t limit) const {
  std::lock_guard lock(mutex_);
  std::vector<SequenceRange> ranges;
  for (const auto& [first, last] : lost_[static_cast<size_t>(stream)]) {
    if (ranges.size() >= limit) break;
    ranges.push_back({first, last});
  }
  return ranges;
}

LinkSnapshot LinkAccounting::Snapshot() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::vector<SequenceRange> LinkAccounting::MissingRanges(protocol::StreamId stream,
                                                         size_t limit) const {
  std::lock_guard lock(mutex_);
  std::vector<SequenceRange> ranges;
  for (const auto& [first, last] : missing_[static_cast<size_t>(stream)]) {
    if (ranges.size() >= limit) break;
    ranges.push_back({first, last});
  }
  return ranges;
}

LatencySummary LinkAccounting::Latency(std::optional<protocol::StreamId> stream) const {
  std::lock_guard lock(mutex_);
  const LatencyHistogram& h = stream ? stream_latency_[static_cast<size_t>(*stream)] : all_latency_;
  return {h.count(),          h.negative(),        h.Percentile(0.5),
          h.Percentile(0.99), h.Percentile(0.999), h.max()};
}

}  // namespace lgs::station
