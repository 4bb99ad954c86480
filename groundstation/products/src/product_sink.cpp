#include "groundstation/product_sink.h"

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "protocol/cfdp_pdu.h"
#include "protocol/clock.h"
#include "protocol/command_dictionary.h"
#include "protocol/sha256.h"
#include "protocol/stream_registry.h"
#include "rover/v1/file_delivery.pb.h"

namespace lgs::station {
namespace {

namespace cfdp = protocol::cfdp;
using Clock = std::chrono::steady_clock;

constexpr size_t kRecordsKept = 4096;
constexpr auto kTimerResolution = std::chrono::milliseconds(50);

Clock::duration Seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

cfdp::ReceiverOptions ReceiverOptionsFor(const ProductOptions& o, double light_time_s) {
  cfdp::ReceiverOptions r;
  r.entity_id = o.entity_id;
  const double retry = o.retry_interval_s > 0 ? o.retry_interval_s : 2.0 * light_time_s + 1.0;
  // A retry interval shorter than the first NAK's wait shortens that too.
  r.first_nak_delay = Seconds(std::min(o.first_nak_delay_s, retry));
  r.nak_interval = Seconds(retry);
  r.ack_interval = Seconds(retry);
  r.max_file_size = o.max_file_size;
  r.max_transactions = o.max_transactions;
  return r;
}

// SHA-256 of a file on disk, read in pieces.
Result<std::string> HashFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(fmt::format("cannot read '{}'", path));
  protocol::Sha256 hash;
  std::array<char, 65536> buffer;
  while (in) {
    in.read(buffer.data(), buffer.size());
    hash.Update(
        {reinterpret_cast<const uint8_t*>(buffer.data()), static_cast<size_t>(in.gcount())});
  }
  return hash.FinalHex();
}

}  // namespace

Status ProductOptions::Validate() const {
  if (directory.empty()) return Status::Ok();
  if (entity_id == 0) return Status::Error("the station's CFDP entity ID must not be 0");
  if (retry_interval_s < 0 || !(first_nak_delay_s >= 0 && first_nak_delay_s <= 3600)) {
    return Status::Error("CFDP timers must be positive");
  }
  if (max_file_size == 0 || max_transactions == 0) {
    return Status::Error("the largest product and the transactions at once must be positive");
  }
  return Status::Ok();
}

ProductSink::ProductSink(ProductOptions options, double light_time_s, SendPdu send, Logger& log,
                         OnImage on_image)
    : options_(std::move(options)),
      send_(std::move(send)),
      log_(log),
      on_image_(std::move(on_image)),
      disk_(options_.directory),
      receiver_(ReceiverOptionsFor(options_, light_time_s), disk_.Factory()) {}

void ProductSink::OnAccepted(const AcceptedPacket& packet) {
  const protocol::DecodedPacket& p = packet.packet;
  if (p.stream->id == protocol::StreamId::kCameraFrame) {
    OnCameraFrame(static_cast<const rover::v1::CameraFrame&>(*p.message), p.packet.onboard_time_ns);
    return;
  }
  if (p.stream->id != protocol::StreamId::kFileDelivery) return;
  const std::string& pdu = static_cast<const rover::v1::FilePdu&>(*p.message).pdu();
  OnPdu({reinterpret_cast<const uint8_t*>(pdu.data()), pdu.size()}, Clock::now());
}

void ProductSink::OnCameraFrame(const rover::v1::CameraFrame& frame,
                                protocol::TimestampNs onboard_ns) {
  if (frame.product_name().empty()) return;  // a navigation frame: not kept on board
  if (records_.find(frame.product_name()) == records_.end()) {
    record_order_.push_back(frame.product_name());
    if (record_order_.size() > kRecordsKept) {
      records_.erase(record_order_.front());
      record_order_.pop_front();
    }
  }
  records_[frame.product_name()] = Record{frame, onboard_ns};
  if (auto waiting = awaiting_record_.find(frame.product_name());
      waiting != awaiting_record_.end()) {
    const cfdp::ReceiverEvent event = waiting->second;
    awaiting_record_.erase(waiting);
    WriteSidecar(event);
  }
}

void ProductSink::Resume(protocol::StreamId stream, std::string_view payload,
                         protocol::TimestampNs onboard_ns) {
  resuming_ = true;
  if (stream == protocol::StreamId::kCameraFrame) {
    rover::v1::CameraFrame frame;
    if (!frame.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) return;
    if (!frame.product_name().empty()) ++resume_.camera_records;
    OnCameraFrame(frame, onboard_ns);
    return;
  }
  if (stream != protocol::StreamId::kFileDelivery) return;
  rover::v1::FilePdu pdu;
  if (!pdu.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    ++resume_.bad_pdus;
    return;
  }
  ++resume_.pdus;
  const uint64_t bad_before = stats_.bad_pdus;
  // One time for the whole rebuild: every transaction resumes as if just heard, so its gaps
  // are NAKed after the first-NAK delay rather than judged by how long the station was down.
  OnPdu({reinterpret_cast<const uint8_t*>(pdu.pdu().data()), pdu.pdu().size()}, Clock::now());
  resume_.bad_pdus += stats_.bad_pdus - bad_before;
}

ProductResume ProductSink::FinishResume() {
  resuming_ = false;
  for (const cfdp::TransactionView& t : receiver_.Transactions()) {
    if (t.state != cfdp::TransactionState::kReceiving) continue;
    ++resume_.in_progress;
    resume_.bytes_received += t.received_bytes;
    resume_.bytes_expected += t.file_size.value_or(t.received_bytes + t.missing_bytes);
  }
  // The live counts start from here: what the rebuild read is in `resume_`.
  stats_ = ProductStats{};
  log_.Info(
      "resuming products: {} CFDP PDU(s) and {} image record(s) read from the recordings; {} "
      "file(s) complete, {} transfer(s) to go on with ({} of {} octets here, the rest will be "
      "NAKed){}",
      resume_.pdus, resume_.camera_records, resume_.complete, resume_.in_progress,
      resume_.bytes_received, resume_.bytes_expected,
      resume_.bad_pdus > 0 ? fmt::format("; {} recorded PDU(s) refused", resume_.bad_pdus) : "");
  return resume_;
}

void ProductSink::OnPdu(std::span<const uint8_t> bytes, Clock::time_point now) {
  ++stats_.pdus;
  auto pdu = cfdp::DecodePdu(bytes);
  if (!pdu.ok()) {
    ++stats_.bad_pdus;
    const std::string_view reason = cfdp::ErrorName(pdu.error().reason);
    ++stats_.bad_by_reason[std::string(reason)];
    LogBad(reason, pdu.error().detail, now);
    return;
  }
  receiver_.OnPdu(*pdu, now, out_, events_);
  Flush();
}

void ProductSink::OnTick(const IngestTick& tick) {
  // The ingest thread ticks after every poll (thousands of times a second under load); CFDP's
  // timers are seconds: looked at every 50 ms.
  if (tick.now - timers_at_ < kTimerResolution) return;
  timers_at_ = tick.now;
  receiver_.Tick(tick.now, out_, events_);
  Flush();
  // Rates over about a second, smoothed over a few: steady enough for an ETA, quick to show a
  // stall. One copy of the transactions serves the rates and the progress handed on.
  if (tick.now - rates_at_ < std::chrono::seconds(1)) return;
  rates_at_ = tick.now;
  std::vector<cfdp::TransactionView> views = receiver_.Transactions();
  std::map<cfdp::TransactionId, Rate> next;
  for (const cfdp::TransactionView& t : views) {
    Rate r{t.received_bytes, tick.now, 0.0};
    if (auto it = rates_.find(t.id); it != rates_.end()) {
      const double dt = std::chrono::duration<double>(tick.now - it->second.at).count();
      const double now_bps =
          dt > 0 ? static_cast<double>(t.received_bytes - it->second.bytes) / dt : 0.0;
      r.bps = it->second.bps > 0 ? 0.5 * it->second.bps + 0.5 * now_bps : now_bps;
    }
    next.emplace(t.id, r);
  }
  rates_ = std::move(next);
  if (on_progress_ && tick.now - progress_at_ >= Seconds(progress_interval_s_)) {
    progress_at_ = tick.now;
    on_progress_(ProgressOf(std::move(views)));
  }
}

std::vector<ProductProgress> ProductSink::Progress() const {
  return ProgressOf(receiver_.Transactions());
}

std::vector<ProductProgress> ProductSink::ProgressOf(
    std::vector<cfdp::TransactionView> views) const {
  std::vector<ProductProgress> out;
  for (cfdp::TransactionView& t : views) {
    ProductProgress p;
    if (auto it = rates_.find(t.id); it != rates_.end()) p.rate_bps = it->second.bps;
    if (t.state == cfdp::TransactionState::kReceiving && p.rate_bps > 1.0 && t.file_size) {
      p.eta_s =
          static_cast<double>(*t.file_size - std::min(*t.file_size, t.received_bytes)) / p.rate_bps;
    }
    if (auto it = records_.find(t.destination_name); it != records_.end()) {
      p.camera = protocol::CameraName(it->second.frame.camera());
    }
    p.view = std::move(t);
    out.push_back(std::move(p));
  }
  return out;
}

void ProductSink::Flush() {
  for (std::string& pdu : out_) {
    if (!send_ || resuming_) continue;  // listening only, or answered when it was recorded
    if (send_(std::move(pdu))) {
      ++stats_.pdus_sent;
    } else {
      ++stats_.send_failures;  // CFDP's timers send it again
    }
  }
  out_.clear();
  for (const cfdp::ReceiverEvent& e : events_) OnEvent(e);
  events_.clear();
}

void ProductSink::OnEvent(const cfdp::ReceiverEvent& e) {
  switch (e.kind) {
    case cfdp::ReceiverEvent::Kind::kStarted:
      if (!resuming_) log_.Info("product transfer {}/{} started", e.id.source, e.id.sequence);
      return;
    case cfdp::ReceiverEvent::Kind::kCompleted:
      ++stats_.completed;
      if (resuming_) {
        ++resume_.complete;
        // Kept (and recorded) by the earlier run unless it stopped before the sidecar.
        std::error_code ec;
        if (std::filesystem::exists(e.path + ".json", ec)) return;
      }
      WriteSidecar(e);
      return;
    case cfdp::ReceiverEvent::Kind::kFailed:
      ++stats_.failed;
      if (resuming_) return;
      log_.Warn("product transfer {}/{} failed: {} ({}); what arrived is kept in {}", e.id.source,
                e.id.sequence, cfdp::ConditionName(e.condition), e.detail, e.path);
      return;
  }
}

void ProductSink::WriteSidecar(const cfdp::ReceiverEvent& e) {
  const std::filesystem::path path(e.path);
  const std::string name = path.filename().string();
  nlohmann::json j;
  j["name"] = name;
  j["transaction"] = {{"source", e.id.source}, {"sequence", e.id.sequence}};
  j["kept_utc_ns"] = protocol::WallNowNs();
  std::error_code ec;
  j["size"] = std::filesystem::file_size(path, ec);
  auto sha = HashFile(e.path);
  if (sha.ok()) j["sha256"] = *sha;
  if (const auto t = receiver_.Find(e.id)) {
    j["source_name"] = t->source_name;
    j["mode"] =
        t->mode == cfdp::TransmissionMode::kAcknowledged ? "acknowledged" : "unacknowledged";
  }
  if (auto it = records_.find(name); it != records_.end()) {
    const rover::v1::CameraFrame& f = it->second.frame;
    std::string frame_json;
    google::protobuf::util::JsonPrintOptions o;
    o.preserve_proto_field_names = true;
    o.always_print_primitive_fields = true;
    if (google::protobuf::util::MessageToJsonString(f, &frame_json, o).ok()) {
      j["camera_frame"] = nlohmann::json::parse(frame_json, nullptr, false);
    }
    j["camera"] = protocol::CameraName(f.camera());
    j["onboard_time_ns"] = it->second.onboard_ns;
    if (on_image_ && !resuming_) on_image_(f, it->second.onboard_ns, e.path);
  } else if (awaiting_record_.size() < kRecordsKept) {
    awaiting_record_.emplace(name, e);  // completed again when the record comes
  }
  const std::string sidecar = e.path + ".json";
  std::ofstream out(sidecar, std::ios::trunc);
  out << j.dump(2) << "\n";
  out.close();
  if (!out) {
    ++stats_.sidecar_failures;
    log_.Error("product {} kept but its sidecar {} could not be written", e.path, sidecar);
  }
  log_.Info("product {} complete: {} octets, SHA-256 {} -> {}", name, j["size"].get<uint64_t>(),
            sha.ok() ? *sha : std::string("unreadable"), e.path);
}

void ProductSink::LogBad(std::string_view reason, const std::string& detail,
                         Clock::time_point now) {
  auto it = logged_.find(reason);
  if (it == logged_.end()) it = logged_.emplace(std::string(reason), LogState{}).first;
  LogState& s = it->second;
  if (s.last != Clock::time_point{} && now - s.last < Seconds(options_.log_interval_s)) {
    ++s.suppressed;
    return;
  }
  if (s.suppressed > 0) {
    log_.Warn("bad CFDP PDU refused ({}): {} [and {} more since the last report]", reason, detail,
              s.suppressed);
  } else {
    log_.Warn("bad CFDP PDU refused ({}): {}", reason, detail);
  }
  s.last = now;
  s.suppressed = 0;
}

Result<foxglove::CompressedImage> CompressedImageOf(const rover::v1::CameraFrame& frame,
                                                    protocol::TimestampNs onboard_ns,
                                                    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(fmt::format("cannot read '{}'", path));
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::Error(fmt::format("reading '{}' failed", path));
  const std::string camera = protocol::CameraName(frame.camera());
  foxglove::CompressedImage image;
  image.mutable_timestamp()->set_seconds(onboard_ns / 1'000'000'000);
  image.mutable_timestamp()->set_nanos(static_cast<int32_t>(onboard_ns % 1'000'000'000));
  image.set_frame_id(camera);
  image.set_format(frame.format() == rover::v1::IMAGE_FORMAT_PNG ? "png" : "jpeg");
  image.set_data(std::move(data));
  return image;
}

}  // namespace lgs::station
