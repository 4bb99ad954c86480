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
    auto it = missing.upper_bound(seq);
    if (it == missing.begin() || (--it)->second < seq) {
      ++s.duplicates;
      return Arrival::kDuplicate;
    }
    const uint32_t first = it->first, last = it->second;
    missing.erase(it);
    if (first < seq) missing.emplace(first, seq - 1);
    if (seq < last) missing.emplace(seq + 1, last);
    --s.missing;
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
