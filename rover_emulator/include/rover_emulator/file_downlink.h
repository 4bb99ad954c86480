// FileDownlink: the rover's on-board file store and its CFDP sending entity. Products (images)
// wait in a store bounded in octets, ordered by priority (0 first) and then age; when a new
// product does not fit, the lowest-priority, oldest waiting files are evicted and reported by
// name. The first waiting files go out as CFDP transactions (class 2 by default, class 1 as the
// scenario's option), at most two at once so the link stays busy while one waits for the
// ground's Finished PDU. A file leaves the store when the ground confirms it complete (class 2),
// once sent (class 1), or after its transactions failed three times (reported as failed).
//
// The downlink does not touch the link: Next() gives PDUs when the caller's link has room, and
// OnPdu() takes the ground's PDUs from the uplink. Times are mission time; the CFDP timers
// stand still while the link is down (SetLinkAvailable). Not thread-safe: one owner.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocol/cfdp_sender.h"
#include "protocol/cuc_time.h"
#include "protocol/status.h"
#include "rover_emulator/rover_model.h"
#include "rover_emulator/scenario.h"

namespace lgs::emulator {

// What became of a product, once (plus kStored when it enters the store).
struct FileReport {
  enum class Kind { kStored, kEvicted, kDelivered, kSent, kFailed, kPending };
  Kind kind = Kind::kStored;
  std::string name;
  uint64_t size = 0;
  std::string sha256;
  uint32_t priority = 0;
  uint64_t transaction = 0;  // the last CFDP transaction sequence number (0: never sent)
  std::string detail;        // failures: the CFDP condition
};
std::string_view NameOf(FileReport::Kind kind);

struct FileDownlinkStats {
  uint64_t stored = 0, evicted = 0, delivered = 0, sent = 0, failed = 0;
  uint64_t transactions = 0, pdus_sent = 0, pdus_received = 0, pdus_refused = 0;
  uint64_t stored_bytes = 0;  // now
};

class FileDownlink {
 public:
  // Class 2 timers are sized for the round trip: the EOF is resent every 2 x light time + 3 s.
  FileDownlink(const FileDeliverySpec& spec, double light_time_s,
               protocol::TimestampNs mission_start_ns);

  void Store(ImageProduct product);
  // The next PDU to send (encoded), or nothing while every transaction waits.
  std::optional<std::string> NextPdu(protocol::TimestampNs now);
  // Whether NextPdu(now) would give one (it is fetched and kept for that call).
  bool HasPdu(protocol::TimestampNs now);
  // A PDU from the ground (the user data of a cfdp_pdu telecommand). False: not a PDU.
  bool OnPdu(std::span<const uint8_t> pdu, protocol::TimestampNs now);
  // Runs the CFDP timers and starts waiting files; appends what ended.
  void Tick(protocol::TimestampNs now);
  void SetLinkAvailable(bool available, protocol::TimestampNs now);
  // When Tick() next has something to do (INT64_MAX when nothing is stored).
  protocol::TimestampNs NextTimerNs() const;
  bool idle() const { return files_.empty(); }
  // Every file still in the store, as kPending reports (end of a run).
  void Drain();
  // What happened to products since the last call, in order.
  std::vector<FileReport> TakeReports();

  const FileDownlinkStats& stats() const { return stats_; }

 private:
  struct File {
    ImageProduct product;
    std::string sha256;
    uint64_t order = 0;  // arrival, for "oldest first"
    std::optional<uint64_t> transaction;
    int attempts = 0;
  };
  using Clock = protocol::cfdp::Sender::Clock;
  Clock::time_point At(protocol::TimestampNs now) const;
  FileReport Report(const File& f, FileReport::Kind kind) const;
  void StartWaiting();
  void Collect();

  FileDeliverySpec spec_;
  protocol::TimestampNs mission_start_ns_;
  protocol::cfdp::Sender sender_;
  std::map<uint64_t, File> files_;  // by order
  uint64_t next_order_ = 0;
  protocol::TimestampNs last_tick_ns_ = 0;
  FileDownlinkStats stats_;
  std::vector<FileReport> reports_;
  std::optional<std::string> next_pdu_;  // fetched by HasPdu()
};

}  // namespace lgs::emulator
