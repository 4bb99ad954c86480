// LinkAccounting: what the station has and has not received, per rover stream, from the
// extended sequence numbers, plus every rejection by reason.
//
// Observe() classifies each decoded packet as in order, after a gap, late (filling a gap: kept),
// duplicate (dropped by the caller) or suspect. A CRC-16 lets about one corrupted packet in
// 65 536 through, so over a mission a packet with a wild extended sequence will arrive; believed,
// it would make every genuine packet after it a "duplicate" or open a gap of billions. So a
// sequence is believed only when it is plausible: within `plausible_jump` of what the stream has,
// or a forward jump the on-board time since the stream's last packet can explain. Anything else
// is a suspect: the caller holds it (at most kMaxSuspects per stream) and the accounting decides
// later. A packet numbered like one already seen but more than a second newer on board than the
// newest is a suspect too: not a copy (a copy keeps its on-board time) but a rover whose numbering
// restarted, overlapping the old numbers. A packet after it that is close to it confirms it (a
// real jump: an outage, a rover whose numbering restarted) and the held packet is accepted
// first; a suspect nobody confirms within its hold time is discarded (counted as
// implausible_sequence) — except a restart suspect that is still newer on board than anything
// the stream accepted since: a stream that speaks seldom (soil results, events) may send only one
// packet after a reboot, and that one is accepted (and the stream resynced to it). Sequences are
// 32-bit and never wrap within a mission (protocol/FORMAT.md); all arithmetic on them is 64-bit, so
// nothing overflows near 2^32.
//
// Thread-safe: the ingest thread writes, other threads take snapshots; the lock is held only for
// the bookkeeping, never across I/O.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "groundstation/clock_correlation.h"
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
  kSuspect,    // implausible sequence: hold the packet until Observe()/Expire() decide
};

// How many suspects a stream holds at once; a further one displaces the oldest (discarded).
inline constexpr size_t kMaxSuspects = 4;

struct LinkAccountingOptions {
  int64_t light_time_ns = 0;  // subtracted from the latency
  // Streams are taken to start at sequence 0 (a mission's first packet): a first packet with a
  // higher sequence opens a gap from 0. For gap fill, which then asks for the beginning too.
  bool from_zero = false;
  // A jump of up to this many sequences (either way) is believed at once.
  uint32_t plausible_jump = 1024;
  // A bigger forward jump is believed when the on-board time since the stream's last packet
  // explains it: at most this many times the stream's nominal rate (1/s for aperiodic streams),
  // over at most `max_plausible_gap_s` of on-board time.
  double rate_margin = 2.0;
  double max_plausible_gap_s = 30.0 * 86400;
  // A suspect is held for this long of ground time, or three nominal packet periods if longer,
  // waiting for a packet to confirm it.
  double suspect_hold_s = 2.0;
};

// A packet held as suspect, now accepted (confirmed, or the first of its stream when its hold
// ran out): the caller accounts it with this arrival, before the packet that confirmed it.
struct Released {
  protocol::StreamId stream{};
  uint32_t seq = 0;
  Arrival arrival = Arrival::kFirst;
};

// What Observe() found. Converts to the packet's own Arrival.
struct Observation {
  Arrival arrival = Arrival::kFirst;
  std::array<Released, kMaxSuspects> released{};  // accept these first, in this order
  size_t released_count = 0;
  std::array<uint32_t, kMaxSuspects> discarded{};  // held packets to set aside as implausible
  size_t discarded_count = 0;
  // This packet's latency (live packets only: not a late one filling a gap, which measures how
  // long it waited on board). `latency_settled`: fit to judge against a limit (ClockCorrelation).
  bool has_latency = false;
  bool latency_settled = false;
  int64_t latency_ns = 0;
  operator Arrival() const { return arrival; }  // NOLINT: the common case reads the arrival
};

// Suspects whose hold time ran out: accepted (a first packet nothing contradicted) or not.
struct Expired {
  protocol::StreamId stream{};
  uint32_t seq = 0;
  bool accepted = false;
  Arrival arrival = Arrival::kFirst;  // when accepted
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
  uint64_t suspects = 0;         // packets held for an implausible sequence
  uint64_t implausible = 0;      // of which never confirmed: set aside
  uint64_t resyncs = 0;          // confirmed jumps beyond the plausible window
  uint64_t ignored_reports = 0;  // "lost" reports beyond what the stream could have sent
  bool started = false;
  uint32_t first_seq = 0;
  uint32_t highest_seq = 0;
  protocol::TimestampNs last_onboard_ns = 0;
  protocol::TimestampNs first_ground_ns = 0;
  protocol::TimestampNs last_ground_ns = 0;
};

// Ground receipt time - on-board time - configured light time, over accepted live packets; on
// the relative basis (an on-board clock that is not UTC's: ClockCorrelation), the delay above
// the fastest packet.
struct LatencySummary {
  uint64_t count = 0;
  uint64_t negative = 0;  // on-board time later than receipt (clocks disagree, or speed > 1)
  uint64_t p50_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0;
  ClockCorrelation::Basis basis = ClockCorrelation::Basis::kLearning;
  double clock_rate = 1.0;
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
  explicit LinkAccounting(int64_t light_time_ns = 0)
      : clock_(ClockCorrelationOptions{.light_time_ns = light_time_ns}) {
    options_.light_time_ns = light_time_ns;
  }
  explicit LinkAccounting(LinkAccountingOptions options)
      : options_(options),
        clock_(ClockCorrelationOptions{.light_time_ns = options.light_time_ns}) {}

  void ExpectSequencesFromZero(bool on) { options_.from_zero = on; }
  const LinkAccountingOptions& options() const { return options_; }

  Observation Observe(protocol::StreamId stream, uint32_t extended_sequence, size_t bytes,
                      protocol::TimestampNs onboard_ns, protocol::TimestampNs ground_ns);
  // Suspects held past their time at `ground_now_ns` (appended to `out`); INT64_MAX expires
  // all (at shutdown: a first packet nothing contradicted is accepted, the rest set aside).
  void Expire(protocol::TimestampNs ground_now_ns, std::vector<Expired>& out);
  void Reject(protocol::RejectReason reason);
  // Sequences an earlier run already recorded (sorted, disjoint): they count as received before
  // (arriving again, they are duplicates) and the holes between them as missing. Recorded
  // sequences far from the bulk of the stream's (more than `plausible_jump` from the largest
  // cluster: what an older station believed of a corrupted packet) are left out; returns how
  // many were. `newest_onboard_ns` (0: not known) is the newest on-board time recorded: a packet
  // numbered like a recorded one but newer on board than it is a restarted numbering, not a copy.
  uint64_t SeedRecorded(protocol::StreamId stream, const std::vector<SequenceRange>& recorded,
                        protocol::TimestampNs newest_onboard_ns = 0);
  // The rover no longer has first..last: those not received are lost for good (no longer
  // missing). Sequences beyond the newest received are lost too and move the newest up — but
  // not more than `plausible_jump` beyond it (such a report is counted as ignored: the stream's
  // next packet shows what it really sent). Returns how many sequences became lost.
  uint64_t MarkLost(protocol::StreamId stream, uint32_t first, uint32_t last);

  LinkSnapshot Snapshot() const;
  // The missing sequence ranges of one stream, oldest first (at most `limit`).
  std::vector<SequenceRange> MissingRanges(protocol::StreamId stream, size_t limit = 64) const;
  // The ranges marked lost, oldest first (adjacent ones merged; at most `limit`).
  std::vector<SequenceRange> LostRanges(protocol::StreamId stream, size_t limit = 64) const;
  // Latency of one stream, or of all streams together.
  LatencySummary Latency(std::optional<protocol::StreamId> stream = std::nullopt) const;
  // How latency is measured, in a line (ClockCorrelation::Describe).
  std::string LatencyBasis() const;

 private:
  struct Suspect {
    uint32_t seq = 0;
    size_t bytes = 0;
    protocol::TimestampNs onboard_ns = 0, ground_ns = 0;
    // Numbered like a packet already seen, newer on board than the stream's newest: a restarted
    // numbering, or (rarely) a corrupted packet.
    bool restart = false;
  };
  // Accepts a packet whose sequence is plausible (or confirmed); the stream is started.
  Arrival Account(size_t index, uint32_t seq, size_t bytes, protocol::TimestampNs onboard_ns,
                  protocol::TimestampNs ground_ns, Observation* latency_out = nullptr);
  void Count(size_t index, size_t bytes, protocol::TimestampNs onboard_ns,
             protocol::TimestampNs ground_ns);
  bool Plausible(size_t index, uint32_t seq, protocol::TimestampNs onboard_ns) const;
  protocol::TimestampNs HoldNs(size_t index, bool started) const;
  // A confirmed jump to `seq` far from what the stream had: forward, the sequences in between
  // are missing; backward, the rover's numbering restarted and what was missing is lost.
  void Resync(size_t index, uint32_t seq);

  LinkAccountingOptions options_;
  mutable std::mutex mutex_;
  ClockCorrelation clock_;  // one on-board clock for every stream
  std::array<std::vector<Suspect>, protocol::kStreamCount> suspects_;
  // On-board time of each stream's highest sequence: what a long jump is measured against.
  std::array<protocol::TimestampNs, protocol::kStreamCount> highest_onboard_ns_{};
  LatencyHistogram all_latency_;
  std::array<LatencyHistogram, protocol::kStreamCount> stream_latency_;
  LinkSnapshot stats_;
  // Per stream: first sequence of a missing range -> last sequence (inclusive).
  std::array<std::map<uint32_t, uint32_t>, protocol::kStreamCount> missing_;
  std::array<std::map<uint32_t, uint32_t>, protocol::kStreamCount> lost_;
};

}  // namespace lgs::station
