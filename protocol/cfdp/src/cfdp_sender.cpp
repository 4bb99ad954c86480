#include "protocol/cfdp_sender.h"

#include <algorithm>

#include "protocol/cfdp_checksum.h"

namespace lgs::protocol::cfdp {

Status SenderOptions::Validate() const {
  if (entity_id == 0 || destination_id == 0 || entity_id == destination_id) {
    return Status::Error("CFDP entity IDs must be non-zero and differ");
  }
  if (entity_id_length < 1 || entity_id_length > 8 || sequence_length < 1 || sequence_length > 8) {
    return Status::Error("CFDP entity ID and sequence lengths must be 1..8 octets");
  }
  if (OctetsFor(entity_id) > entity_id_length || OctetsFor(destination_id) > entity_id_length) {
    return Status::Error("a CFDP entity ID does not fit the entity ID length");
  }
  if (max_file_data == 0 || max_file_data > 60'000) {
    return Status::Error("CFDP file data per PDU must be 1..60000 octets");
  }
  if (!FileChecksum::Supported(checksum_type)) return Status::Error("unsupported checksum type");
  if (ack_interval <= Duration::zero() || ack_limit < 1) {
    return Status::Error("the CFDP ACK interval must be positive and the limit at least 1");
  }
  return Status::Ok();
}

Sender::Sender(SenderOptions options) : options_(options) {}

PduHeader Sender::Header(const Transaction& t) const {
  PduHeader h;
  h.mode = t.view.mode;
  h.crc = options_.crc;
  h.large_file = t.view.size > 0xFFFFFFFFull;
  h.entity_id_length = options_.entity_id_length;
  h.sequence_length = options_.sequence_length;
  h.source = options_.entity_id;
  h.sequence = t.view.id.sequence;
  h.destination = options_.destination_id;
  return h;
}

std::string Sender::Encode(const Transaction& t, const PduBody& body) const {
  std::string out;
  static_cast<void>(EncodePdu(Header(t), body, out));  // sizes are bounded by the options
  return out;
}

TransactionId Sender::Put(std::span<const uint8_t> data, std::string name, bool acknowledged) {
  const uint64_t limit = options_.sequence_length >= 8
                             ? ~uint64_t{0}
                             : (uint64_t{1} << (8 * options_.sequence_length)) - 1;
  const TransactionId id{options_.entity_id, next_sequence_};
  next_sequence_ = next_sequence_ >= limit ? 1 : next_sequence_ + 1;
  Transaction t;
  t.view.id = id;
  t.view.mode = acknowledged ? TransmissionMode::kAcknowledged : TransmissionMode::kUnacknowledged;
  t.view.name = std::move(name);
  t.view.size = data.size();
  t.data = data;
  FileChecksum checksum(options_.checksum_type);
  checksum.Update(data);
  t.checksum = checksum.Finish();
  active_.insert_or_assign(id, std::move(t));
  return id;
}

std::optional<std::string> Sender::NextPdu(Clock::time_point now) {
  if (dark_since_) return std::nullopt;
  std::erase_if(active_, [](const auto& entry) { return entry.second.view.finished; });
  for (auto& [id, t] : active_) {
    if (t.view.finished) continue;  // finished while walking: removed at the next call
    if (t.ack_due) {                // an ACK of the Finished PDU
      t.ack_due = false;
      const std::string pdu = Encode(
          t, AckPdu{DirectiveCode::kFinished, t.view.condition, TransactionStatus::kTerminated});
      Finish(t, t.view.condition, t.view.delivery);
      return pdu;
    }
    if (t.metadata_due) {
      t.metadata_due = false;
      MetadataPdu m;
      m.closure_requested = t.view.mode == TransmissionMode::kAcknowledged;
      m.checksum_type = options_.checksum_type;
      m.file_size = t.view.size;
      m.source_name = t.view.name;
      m.destination_name = t.view.name;
      return Encode(t, m);
    }
    if (!t.resend.empty()) {
      Extent& e = t.resend.front();
      const uint64_t end = std::min<uint64_t>(e.end, e.start + options_.max_file_data);
      FileDataPdu d;
      d.offset = e.start;
      d.data = t.data.subspan(e.start, end - e.start);
      t.view.resent_bytes += end - e.start;
      e.start = end;
      if (e.start >= e.end) t.resend.pop_front();
      return Encode(t, d);
    }
    if (t.next_offset < t.view.size) {
      const uint64_t end = std::min<uint64_t>(t.view.size, t.next_offset + options_.max_file_data);
      FileDataPdu d;
      d.offset = t.next_offset;
      d.data = t.data.subspan(t.next_offset, end - t.next_offset);
      t.view.sent_bytes += end - t.next_offset;
      t.next_offset = end;
      if (t.next_offset >= t.view.size) t.eof_due = true;
      return Encode(t, d);
    }
    if (!t.view.eof_sent) t.eof_due = true;
    if (t.eof_due) {
      t.eof_due = false;
      t.view.eof_sent = true;
      ++t.eofs_sent;
      const std::string pdu =
          Encode(t, EofPdu{ConditionCode::kNoError, t.checksum, t.view.size, {}});
      if (t.view.mode == TransmissionMode::kAcknowledged) {
        if (!t.view.eof_acked) t.next_eof = now + options_.ack_interval;
      } else {
        // Class 1: sent is done (the receiver says nothing unless closure was asked for).
        Finish(t, ConditionCode::kNoError, DeliveryCode::kComplete);
      }
      return pdu;
    }
  }
  return std::nullopt;
}

void Sender::OnPdu(const Pdu& pdu, Clock::time_point now) {
  const PduHeader& h = pdu.header;
  if (h.source != options_.entity_id || h.direction != Direction::kTowardSender) return;
  auto it = active_.find(TransactionId{h.source, h.sequence});
  if (it == active_.end()) return;
  Transaction& t = it->second;
  if (const auto* a = std::get_if<AckPdu>(&pdu.body)) {
    if (a->acknowledged == DirectiveCode::kEof && !t.view.eof_acked) {
      t.view.eof_acked = true;
      t.next_eof.reset();
      t.eof_acked_at = now;
    }
  } else if (const auto* n = std::get_if<NakPdu>(&pdu.body)) {
    for (const SegmentRequest& s : n->segments) {
      if (s.start == 0 && s.end == 0) {
        t.metadata_due = true;
        continue;
      }
      const uint64_t end = std::min(s.end, t.view.size);
      if (s.start >= end) continue;
      // Not already queued: a NAK repeated before the resend went out asks for it once.
      const bool queued = std::any_of(t.resend.begin(), t.resend.end(), [&](const Extent& e) {
        return e.start <= s.start && e.end >= end;
      });
      if (!queued) t.resend.push_back({s.start, end});
    }
    // A NAK after the EOF that the receiver never ACKed: it heard the EOF after all.
  } else if (const auto* f = std::get_if<FinishedPdu>(&pdu.body)) {
    t.view.condition = f->condition;
    t.view.delivery = f->delivery;
    t.view.eof_acked = true;
    t.next_eof.reset();
    t.resend.clear();
    if (t.view.mode == TransmissionMode::kAcknowledged) {
      t.ack_due = true;  // answered in NextPdu, then finished
    } else {
      Finish(t, f->condition, f->delivery);
    }
  }
}

void Sender::SetLinkAvailable(bool available, Clock::time_point now) {
  if (!available) {
    if (!dark_since_) dark_since_ = now;
    return;
  }
  if (!dark_since_) return;
  const Clock::duration dark = now - *dark_since_;
  dark_since_.reset();
  for (auto& [id, t] : active_) {
    if (t.next_eof) *t.next_eof += dark;
    if (t.view.eof_acked) t.eof_acked_at += dark;
  }
}

void Sender::Tick(Clock::time_point now) {
  if (dark_since_) return;
  for (auto& [id, t] : active_) {
    if (t.view.finished) continue;
    if (t.next_eof && now >= *t.next_eof) {
      if (t.eofs_sent >= options_.ack_limit) {
        Finish(t, ConditionCode::kPositiveAckLimitReached, DeliveryCode::kIncomplete);
        continue;
      }
      t.eof_due = true;
      t.next_eof = now + options_.ack_interval;
    }
    if (t.view.eof_acked && !t.ack_due && now - t.eof_acked_at >= options_.finished_timeout) {
      Finish(t, ConditionCode::kInactivityDetected, DeliveryCode::kIncomplete);
    }
  }
  std::erase_if(active_, [](const auto& entry) { return entry.second.view.finished; });
}

void Sender::Finish(Transaction& t, ConditionCode condition, DeliveryCode delivery) {
  if (t.view.finished) return;
  t.view.finished = true;
  t.view.condition = condition;
  t.view.delivery = delivery;
  finished_.push_back(t.view);
}

std::vector<SentTransaction> Sender::Active() const {
  std::vector<SentTransaction> out;
  for (const auto& [id, t] : active_) {
    if (!t.view.finished) out.push_back(t.view);
  }
  return out;
}

std::vector<SentTransaction> Sender::TakeFinished() {
  std::vector<SentTransaction> out;
  out.swap(finished_);
  return out;
}

}  // namespace lgs::protocol::cfdp
