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

  std::vector<protocol::cfdp::TransactionView> Transactions() const {
    return receiver_.Transactions();
  }
  const protocol::cfdp::ReceiverStats& receiver_stats() const { return receiver_.stats(); }
  const ProductStats& stats() const { return stats_; }

 private:
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
};

// A kept image file as foxglove.CompressedImage: the file's bytes, its on-board time, the camera
// as frame_id ("navcam_left") and format "jpeg" or "png". Reads the file.
[[nodiscard]] Result<foxglove::CompressedImage> CompressedImageOf(
    const rover::v1::CameraFrame& frame, protocol::TimestampNs onboard_ns, const std::string& path);

}  // namespace lgs::station
