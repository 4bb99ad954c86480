// Recorder: writes everything the station receives into MCAP recordings, on the ingest thread.
//
// One channel per rover stream (`/<rover>/<stream>`, schema = the message's FileDescriptorSet,
// Message.sequence = extended sequence, publish_time = on-board time, log_time = ground receipt
// time, the packet's own protobuf bytes as data, APID and topic in channel metadata — enough to
// rebuild every packet byte for byte), plus `/link/rejected`, `/ground/link_stats`,
// `/ground/alarms` and `/ground/commands`.
//
// Durability: the open chunk is written (and fsynced unless disabled) at least every
// flush_interval and at Close(); files split by size or duration and are named by their start
// time. A write failure (disk full, directory gone or unwritable) is reported once as an alarm;
// the file written so far stays valid up to its last chunk (`gsctl recover` completes it), the
// station goes on decoding, and the recorder retries every retry_interval with a new file,
// resuming as soon as the disk lets it. Messages in between are counted as not recorded.
// Not thread-safe: the ingest thread owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "foxglove/CompressedImage.pb.h"
#include "ground/v1/ground.pb.h"
#include "groundstation/link_accounting.h"
#include "protocol/byte_sink.h"
#include "protocol/logger.h"
#include "protocol/mcap_writer.h"
#include "protocol/telemetry_decoder.h"

namespace lgs::station {

inline constexpr uint64_t kDefaultSplitSizeBytes = uint64_t{4} << 30;
inline constexpr double kDefaultSplitDurationS = 3600.0;

struct RecorderOptions {
  std::string directory;  // created if missing
  std::string rover_id = "rover1";
  Logger* log = nullptr;               // not owned; null = nothing logged
  protocol::McapWriterOptions writer;  // compression, chunk size, fsync
  double flush_interval_s = 1.0;       // a chunk is closed at least this often
  // A file's chunk index is held in memory until the file closes (about 270 B per chunk, and a
  // live station closes a chunk every flush interval: 23 MB a day), and the web history reads
  // closed files through their indexes but walks the open one. So files end by default, after
  // an hour or 4 GiB, whichever comes first; nullopt = never.
  std::optional<uint64_t> split_size_bytes = kDefaultSplitSizeBytes;
  std::optional<double> split_duration_s = kDefaultSplitDurationS;
  size_t max_rejected_bytes = 64 * 1024;  // rejected input is kept up to this many bytes
  // At most this many rejected inputs, and this many of their bytes, are kept per second of
  // ground time: a flood of garbage is counted, sampled and said to be sampled
  // (RejectedInput.not_kept_before), not written out whole.
  size_t max_rejected_per_s = 50;
  size_t max_rejected_bytes_per_s = 1 << 20;
  double retry_interval_s = 5.0;  // after a write failure, try a new file this often
  // Opens a file for writing; tests inject failing sinks here. Default: protocol::FileSink.
  std::function<Result<std::unique_ptr<protocol::ByteSink>>(const std::string& path)> open_sink;
  // Called (on the recorder's thread) with each file closed whole: at a split and at Close().
  // The station hands it to its ArchiveMaintainer. Not called for a file a failure abandoned.
  std::function<void(const std::string& path)> on_file_closed;
  // Called (on the recorder's thread) with each file opened for writing, so that whoever watches
  // the directory knows which file is still being written.
  std::function<void(const std::string& path)> on_file_opened;

  Status Validate() const;
};

struct RecorderStats {
  uint64_t files = 0;
  uint64_t messages = 0;
  uint64_t bytes = 0;              // written to disk, all files
  uint64_t not_recorded = 0;       // messages lost to a write failure
  uint64_t rejected_not_kept = 0;  // rejected inputs over the per-second cap: counted only
  uint64_t failures = 0;           // times recording stopped on a write failure
  uint64_t resumed = 0;            // times it resumed in a new file afterwards
  std::string current_file;
  std::string error;      // the last write failure, if any
  bool recording = true;  // false while stopped by a failure
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
  // One alarm transition, on /ground/alarms.
  void RecordAlarm(const ground::v1::GroundAlarm& alarm, protocol::TimestampNs ground_ns);
  // One stage transition of a telecommand, on /ground/commands.
  void RecordCommand(const ground::v1::GroundCommand& command, protocol::TimestampNs ground_ns);
  // An image reassembled from CFDP, on its camera's channel (log time: when it was complete on
  // the ground; publish time: when it was taken on board).
  void RecordImage(std::string_view camera, const foxglove::CompressedImage& image,
                   protocol::TimestampNs ground_ns, protocol::TimestampNs onboard_ns);
  // A ground product derived from telemetry (a Foxglove scene update, transform, log line) on
  // its own channel `topic`, whose schema is the message's type and whose metadata says
  // `content` (log time: ground; publish time: on board, or ground for ground events).
  void RecordProduct(std::string_view topic, const google::protobuf::Message& message,
                     protocol::TimestampNs ground_ns, protocol::TimestampNs publish_ns,
                     std::string_view content);
  void RecordLinkStats(const LinkSnapshot& now, const LinkSnapshot& before,
                       const LinkAccounting& accounting, double interval_s,
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
