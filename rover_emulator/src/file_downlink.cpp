#include "rover_emulator/file_downlink.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include "protocol/sha256.h"

namespace lgs::emulator {
namespace {

using protocol::TimestampNs;
namespace cfdp = protocol::cfdp;

constexpr size_t kConcurrentTransactions = 2;
constexpr int kMaxAttempts = 3;
constexpr int64_t kTickNs = 1'000'000'000;  // the CFDP timers' resolution on board

cfdp::SenderOptions SenderOptionsFor(const FileDeliverySpec& spec, double light_time_s) {
  cfdp::SenderOptions o;
  o.max_file_data = spec.max_file_data;
  const double ack_s = spec.ack_interval_s > 0 ? spec.ack_interval_s : 2.0 * light_time_s + 3.0;
  o.ack_interval = std::chrono::duration_cast<cfdp::SenderOptions::Duration>(
      std::chrono::duration<double>(ack_s));
  o.ack_limit = spec.ack_limit;
  return o;
}

}  // namespace

std::string_view NameOf(FileReport::Kind kind) {
  switch (kind) {
    case FileReport::Kind::kStored:
      return "stored";
    case FileReport::Kind::kEvicted:
      return "evicted";
    case FileReport::Kind::kDelivered:
      return "delivered";
    case FileReport::Kind::kSent:
      return "sent";
    case FileReport::Kind::kFailed:
      return "failed";
    case FileReport::Kind::kPending:
      return "pending";
  }
  return "unknown";
}

FileDownlink::FileDownlink(const FileDeliverySpec& spec, double light_time_s,
                           TimestampNs mission_start_ns)
    : spec_(spec),
      mission_start_ns_(mission_start_ns),
      sender_(SenderOptionsFor(spec, light_time_s)),
      last_tick_ns_(mission_start_ns) {}

FileDownlink::Clock::time_point FileDownlink::At(TimestampNs now) const {
  return Clock::time_point(std::chrono::nanoseconds(now - mission_start_ns_));
}

FileReport FileDownlink::Report(const File& f, FileReport::Kind kind) const {
  FileReport r;
  r.kind = kind;
  r.name = f.product.name;
  r.size = f.product.bytes.size();
  r.sha256 = f.sha256;
  r.priority = f.product.priority;
  r.transaction = f.transaction.value_or(0);
  return r;
}

void FileDownlink::Store(ImageProduct product) {
  File file;
  file.sha256 = protocol::Sha256Hex(
      {reinterpret_cast<const uint8_t*>(product.bytes.data()), product.bytes.size()});
  file.product = std::move(product);
  file.order = next_order_++;
  const uint64_t size = file.product.bytes.size();
  // Make room: the waiting files of lowest priority go first, the oldest among them first.
  // Files in transfer stay (their bytes are on the link).
  while (stats_.stored_bytes + size > spec_.store_capacity_bytes) {
    auto victim = files_.end();
    for (auto it = files_.begin(); it != files_.end(); ++it) {
      if (it->second.transaction) continue;
      if (victim == files_.end() || it->second.product.priority > victim->second.product.priority) {
        victim = it;
      }
    }
    // The newcomer itself goes when it ranks lowest, or when nothing else can go.
    if (victim == files_.end() || victim->second.product.priority < file.product.priority) {
      ++stats_.evicted;
      reports_.push_back(Report(file, FileReport::Kind::kEvicted));
      return;
    }
    ++stats_.evicted;
    stats_.stored_bytes -= victim->second.product.bytes.size();
    reports_.push_back(Report(victim->second, FileReport::Kind::kEvicted));
    files_.erase(victim);
  }
  ++stats_.stored;
  stats_.stored_bytes += size;
  reports_.push_back(Report(file, FileReport::Kind::kStored));
  files_.emplace(file.order, std::move(file));
  StartWaiting();
}

void FileDownlink::StartWaiting() {
  size_t active = 0;
  for (const auto& [order, f] : files_) active += f.transaction ? 1 : 0;
  while (active < kConcurrentTransactions) {
    File* next = nullptr;
    for (auto& [order, f] : files_) {
      if (f.transaction) continue;
      if (next == nullptr || f.product.priority < next->product.priority) next = &f;
    }
    if (next == nullptr) return;
    const auto& bytes = next->product.bytes;
    next->transaction = sender_
                            .Put({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()},
                                 next->product.name, spec_.acknowledged)
                            .sequence;
    ++next->attempts;
    ++stats_.transactions;
    ++active;
  }
}

bool FileDownlink::HasPdu(TimestampNs now) {
  if (!next_pdu_) next_pdu_ = sender_.NextPdu(At(now));
  return next_pdu_.has_value();
}

std::optional<std::string> FileDownlink::NextPdu(TimestampNs now) {
  std::optional<std::string> pdu;
  pdu.swap(next_pdu_);
  if (!pdu) pdu = sender_.NextPdu(At(now));
  if (pdu) ++stats_.pdus_sent;
  return pdu;
}

bool FileDownlink::OnPdu(std::span<const uint8_t> bytes, TimestampNs now) {
  auto pdu = cfdp::DecodePdu(bytes);
  if (!pdu.ok()) {
    ++stats_.pdus_refused;
    return false;
  }
  ++stats_.pdus_received;
  sender_.OnPdu(*pdu, At(now));
  Collect();
  return true;
}

void FileDownlink::Collect() {
  for (const cfdp::SentTransaction& done : sender_.TakeFinished()) {
    auto it = std::find_if(files_.begin(), files_.end(), [&](const auto& entry) {
      return entry.second.transaction == done.id.sequence;
    });
    if (it == files_.end()) continue;
    File& f = it->second;
    const bool complete = done.delivery == cfdp::DeliveryCode::kComplete &&
                          done.condition == cfdp::ConditionCode::kNoError;
    FileReport::Kind kind = FileReport::Kind::kDelivered;
    if (!complete) {
      if (f.attempts < kMaxAttempts) {
        f.transaction.reset();  // tried again with a new transaction
        continue;
      }
      kind = FileReport::Kind::kFailed;
    } else if (done.mode == cfdp::TransmissionMode::kUnacknowledged) {
      kind = FileReport::Kind::kSent;
    }
    FileReport r = Report(f, kind);
    if (kind == FileReport::Kind::kFailed) {
      r.detail = std::string(cfdp::ConditionName(done.condition));
      ++stats_.failed;
    } else if (kind == FileReport::Kind::kSent) {
      ++stats_.sent;
    } else {
      ++stats_.delivered;
    }
    reports_.push_back(std::move(r));
    stats_.stored_bytes -= f.product.bytes.size();
    files_.erase(it);
  }
  StartWaiting();
}

void FileDownlink::Tick(TimestampNs now) {
  last_tick_ns_ = now;
  sender_.Tick(At(now));
  Collect();
}

void FileDownlink::SetLinkAvailable(bool available, TimestampNs now) {
  sender_.SetLinkAvailable(available, At(now));
}

TimestampNs FileDownlink::NextTimerNs() const {
  if (files_.empty()) return std::numeric_limits<TimestampNs>::max();
  return last_tick_ns_ + kTickNs;
}

std::vector<FileReport> FileDownlink::TakeReports() {
  std::vector<FileReport> taken;
  taken.swap(reports_);
  return taken;
}

void FileDownlink::Drain() {
  for (const auto& [order, f] : files_) reports_.push_back(Report(f, FileReport::Kind::kPending));
  files_.clear();
  stats_.stored_bytes = 0;
}

}  // namespace lgs::emulator
