// CFDP sending entity (CCSDS 727.0-B-5), classes 1 and 2, as a state machine without I/O of its
// own, the rover's side of a file downlink: Put() starts a transaction for a file's bytes;
// NextPdu() gives the next PDU to send whenever the link has room (retransmissions the receiver
// NAKed first, then new File Data, then the EOF), so the caller paces it against its bandwidth;
// OnPdu() takes the receiver's ACK, NAK and Finished PDUs; Tick() runs the positive ACK timer
// of the EOF (resent until ACKed, up to a limit) and inactivity while waiting for the Finished.
// A NAK of (0, 0) resends the Metadata. Every Finished PDU is answered with an ACK (class 2).
//
// The file's bytes are the caller's (a span that must stay valid until the transaction ends:
// the on-board file store keeps them). Not thread-safe: one owner.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocol/cfdp_extents.h"
#include "protocol/cfdp_pdu.h"
#include "protocol/cfdp_receiver.h"
#include "protocol/status.h"

namespace lgs::protocol::cfdp {

struct SenderOptions {
  using Duration = std::chrono::steady_clock::duration;
  uint64_t entity_id = 7;        // this rover
  uint64_t destination_id = 1;   // the station
  uint8_t entity_id_length = 1;  // fixed per mission
  uint8_t sequence_length = 4;
  size_t max_file_data = 1000;  // octets of file data per File Data PDU
  ChecksumType checksum_type = ChecksumType::kModular;
  bool crc = false;  // a CRC-16 on every PDU (the space packet already has one)
  Duration ack_interval = std::chrono::seconds(6);  // EOF resent until ACKed
  int ack_limit = 10;
  // Waiting for the Finished PDU after the EOF was ACKed (the receiver is NAKing or checking).
  Duration finished_timeout = std::chrono::hours(24);

  [[nodiscard]] Status Validate() const;
};

struct SentTransaction {
  TransactionId id;
  TransmissionMode mode = TransmissionMode::kAcknowledged;
  std::string name;
  uint64_t size = 0, sent_bytes = 0, resent_bytes = 0;
  bool eof_sent = false, eof_acked = false, finished = false;
  ConditionCode condition = ConditionCode::kNoError;  // the Finished PDU's, or the fault's
  DeliveryCode delivery = DeliveryCode::kIncomplete;
};

class Sender {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Sender(SenderOptions options);

  // Starts sending `data` as `name`; returns the transaction. Class 1 with `acknowledged` false.
  TransactionId Put(std::span<const uint8_t> data, std::string name, bool acknowledged);
  // The next PDU to send (encoded), or nothing when every transaction waits.
  std::optional<std::string> NextPdu(Clock::time_point now);
  void OnPdu(const Pdu& pdu, Clock::time_point now);
  void Tick(Clock::time_point now);
  // The link is down (loss of signal, a relay outage the rover knows of): nothing is sent and
  // the timers stand still, so an outage does not use up the ACK limit (CFDP's suspend).
  void SetLinkAvailable(bool available, Clock::time_point now);

  // Transactions not finished yet, and those that finished since the last call (taken).
  std::vector<SentTransaction> Active() const;
  std::vector<SentTransaction> TakeFinished();
  bool idle() const { return active_.empty(); }

 private:
  struct Transaction {
    SentTransaction view;
    std::span<const uint8_t> data;
    bool metadata_due = true, eof_due = false, ack_due = false;
    uint64_t next_offset = 0;   // new data from here
    std::deque<Extent> resend;  // NAKed ranges, in order
    uint32_t checksum = 0;
    std::optional<Clock::time_point> next_eof;
    int eofs_sent = 0;
    Clock::time_point eof_acked_at{};
  };
  PduHeader Header(const Transaction& t) const;
  std::string Encode(const Transaction& t, const PduBody& body) const;
  void Finish(Transaction& t, ConditionCode condition, DeliveryCode delivery);

  SenderOptions options_;
  std::optional<Clock::time_point> dark_since_;  // the link is down since then
  uint64_t next_sequence_ = 1;
  std::map<TransactionId, Transaction> active_;
  std::vector<SentTransaction> finished_;
};

}  // namespace lgs::protocol::cfdp
