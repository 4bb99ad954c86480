#include "groundstation/gap_filler.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace lgs::station {
namespace {

// How many missing ranges per stream one poll looks at; more wait for the next polls.
constexpr size_t kRangesPerStreamPerPoll = 4096;
constexpr uint32_t kEndOfTime = std::numeric_limits<uint32_t>::max();

GapFiller::Clock::duration Seconds(double s) {
  return std::chrono::duration_cast<GapFiller::Clock::duration>(std::chrono::duration<double>(s));
}

}  // namespace

Status GapFillOptions::Validate() const {
  if (uplink.empty()) return Status::Error("gap fill needs an uplink endpoint");
  if (!(tick_s > 0 && grace_s >= 0 && margin_s >= 0 && max_backoff_s > 0 && tail_probe_s >= 0)) {
    return Status::Error("gap fill intervals must be positive");
  }
  if (max_ranges_per_request == 0 || max_packets_in_flight == 0) {
    return Status::Error("gap fill batch limits must be positive");
  }
  if (!(downlink_packets_per_s > 0)) return Status::Error("downlink packet rate must be positive");
  return Status::Ok();
}

GapFiller::GapFiller(GapFillOptions options, double light_time_s, Logger& log)
    : options_(std::move(options)), log_(log), round_trip_(Seconds(2.0 * light_time_s)) {}

GapFiller::Clock::duration GapFiller::Timeout(int silent_timeouts, uint64_t packets) const {
  const double base = std::chrono::duration<double>(round_trip_).count() + options_.margin_s +
                      static_cast<double>(packets) / options_.downlink_packets_per_s;
  const double backoff = base * std::pow(2.0, std::min(silent_timeouts, 16));
  return Seconds(std::min(backoff, std::max(base, options_.max_backoff_s)));
}

std::vector<rover::v1::RetransmitRequest> GapFiller::Poll(const LinkAccounting& accounting,
                                                          Clock::time_point now) {
  const LinkSnapshot snapshot = accounting.Snapshot();
  uint64_t in_flight = 0;
  for (const protocol::StreamInfo& info : protocol::AllStreams()) {
    if (!info.gap_fill) continue;  // recovers its own losses (file delivery: CFDP NAKs)
    const auto index = static_cast<size_t>(info.id);
    // Follow the missing ranges as they are now (arrivals split them, losses remove them);
    // each keeps the request state of the tracked range it came from.
    std::map<uint32_t, Tracked>& old = tracked_[index];
    std::map<uint32_t, Tracked> current;
    const auto keep = [&](uint32_t first, const Tracked& t) {
      if (t.attempts > 0 && now < t.due) in_flight += uint64_t{t.last} - first + 1;
      current.emplace(first, t);
    };
    for (const SequenceRange& m : accounting.MissingRanges(info.id, kRangesPerStreamPerPoll)) {
      // Pieces covered by a tracked range keep its state; the rest is newly seen.
      const Tracked fresh{0, now, now + Seconds(options_.grace_s), 0, 0, {}};
      uint64_t cursor = m.first;
      auto it = old.upper_bound(m.first);
      if (it != old.begin() && std::prev(it)->second.last >= m.first) --it;
      for (; it != old.end() && it->first <= m.last && cursor <= m.last; ++it) {
        if (cursor < it->first) {
          Tracked t = fresh;
          t.last = it->first - 1;
          keep(static_cast<uint32_t>(cursor), t);
          cursor = it->first;
        }
        Tracked t = it->second;
        t.last = std::min(m.last, it->second.last);
        keep(static_cast<uint32_t>(cursor), t);
        cursor = uint64_t{t.last} + 1;
      }
      if (cursor <= m.last) {
        Tracked t = fresh;
        t.last = m.last;
        keep(static_cast<uint32_t>(cursor), t);
      }
    }
    old = std::move(current);
    if (snapshot.streams[index].received != received_seen_[index] ||
        last_change_[index] == Clock::time_point{}) {
      if (snapshot.streams[index].received != received_seen_[index]) last_arrival_ = now;
      received_seen_[index] = snapshot.streams[index].received;
      last_change_[index] = now;
    }
  }

  rover::v1::RetransmitRequest request;
  uint64_t budget =
      options_.max_packets_in_flight > in_flight ? options_.max_packets_in_flight - in_flight : 0;
  const auto full = [&] {
    return static_cast<size_t>(request.ranges_size()) >= options_.max_ranges_per_request;
  };
  for (const protocol::StreamInfo& info : protocol::AllStreams()) {
    for (auto& [first, t] : tracked_[static_cast<size_t>(info.id)]) {
      if (budget == 0 || full()) break;
      if (now < t.due) continue;
      uint64_t n = uint64_t{t.last} - first + 1;
      if (n > budget) {
        // Ask for what the budget allows; the rest becomes its own range, due at once.
        const auto rest_first = static_cast<uint32_t>(first + budget);
        tracked_[static_cast<size_t>(info.id)].emplace(rest_first,
                                                       Tracked{t.last, t.detected, now, 0, 0, {}});
        t.last = rest_first - 1;
        n = budget;
      }
      rover::v1::SequenceRange* range = request.add_ranges();
      range->set_apid(info.apid);
      range->set_first(first);
      range->set_last(t.last);
      if (++t.attempts > 1) {
        ++stats_.retries;
        t.silent_timeouts = last_arrival_ > t.sent ? 0 : t.silent_timeouts + 1;
      }
      t.sent = now;
      t.due = now + Timeout(t.silent_timeouts, n);
      budget -= n;
      ++stats_.ranges_requested;
      stats_.packets_requested += n;
    }
  }
  if (options_.tail_probe_s > 0) {
    const Clock::duration quiet = Seconds(options_.tail_probe_s);
    for (const protocol::StreamInfo& info : protocol::AllStreams()) {
      const auto index = static_cast<size_t>(info.id);
      if (!info.gap_fill) continue;
      if (full()) break;
      Probe& probe = probes_[index];
      const StreamStats& s = snapshot.streams[index];
      const uint64_t received =
          info.id == protocol::StreamId::kCommandVerification && s.received >= own_reports_
              ? s.received - own_reports_
              : s.received;
      if (now - last_change_[index] < quiet || now - probe.sent < quiet) continue;
      // Nothing can come after the last sequence there is (and +1 would wrap to "everything").
      if (s.started && s.highest_seq == kEndOfTime) continue;
      const bool due = !probe.ever || received != probe.received_then ||
                       (!probe.answered && now - probe.sent >= Timeout(0, 0)) ||
                       now - probe.sent >= Seconds(options_.reprobe_s);
      if (!due) continue;
      rover::v1::SequenceRange* range = request.add_ranges();
      range->set_apid(info.apid);
      range->set_first(s.started ? s.highest_seq + 1 : 0);
      range->set_last(kEndOfTime);
      probe = {now, received, true, false, 0};
      ++stats_.probes;
    }
  }
  if (request.ranges_size() == 0) return {};
  ++stats_.requests;
  std::vector<rover::v1::RetransmitRequest> out;
  out.push_back(std::move(request));
  return out;
}

bool GapFiller::OnReport(const rover::v1::CommandVerification& report, LinkAccounting& accounting) {
  if (report.source_id() != options_.source_id) return false;
  // Only a report to a request this station sent says anything, and only about the ranges it
  // asked for: anything else (a stale report from before a restart, a corrupted or forged one)
  // must not declare packets lost.
  const auto asked = sent_.find(report.request_sequence());
  if (asked == sent_.end()) {
    ++stats_.unmatched_reports;
    return false;
  }
  const std::vector<rover::v1::SequenceRange> ranges = asked->second;
  const bool final =
      !report.success() || report.stage() == rover::v1::VERIFICATION_STAGE_COMPLETION;
  if (final) sent_.erase(asked);
  ++stats_.reports;
  ++own_reports_;
  if (!report.success()) {
    ++stats_.failed_reports;
    log_.Warn("retransmit request {} failed on board: {}", report.request_sequence(),
              report.failure_reason());
    return true;
  }
  if (report.stage() != rover::v1::VERIFICATION_STAGE_COMPLETION) return true;
  for (Probe& probe : probes_) {
    // A probe is settled only by an answer with nothing to send: what it did send may be lost
    // again, and then only another probe would find out.
    if (probe.ever && probe.request_sequence == report.request_sequence()) {
      probe.answered = report.packets_queued() == 0;
    }
  }
  stats_.packets_queued += report.packets_queued();
  for (const rover::v1::SequenceRange& range : report.unavailable()) {
    const protocol::StreamInfo* stream =
        range.apid() <= 0xFFFF ? protocol::FindStreamByApid(static_cast<uint16_t>(range.apid()))
                               : nullptr;
    if (stream == nullptr || range.first() > range.last()) continue;
    for (const rover::v1::SequenceRange& a : ranges) {
      if (a.apid() != range.apid()) continue;
      const uint32_t first = std::max(a.first(), range.first());
      const uint32_t last = std::min(a.last(), range.last());
      if (first > last) continue;
      const uint64_t lost = accounting.MarkLost(stream->id, first, last);
      stats_.lost += lost;
      if (lost > 0) {
        log_.Warn("{} {}..{}: the rover no longer has {} of these packets: lost for good",
                  stream->name, first, last, lost);
      }
    }
  }
  return true;
}

void GapFiller::OnSendFailed(const rover::v1::RetransmitRequest& request) {
  ++stats_.send_failures;
  for (const rover::v1::SequenceRange& range : request.ranges()) {
    const protocol::StreamInfo* stream =
        protocol::FindStreamByApid(static_cast<uint16_t>(range.apid()));
    if (stream == nullptr) continue;
    auto& tracked = tracked_[static_cast<size_t>(stream->id)];
    for (auto it = tracked.lower_bound(range.first());
         it != tracked.end() && it->first <= range.last(); ++it) {
      it->second.due = Clock::time_point{};
      if (it->second.attempts > 0) --it->second.attempts;
    }
    if (range.last() == kEndOfTime) probes_[static_cast<size_t>(stream->id)].sent = {};
  }
}

void GapFiller::OnSent(uint32_t request_sequence, const rover::v1::RetransmitRequest& request) {
  sent_[request_sequence].assign(request.ranges().begin(), request.ranges().end());
  sent_order_.push_back(request_sequence);
  // Requests whose report never came are forgotten in the end (their ranges are asked again).
  while (sent_order_.size() > kRememberedRequests) {
    sent_.erase(sent_order_.front());
    sent_order_.pop_front();
  }
  for (const rover::v1::SequenceRange& range : request.ranges()) {
    if (range.last() != kEndOfTime) continue;
    if (const auto* s = protocol::FindStreamByApid(static_cast<uint16_t>(range.apid()))) {
      probes_[static_cast<size_t>(s->id)].request_sequence = request_sequence;
    }
  }
}

bool GapFiller::busy() const {
  for (const auto& t : tracked_) {
    if (!t.empty()) return true;
  }
  return false;
}

}  // namespace lgs::station
