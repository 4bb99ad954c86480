// CFDP receiving entity (CCSDS 727.0-B-5), classes 1 and 2, as a state machine without I/O of
// its own: PDUs from the sender go in with the time they arrived, PDUs to send back (ACK of EOF,
// NAK, Finished, Keep Alive) and events (started, completed, failed) come out, and each
// transaction's bytes go to a PartialFile as they arrive — never held in memory, never allocated
// for a size a PDU claims. Tick() runs the timers: NAKs while data is missing (class 2), the
// positive ACK timer of the Finished PDU, the check timer (class 1), inactivity.
//
// The procedures follow nasa/CF (fsw/src/cf_cfdp_r.c), yamcs (CfdpIncomingTransfer.java) and
// cfdp-py (handler/dest.py) where they agree: File Data before Metadata is kept and the Metadata
// NAKed (0, 0); every EOF is ACKed; a NAK names every gap (up to the EOF's size, or before EOF the
// highest offset seen); the NAK count starts again whenever new data arrives, so an outage does not
// use it up; silence beyond the inactivity time stops NAKs until the sender is heard again instead
// of failing the transaction. Feeding a recording's PDUs back through a fresh receiver (outputs
// discarded) rebuilds every transaction's state: that is how a station resumes.
//
// Not thread-safe: one owner (the station's ingest thread).
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/cfdp_checksum.h"
#include "protocol/cfdp_extents.h"
#include "protocol/cfdp_pdu.h"
#include "protocol/status.h"

namespace lgs::protocol::cfdp {

struct TransactionId {
  uint64_t source = 0, sequence = 0;
  auto operator<=>(const TransactionId&) const = default;
};

// A transaction's file while it arrives.
class PartialFile {
 public:
  virtual ~PartialFile() = default;
  [[nodiscard]] virtual Status Write(uint64_t offset, std::span<const uint8_t> data) = 0;
  [[nodiscard]] virtual Status Read(uint64_t offset, std::span<uint8_t> out) const = 0;
  // The file is complete and checked: keep it as `name` (the Metadata's destination file
  // name); returns where it is.
  [[nodiscard]] virtual Result<std::string> Keep(const std::string& name) = 0;
  virtual std::string path() const = 0;
};
using PartialFileFactory =
    std::function<Result<std::unique_ptr<PartialFile>>(const TransactionId& id)>;

struct ReceiverOptions {
  using Duration = std::chrono::steady_clock::duration;
  uint64_t entity_id = 1;  // this station; PDUs for another destination are not ours
  // The first NAK of a gap waits this long (reordering may still close it); NAKs repeat every
  // nak_interval while data is missing. Size both for the round trip: 2 x light time + margin.
  Duration first_nak_delay = std::chrono::seconds(1);
  Duration nak_interval = std::chrono::seconds(6);
  int nak_limit = 0;  // NAKs without new data before "NAK limit reached"; 0 = no limit
  Duration ack_interval = std::chrono::seconds(6);  // Finished resent until ACKed
  int ack_limit = 5;
  Duration check_interval = std::chrono::seconds(5);  // class 1: late data after EOF
  int check_limit = 3;
  // Silence this long stops NAKs until the sender is heard again; after `abandon_after` the
  // transaction fails with "inactivity detected".
  Duration inactivity = std::chrono::seconds(60);
  Duration abandon_after = std::chrono::hours(24);
  // Finished transactions are remembered this long, so a repeated EOF is answered again.
  Duration remember_finished = std::chrono::minutes(10);
  uint64_t max_file_size = 256ull << 20;  // larger claims fail with "file size error"
  size_t max_transactions = 64;           // at once; more are refused and counted
  size_t max_nak_segments = 32;           // per NAK PDU
  size_t max_nak_pdus = 4;                // per NAK round

  [[nodiscard]] Status Validate() const;
};

enum class TransactionState : uint8_t {
  kReceiving,  // data, Metadata or EOF still to come
  kFinishing,  // Finished sent, waiting for its ACK (class 2)
  kCompleted,  // the file is complete, checked and kept
  kFailed,     // a fault ended it (condition says which); what arrived is kept partial
};
std::string_view StateName(TransactionState state);

struct TransactionView {
  TransactionId id;
  TransmissionMode mode = TransmissionMode::kAcknowledged;
  TransactionState state = TransactionState::kReceiving;
  ConditionCode condition = ConditionCode::kNoError;
  std::optional<uint64_t> file_size;  // from the Metadata (or the EOF)
  uint64_t received_bytes = 0;
  uint64_t missing_bytes = 0;   // of what is known to exist
  std::vector<Extent> missing;  // the first gaps
  std::string source_name, destination_name;
  std::string path;  // the partial file, or the kept one
  bool metadata = false, eof = false, stalled = false;
  uint64_t naks_sent = 0;
  std::string detail;  // why it failed
};

struct ReceiverEvent {
  enum class Kind : uint8_t { kStarted, kCompleted, kFailed } kind = Kind::kStarted;
  TransactionId id;
  ConditionCode condition = ConditionCode::kNoError;
  std::string path;    // the kept file (completed) or the partial one
  std::string detail;  // a readable reason (failed)
};

struct ReceiverStats {
  uint64_t pdus = 0, file_data_bytes = 0, duplicate_bytes = 0;
  uint64_t started = 0, completed = 0, failed = 0;
  uint64_t unknown_transaction = 0;   // not a transaction this receiver has or remembers
  uint64_t not_for_us = 0;            // another destination entity, or toward the sender
  uint64_t refused_transactions = 0;  // over max_transactions
  uint64_t naks_sent = 0, eof_acks_sent = 0, finished_sent = 0, keep_alives_sent = 0;
};

class Receiver {
 public:
  using Clock = std::chrono::steady_clock;
  Receiver(ReceiverOptions options, PartialFileFactory files);
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  // A PDU that arrived at `now`. PDUs to send back are appended to `out` (encoded), events to
  // `events`.
  void OnPdu(const Pdu& pdu, Clock::time_point now, std::vector<std::string>& out,
             std::vector<ReceiverEvent>& events);
  void Tick(Clock::time_point now, std::vector<std::string>& out,
            std::vector<ReceiverEvent>& events);

  std::vector<TransactionView> Transactions() const;  // in progress and recently finished
  // One of them (in progress or remembered), without copying the rest.
  std::optional<TransactionView> Find(const TransactionId& id) const;
  const ReceiverStats& stats() const { return stats_; }

 private:
  struct Transaction;
  using Out = std::vector<std::string>;
  using Events = std::vector<ReceiverEvent>;

  void OnMetadata(Transaction& t, const MetadataPdu& m, Clock::time_point now, Out& out,
                  Events& events);
  void OnFileData(Transaction& t, const FileDataPdu& d, Clock::time_point now, Out& out,
                  Events& events);
  void OnEof(Transaction& t, const EofPdu& e, Clock::time_point now, Out& out, Events& events);
  void CheckComplete(Transaction& t, Clock::time_point now, Out& out, Events& events);
  void Fault(Transaction& t, ConditionCode condition, std::string detail, Clock::time_point now,
             Out& out, Events& events);
  void SendNaks(Transaction& t, Out& out);
  void SendFinished(Transaction& t, Out& out);
  void Send(const Transaction& t, const PduBody& body, Out& out);
  bool NeedsNak(const Transaction& t) const;
  // Moves a transaction that ended from the active ones to those remembered a while (the
  // reference to it stays valid: the object moves, not its memory).
  void Retire(const TransactionId& id, Clock::time_point now);
  TransactionView View(const Transaction& t) const;

  ReceiverOptions options_;
  PartialFileFactory files_;
  std::map<TransactionId, std::unique_ptr<Transaction>> active_;
  std::map<TransactionId, std::unique_ptr<Transaction>> finished_;  // remembered a while
  ReceiverStats stats_;
};

// Partial files on disk: <directory>/.partial/<source>-<sequence>.part while they arrive, then
// <directory>/<destination name> (a name with "..", an absolute path or nothing usable is kept
// as <source>-<sequence>.bin). The directory is created if missing.
class DiskFiles {
 public:
  explicit DiskFiles(std::string directory) : directory_(std::move(directory)) {}
  Result<std::unique_ptr<PartialFile>> Open(const TransactionId& id) const;
  PartialFileFactory Factory() const {
    return [this](const TransactionId& id) { return Open(id); };
  }

 private:
  std::string directory_;
};

}  // namespace lgs::protocol::cfdp
