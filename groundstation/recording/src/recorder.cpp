#include "groundstation/recorder.h"

#include <fmt/format.h>
#include <google/protobuf/message.h>

#include <array>
#include <filesystem>

#include "ground/v1/ground.pb.h"
#include "protocol/mcap_format.h"
#include "protocol/protobuf_schema.h"
#include "protocol/recording_profile.h"

namespace lgs::station {
namespace {

namespace fs = std::filesystem;
using protocol::TimestampNs;

constexpr int64_t kNsPerS = 1'000'000'000;

}  // namespace

Status RecorderOptions::Validate() const {
  if (directory.empty()) return Status::Error("no recording directory");
  if (!(flush_interval_s > 0.0)) return Status::Error("flush interval must be positive");
  if (split_size_bytes && *split_size_bytes < (1u << 16)) {
    return Status::Error("split size must be at least 64 KiB");
  }
  if (split_duration_s && !(*split_duration_s >= 1.0)) {
    return Status::Error("split duration must be at least 1 s");
  }
  return writer.Validate();
}

struct Recorder::Impl {
  explicit Impl(RecorderOptions o) : options(std::move(o)) {}

  Status OpenFile(TimestampNs now_ns, RecorderStats& stats);
  Status CloseFile(RecorderStats& stats);
  // The id of `type`'s schema in the open file, added on first use; 0 when it cannot be added.
  uint16_t SchemaFor(const google::protobuf::Descriptor& type);
  // The channel id of `slot` in the open file; `describe()` -> (topic, metadata) is only
  // called the first time, so the per-packet path does no formatting or allocation.
  template <typename Describe>
  uint16_t ChannelFor(size_t slot, const google::protobuf::Descriptor& type, Describe describe);
  void Write(uint16_t channel, uint32_t sequence, TimestampNs log_time, TimestampNs publish_time,
             std::span<const uint8_t> data, RecorderStats& stats);
  void Failed(const Status& status, RecorderStats& stats);
  void Retry(TimestampNs now_ns, RecorderStats& stats);

  RecorderOptions options;
  std::unique_ptr<protocol::ByteSink> sink;
  std::unique_ptr<protocol::McapWriter> writer;
  TimestampNs file_start_ns = 0;
  TimestampNs last_flush_ns = 0;
  uint64_t closed_files_bytes = 0;
  bool failed = false;
  TimestampNs last_retry_ns = 0;
  // Channel ids in the open file: one per rover stream, then rejected and link statistics.
  static constexpr size_t kRejectedSlot = protocol::kStreamCount;
  static constexpr size_t kLinkStatsSlot = protocol::kStreamCount + 1;
  static constexpr size_t kAlarmsSlot = protocol::kStreamCount + 2;
  static constexpr size_t kCommandsSlot = protocol::kStreamCount + 3;
  std::array<uint16_t, protocol::kStreamCount + 4> channels{};
  uint32_t alarm_sequence = 0, command_sequence = 0;
  TimestampNs failed_at_ns = 0;  // when recording stopped (ground time)
  std::string failure;           // why
  void RecordAlarm(const ground::v1::GroundAlarm& alarm, TimestampNs now_ns, RecorderStats& stats);
  std::map<const google::protobuf::Descriptor*, uint16_t> schemas;
  // Image channels in the open file, by camera, and each one's sequence.
  std::map<std::string, uint16_t, std::less<>> image_channels;
  std::map<std::string, uint32_t, std::less<>> image_sequences;
  // Ground products by topic (the 3D scene, transforms, the log), and their sequences.
  std::map<std::string, uint16_t, std::less<>> product_channels;
  std::map<std::string, uint32_t, std::less<>> product_sequences;
  uint32_t rejected_sequence = 0, stats_sequence = 0;
  // The per-second sample of rejected input.
  TimestampNs rejected_window_ns = 0;
  size_t rejected_in_window = 0, rejected_bytes_in_window = 0;
  uint64_t rejected_not_kept = 0;  // since the last sample kept
  std::string scratch;
};

Status Recorder::Impl::OpenFile(TimestampNs now_ns, RecorderStats& stats) {
  std::string path;
  for (int attempt = 0;; ++attempt) {
    path = (fs::path(options.directory) /
            protocol::recording::FileName(options.rover_id, now_ns, attempt))
               .string();
    if (!fs::exists(path)) break;
  }
  auto created = options.open_sink ? options.open_sink(path) : [&] {
    auto file = protocol::FileSink::Create(path);
    return file.ok() ? Result<std::unique_ptr<protocol::ByteSink>>(std::move(file.value()))
                     : Result<std::unique_ptr<protocol::ByteSink>>(file.error());
  }();
  if (!created.ok()) return created.error();
  sink = std::move(created.value());
  writer = std::make_unique<protocol::McapWriter>(*sink, options.writer);
  if (Status s = writer->Open(); !s.ok()) {
    // Not even the header fits (disk still full): leave no unreadable stub behind.
    writer.reset();
    sink.reset();
    std::error_code ignored;
    fs::remove(path, ignored);
    return s;
  }
  channels.fill(0);
  schemas.clear();
  image_channels.clear();
  product_channels.clear();
  file_start_ns = now_ns;
  last_flush_ns = now_ns;
  ++stats.files;
  stats.current_file = path;
  OrNull(options.log).Info("recording to {}", path);
  if (options.on_file_opened) options.on_file_opened(path);
  return Status::Ok();
}

Status Recorder::Impl::CloseFile(RecorderStats& stats) {
  if (!writer) return Status::Ok();
  Status s = writer->Close();
  closed_files_bytes += writer->stats().bytes_written;
  stats.bytes = closed_files_bytes;
  writer.reset();
  sink.reset();
  if (s.ok() && options.on_file_closed) options.on_file_closed(stats.current_file);
  return s;
}

void Recorder::Impl::Failed(const Status& status, RecorderStats& stats) {
  if (failed) return;
  failed = true;
  failed_at_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  failure = status.message();
  ++stats.failures;
  stats.recording = false;
  stats.error = status.message();
  // The file is abandoned as it is: valid up to its last complete chunk. Messages accepted into
  // chunks that never reached it are lost to the recording, and counted so.
  if (writer) {
    writer->Abandon();
    const protocol::McapWriterStats w = writer->stats();
    closed_files_bytes += w.bytes_written;
    const uint64_t lost = w.messages - w.messages_written;
    stats.not_recorded += lost;
    stats.messages -= std::min(stats.messages, lost);
    if (w.messages_written == 0) {
      // Nothing of value reached it (at most a header): remove it rather than leave a stub that
      // no reader can open.
      writer.reset();
      sink.reset();
      std::error_code ignored;
      if (fs::remove(stats.current_file, ignored)) --stats.files;
    }
  }
  writer.reset();
  sink.reset();
  OrNull(options.log)
      .Error(
          "ALARM recording stopped: {}. Decoding and display go on; '{}' is valid up to its last "
          "chunk ('gsctl recover' completes it); retrying every {} s",
          status.message(), stats.current_file, options.retry_interval_s);
}

void Recorder::Impl::Retry(TimestampNs now_ns, RecorderStats& stats) {
  if (now_ns - last_retry_ns < static_cast<int64_t>(options.retry_interval_s * kNsPerS)) return;
  last_retry_ns = now_ns;
  std::error_code ec;
  fs::create_directories(options.directory, ec);
  if (Status s = OpenFile(now_ns, stats); !s.ok()) {
    writer.reset();
    sink.reset();
    return;  // still failing: already reported
  }
  failed = false;
  ++stats.resumed;
  stats.recording = true;
  OrNull(options.log)
      .Warn("recording resumed in {} ({} messages were not recorded while it was stopped)",
            stats.current_file, stats.not_recorded);
  // The alarm could not go into the file that failed; the new one gets its whole story.
  ground::v1::GroundAlarm alarm;
  alarm.set_id("recording_stopped");
  alarm.set_severity("critical");
  alarm.set_state("raised");
  alarm.set_text(fmt::format("recording stopped: {}", failure));
  alarm.set_raised_ns(failed_at_ns);
  RecordAlarm(alarm, std::max(failed_at_ns, file_start_ns), stats);
  alarm.set_state("cleared");
  alarm.set_text(fmt::format("recording resumed in {}; {} messages were not recorded",
                             stats.current_file, stats.not_recorded));
  RecordAlarm(alarm, now_ns, stats);
}

void Recorder::Impl::RecordAlarm(const ground::v1::GroundAlarm& alarm, TimestampNs now_ns,
                                 RecorderStats& stats) {
  scratch.clear();
  alarm.AppendToString(&scratch);
  const uint16_t channel = ChannelFor(kAlarmsSlot, *ground::v1::GroundAlarm::descriptor(), [] {
    return std::pair<std::string, std::map<std::string, std::string>>(
        std::string(protocol::recording::kAlarmsChannel),
        {{"content", "alarms the station raised and cleared"}});
  });
  Write(channel, alarm_sequence++, now_ns, now_ns, protocol::AsBytes(scratch), stats);
}

uint16_t Recorder::Impl::SchemaFor(const google::protobuf::Descriptor& type) {
  if (auto it = schemas.find(&type); it != schemas.end()) return it->second;
  const std::string data = protocol::FileDescriptorSetOf(type);
  auto added = writer->AddSchema(type.full_name(), protocol::mcap::kSchemaEncodingProtobuf,
                                 protocol::AsBytes(data));
  if (!added.ok()) return 0;
  return schemas[&type] = *added;
}

template <typename Describe>
uint16_t Recorder::Impl::ChannelFor(size_t slot, const google::protobuf::Descriptor& type,
                                    Describe describe) {
  if (channels[slot] != 0) return channels[slot];
  const auto [topic, metadata] = describe();
  const uint16_t schema_id = SchemaFor(type);
  if (schema_id == 0) return 0;
  auto channel =
      writer->AddChannel(topic, protocol::mcap::kMessageEncodingProtobuf, schema_id, metadata);
  if (!channel.ok()) return 0;
  return channels[slot] = *channel;
}

void Recorder::Impl::Write(uint16_t channel, uint32_t sequence, TimestampNs log_time,
                           TimestampNs publish_time, std::span<const uint8_t> data,
                           RecorderStats& stats) {
  if (channel == 0) {
    Failed(Status::Error("cannot add a channel to the recording"), stats);
    ++stats.not_recorded;
    return;
  }
  Status s = writer->Write(channel, sequence, static_cast<uint64_t>(log_time),
                           static_cast<uint64_t>(publish_time), data);
  if (!s.ok()) {
    Failed(s, stats);
    ++stats.not_recorded;
    return;
  }
  ++stats.messages;
  const uint64_t file_bytes = writer->stats().bytes_written;
  stats.bytes = closed_files_bytes + file_bytes;
  if (options.split_size_bytes &&
      file_bytes + writer->open_chunk_bytes() >= *options.split_size_bytes) {
    if (Status c = CloseFile(stats); !c.ok()) return Failed(c, stats);
    if (Status o = OpenFile(log_time, stats); !o.ok()) return Failed(o, stats);
  }
}

Recorder::Recorder(RecorderOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  // The ingest thread must never wait for compression or the disk.
  impl_->options.writer.background_io = true;
}

Recorder::~Recorder() {
  if (impl_->writer && !impl_->failed) static_cast<void>(Close());
}

Status Recorder::Open(TimestampNs now_ns) {
  if (Status s = impl_->options.Validate(); !s.ok()) return s;
  std::error_code ec;
  fs::create_directories(impl_->options.directory, ec);
  if (ec) {
    return Status::Error(fmt::format("cannot create recording directory '{}': {}",
                                     impl_->options.directory, ec.message()));
  }
  return impl_->OpenFile(now_ns, stats_);
}

void Recorder::RecordTelemetry(const protocol::DecodedPacket& p, TimestampNs ground_ns) {
  Impl& r = *impl_;
  if (r.failed || !r.writer) {
    ++stats_.not_recorded;
    return;
  }
  const protocol::StreamInfo& stream = *p.stream;
  const uint16_t known = r.channels[static_cast<size_t>(stream.id)];
  const uint16_t channel =
      known != 0
          ? known
          : r.ChannelFor(static_cast<size_t>(stream.id), *stream.prototype->GetDescriptor(), [&] {
              return std::pair<std::string, std::map<std::string, std::string>>(
                  protocol::recording::TelemetryChannel(r.options.rover_id, stream.name),
                  protocol::recording::TelemetryChannelMetadata(r.options.rover_id, stream));
            });
  r.Write(channel, p.packet.extended_sequence, ground_ns, p.packet.onboard_time_ns,
          p.packet.payload, stats_);
}

void Recorder::RecordImage(std::string_view camera, const foxglove::CompressedImage& image,
                           TimestampNs ground_ns, TimestampNs onboard_ns) {
  Impl& r = *impl_;
  if (r.failed || !r.writer) {
    ++stats_.not_recorded;
    return;
  }
  uint16_t channel = 0;
  if (auto it = r.image_channels.find(camera); it != r.image_channels.end()) {
    channel = it->second;
  } else {
    const uint16_t schema_id = r.SchemaFor(*foxglove::CompressedImage::descriptor());
    if (schema_id != 0) {
      auto added = r.writer->AddChannel(
          protocol::recording::ImageChannel(r.options.rover_id, camera),
          protocol::mcap::kMessageEncodingProtobuf, schema_id,
          {{"content", "images from this camera, reassembled from CFDP by the station"},
           {"camera", std::string(camera)}});
      if (added.ok()) channel = r.image_channels[std::string(camera)] = *added;
    }
  }
  r.scratch.clear();
  image.AppendToString(&r.scratch);
  r.Write(channel, r.image_sequences[std::string(camera)]++, ground_ns, onboard_ns,
          protocol::AsBytes(r.scratch), stats_);
}

void Recorder::RecordProduct(std::string_view topic, const google::protobuf::Message& message,
                             TimestampNs ground_ns, TimestampNs publish_ns,
                             std::string_view content) {
  Impl& r = *impl_;
  if (r.failed || !r.writer) {
    ++stats_.not_recorded;
    return;
  }
  uint16_t channel = 0;
  if (auto it = r.product_channels.find(topic); it != r.product_channels.end()) {
    channel = it->second;
  } else {
    const uint16_t schema_id = r.SchemaFor(*message.GetDescriptor());
    if (schema_id != 0) {
      auto added =
          r.writer->AddChannel(std::string(topic), protocol::mcap::kMessageEncodingProtobuf,
                               schema_id, {{"content", std::string(content)}});
      if (added.ok()) channel = r.product_channels[std::string(topic)] = *added;
    }
  }
  r.scratch.clear();
  message.AppendToString(&r.scratch);
  r.Write(channel, r.product_sequences[std::string(topic)]++, ground_ns, publish_ns,
          protocol::AsBytes(r.scratch), stats_);
}

void Recorder::RecordAlarm(const ground::v1::GroundAlarm& alarm, TimestampNs ground_ns) {
  Impl& r = *impl_;
  if (r.failed || !r.writer) {
    ++stats_.not_recorded;
    return;
  }
  r.RecordAlarm(alarm, ground_ns, stats_);
}

void Recorder::RecordCommand(const ground::v1::GroundCommand& command, TimestampNs ground_ns) {
  Impl& r = *impl_;
  if (r.failed || !r.writer) {
    ++stats_.not_recorded;
    return;
  }
  r.scratch.clear();
  command.AppendToString(&r.scratch);
  const uint16_t channel =
      r.ChannelFor(Impl::kCommandsSlot, *ground::v1::GroundCommand::descriptor(), [] {
        return std::pair<std::string, std::map<std::string, std::string>>(
            std::string(protocol::recording::kCommandsChannel),
            {{"content", "command history: every stage of every telecommand"}});
      });
  r.Write(channel, r.command_sequence++, ground_ns, ground_ns, protocol::AsBytes(r.scratch),
          stats_);
}

void Recorder::RecordRejected(protocol::RejectReason reason, std::string_view detail,
                              std::string_view topic, std::span<const uint8_t> data, size_t frames,
                              TimestampNs ground_ns) {
  Impl& r = *impl_;
  if (r.failed || !r.writer) {
    ++stats_.not_recorded;
    return;
  }
  if (ground_ns - r.rejected_window_ns >= kNsPerS) {
    r.rejected_window_ns = ground_ns;
    r.rejected_in_window = 0;
    r.rejected_bytes_in_window = 0;
  }
  const size_t kept = std::min(data.size(), r.options.max_rejected_bytes);
  if (r.rejected_in_window >= r.options.max_rejected_per_s ||
      r.rejected_bytes_in_window + kept > r.options.max_rejected_bytes_per_s) {
    ++r.rejected_not_kept;
    ++stats_.rejected_not_kept;
    return;
  }
  ++r.rejected_in_window;
  r.rejected_bytes_in_window += kept;
  ground::v1::RejectedInput rejected;
  rejected.set_not_kept_before(r.rejected_not_kept);
  r.rejected_not_kept = 0;
  rejected.set_reason(std::string(protocol::NameOf(reason)));
  rejected.set_detail(std::string(detail));
  rejected.set_topic(std::string(topic.substr(0, std::min<size_t>(topic.size(), 256))));
  rejected.set_data(reinterpret_cast<const char*>(data.data()), kept);
  rejected.set_data_size_bytes(data.size());
  rejected.set_frame_count(static_cast<uint32_t>(frames));
  r.scratch.clear();
  rejected.AppendToString(&r.scratch);
  const uint16_t channel =
      r.ChannelFor(Impl::kRejectedSlot, *ground::v1::RejectedInput::descriptor(), [&] {
        return std::pair<std::string, std::map<std::string, std::string>>(
            std::string(protocol::recording::kRejectedChannel),
            {{"content", "input the station rejected, with the reason"},
             {"data_truncated_to_bytes", std::to_string(r.options.max_rejected_bytes)},
             {"kept_per_s", std::to_string(r.options.max_rejected_per_s)}});
      });
  r.Write(channel, r.rejected_sequence++, ground_ns, ground_ns, protocol::AsBytes(r.scratch),
          stats_);
}

void Recorder::RecordLinkStats(const LinkSnapshot& now, const LinkSnapshot& before,
                               const LinkAccounting& accounting, double interval_s,
                               TimestampNs ground_ns) {
  Impl& r = *impl_;
  if (r.failed || !r.writer) return;
  ground::v1::LinkStatistics stats;
  stats.set_interval_s(interval_s);
  for (const protocol::StreamInfo& info : protocol::AllStreams()) {
    const StreamStats& s = now.streams[static_cast<size_t>(info.id)];
    const StreamStats& b = before.streams[static_cast<size_t>(info.id)];
    auto* out = stats.add_streams();
    out->set_stream(std::string(info.name));
    out->set_apid(info.apid);
    out->set_received(s.received);
    out->set_bytes(s.bytes);
    out->set_missing(s.missing);
    out->set_gaps(s.gaps);
    out->set_duplicates(s.duplicates);
    out->set_out_of_order(s.out_of_order);
    out->set_highest_seq(s.highest_seq);
    out->set_lost(s.lost);
    const LatencySummary latency = accounting.Latency(info.id);
    if (latency.count > 0) {
      out->set_latency_p50_ms(static_cast<double>(latency.p50_ns) / 1e6);
      out->set_latency_p99_ms(static_cast<double>(latency.p99_ns) / 1e6);
      out->set_latency_max_ms(static_cast<double>(latency.max_ns) / 1e6);
    }
    if (interval_s > 0) {
      out->set_packets_per_s((s.received - b.received) / interval_s);
      out->set_bits_per_s((s.bytes - b.bytes) * 8.0 / interval_s);
    }
  }
  for (const auto& info : protocol::kRejectReasons) {
    const uint64_t n = now.rejected[static_cast<size_t>(info.reason)];
    if (n == 0) continue;
    auto* rc = stats.add_rejected();
    rc->set_reason(std::string(info.name));
    rc->set_count(n);
  }
  stats.set_total_received(now.total_received());
  stats.set_total_rejected(now.total_rejected());
  stats.set_total_missing(now.total_missing());
  r.scratch.clear();
  stats.AppendToString(&r.scratch);
  const uint16_t channel =
      r.ChannelFor(Impl::kLinkStatsSlot, *ground::v1::LinkStatistics::descriptor(), [] {
        return std::pair<std::string, std::map<std::string, std::string>>(
            std::string(protocol::recording::kLinkStatsChannel),
            {{"content", "periodic link accounting of the station"}});
      });
  r.Write(channel, r.stats_sequence++, ground_ns, ground_ns, protocol::AsBytes(r.scratch), stats_);
}

void Recorder::Tick(TimestampNs now_ns) {
  Impl& r = *impl_;
  if (r.failed) {
    r.Retry(now_ns, stats_);
    return;
  }
  if (!r.writer) return;
  if (r.options.split_duration_s &&
      now_ns - r.file_start_ns >= static_cast<int64_t>(*r.options.split_duration_s * kNsPerS)) {
    if (Status c = r.CloseFile(stats_); !c.ok()) return r.Failed(c, stats_);
    if (Status o = r.OpenFile(now_ns, stats_); !o.ok()) return r.Failed(o, stats_);
    return;
  }
  if (now_ns - r.last_flush_ns >= static_cast<int64_t>(r.options.flush_interval_s * kNsPerS)) {
    r.last_flush_ns = now_ns;
    if (Status s = r.writer->FlushChunk(); !s.ok()) return r.Failed(s, stats_);
    stats_.bytes = r.closed_files_bytes + r.writer->stats().bytes_written;
  }
}

Status Recorder::Close() {
  Impl& r = *impl_;
  if (r.failed) {
    r.writer.reset();
    r.sink.reset();
    return Status::Error(stats_.error);
  }
  Status s = r.CloseFile(stats_);
  if (!s.ok()) r.Failed(s, stats_);
  return s;
}

}  // namespace lgs::station
