// LinkModel: the relay link between the rover and the ground, in mission time — downlink
// bandwidth, one-way light time, random loss, bit errors (which break the CRC), duplication,
// reordering within a window, scheduled outages (relay out of view) and the on-board store that
// keeps what is generated during an outage and plays it back after acquisition of signal,
// sharing the bandwidth with real-time data (real time first).
//
// Every packet's fate is reported exactly once (plus once per extra copy), so the emulator's
// truth file tells tests exactly what a station should see. Faults draw from their own seeded
// generator: the same seed and profile give the same faults, and the rover's telemetry does
// not depend on the link. Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/cuc_time.h"
#include "protocol/stream_registry.h"
#include "rover_emulator/random.h"
#include "rover_emulator/scenario.h"

namespace lgs::emulator {

using protocol::TimestampNs;

struct LinkPacket {
  const protocol::StreamInfo* stream = nullptr;
  const std::string* topic = nullptr;  // owned by the generator, lives as long as it
  uint32_t sequence = 0;
  TimestampNs onboard_time_ns = 0;
  uint16_t crc = 0;  // of the packet as generated
  std::string bytes;
};

enum class LinkFate {
  kDelivered,  // arrives intact
  kCorrupted,  // arrives with a bit error (the station must reject it)
  kDuplicate,  // an extra intact copy of a packet that was also delivered
  kDropped,    // lost on the link
  kEvicted,    // pushed out of a full on-board store, never sent
  kPending,    // still queued, stored or in flight when the run ended
};
std::string_view NameOf(LinkFate fate);

struct LinkOutcome {
  LinkPacket packet;  // bytes as they arrive (corrupted ones differ from the original)
  LinkFate fate = LinkFate::kDelivered;
  TimestampNs sent_ns = 0;     // start of transmission (0 if never sent)
  TimestampNs arrival_ns = 0;  // at the ground antenna (0 if it never arrives)
  bool from_store = false;     // waited in the on-board store for an outage to end
  bool reordered = false;      // held back behind later packets
};

struct LinkStats {
  uint64_t offered = 0, delivered = 0, corrupted = 0, duplicated = 0, dropped = 0, evicted = 0;
  uint64_t stored = 0;  // packets that went through the on-board store
  uint64_t reordered = 0;
};

class LinkModel {
 public:
  LinkModel(LinkProfile profile, uint64_t seed, TimestampNs mission_start_ns);

  // A packet generated on board at `now_ns` (call Advance(now_ns) first so time is in order).
  void Offer(LinkPacket packet, TimestampNs now_ns);
  // Transmits what the link can by `now_ns` and appends every outcome decided by then (arrivals
  // with arrival_ns <= now_ns, drops, evictions) to `out`, in time order.
  void Advance(TimestampNs now_ns, std::vector<LinkOutcome>& out);
  // The next mission time at which Advance() would produce or transmit something; INT64_MAX
  // when idle.
  TimestampNs NextEventNs() const;
  // Everything still queued, stored, held or in flight, as kPending outcomes.
  void Drain(std::vector<LinkOutcome>& out);

  bool InOutage(TimestampNs t) const;
  size_t stored_packets() const { return store_.size(); }
  const LinkStats& stats() const { return stats_; }
  const LinkProfile& profile() const { return profile_; }

 private:
  struct Queued {
    LinkPacket packet;
    TimestampNs ready_ns;
  };
  struct Held {
    LinkOutcome outcome;
    int overtakes_left;
    TimestampNs release_by_ns;
  };
  double MissionSeconds(TimestampNs t) const;
  void Store(Queued q, std::vector<LinkOutcome>& out);
  void Transmit(Queued q, bool from_store, TimestampNs start_ns, std::vector<LinkOutcome>& out);
  void Arrive(LinkOutcome o);
  void Overtaken(TimestampNs arrival_ns);

  LinkProfile profile_;
  Random random_;
  TimestampNs mission_start_ns_;
  TimestampNs link_free_ns_;
  int64_t light_time_ns_;
  std::deque<Queued> realtime_;
  std::deque<Queued> store_;
  std::deque<LinkOutcome> in_flight_;  // by arrival time
  std::vector<Held> held_;
  std::vector<LinkOutcome> decided_;  // drops and evictions waiting for the next Advance
  LinkStats stats_;
};

}  // namespace lgs::emulator
