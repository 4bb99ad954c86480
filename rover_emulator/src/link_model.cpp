#include "rover_emulator/link_model.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace lgs::emulator {
namespace {

constexpr double kNsPerS = 1e9;
constexpr uint64_t kLinkStream = 0x11'4e'4b'00;  // separates link draws from the rover's
// A held (reordered) packet is released after this long even if nothing overtakes it.
constexpr int64_t kMaxHoldNs = 2'000'000'000;
constexpr TimestampNs kNever = std::numeric_limits<TimestampNs>::max();

}  // namespace

std::string_view NameOf(LinkFate fate) {
  switch (fate) {
    case LinkFate::kDelivered:
      return "delivered";
    case LinkFate::kCorrupted:
      return "corrupted";
    case LinkFate::kDuplicate:
      return "duplicate";
    case LinkFate::kDropped:
      return "dropped";
    case LinkFate::kEvicted:
      return "evicted";
    case LinkFate::kPending:
      return "pending";
  }
  return "unknown";
}

LinkModel::LinkModel(LinkProfile profile, uint64_t seed, TimestampNs mission_start_ns)
    : profile_(std::move(profile)),
      random_(seed ^ kLinkStream),
      mission_start_ns_(mission_start_ns),
      link_free_ns_(mission_start_ns),
      light_time_ns_(static_cast<int64_t>(std::llround(profile_.light_time_s * kNsPerS))) {}

double LinkModel::MissionSeconds(TimestampNs t) const {
  return static_cast<double>(t - mission_start_ns_) / kNsPerS;
}

bool LinkModel::InOutage(TimestampNs t) const {
  return profile_.InOutage(MissionSeconds(t));
}

void LinkModel::Keep(const LinkPacket& p) {
  if (profile_.retransmit_store_packets == 0) return;
  const auto index = static_cast<size_t>(p.stream->id);
  topics_[index] = p.topic;
  KeptStream& k = kept_[index];
  if (k.packets.empty() || p.sequence != k.first_seq + k.packets.size()) {
    // Sequences are consecutive per stream; anything else starts the stream's store afresh.
    if (!k.packets.empty()) std::erase(kept_order_, p.stream->id);  // rare: a discontinuity
    k.packets.clear();
    k.first_seq = p.sequence;
  }
  k.packets.push_back({p.bytes, p.onboard_time_ns, true, false});
  kept_order_.push_back(p.stream->id);
  while (kept_order_.size() > profile_.retransmit_store_packets) {
    KeptStream& oldest = kept_[static_cast<size_t>(kept_order_.front())];
    kept_order_.pop_front();
    oldest.packets.pop_front();
    ++oldest.first_seq;
  }
}

LinkModel::Kept* LinkModel::FindKept(const LinkPacket& p) {
  KeptStream& k = kept_[static_cast<size_t>(p.stream->id)];
  if (p.sequence < k.first_seq || p.sequence - k.first_seq >= k.packets.size()) return nullptr;
  return &k.packets[p.sequence - k.first_seq];
}

RetransmitResult LinkModel::Retransmit(protocol::StreamId stream, uint32_t first, uint32_t last) {
  RetransmitResult result;
  if (first > last) return result;
  const auto index = static_cast<size_t>(stream);
  const KeptStream& k = kept_[index];
  const auto unavailable = [&](uint32_t seq) {
    if (!result.unavailable.empty() && result.unavailable.back().second + 1ULL == seq) {
      result.unavailable.back().second = seq;
    } else {
      result.unavailable.emplace_back(seq, seq);
    }
  };
  // Sequences before what the store keeps were generated (the store only forgets) but are gone.
  if (first < k.first_seq) {
    result.unavailable.emplace_back(first, std::min<uint32_t>(last, k.first_seq - 1));
    if (last < k.first_seq) return result;
    first = k.first_seq;
  }
  const uint64_t end = std::min<uint64_t>(uint64_t{last} + 1, k.first_seq + k.packets.size());
  for (uint64_t seq = first; seq < end; ++seq) {
    const Kept& kept = k.packets[seq - k.first_seq];
    if (!kept.present) {
      unavailable(static_cast<uint32_t>(seq));
      continue;
    }
    if (!kept.transmitted) continue;
    if (retransmit_.size() >= profile_.retransmit_store_packets) break;
    // The CRC the packet carries (its last two bytes), as the truth file reports it.
    const auto* b = reinterpret_cast<const uint8_t*>(kept.bytes.data());
    const size_t n = kept.bytes.size();
    LinkPacket packet{&protocol::Stream(stream),
                      topics_[index],
                      static_cast<uint32_t>(seq),
                      kept.onboard_time_ns,
                      static_cast<uint16_t>((b[n - 2] << 8) | b[n - 1]),
                      kept.bytes};
    retransmit_.push_back({std::move(packet), 0, true});
    ++result.queued;
    ++stats_.retransmitted;
  }
  return result;
}

void LinkModel::OfferUplink(std::string packet, TimestampNs now_ns) {
  ++stats_.uplink_offered;
  const TimestampNs arrival = now_ns + light_time_ns_;
  if (stats_.uplink_offered <= profile_.uplink_lose_first || InOutage(now_ns) ||
      InOutage(arrival) ||
      (profile_.uplink_loss_probability > 0 && random_.Chance(profile_.uplink_loss_probability))) {
    ++stats_.uplink_lost;
    return;
  }
  uplink_.push_back({std::move(packet), arrival});
}

void LinkModel::TakeUplink(TimestampNs now_ns, std::vector<std::string>& out) {
  while (!uplink_.empty() && uplink_.front().arrival_ns <= now_ns) {
    out.push_back(std::move(uplink_.front().packet));
    uplink_.pop_front();
    ++stats_.uplink_delivered;
  }
}

void LinkModel::Offer(LinkPacket packet, TimestampNs now_ns) {
  ++stats_.offered;
  Keep(packet);
  Queued q{std::move(packet), now_ns};
  if (InOutage(now_ns)) {
    Store(std::move(q), decided_);
  } else {
    realtime_.push_back(std::move(q));
  }
}

void LinkModel::OfferFile(LinkPacket packet, TimestampNs now_ns) {
  ++stats_.offered;
  file_.push_back({std::move(packet), now_ns});
}

void LinkModel::Store(Queued q, std::vector<LinkOutcome>& out) {
  if (profile_.store_capacity_packets == 0) {
    ++stats_.evicted;
    if (Kept* kept = FindKept(q.packet)) kept->present = false;
    out.push_back({std::move(q.packet), LinkFate::kEvicted, 0, 0, true, false});
    return;
  }
  while (store_.size() >= profile_.store_capacity_packets) {
    ++stats_.evicted;
    if (Kept* kept = FindKept(store_.front().packet)) kept->present = false;
    out.push_back({std::move(store_.front().packet), LinkFate::kEvicted, 0, 0, true, false});
    store_.pop_front();
  }
  ++stats_.stored;
  store_.push_back(std::move(q));
}

void LinkModel::Arrive(LinkOutcome o) {
  // Every packet in flight took the same light time, so arrivals stay ordered by send time;
  // a held packet re-enters at its release time, which is never earlier than the last arrival.
  if (!in_flight_.empty() && o.arrival_ns < in_flight_.back().arrival_ns) {
    o.arrival_ns = in_flight_.back().arrival_ns;
  }
  in_flight_.push_back(std::move(o));
}

void LinkModel::Transmit(Queued q, bool from_store, TimestampNs start_ns,
                         std::vector<LinkOutcome>& out) {
  const double bits = static_cast<double>(q.packet.bytes.size()) * 8.0;
  const int64_t duration_ns = profile_.bandwidth_bps > 0
                                  ? static_cast<int64_t>(bits / profile_.bandwidth_bps * kNsPerS)
                                  : 0;
  link_free_ns_ = start_ns + duration_ns;
  const TimestampNs arrival = link_free_ns_ + light_time_ns_;
  if (!q.retransmitted) {
    if (Kept* kept = FindKept(q.packet)) kept->transmitted = true;
  }

  LinkOutcome o{std::move(q.packet), LinkFate::kDelivered, start_ns, arrival, from_store, false,
                q.retransmitted};
  if (profile_.loss_probability > 0 && random_.Chance(profile_.loss_probability)) {
    ++stats_.dropped;
    o.fate = LinkFate::kDropped;
    o.arrival_ns = 0;
    out.push_back(std::move(o));
    return;
  }
  if (profile_.bit_error_rate > 0 &&
      random_.Chance(1.0 - std::pow(1.0 - profile_.bit_error_rate, bits))) {
    const auto bit = static_cast<size_t>(random_.Uniform() * bits);
    o.packet.bytes[bit / 8] = static_cast<char>(o.packet.bytes[bit / 8] ^ (1 << (bit % 8)));
    o.fate = LinkFate::kCorrupted;
    ++stats_.corrupted;
  } else {
    ++stats_.delivered;
  }
  // Only intact packets are duplicated, so a copy is always a good one (fate kDuplicate).
  const bool duplicate = profile_.duplicate_probability > 0 &&
                         random_.Chance(profile_.duplicate_probability) &&
                         o.fate == LinkFate::kDelivered;
  const auto send_copy = [&](TimestampNs at) {
    LinkOutcome copy = o;
    copy.fate = LinkFate::kDuplicate;
    copy.reordered = false;
    copy.arrival_ns = at;
    ++stats_.duplicated;
    Arrive(std::move(copy));
    Overtaken(arrival);
  };
  if (profile_.reorder_probability > 0 && random_.Chance(profile_.reorder_probability)) {
    ++stats_.reordered;
    o.reordered = true;
    const int overtakes =
        1 + static_cast<int>(random_.Uniform() * std::max(1, profile_.reorder_window));
    if (duplicate) send_copy(arrival);  // the copy goes first; the original comes later
    held_.push_back(
        {std::move(o), std::min(overtakes, profile_.reorder_window), arrival + kMaxHoldNs});
    return;
  }
  if (duplicate) {
    Arrive(LinkOutcome(o));
    Overtaken(arrival);
    send_copy(arrival + duration_ns);
    return;
  }
  Arrive(std::move(o));
  Overtaken(arrival);
}

void LinkModel::Overtaken(TimestampNs arrival_ns) {
  // A packet just arrived: it overtook every held one. Those whose window is used up arrive now,
  // and each of them overtakes the others still held.
  std::vector<LinkOutcome> released;
  for (auto it = held_.begin(); it != held_.end();) {
    if (--it->overtakes_left <= 0) {
      it->outcome.arrival_ns = arrival_ns;
      released.push_back(std::move(it->outcome));
      it = held_.erase(it);
    } else {
      ++it;
    }
  }
  for (LinkOutcome& o : released) {
    Arrive(std::move(o));
    Overtaken(arrival_ns);
  }
}

void LinkModel::Advance(TimestampNs now_ns, std::vector<LinkOutcome>& out) {
  for (LinkOutcome& d : decided_) out.push_back(std::move(d));
  decided_.clear();
  while (!realtime_.empty() || !retransmit_.empty() || !store_.empty() || !file_.empty()) {
    // Real time first, then what the ground asked for again, then the outage store, then files.
    const bool from_store = realtime_.empty() && retransmit_.empty() && !store_.empty();
    std::deque<Queued>& queue = !realtime_.empty()     ? realtime_
                                : !retransmit_.empty() ? retransmit_
                                : !store_.empty()      ? store_
                                                       : file_;
    Queued& next = queue.front();
    const TimestampNs start = std::max(link_free_ns_, next.ready_ns);
    if (start > now_ns) break;
    if (InOutage(start)) {
      // Loss of signal: whatever waits for the link goes to the store, in order.
      while (!realtime_.empty()) {
        Store(std::move(realtime_.front()), out);
        realtime_.pop_front();
      }
      const double end_s = profile_.OutageEnd(MissionSeconds(start));
      link_free_ns_ =
          std::max(start + 1, mission_start_ns_ + static_cast<TimestampNs>(end_s * kNsPerS));
      continue;
    }
    Queued q = std::move(next);
    queue.pop_front();
    Transmit(std::move(q), from_store, start, out);
  }
  // Held packets nothing overtook in time arrive on their own.
  std::vector<LinkOutcome> expired;
  for (auto it = held_.begin(); it != held_.end();) {
    if (it->release_by_ns <= now_ns) {
      it->outcome.arrival_ns = it->release_by_ns;
      expired.push_back(std::move(it->outcome));
      it = held_.erase(it);
    } else {
      ++it;
    }
  }
  for (LinkOutcome& o : expired) {
    const TimestampNs at = o.arrival_ns;
    Arrive(std::move(o));
    Overtaken(at);
  }
  while (!in_flight_.empty() && in_flight_.front().arrival_ns <= now_ns) {
    out.push_back(std::move(in_flight_.front()));
    in_flight_.pop_front();
  }
}

TimestampNs LinkModel::NextEventNs() const {
  TimestampNs next = kNever;
  if (!decided_.empty()) return mission_start_ns_;  // report at once
  if (!in_flight_.empty()) next = std::min(next, in_flight_.front().arrival_ns);
  for (const Held& h : held_) next = std::min(next, h.release_by_ns);
  if (!uplink_.empty()) next = std::min(next, uplink_.front().arrival_ns);
  if (!realtime_.empty()) {
    next = std::min(next, std::max(link_free_ns_, realtime_.front().ready_ns));
  } else if (!retransmit_.empty()) {
    next = std::min(next, std::max(link_free_ns_, retransmit_.front().ready_ns));
  } else if (!store_.empty()) {
    next = std::min(next, std::max(link_free_ns_, store_.front().ready_ns));
  } else if (!file_.empty()) {
    next = std::min(next, std::max(link_free_ns_, file_.front().ready_ns));
  }
  return next;
}

void LinkModel::Drain(std::vector<LinkOutcome>& out) {
  for (LinkOutcome& d : decided_) out.push_back(std::move(d));
  decided_.clear();
  const auto pending = [&](LinkPacket p, bool from_store) {
    out.push_back({std::move(p), LinkFate::kPending, 0, 0, from_store, false});
  };
  for (LinkOutcome& o : in_flight_) {
    o.fate = LinkFate::kPending;
    out.push_back(std::move(o));
  }
  in_flight_.clear();
  for (Held& h : held_) {
    h.outcome.fate = LinkFate::kPending;
    out.push_back(std::move(h.outcome));
  }
  held_.clear();
  for (Queued& q : store_) pending(std::move(q.packet), true);
  store_.clear();
  for (Queued& q : realtime_) pending(std::move(q.packet), false);
  realtime_.clear();
  for (Queued& q : retransmit_) {
    out.push_back({std::move(q.packet), LinkFate::kPending, 0, 0, false, false, true});
  }
  retransmit_.clear();
  for (Queued& q : file_) pending(std::move(q.packet), false);
  file_.clear();
}

}  // namespace lgs::emulator
