#include "protocol/cfdp_receiver.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace lgs::protocol::cfdp {

namespace fs = std::filesystem;

struct Receiver::Transaction {
  TransactionId id;
  PduHeader peer;  // the sender's last header: ID lengths, mode, CRC, large files
  TransactionState state = TransactionState::kReceiving;
  ConditionCode condition = ConditionCode::kNoError;
  std::optional<MetadataPdu> metadata;
  std::optional<EofPdu> eof;
  ExtentSet received;
  ModularChecksum modular;
  std::unique_ptr<PartialFile> file;
  std::string path, detail;
  Clock::time_point last_pdu{}, finished_at{};
  std::optional<Clock::time_point> next_nak, next_fin, next_check;
  // NAK rounds answered by PDUs without new data: only a sender that is heard uses up the NAK
  // limit, so an outage does not.
  int naks_without_progress = 0, fins_sent = 0, checks = 0;
  uint64_t naks_sent = 0;
  bool stalled = false, heard_since_nak = true;

  uint64_t known_size() const {
    if (metadata) return metadata->file_size;
    if (eof) return eof->file_size;
    return received.highest();
  }
};

namespace {

Status WriteAll(int fd, uint64_t offset, std::span<const uint8_t> data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::Error(std::strerror(n < 0 ? errno : ENOSPC));
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

class DiskPartialFile final : public PartialFile {
 public:
  DiskPartialFile(int fd, std::string path, std::string directory, TransactionId id)
      : fd_(fd), path_(std::move(path)), directory_(std::move(directory)), id_(id) {}
  ~DiskPartialFile() override {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Write(uint64_t offset, std::span<const uint8_t> data) override {
    if (Status s = WriteAll(fd_, offset, data); !s.ok()) {
      return Status::Error(fmt::format("writing {}: {}", path_, s.message()));
    }
    return Status::Ok();
  }
  Status Read(uint64_t offset, std::span<uint8_t> out) const override {
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n =
          ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return Status::Error(fmt::format("reading {}: {}", path_,
                                         n < 0 ? std::strerror(errno) : "shorter than its data"));
      }
      done += static_cast<size_t>(n);
    }
    return Status::Ok();
  }
  Result<std::string> Keep(const std::string& name) override {
    // Only a plain relative name stays as given; anything that could leave the directory does not.
    fs::path relative(name);
    bool plain = !name.empty() && relative.is_relative();
    for (const auto& part : relative) {
      if (part == ".." || part == "." || part.empty()) plain = false;
    }
    const fs::path target =
        fs::path(directory_) /
        (plain ? relative : fs::path(fmt::format("{}-{}.bin", id_.source, id_.sequence)));
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (::fsync(fd_) != 0 || ec) {
      return Status::Error(
          fmt::format("keeping {}: {}", target.string(), ec ? ec.message() : std::strerror(errno)));
    }
    fs::rename(path_, target, ec);
    if (ec) return Status::Error(fmt::format("keeping {}: {}", target.string(), ec.message()));
    path_ = target.string();
    return path_;
  }
  std::string path() const override { return path_; }

 private:
  int fd_;
  std::string path_, directory_;
  TransactionId id_;
};

}  // namespace

Result<std::unique_ptr<PartialFile>> DiskFiles::Open(const TransactionId& id) const {
  const fs::path partial = fs::path(directory_) / ".partial";
  std::error_code ec;
  fs::create_directories(partial, ec);
  if (ec) return Status::Error(fmt::format("creating {}: {}", partial.string(), ec.message()));
  const std::string path = (partial / fmt::format("{}-{}.part", id.source, id.sequence)).string();
  // O_CREAT without O_TRUNC: a station that resumes writes into what it had.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Error(fmt::format("opening {}: {}", path, std::strerror(errno)));
  return std::unique_ptr<PartialFile>(std::make_unique<DiskPartialFile>(fd, path, directory_, id));
}

Status ReceiverOptions::Validate() const {
  if (entity_id == 0) return Status::Error("the station's CFDP entity ID must not be 0");
  if (nak_interval <= Duration::zero() || ack_interval <= Duration::zero() ||
      check_interval <= Duration::zero() || inactivity <= Duration::zero()) {
    return Status::Error("CFDP timer intervals must be positive");
  }
  if (ack_limit < 1 || check_limit < 1 || nak_limit < 0) {
    return Status::Error("CFDP ACK and check limits must be at least 1, the NAK limit at least 0");
  }
  if (max_transactions == 0 || max_nak_segments == 0 || max_nak_pdus == 0) {
    return Status::Error("CFDP transaction and NAK limits must be positive");
  }
  return Status::Ok();
}

std::string_view StateName(TransactionState state) {
  switch (state) {
    case TransactionState::kReceiving:
      return "receiving";
    case TransactionState::kFinishing:
      return "finishing";
    case TransactionState::kCompleted:
      return "completed";
    case TransactionState::kFailed:
      return "failed";
  }
  return "unknown";
}

Receiver::Receiver(ReceiverOptions options, PartialFileFactory files)
    : options_(options), files_(std::move(files)) {}

Receiver::~Receiver() = default;

void Receiver::Retire(const TransactionId& id, Clock::time_point now) {
  auto it = active_.find(id);
  if (it == active_.end()) return;
  it->second->finished_at = now;
  finished_[id] = std::move(it->second);
  active_.erase(it);
}

void Receiver::Send(const Transaction& t, const PduBody& body, Out& out) {
  PduHeader h = t.peer;
  h.direction = Direction::kTowardSender;
  h.segment_metadata = false;
  h.segmentation_control = false;
  if (!EncodePdu(h, body, out.emplace_back()).ok()) out.pop_back();  // cannot happen: echoed
}

void Receiver::OnPdu(const Pdu& pdu, Clock::time_point now, Out& out, Events& events) {
  ++stats_.pdus;
  const PduHeader& h = pdu.header;
  const bool ack_of_finished = std::holds_alternative<AckPdu>(pdu.body) &&
                               std::get<AckPdu>(pdu.body).acknowledged == DirectiveCode::kFinished;
  if (h.destination != options_.entity_id || h.direction != Direction::kTowardReceiver) {
    ++stats_.not_for_us;
    return;
  }
  const TransactionId id{h.source, h.sequence};
  if (auto done = finished_.find(id); done != finished_.end()) {
    Transaction& t = *done->second;
    // A sender that missed our answers asks again: answer again.
    if (const auto* e = std::get_if<EofPdu>(&pdu.body)) {
      if (t.peer.mode == TransmissionMode::kAcknowledged) {
        Send(t, AckPdu{DirectiveCode::kEof, e->condition, TransactionStatus::kTerminated}, out);
        ++stats_.eof_acks_sent;
        SendFinished(t, out);
      }
    }
    return;
  }
  auto it = active_.find(id);
  if (it == active_.end()) {
    const bool starts = std::holds_alternative<MetadataPdu>(pdu.body) ||
                        std::holds_alternative<FileDataPdu>(pdu.body) ||
                        std::holds_alternative<EofPdu>(pdu.body);
    if (!starts) {
      ++stats_.unknown_transaction;
      return;
    }
    if (active_.size() >= options_.max_transactions) {
      ++stats_.refused_transactions;
      return;
    }
    auto t = std::make_unique<Transaction>();
    t->id = id;
    t->peer = h;
    auto file = files_(id);
    ++stats_.started;
    it = active_.emplace(id, std::move(t)).first;
    Transaction& fresh = *it->second;
    events.push_back({ReceiverEvent::Kind::kStarted, id, ConditionCode::kNoError, "", ""});
    if (!file.ok()) {
      fresh.last_pdu = now;
      Fault(fresh, ConditionCode::kFilestoreRejection, file.error().message(), now, out, events);
      return;
    }
    fresh.file = std::move(*file);
    fresh.path = fresh.file->path();
  }
  Transaction& t = *it->second;
  t.last_pdu = now;
  t.stalled = false;
  t.heard_since_nak = true;
  t.peer.entity_id_length = h.entity_id_length;
  t.peer.sequence_length = h.sequence_length;
  t.peer.large_file = h.large_file;
  t.peer.crc = h.crc;
  if (t.state == TransactionState::kFinishing) {
    if (ack_of_finished) {
      t.next_fin.reset();
      t.state = t.condition == ConditionCode::kNoError ? TransactionState::kCompleted
                                                       : TransactionState::kFailed;
      Retire(id, now);
    } else if (const auto* e = std::get_if<EofPdu>(&pdu.body)) {
      Send(t, AckPdu{DirectiveCode::kEof, e->condition, TransactionStatus::kActive}, out);
      ++stats_.eof_acks_sent;
      SendFinished(t, out);
    }
    return;
  }
  if (const auto* m = std::get_if<MetadataPdu>(&pdu.body))
    return OnMetadata(t, *m, now, out, events);
  if (const auto* d = std::get_if<FileDataPdu>(&pdu.body))
    return OnFileData(t, *d, now, out, events);
  if (const auto* e = std::get_if<EofPdu>(&pdu.body)) return OnEof(t, *e, now, out, events);
  if (const auto* p = std::get_if<PromptPdu>(&pdu.body)) {
    if (t.peer.mode != TransmissionMode::kAcknowledged) return;
    if (p->keep_alive) {
      Send(t, KeepAlivePdu{t.received.covered()}, out);
      ++stats_.keep_alives_sent;
    } else {
      SendNaks(t, out);
    }
  }
}

void Receiver::OnMetadata(Transaction& t, const MetadataPdu& m, Clock::time_point now, Out& out,
                          Events& events) {
  if (t.metadata) return;  // a repeat (our NAK of it crossed it)
  if (m.file_size > options_.max_file_size) {
    return Fault(t, ConditionCode::kFileSizeError,
                 fmt::format("the Metadata claims {} bytes; this station takes files up to {}",
                             m.file_size, options_.max_file_size),
                 now, out, events);
  }
  if (t.received.highest() > m.file_size) {
    return Fault(t, ConditionCode::kFileSizeError,
                 fmt::format("data up to offset {} arrived for a file of {} bytes",
                             t.received.highest(), m.file_size),
                 now, out, events);
  }
  if (!FileChecksum::Supported(m.checksum_type)) {
    return Fault(t, ConditionCode::kUnsupportedChecksumType,
                 fmt::format("checksum type {}", static_cast<int>(m.checksum_type)), now, out,
                 events);
  }
  t.metadata = m;
  CheckComplete(t, now, out, events);
}

void Receiver::OnFileData(Transaction& t, const FileDataPdu& d, Clock::time_point now, Out& out,
                          Events& events) {
  const uint64_t end = d.offset + d.data.size();
  const uint64_t bound = t.metadata ? t.metadata->file_size
                         : t.eof    ? t.eof->file_size
                                    : options_.max_file_size;
  if (end > bound) {
    return Fault(t, ConditionCode::kFileSizeError,
                 fmt::format("File Data at {}..{} past the file's {} bytes", d.offset, end, bound),
                 now, out, events);
  }
  Status written = Status::Ok();
  const uint64_t added = t.received.Add(d.offset, end, [&](uint64_t s, uint64_t e) {
    const auto piece = d.data.subspan(s - d.offset, e - s);
    t.modular.Add(s, piece);
    if (written.ok()) written = t.file->Write(s, piece);
  });
  stats_.file_data_bytes += d.data.size();
  stats_.duplicate_bytes += d.data.size() - added;
  if (!written.ok()) {
    return Fault(t, ConditionCode::kFilestoreRejection, written.message(), now, out, events);
  }
  if (added > 0) t.naks_without_progress = 0;
  if (t.peer.mode == TransmissionMode::kAcknowledged && !t.next_nak && NeedsNak(t)) {
    t.next_nak = now + options_.first_nak_delay;
  }
  CheckComplete(t, now, out, events);
}

void Receiver::OnEof(Transaction& t, const EofPdu& e, Clock::time_point now, Out& out,
                     Events& events) {
  const bool acknowledged = t.peer.mode == TransmissionMode::kAcknowledged;
  if (acknowledged) {
    Send(t, AckPdu{DirectiveCode::kEof, e.condition, TransactionStatus::kActive}, out);
    ++stats_.eof_acks_sent;
  }
  if (e.condition == ConditionCode::kCancelRequestReceived) {
    t.condition = e.condition;
    t.detail = "the sender cancelled the transaction";
    t.state = TransactionState::kFailed;
    ++stats_.failed;
    events.push_back({ReceiverEvent::Kind::kFailed, t.id, e.condition, t.path, t.detail});
    Retire(t.id, now);
    return;
  }
  if (t.eof) return;  // a repeat: the ACK above answers it
  if (t.metadata && e.file_size != t.metadata->file_size) {
    return Fault(
        t, ConditionCode::kFileSizeError,
        fmt::format("the EOF says {} bytes, the Metadata {}", e.file_size, t.metadata->file_size),
        now, out, events);
  }
  if (t.received.highest() > e.file_size) {
    return Fault(t, ConditionCode::kFileSizeError,
                 fmt::format("data up to offset {} arrived for a file of {} bytes",
                             t.received.highest(), e.file_size),
                 now, out, events);
  }
  t.eof = e;
  if (acknowledged) {
    if (NeedsNak(t)) t.next_nak = now;  // everything missing, at once
  } else {
    t.next_check = now + options_.check_interval;
  }
  CheckComplete(t, now, out, events);
}

void Receiver::CheckComplete(Transaction& t, Clock::time_point now, Out& out, Events& events) {
  if (!t.metadata || !t.eof || t.state != TransactionState::kReceiving) return;
  const uint64_t size = t.metadata->file_size;
  if (t.received.MissingBytes(size) > 0) return;
  uint32_t checksum = 0;
  if (t.metadata->checksum_type == ChecksumType::kModular) {
    checksum = t.modular.value();
  } else if (t.metadata->checksum_type != ChecksumType::kNull) {
    FileChecksum c(t.metadata->checksum_type);
    std::vector<uint8_t> buffer(std::min<uint64_t>(size, 1 << 20));
    for (uint64_t at = 0; at < size; at += buffer.size()) {
      const auto piece =
          std::span<uint8_t>(buffer).first(std::min<uint64_t>(buffer.size(), size - at));
      if (Status s = t.file->Read(at, piece); !s.ok()) {
        return Fault(t, ConditionCode::kFilestoreRejection, s.message(), now, out, events);
      }
      c.Update(piece);
    }
    checksum = c.Finish();
  }
  if (t.metadata->checksum_type != ChecksumType::kNull && checksum != t.eof->checksum) {
    return Fault(t, ConditionCode::kFileChecksumFailure,
                 fmt::format("checksum 0x{:08X}, the EOF says 0x{:08X}", checksum, t.eof->checksum),
                 now, out, events);
  }
  auto kept = t.file->Keep(t.metadata->destination_name);
  if (!kept.ok()) {
    return Fault(t, ConditionCode::kFilestoreRejection, kept.error().message(), now, out, events);
  }
  t.path = *kept;
  t.next_nak.reset();
  t.next_check.reset();
  ++stats_.completed;
  events.push_back({ReceiverEvent::Kind::kCompleted, t.id, ConditionCode::kNoError, t.path, ""});
  if (t.peer.mode == TransmissionMode::kAcknowledged) {
    t.state = TransactionState::kFinishing;
    SendFinished(t, out);
    t.fins_sent = 1;
    t.next_fin = now + options_.ack_interval;
    return;
  }
  t.state = TransactionState::kCompleted;
  if (t.metadata->closure_requested) SendFinished(t, out);
  Retire(t.id, now);
}

void Receiver::Fault(Transaction& t, ConditionCode condition, std::string detail,
                     Clock::time_point now, Out& out, Events& events) {
  t.condition = condition;
  t.detail = std::move(detail);
  t.next_nak.reset();
  t.next_check.reset();
  ++stats_.failed;
  events.push_back({ReceiverEvent::Kind::kFailed, t.id, condition, t.path, t.detail});
  if (t.peer.mode == TransmissionMode::kAcknowledged) {
    t.state = TransactionState::kFinishing;  // the Finished PDU says why; it waits for its ACK
    SendFinished(t, out);
    t.fins_sent = 1;
    t.next_fin = now + options_.ack_interval;
    return;
  }
  t.state = TransactionState::kFailed;
  Retire(t.id, now);
}

void Receiver::SendFinished(Transaction& t, Out& out) {
  const bool ok = t.condition == ConditionCode::kNoError;
  FinishedPdu f;
  f.condition = t.condition;
  f.delivery = ok ? DeliveryCode::kComplete : DeliveryCode::kIncomplete;
  f.status = ok ? FileStatus::kRetained : FileStatus::kDiscardedDeliberately;
  if (!ok) f.fault_location = options_.entity_id;
  Send(t, f, out);
  ++stats_.finished_sent;
}

bool Receiver::NeedsNak(const Transaction& t) const {
  if (!t.metadata) return true;
  const uint64_t upto = t.eof ? t.eof->file_size : t.received.highest();
  return t.received.MissingBytes(upto) > 0;
}

void Receiver::SendNaks(Transaction& t, Out& out) {
  const uint64_t upto = t.eof ? t.eof->file_size : t.received.highest();
  std::vector<SegmentRequest> wanted;
  if (!t.metadata) wanted.push_back({0, 0});
  for (const Extent& gap :
       t.received.Missing(upto, options_.max_nak_segments * options_.max_nak_pdus)) {
    wanted.push_back({gap.start, gap.end});
  }
  for (size_t at = 0; at < wanted.size() && at < options_.max_nak_segments * options_.max_nak_pdus;
       at += options_.max_nak_segments) {
    NakPdu nak;
    nak.scope_start = 0;
    nak.scope_end = upto;
    const size_t end = std::min(wanted.size(), at + options_.max_nak_segments);
    nak.segments.assign(wanted.begin() + static_cast<ptrdiff_t>(at),
                        wanted.begin() + static_cast<ptrdiff_t>(end));
    Send(t, nak, out);
    ++stats_.naks_sent;
    ++t.naks_sent;
  }
}

void Receiver::Tick(Clock::time_point now, Out& out, Events& events) {
  std::vector<TransactionId> ids;
  for (const auto& [id, t] : active_) ids.push_back(id);
  for (const TransactionId& id : ids) {
    auto it = active_.find(id);
    if (it == active_.end()) continue;
    Transaction& t = *it->second;
    if (t.state == TransactionState::kFinishing) {
      if (t.next_fin && now >= *t.next_fin) {
        if (t.fins_sent >= options_.ack_limit) {
          // Its ACK never came: the file is what it is (nasa/CF: the FIN's ACK is not needed).
          t.state = t.condition == ConditionCode::kNoError ? TransactionState::kCompleted
                                                           : TransactionState::kFailed;
          Retire(id, now);
          continue;
        }
        SendFinished(t, out);
        ++t.fins_sent;
        t.next_fin = now + options_.ack_interval;
      }
      continue;
    }
    if (now - t.last_pdu >= options_.abandon_after) {
      Fault(t, ConditionCode::kInactivityDetected,
            "nothing heard from the sender for longer than the abandon time", now, out, events);
      continue;
    }
    t.stalled = now - t.last_pdu >= options_.inactivity;
    if (t.peer.mode == TransmissionMode::kAcknowledged) {
      if (!t.stalled && t.next_nak && now >= *t.next_nak) {
        if (!NeedsNak(t)) {
          t.next_nak.reset();
          continue;
        }
        if (options_.nak_limit > 0 && t.naks_without_progress >= options_.nak_limit) {
          Fault(t, ConditionCode::kNakLimitReached,
                fmt::format("{} NAK rounds without new data", t.naks_without_progress), now, out,
                events);
          continue;
        }
        SendNaks(t, out);
        if (t.heard_since_nak) ++t.naks_without_progress;
        t.heard_since_nak = false;
        t.next_nak = now + options_.nak_interval;
      }
    } else if (t.next_check && now >= *t.next_check) {
      if (++t.checks >= options_.check_limit) {
        Fault(t, ConditionCode::kCheckLimitReached, "data still missing after the EOF", now, out,
              events);
        continue;
      }
      t.next_check = now + options_.check_interval;
    }
  }
  std::erase_if(finished_, [&](const auto& entry) {
    return now - entry.second->finished_at >= options_.remember_finished;
  });
}

TransactionView Receiver::View(const Transaction& t) const {
  TransactionView v;
  v.id = t.id;
  v.mode = t.peer.mode;
  v.state = t.state;
  v.condition = t.condition;
  if (t.metadata) {
    v.file_size = t.metadata->file_size;
    v.source_name = t.metadata->source_name;
    v.destination_name = t.metadata->destination_name;
  } else if (t.eof) {
    v.file_size = t.eof->file_size;
  }
  v.received_bytes = t.received.covered();
  v.missing_bytes = t.received.MissingBytes(t.known_size());
  v.missing = t.received.Missing(t.known_size(), 16);
  v.path = t.path;
  v.metadata = t.metadata.has_value();
  v.eof = t.eof.has_value();
  v.stalled = t.stalled;
  v.naks_sent = t.naks_sent;
  v.detail = t.detail;
  return v;
}

std::optional<TransactionView> Receiver::Find(const TransactionId& id) const {
  if (auto it = active_.find(id); it != active_.end()) return View(*it->second);
  if (auto it = finished_.find(id); it != finished_.end()) return View(*it->second);
  return std::nullopt;
}

std::vector<TransactionView> Receiver::Transactions() const {
  std::vector<TransactionView> out;
  for (const auto& [id, t] : active_) out.push_back(View(*t));
  for (const auto& [id, t] : finished_) out.push_back(View(*t));
  return out;
}

}  // namespace lgs::protocol::cfdp
