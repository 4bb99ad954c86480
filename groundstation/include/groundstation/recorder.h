// Recorder: writes everything the station receives into MCAP recordings, on the ingest thread.
//
// One channel per rover stream (`/<rover>/<stream>`, schema = the message's FileDescriptorSet,
// Message.sequence = extended sequence, publish_time = on-board time, log_time = ground receipt
// time, the packet's own protobuf bytes as data, APID and topic in channel metadata — enough to
// rebuild every packet byte for byte), plus `/link/rejected` and `/ground/link_stats`.
//
// Durability: the open chunk is written (and fsynced unless disabled) at least every
// flush_interval and at Close(); files split by size or duration and are named by their start
// time. A write failure is reported once; the recorder then stops recording (the station goes
// on decoding) and what was written stays a valid, recoverable file.
// Not thread-safe: the ingest thread owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "groundstation/link_accounting.h"
#include "protocol/mcap_writer.h"
#include "protocol/telemetry_decoder.h"

namespace lgs::station {

struct RecorderOptions {
  std::string directory;  // created if missing
  std::string rover_id = "rover1";
  protocol::McapWriterOptions writer;  // compression, chunk size, fsync
  double flush_interval_s = 1.0;       // a chunk is closed at least this often
  std::optional<uint64_t> split_size_bytes;
  std::optional<double> split_duration_s;
  size_t max_rejected_bytes = 64 * 1024;  // rejected input is kept up to this many bytes

  Status Validate() const;
};

struct RecorderStats {
  uint64_t files = 0;
  uint64_t messages = 0;
  uint64_t bytes = 0;         // written to disk, all files
  uint64_t not_recorded = 0;  // messages lost to a write failure
  std::string current_file;
  std::string error;  // the write failure that stopped recording, if any
};

class Recorder {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Recorder(RecorderOptions options);
  ~Recorder();

  Status Open(protocol::TimestampNs now_ns);
  void RecordTelemetry(const protocol::DecodedPacket& packet, protocol::TimestampNs ground_ns);
  void RecordRejected(protocol::RejectReason reason, std::string_view detail,
                      std::string_view topic, std::span<const uint8_t> data, size_t frames,
                      protocol::TimestampNs ground_ns);
  void RecordLinkStats(const LinkSnapshot& now, const LinkSnapshot& before, double interval_s,
                       protocol::TimestampNs ground_ns);
  // Closes the chunk when the flush interval has passed; splits by duration.
  void Tick(protocol::TimestampNs now_ns);
  Status Close();

  const RecorderStats& stats() const { return stats_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  RecorderStats stats_;
};

}  // namespace lgs::station
