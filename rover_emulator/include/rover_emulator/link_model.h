// LinkModel: the relay link between the rover and the ground, in mission time — downlink
// bandwidth, one-way light time, random loss, bit errors (which break the CRC), duplication,
// reordering within a window, scheduled outages (relay out of view) and the on-board store that
// keeps what is generated during an outage and plays it back after acquisition of signal,
// sharing the bandwidth with real-time data (real time first). It also keeps the last packets
// generated (the packet store) and sends them again, byte-identical, when the ground asks, and
// carries telecommands up with the same light time (lost with their own probability, and always
// during outages).
//
// Every packet's fate is reported exactly once (plus once per extra copy), so the emulator's
// truth file tells tests exactly what a station should see. Faults draw from their own seeded
// generator: the same seed and profile give the same faults, and the rover's telemetry does
// not depend on the link. Not thread-safe.
#pragma once

#include <array>
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
  bool retransmitted = false;  // a copy sent again from the packet store on the ground's request
};

// What a retransmit request for one range did.
struct RetransmitResult {
  uint32_t queued = 0;  // packets queued for the downlink
  // Sub-ranges the packet store no longer holds (evicted, or older than what it keeps).
  std::vector<std::pair<uint32_t, uint32_t>> unavailable;
};

struct LinkStats {
  uint64_t offered = 0, delivered = 0, corrupted = 0, duplicated = 0, dropped = 0, evicted = 0;
  uint64_t stored = 0;  // packets that went through the on-board store
  uint64_t reordered = 0;
  uint64_t retransmitted = 0;  // packets queued again on request
  uint64_t uplink_offered = 0, uplink_lost = 0, uplink_delivered = 0;
};

class LinkModel {
 public:
  LinkModel(LinkProfile profile, uint64_t seed, TimestampNs mission_start_ns);

  // A packet generated on board at `now_ns` (call Advance(now_ns) first so time is in order).
  void Offer(LinkPacket packet, TimestampNs now_ns);
  // A file delivery PDU: it goes when nothing else waits (real time, retransmissions and the
  // outage store come first), waits out outages in its queue, and is not kept for
  // retransmission (CFDP recovers its own losses). The file downlink keeps file_queued() small
  // and offers more as the link drains.
  void OfferFile(LinkPacket packet, TimestampNs now_ns);
  size_t file_queued() const { return file_.size(); }
  // When the link is free to start the next transmission.
  TimestampNs link_free_ns() const { return link_free_ns_; }
  // Transmits what the link can by `now_ns` and appends every outcome decided by then (arrivals
  // with arrival_ns <= now_ns, drops, evictions) to `out`, in time order.
  void Advance(TimestampNs now_ns, std::vector<LinkOutcome>& out);
  // The next mission time at which Advance() would produce or transmit something; INT64_MAX
  // when idle.
  TimestampNs NextEventNs() const;
  // Everything still queued, stored, held or in flight, as kPending outcomes.
  void Drain(std::vector<LinkOutcome>& out);

  // Sends again, after what waits for the link in real time, every packet of `stream` with a
  // sequence in first..last that was generated and already transmitted. Packets not yet
  // transmitted are skipped (they are still on their way). Queues at most
  // retransmit_store_packets packets; the rest of the range is neither queued nor unavailable.
  RetransmitResult Retransmit(protocol::StreamId stream, uint32_t first, uint32_t last);

  // A telecommand sent from the ground at mission time `now_ns`.
  void OfferUplink(std::string packet, TimestampNs now_ns);
  // Telecommands that reached the rover by `now_ns`, in arrival order.
  void TakeUplink(TimestampNs now_ns, std::vector<std::string>& out);

  bool InOutage(TimestampNs t) const;
  size_t stored_packets() const { return store_.size(); }
  const LinkStats& stats() const { return stats_; }
  const LinkProfile& profile() const { return profile_; }

 private:
  struct Queued {
    LinkPacket packet;
    TimestampNs ready_ns;
    bool retransmitted = false;
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
  // The packet store: the last packets of each stream, in sequence order.
  struct Kept {
    std::string bytes;
    TimestampNs onboard_time_ns = 0;
    bool present = true;       // false once evicted from the outage store
    bool transmitted = false;  // has gone out on the link at least once
  };
  struct KeptStream {
    uint32_t first_seq = 0;
    std::deque<Kept> packets;  // packets[i] has sequence first_seq + i
  };
  void Keep(const LinkPacket& p);
  Kept* FindKept(const LinkPacket& p);
  struct Uplinked {
    std::string packet;
    TimestampNs arrival_ns;
  };

  LinkProfile profile_;
  Random random_;
  TimestampNs mission_start_ns_;
  TimestampNs link_free_ns_;
  int64_t light_time_ns_;
  std::deque<Queued> realtime_;
  std::deque<Queued> store_;
  std::deque<Queued> retransmit_;
  std::deque<Queued> file_;
  std::array<KeptStream, protocol::kStreamCount> kept_;
  std::deque<protocol::StreamId> kept_order_;  // generation order, for forgetting the oldest
  std::array<const std::string*, protocol::kStreamCount> topics_{};
  std::deque<Uplinked> uplink_;
  std::deque<LinkOutcome> in_flight_;  // by arrival time
  std::vector<Held> held_;
  std::vector<LinkOutcome> decided_;  // drops and evictions waiting for the next Advance
  LinkStats stats_;
};

}  // namespace lgs::emulator
