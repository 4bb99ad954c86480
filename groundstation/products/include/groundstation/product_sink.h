// ProductSink: the station's CFDP receiving entity and product archive, a sink of the ingest
// pipeline (groundstation/sink.h). Every file_delivery packet's PDU goes to a
// protocol::cfdp::Receiver that writes the file as it arrives (<dir>/.partial/, never held in
// memory); the PDUs it answers with (ACK of EOF, NAK, Finished) go to `send`, which the station
// hands to the uplink as cfdp_pdu telecommands. A completed file is kept as <dir>/<name> with a
// JSON sidecar <dir>/<name>.json: the camera record of the image (camera, frame, on-board time,
// rover pose, pan/tilt, sun, exposure), its size, SHA-256, the CFDP checksum and transaction.
//
// Bad PDUs (wrong lengths, unknown transactions, claimed sizes over the limit, offsets past the
// end) are counted by reason and logged at most once per reason per interval; they never cost
// memory in proportion to what they claim (the receiver's bounds).
//
// Not thread-safe: the ingest thread's, like every sink. Transactions() copies the state for
// other threads to read through the station's bridge.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "foxglove/CompressedImage.pb.h"
#include "groundstation/sink.h"
#include "protocol/cfdp_receiver.h"
#include "protocol/logger.h"
#include "protocol/status.h"
#include "rover/v1/camera.pb.h"

namespace lgs::station {

struct ProductOptions {
  std::string directory;   // "" = file delivery is off
  uint64_t entity_id = 1;  // this station as a CFDP entity (the rover sends to it)
  // NAKs repeat and the Finished PDU is resent this often; 0 = 2 x light time + 1 s.
  double retry_interval_s = 0.0;
  double first_nak_delay_s = 1.0;  // a new gap waits this long (reordering may close it)
  uint64_t max_file_size = 256ull << 20;
  size_t max_transactions = 64;
  double log_interval_s = 5.0;  // bad PDUs: at most one line per reason this often

  [[nodiscard]] Status Validate() const;
};

// What a resuming station rebuilt from its recordings.
struct ProductResume {
  uint64_t pdus = 0, bad_pdus = 0, camera_records = 0;
  uint64_t complete = 0;     // files whose transfer the recordings hold to the end
  uint64_t in_progress = 0;  // transactions to go on with (their gaps are NAKed)
  uint64_t bytes_received = 0, bytes_expected = 0;  // of those in progress
};

// A transfer as the operators follow it: the receiver's view, the rate file data arrives at
// now and when the file will be complete at that rate.
struct ProductProgress {
  protocol::cfdp::TransactionView view;
  double rate_bps = 0;          // octets per second over the last seconds (smoothed)
  std::optional<double> eta_s;  // for what is missing, at that rate; none while nothing comes
  std::string camera;           // "navcam_left", from the image's record; "" for other files
};

struct ProductStats {
  uint64_t pdus = 0, bad_pdus = 0, pdus_sent = 0, send_failures = 0;
  uint64_t completed = 0, failed = 0, sidecar_failures = 0;
  std::map<std::string, uint64_t> bad_by_reason;  // PduError names
};

class ProductSink final : public Sink {
 public:
  // `send` takes one encoded PDU for the rover and says whether it was queued; null = this
  // station only listens (it does not command the rover).
  using SendPdu = std::function<bool(std::string pdu)>;
  // Called once per image kept, when both the file and its camera record are there (the
  // station records it as foxglove.CompressedImage); may be null.
  using OnImage = std::function<void(const rover::v1::CameraFrame& frame,
                                     protocol::TimestampNs onboard_ns, const std::string& path)>;
  ProductSink(ProductOptions options, double light_time_s, SendPdu send, Logger& log,
              OnImage on_image = nullptr);

  void OnAccepted(const AcceptedPacket& packet) override;
  void OnTick(const IngestTick& tick) override;

  // Resuming, before the first live packet: one recorded message of an earlier run (its
  // payload and on-board time), oldest first. PDUs rebuild the receiver's transactions with its
  // answers discarded (they were sent then), files already kept are not kept or recorded again,
  // and camera records are kept for the sidecars. FinishResume() ends it, logs what was rebuilt
  // and lets the receiver's timers NAK what is still missing.
  void Resume(protocol::StreamId stream, std::string_view payload,
              protocol::TimestampNs onboard_ns);
  ProductResume FinishResume();

  // Every transfer in progress or recently finished, with its rate (measured at OnTick).
  std::vector<ProductProgress> Progress() const;
  // Called from OnTick with Progress() at most every `interval_s`, and no more than once a
  // second, when the rates are measured (the station hands it to the web); null = not called.
  using OnProgress = std::function<void(std::vector<ProductProgress>)>;
  void set_on_progress(OnProgress on_progress, double interval_s) {
    on_progress_ = std::move(on_progress);
    progress_interval_s_ = interval_s;
  }

  std::vector<protocol::cfdp::TransactionView> Transactions() const {
    return receiver_.Transactions();
  }
  const protocol::cfdp::ReceiverStats& receiver_stats() const { return receiver_.stats(); }
  const ProductStats& stats() const { return stats_; }

 private:
  void OnCameraFrame(const rover::v1::CameraFrame& frame, protocol::TimestampNs onboard_ns);
  std::vector<ProductProgress> ProgressOf(std::vector<protocol::cfdp::TransactionView> views) const;
  void OnPdu(std::span<const uint8_t> bytes, std::chrono::steady_clock::time_point now);
  void Flush();
  void OnEvent(const protocol::cfdp::ReceiverEvent& event);
  void WriteSidecar(const protocol::cfdp::ReceiverEvent& event);
  void LogBad(std::string_view reason, const std::string& detail,
              std::chrono::steady_clock::time_point now);

  ProductOptions options_;
  SendPdu send_;
  Logger& log_;
  OnImage on_image_;
  protocol::cfdp::DiskFiles disk_;
  protocol::cfdp::Receiver receiver_;
  std::vector<std::string> out_;
  std::vector<protocol::cfdp::ReceiverEvent> events_;
  // The camera records of recent images, by product name, for the sidecars (bounded).
  struct Record {
    rover::v1::CameraFrame frame;
    protocol::TimestampNs onboard_ns = 0;
  };
  std::map<std::string, Record> records_;
  std::deque<std::string> record_order_;
  // Files kept before their camera record arrived (it was lost and is being gap-filled): the
  // sidecar is written again when it comes (bounded).
  std::map<std::string, protocol::cfdp::ReceiverEvent> awaiting_record_;
  struct LogState {
    std::chrono::steady_clock::time_point last{};
    uint64_t suppressed = 0;
  };
  std::map<std::string, LogState, std::less<>> logged_;
  ProductStats stats_;
  bool resuming_ = false;
  ProductResume resume_;
  struct Rate {
    uint64_t bytes = 0;
    std::chrono::steady_clock::time_point at{};
    double bps = 0;
  };
  std::map<protocol::cfdp::TransactionId, Rate> rates_;
  std::chrono::steady_clock::time_point timers_at_{}, rates_at_{}, progress_at_{};
  OnProgress on_progress_;
  double progress_interval_s_ = 1.0;
};

// A kept image file as foxglove.CompressedImage: the file's bytes, its on-board time, the camera
// as frame_id ("navcam_left") and format "jpeg" or "png". Reads the file.
[[nodiscard]] Result<foxglove::CompressedImage> CompressedImageOf(
    const rover::v1::CameraFrame& frame, protocol::TimestampNs onboard_ns, const std::string& path);

}  // namespace lgs::station
