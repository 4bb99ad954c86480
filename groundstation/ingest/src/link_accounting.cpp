#include "groundstation/link_accounting.h"

#include <algorithm>
#include <limits>

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

namespace {

// Takes `seq` out of a map of disjoint ranges (first -> last); false if it is in none.
bool Take(std::map<uint32_t, uint32_t>& ranges, uint32_t seq) {
  auto it = ranges.upper_bound(seq);
  if (it == ranges.begin() || (--it)->second < seq) return false;
  const uint32_t first = it->first, last = it->second;
  ranges.erase(it);
  if (first < seq) ranges.emplace(first, seq - 1);
  if (seq < last) ranges.emplace(seq + 1, last);
  return true;
}

uint64_t Distance(uint32_t a, uint32_t b) {
  return a > b ? uint64_t{a} - b : uint64_t{b} - a;
}

// A packet numbered like one already seen but this much newer on board is from a restarted
// numbering, not a copy (CUC time resolution and clock corrections are far finer).
constexpr protocol::TimestampNs kRestartAfterNs = 1'000'000'000;

}  // namespace

bool LinkAccounting::Plausible(size_t index, uint32_t seq, protocol::TimestampNs onboard_ns) const {
  const StreamStats& s = stats_.streams[index];
  const uint64_t window = options_.plausible_jump;
  if (!s.started) return !options_.from_zero || seq <= window;  // else: the baseline
  if (seq >= s.first_seq && seq <= s.highest_seq) {
    // Late or a copy: either carries its own on-board time, no newer than the newest packet's.
    // One from well after it is neither: the rover's numbering restarted (a reboot), and the
    // new numbers overlap the old. Held as a suspect, it is believed once the next one agrees.
    const protocol::TimestampNs newest = highest_onboard_ns_[index];
    return newest == 0 || onboard_ns <= newest + kRestartAfterNs;
  }
  if (seq < s.first_seq) return uint64_t{s.first_seq} - seq <= window;
  const uint64_t jump = uint64_t{seq} - s.highest_seq;
  if (jump <= window) return true;
  // A longer jump is an outage or a lost stretch when the on-board clock moved on as far.
  const double dt_s = static_cast<double>(onboard_ns - highest_onboard_ns_[index]) / 1e9;
  if (!(dt_s > 0 && dt_s <= options_.max_plausible_gap_s)) return false;
  const double rate = std::max(protocol::AllStreams()[index].nominal_rate_hz, 1.0);
  return static_cast<double>(jump) <= options_.rate_margin * rate * dt_s + window;
}

protocol::TimestampNs LinkAccounting::HoldNs(size_t index, bool started) const {
  double hold = options_.suspect_hold_s;
  const double rate = protocol::AllStreams()[index].nominal_rate_hz;
  // A jump on a slow stream waits for its next packets; a first packet waits only the minimum.
  if (started && rate > 0) hold = std::min(std::max(hold, 3.0 / rate), 60.0);
  return static_cast<protocol::TimestampNs>(hold * 1e9);
}

void LinkAccounting::Count(size_t index, size_t bytes, protocol::TimestampNs onboard_ns,
                           protocol::TimestampNs ground_ns) {
  StreamStats& s = stats_.streams[index];
  if (s.received == 0) s.first_ground_ns = ground_ns;
  ++s.received;
  s.bytes += bytes;
  s.last_onboard_ns = onboard_ns;
  s.last_ground_ns = ground_ns;
}

Arrival LinkAccounting::Account(size_t index, uint32_t seq, size_t bytes,
                                protocol::TimestampNs onboard_ns, protocol::TimestampNs ground_ns,
                                Observation* latency_out) {
  StreamStats& s = stats_.streams[index];
  auto& missing = missing_[index];
  Arrival arrival;
  if (!s.started) {
    s.started = true;
    s.first_seq = seq;
    s.highest_seq = seq;
    highest_onboard_ns_[index] = onboard_ns;
    arrival = Arrival::kFirst;
    if (options_.from_zero && seq > 0) {
      s.first_seq = 0;
      missing.emplace(0, seq - 1);
      s.missing += seq;
      ++s.gaps;
      arrival = Arrival::kAfterGap;
    }
  } else if (seq == s.highest_seq + 1ULL) {
    s.highest_seq = seq;
    highest_onboard_ns_[index] = onboard_ns;
    arrival = Arrival::kInOrder;
  } else if (seq > s.highest_seq) {
    missing.emplace(s.highest_seq + 1, seq - 1);
    s.missing += seq - s.highest_seq - 1ULL;
    ++s.gaps;
    s.highest_seq = seq;
    highest_onboard_ns_[index] = onboard_ns;
    arrival = Arrival::kAfterGap;
  } else if (seq < s.first_seq) {
    // Older than anything seen (reordered, or sent just before this station listened): it
    // arrived, so it counts; what lies between it and the first is missing.
    if (seq + 1ULL < s.first_seq) {
      missing.emplace(seq + 1, s.first_seq - 1);
      s.missing += s.first_seq - seq - 1ULL;
      ++s.gaps;
    }
    s.first_seq = seq;
    ++s.out_of_order;
    arrival = Arrival::kLate;
  } else {
    // Older than the newest: late if it falls in a missing range, otherwise a duplicate.
    // A sequence given up as lost may still turn up (it was on its way): it is welcome.
    if (Take(missing, seq)) {
      --s.missing;
    } else if (Take(lost_[index], seq)) {
      --s.lost;
    } else {
      ++s.duplicates;
      return Arrival::kDuplicate;
    }
    ++s.out_of_order;
    arrival = Arrival::kLate;
  }
  Count(index, bytes, onboard_ns, ground_ns);
  // Latency is the link's: a late packet (retransmitted, played back from the store) measures how
  // long it waited on board instead.
  if (arrival != Arrival::kLate) {
    const ClockCorrelation::Sample latency = clock_.Observe(onboard_ns, ground_ns);
    if (clock_.TakeSwitchedToRelative()) {
      // What was recorded while learning was measured against the wrong clock.
      all_latency_ = LatencyHistogram();
      for (LatencyHistogram& h : stream_latency_) h = LatencyHistogram();
    }
    all_latency_.Record(latency.latency_ns);
    stream_latency_[index].Record(latency.latency_ns);
    if (latency_out != nullptr) {
      latency_out->has_latency = true;
      latency_out->latency_settled = latency.settled;
      latency_out->latency_ns = latency.latency_ns;
    }
  }
  return arrival;
}

std::string LinkAccounting::LatencyBasis() const {
  std::lock_guard lock(mutex_);
  return clock_.Describe();
}

void LinkAccounting::Resync(size_t index, uint32_t seq) {
  StreamStats& s = stats_.streams[index];
  ++s.resyncs;
  if (!s.started || seq > s.highest_seq) return;  // forward: Account() opens the gap
  // Backward, far below anything seen: the rover's numbering restarted (a reboot that lost its
  // counters). What was missing can no longer be asked for by number: lost.
  s.lost += s.missing;
  s.missing = 0;
  missing_[index].clear();
  lost_[index].clear();
  s.first_seq = seq;
  s.highest_seq = seq;
  s.started = false;  // Account() takes `seq` as the new baseline
}

Observation LinkAccounting::Observe(protocol::StreamId stream, uint32_t seq, size_t bytes,
                                    protocol::TimestampNs onboard_ns,
                                    protocol::TimestampNs ground_ns) {
  const auto index = static_cast<size_t>(stream);
  std::lock_guard lock(mutex_);
  StreamStats& s = stats_.streams[index];
  std::vector<Suspect>& held = suspects_[index];
  Observation o;
  for (const Suspect& h : held) {
    if (h.seq == seq) {  // a copy of a held packet adds nothing (and confirms nothing)
      ++s.duplicates;
      o.arrival = Arrival::kDuplicate;
      return o;
    }
  }
  if (Plausible(index, seq, onboard_ns)) {
    o.arrival = Account(index, seq, bytes, onboard_ns, ground_ns, &o);
    return o;
  }
  // Implausible against what the stream has: close to a held suspect, it confirms the jump.
  const auto close = [&](const Suspect& h) {
    return Distance(h.seq, seq) <= options_.plausible_jump;
  };
  if (std::any_of(held.begin(), held.end(), close)) {
    std::vector<Suspect> confirmed, rest;
    for (const Suspect& h : held) (close(h) ? confirmed : rest).push_back(h);
    held.clear();
    std::sort(confirmed.begin(), confirmed.end(),
              [](const Suspect& a, const Suspect& b) { return a.seq < b.seq; });
    Resync(index, confirmed.front().seq);
    for (const Suspect& h : confirmed) {
      o.released[o.released_count++] = {stream, h.seq,
                                        Account(index, h.seq, h.bytes, h.onboard_ns, h.ground_ns)};
    }
    for (const Suspect& h : rest) {
      o.discarded[o.discarded_count++] = h.seq;
      ++s.implausible;
      ++stats_.rejected[static_cast<size_t>(protocol::RejectReason::kImplausibleSequence)];
    }
    o.arrival = Account(index, seq, bytes, onboard_ns, ground_ns, &o);
    return o;
  }
  if (held.size() >= kMaxSuspects) {
    o.discarded[o.discarded_count++] = held.front().seq;
    held.erase(held.begin());
    ++s.implausible;
    ++stats_.rejected[static_cast<size_t>(protocol::RejectReason::kImplausibleSequence)];
  }
  const bool restart = s.started && seq >= s.first_seq && seq <= s.highest_seq;
  held.push_back({seq, bytes, onboard_ns, ground_ns, restart});
  ++s.suspects;
  o.arrival = Arrival::kSuspect;
  return o;
}

void LinkAccounting::Expire(protocol::TimestampNs ground_now_ns, std::vector<Expired>& out) {
  std::lock_guard lock(mutex_);
  for (size_t index = 0; index < protocol::kStreamCount; ++index) {
    std::vector<Suspect>& held = suspects_[index];
    if (held.empty()) continue;
    StreamStats& s = stats_.streams[index];
    const auto stream = static_cast<protocol::StreamId>(index);
    const protocol::TimestampNs hold = HoldNs(index, s.started);
    const auto due = [&](const Suspect& h) {
      return ground_now_ns == std::numeric_limits<protocol::TimestampNs>::max() ||
             ground_now_ns - h.ground_ns >= hold;
    };
    // A stream with nothing yet (gap fill expecting it to start at 0) has no sequence of its
    // own to contradict a first packet: the newest one whose time ran out becomes the baseline.
    std::optional<size_t> baseline;
    if (!s.started) {
      for (size_t i = 0; i < held.size(); ++i) {
        if (due(held[i])) baseline = i;
      }
    }
    std::vector<Suspect> keep;
    for (size_t i = 0; i < held.size(); ++i) {
      const Suspect& h = held[i];
      if (!due(h) && !(baseline && i < *baseline)) {
        keep.push_back(h);
        continue;
      }
      if (baseline && i == *baseline) {
        out.push_back(
            {stream, h.seq, true, Account(index, h.seq, h.bytes, h.onboard_ns, h.ground_ns)});
        continue;
      }
      // A restarted numbering nothing newer on board has contradicted since: the rover's.
      if (h.restart && s.started && h.onboard_ns > highest_onboard_ns_[index] + kRestartAfterNs) {
        Resync(index, h.seq);
        out.push_back(
            {stream, h.seq, true, Account(index, h.seq, h.bytes, h.onboard_ns, h.ground_ns)});
        continue;
      }
      ++s.implausible;
      ++stats_.rejected[static_cast<size_t>(protocol::RejectReason::kImplausibleSequence)];
      out.push_back({stream, h.seq, false, Arrival::kSuspect});
    }
    held = std::move(keep);
  }
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
  // Nothing beyond what the stream could plausibly have sent: a report of more (corrupted, or
  // forged) would move the newest far ahead and make every genuine packet look late.
  const uint64_t window = options_.plausible_jump;
  const uint64_t reach = s.started            ? uint64_t{s.highest_seq} + window
                         : options_.from_zero ? window
                                              : uint64_t{first} + window;
  if (first > reach) {
    ++s.ignored_reports;
    return 0;
  }
  if (last > reach) {
    ++s.ignored_reports;
    last = static_cast<uint32_t>(reach);
  }
  // Beyond the newest received (or on a stream not started): generated, never seen, gone.
  if (!s.started || last > s.highest_seq) {
    const uint32_t from = s.started ? std::max(first, s.highest_seq + 1) : first;
    if (!s.started) {
      s.started = true;
      s.first_seq = options_.from_zero ? 0 : first;
      if (options_.from_zero && first > 0) {
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

uint64_t LinkAccounting::SeedRecorded(protocol::StreamId stream,
                                      const std::vector<SequenceRange>& all_recorded,
                                      protocol::TimestampNs newest_onboard_ns) {
  if (all_recorded.empty()) return 0;
  // The stream is its largest cluster of recorded sequences (clusters split where more than the
  // plausible jump separates them); the rest is what a corrupted packet made an older station
  // believe, and must not put the newest out of reach again.
  size_t best_begin = 0, best_end = 0, begin = 0;
  uint64_t best_count = 0, count = 0, total = 0;
  for (size_t i = 0; i <= all_recorded.size(); ++i) {
    const bool split = i == all_recorded.size() ||
                       (i > begin && uint64_t{all_recorded[i].first} - all_recorded[i - 1].last >
                                         options_.plausible_jump);
    if (split) {
      if (count >= best_count) {
        best_count = count;
        best_begin = begin;
        best_end = i;
      }
      begin = i;
      count = 0;
    }
    if (i == all_recorded.size()) break;
    const uint64_t n = uint64_t{all_recorded[i].last} - all_recorded[i].first + 1;
    count += n;
    total += n;
  }
  const std::vector<SequenceRange> recorded(all_recorded.begin() + best_begin,
                                            all_recorded.begin() + best_end);
  const auto index = static_cast<size_t>(stream);
  std::lock_guard lock(mutex_);
  StreamStats& s = stats_.streams[index];
  auto& missing = missing_[index];
  s.started = true;
  s.first_seq = options_.from_zero ? 0 : recorded.front().first;
  s.highest_seq = recorded.back().last;
  highest_onboard_ns_[index] = std::max(highest_onboard_ns_[index], newest_onboard_ns);
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
  return total - best_count;
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
  return {h.count(),           h.negative(), h.Percentile(0.5), h.Percentile(0.99),
          h.Percentile(0.999), h.max(),      clock_.basis(),    clock_.rate()};
}

}  // namespace lgs::station
