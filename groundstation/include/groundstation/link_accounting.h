// LinkAccounting: what the station has and has not received, per rover stream, from the
// extended sequence numbers, plus every rejection by reason.
//
// Observe() classifies each accepted packet as in order, after a gap, late (filling a gap: kept)
// or duplicate (dropped by the caller). Thread-safe: the ingest thread writes, other threads take
// snapshots; the lock is held only for the bookkeeping, never across I/O.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "groundstation/latency_histogram.h"
#include "protocol/cuc_time.h"
#include "protocol/reject_reason.h"
#include "protocol/stream_registry.h"

namespace lgs::station {

enum class Arrival : uint8_t {
  kFirst,      // first packet seen on the stream: the baseline
  kInOrder,    // the next sequence number
  kAfterGap,   // newer than expected: the sequences in between are now missing
  kLate,       // older than the newest but missing until now: accepted
  kDuplicate,  // already received: drop it
};

struct SequenceRange {
  uint32_t first = 0;
  uint32_t last = 0;  // inclusive
};

struct StreamStats {
  uint64_t received = 0;  // accepted packets (duplicates excluded)
  uint64_t bytes = 0;     // of accepted packets
  uint64_t missing = 0;   // sequences currently missing
  uint64_t gaps = 0;      // times a jump in sequence opened a gap
  uint64_t duplicates = 0;
  uint64_t out_of_order = 0;     // late arrivals that filled a gap
  uint64_t lost = 0;             // sequences the rover reported it no longer has: gone for good
  uint64_t recorded_before = 0;  // sequences an earlier run recorded (resume)
  bool started = false;
  uint32_t first_seq = 0;
  uint32_t highest_seq = 0;
  protocol::TimestampNs last_onboard_ns = 0;
  protocol::TimestampNs first_ground_ns = 0;
  protocol::TimestampNs last_ground_ns = 0;
};

// Ground receipt time - on-board time - configured light time, over accepted packets.
struct LatencySummary {
  uint64_t count = 0;
  uint64_t negative = 0;  // on-board time later than receipt (clocks disagree, or speed > 1)
  uint64_t p50_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0;
};

struct LinkSnapshot {
  std::array<StreamStats, protocol::kStreamCount> streams{};
  std::array<uint64_t, protocol::kRejectReasonCount> rejected{};
  uint64_t total_received() const;
  uint64_t total_bytes() const;
  uint64_t total_rejected() const;
  uint64_t total_missing() const;
  uint64_t total_gaps() const;
  uint64_t total_duplicates() const;
  uint64_t total_out_of_order() const;
  uint64_t total_lost() const;
  protocol::TimestampNs first_ground_ns() const;  // 0 when nothing was received
  protocol::TimestampNs last_ground_ns() const;
};

class LinkAccounting {
 public:
  explicit LinkAccounting(int64_t light_time_ns = 0) : light_time_ns_(light_time_ns) {}

  // Streams are taken to start at sequence 0 (a mission's first packet): a first packet with a
  // higher sequence opens a gap from 0. For gap fill, which then asks for the beginning too.
  void ExpectSequencesFromZero(bool on) { from_zero_ = on; }

  Arrival Observe(protocol::StreamId stream, uint32_t extended_sequence, size_t bytes,
                  protocol::TimestampNs onboard_ns, protocol::TimestampNs ground_ns);
  void Reject(protocol::RejectReason reason);
  // Sequences an earlier run already recorded (sorted, disjoint): they count as received before
  // (arriving again, they are duplicates) and the holes between them as missing.
  void SeedRecorded(protocol::StreamId stream, const std::vector<SequenceRange>& recorded);
  // The rover no longer has first..last: those not received are lost for good (no longer
  // missing). Sequences beyond the newest received are lost too and move the newest up.
  // Returns how many sequences became lost.
  uint64_t MarkLost(protocol::StreamId stream, uint32_t first, uint32_t last);

  LinkSnapshot Snapshot() const;
  // The missing sequence ranges of one stream, oldest first (at most `limit`).
  std::vector<SequenceRange> MissingRanges(protocol::StreamId stream, size_t limit = 64) const;
  // The ranges marked lost, oldest first (adjacent ones merged; at most `limit`).
  std::vector<SequenceRange> LostRanges(protocol::StreamId stream, size_t limit = 64) const;
  // Latency of one stream, or of all streams together.
  LatencySummary Latency(std::optional<protocol::StreamId> stream = std::nullopt) const;

 private:
  const int64_t light_time_ns_;
  mutable std::mutex mutex_;
  LatencyHistogram all_latency_;
  std::array<LatencyHistogram, protocol::kStreamCount> stream_latency_;
  LinkSnapshot stats_;
  // Per stream: first sequence of a missing range -> last sequence (inclusive).
  std::array<std::map<uint32_t, uint32_t>, protocol::kStreamCount> missing_;
  std::array<std::map<uint32_t, uint32_t>, protocol::kStreamCount> lost_;
  bool from_zero_ = false;
};

}  // namespace lgs::station
