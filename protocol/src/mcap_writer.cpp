#include "protocol/mcap_writer.h"

#include <fmt/format.h>
#include <lz4frame.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "mcap_records.h"
#include "protocol/crc32.h"
#include "protocol/mcap_format.h"

namespace lgs::protocol {

using mcap::Opcode;

Result<McapCompression> ParseMcapCompression(std::string_view name) {
  if (name == "none" || name.empty()) return McapCompression::kNone;
  if (name == "zstd") return McapCompression::kZstd;
  if (name == "lz4") return McapCompression::kLz4;
  return Status::Error(fmt::format("unknown compression '{}' (none, zstd or lz4)", name));
}

std::string_view McapCompressionName(McapCompression c) {
  switch (c) {
    case McapCompression::kNone:
      return "none";
    case McapCompression::kZstd:
      return "zstd";
    case McapCompression::kLz4:
      return "lz4";
  }
  return "none";
}

Status McapWriterOptions::Validate() const {
  if (chunk_size < 1024 || chunk_size > (size_t{1} << 30)) {
    return Status::Error(fmt::format("chunk size {} is outside 1 KiB .. 1 GiB", chunk_size));
  }
  if (zstd_level < 1 || zstd_level > 19) {
    return Status::Error(fmt::format("zstd level {} is outside 1..19", zstd_level));
  }
  return Status::Ok();
}

struct McapWriter::Impl {
  Impl(ByteSink& s, McapWriterOptions o) : sink(s), options(std::move(o)) {}
  ~Impl() {
    if (zstd != nullptr) ZSTD_freeCCtx(zstd);
  }

  Status Emit(std::span<const uint8_t> bytes, McapWriterStats& stats) {
    if (failed) return Status::Error("the recording writer stopped after an earlier error");
    if (in_data_section) data_crc = Crc32Update(data_crc, bytes);
    if (in_summary) summary_crc = Crc32Update(summary_crc, bytes);
    if (Status s = sink.Write(bytes); !s.ok()) {
      failed = true;
      return s;
    }
    offset += bytes.size();
    stats.bytes_written = offset;
    return Status::Ok();
  }
  Status Emit(const std::string& bytes, McapWriterStats& stats) {
    return Emit(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
        stats);
  }

  ByteSink& sink;
  McapWriterOptions options;
  bool opened = false, closed = false, failed = false;
  bool in_data_section = true, in_summary = false;
  uint64_t offset = 0;
  uint32_t data_crc = kCrc32Initial;
  uint32_t summary_crc = kCrc32Initial;

  std::vector<std::string> schema_records;   // by id - 1, re-emitted in the summary
  std::vector<std::string> channel_records;  // by id - 1
  std::map<uint16_t, uint64_t> channel_message_counts;
  uint64_t message_start = std::numeric_limits<uint64_t>::max(), message_end = 0;

  // The open chunk.
  std::string chunk;  // uncompressed records
  uint64_t chunk_start = std::numeric_limits<uint64_t>::max(), chunk_end = 0;
  std::vector<std::vector<std::pair<uint64_t, uint64_t>>> chunk_index;  // by channel id
  std::vector<uint16_t> chunk_channels;  // channels with messages in the open chunk

  std::vector<std::string> chunk_indexes;  // ChunkIndex records for the summary
  std::string compressed, scratch;
  ZSTD_CCtx* zstd = nullptr;
};

McapWriter::McapWriter(ByteSink& sink, McapWriterOptions options)
    : impl_(std::make_unique<Impl>(sink, std::move(options))) {}

McapWriter::~McapWriter() = default;

Status McapWriter::Open() {
  Impl& w = *impl_;
  if (Status s = w.options.Validate(); !s.ok()) return s;
  if (w.opened) return Status::Error("writer already opened");
  w.opened = true;
  if (w.options.compression == McapCompression::kZstd) {
    w.zstd = ZSTD_createCCtx();
    if (w.zstd == nullptr) return Status::Error("cannot create a zstd compression context");
  }
  std::string head(reinterpret_cast<const char*>(mcap::kMagic.data()), mcap::kMagic.size());
  mcap::RecordBuilder header(head, Opcode::kHeader);
  header.String(mcap::kProfile);
  header.String(w.options.library);
  header.Finish();
  return w.Emit(head, stats_);
}

Result<uint16_t> McapWriter::AddSchema(std::string_view name, std::string_view encoding,
                                       std::span<const uint8_t> data) {
  Impl& w = *impl_;
  if (!w.opened || w.closed) return Status::Error("writer is not open");
  if (w.schema_records.size() >= std::numeric_limits<uint16_t>::max()) {
    return Status::Error("too many schemas");
  }
  const auto id = static_cast<uint16_t>(w.schema_records.size() + 1);
  std::string record;
  mcap::RecordBuilder b(record, Opcode::kSchema);
  b.U16(id);
  b.String(name);
  b.String(encoding);
  b.U32(static_cast<uint32_t>(data.size()));
  b.Bytes(data);
  b.Finish();
  if (Status s = w.Emit(record, stats_); !s.ok()) return s;
  w.schema_records.push_back(std::move(record));
  return id;
}

Result<uint16_t> McapWriter::AddChannel(std::string_view topic, std::string_view message_encoding,
                                        uint16_t schema_id,
                                        const std::map<std::string, std::string>& metadata) {
  Impl& w = *impl_;
  if (!w.opened || w.closed) return Status::Error("writer is not open");
  if (schema_id > w.schema_records.size()) {
    return Status::Error(fmt::format("channel '{}' refers to unknown schema {}", topic, schema_id));
  }
  if (w.channel_records.size() >= std::numeric_limits<uint16_t>::max() - 1) {
    return Status::Error("too many channels");
  }
  const auto id = static_cast<uint16_t>(w.channel_records.size() + 1);
  std::string record;
  mcap::RecordBuilder b(record, Opcode::kChannel);
  b.U16(id);
  b.U16(schema_id);
  b.String(topic);
  b.String(message_encoding);
  b.StringMap(metadata);
  b.Finish();
  if (Status s = w.Emit(record, stats_); !s.ok()) return s;
  w.channel_records.push_back(std::move(record));
  w.chunk_index.resize(w.channel_records.size() + 1);
  return id;
}

bool McapWriter::chunk_has_messages() const {
  return !impl_->chunk.empty();
}
uint64_t McapWriter::open_chunk_bytes() const {
  return impl_->chunk.size();
}

Status McapWriter::Write(uint16_t channel_id, uint32_t sequence, uint64_t log_time,
                         uint64_t publish_time, std::span<const uint8_t> data) {
  Impl& w = *impl_;
  if (!w.opened || w.closed) return Status::Error("writer is not open");
  if (w.failed) return Status::Error("the recording writer stopped after an earlier error");
  if (channel_id == 0 || channel_id > w.channel_records.size()) {
    return Status::Error(fmt::format("message on unknown channel {}", channel_id));
  }
  auto& entries = w.chunk_index[channel_id];
  if (entries.empty()) w.chunk_channels.push_back(channel_id);
  entries.emplace_back(log_time, w.chunk.size());

  const size_t content = mcap::kMessageHeaderSize + data.size();
  const size_t at = w.chunk.size();
  w.chunk.resize(at + mcap::kRecordPrefixSize + content);
  char* p = w.chunk.data() + at;
  *p++ = static_cast<char>(Opcode::kMessage);
  mcap::PutLe<uint64_t>(p, content);
  mcap::PutLe<uint16_t>(p + 8, channel_id);
  mcap::PutLe<uint32_t>(p + 10, sequence);
  mcap::PutLe<uint64_t>(p + 14, log_time);
  mcap::PutLe<uint64_t>(p + 22, publish_time);
  if (!data.empty()) std::memcpy(p + 30, data.data(), data.size());

  w.chunk_start = std::min(w.chunk_start, log_time);
  w.chunk_end = std::max(w.chunk_end, log_time);
  ++w.channel_message_counts[channel_id];
  ++stats_.messages;
  if (w.chunk.size() >= w.options.chunk_size) return FlushChunk();
  return Status::Ok();
}

Status McapWriter::FlushChunk() {
  Impl& w = *impl_;
  if (w.chunk.empty()) return Status::Ok();
  if (w.failed) return Status::Error("the recording writer stopped after an earlier error");

  const uint32_t uncompressed_crc =
      Crc32({reinterpret_cast<const uint8_t*>(w.chunk.data()), w.chunk.size()});
  std::string_view compression = mcap::kCompressionNone;
  std::string_view records = w.chunk;
  if (w.options.compression == McapCompression::kZstd) {
    w.compressed.resize(ZSTD_compressBound(w.chunk.size()));
    const size_t n = ZSTD_compressCCtx(w.zstd, w.compressed.data(), w.compressed.size(),
                                       w.chunk.data(), w.chunk.size(), w.options.zstd_level);
    if (ZSTD_isError(n)) {
      w.failed = true;
      return Status::Error(fmt::format("zstd compression failed: {}", ZSTD_getErrorName(n)));
    }
    if (n < w.chunk.size()) {
      compression = mcap::kCompressionZstd;
      records = std::string_view(w.compressed.data(), n);
    }
  } else if (w.options.compression == McapCompression::kLz4) {
    LZ4F_preferences_t prefs{};
    prefs.frameInfo.contentSize = w.chunk.size();
    w.compressed.resize(LZ4F_compressFrameBound(w.chunk.size(), &prefs));
    const size_t n = LZ4F_compressFrame(w.compressed.data(), w.compressed.size(), w.chunk.data(),
                                        w.chunk.size(), &prefs);
    if (LZ4F_isError(n)) {
      w.failed = true;
      return Status::Error(fmt::format("lz4 compression failed: {}", LZ4F_getErrorName(n)));
    }
    if (n < w.chunk.size()) {
      compression = mcap::kCompressionLz4;
      records = std::string_view(w.compressed.data(), n);
    }
  }

  const uint64_t chunk_offset = w.offset;
  std::string& head = w.scratch;
  head.clear();
  mcap::RecordBuilder chunk(head, Opcode::kChunk);
  chunk.U64(w.chunk_start);
  chunk.U64(w.chunk_end);
  chunk.U64(w.chunk.size());
  chunk.U32(uncompressed_crc);
  chunk.String(compression);
  chunk.U64(records.size());
  chunk.FinishWithTrailingBytes(records.size());
  if (Status s = w.Emit(head, stats_); !s.ok()) return s;
  if (Status s = w.Emit(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(records.data()),
                                                 records.size()),
                        stats_);
      !s.ok()) {
    return s;
  }
  const uint64_t chunk_length = w.offset - chunk_offset;

  // Message indexes, one per channel with messages in this chunk, in channel order.
  std::sort(w.chunk_channels.begin(), w.chunk_channels.end());
  std::map<uint16_t, uint64_t> index_offsets;
  const uint64_t indexes_start = w.offset;
  std::string indexes;
  for (uint16_t channel : w.chunk_channels) {
    auto& entries = w.chunk_index[channel];
    index_offsets[channel] = indexes_start + indexes.size();
    mcap::RecordBuilder b(indexes, Opcode::kMessageIndex);
    b.U16(channel);
    b.U32(static_cast<uint32_t>(entries.size() * 16));
    for (const auto& [time, offset] : entries) {
      b.U64(time);
      b.U64(offset);
    }
    b.Finish();
    entries.clear();
  }
  if (Status s = w.Emit(indexes, stats_); !s.ok()) return s;

  std::string index;
  mcap::RecordBuilder ci(index, Opcode::kChunkIndex);
  ci.U64(w.chunk_start);
  ci.U64(w.chunk_end);
  ci.U64(chunk_offset);
  ci.U64(chunk_length);
  ci.U16U64Map(index_offsets);
  ci.U64(indexes.size());
  ci.String(compression);
  ci.U64(records.size());
  ci.U64(w.chunk.size());
  ci.Finish();
  w.chunk_indexes.push_back(std::move(index));

  stats_.uncompressed_chunk_bytes += w.chunk.size();
  stats_.compressed_chunk_bytes += records.size();
  ++stats_.chunks;
  w.message_start = std::min(w.message_start, w.chunk_start);
  w.message_end = std::max(w.message_end, w.chunk_end);
  w.chunk.clear();
  w.chunk_channels.clear();
  w.chunk_start = std::numeric_limits<uint64_t>::max();
  w.chunk_end = 0;
  if (w.options.sync_on_chunk) {
    if (Status s = w.sink.Sync(); !s.ok()) {
      w.failed = true;
      return s;
    }
  }
  return Status::Ok();
}

Status McapWriter::Close() {
  Impl& w = *impl_;
  if (!w.opened || w.closed) return Status::Error("writer is not open");
  if (Status s = FlushChunk(); !s.ok()) return s;
  w.closed = true;

  std::string data_end;
  mcap::RecordBuilder de(data_end, Opcode::kDataEnd);
  de.U32(Crc32Finish(w.data_crc));
  de.Finish();
  w.in_data_section = false;
  if (Status s = w.Emit(data_end, stats_); !s.ok()) return s;

  const uint64_t summary_start = w.offset;
  w.in_summary = true;
  struct Group {
    Opcode opcode;
    uint64_t start, length;
  };
  std::vector<Group> groups;
  const auto emit_group = [&](Opcode opcode, const std::vector<std::string>& records) -> Status {
    if (records.empty()) return Status::Ok();
    const uint64_t start = w.offset;
    for (const std::string& r : records) {
      if (Status s = w.Emit(r, stats_); !s.ok()) return s;
    }
    groups.push_back({opcode, start, w.offset - start});
    return Status::Ok();
  };
  if (Status s = emit_group(Opcode::kSchema, w.schema_records); !s.ok()) return s;
  if (Status s = emit_group(Opcode::kChannel, w.channel_records); !s.ok()) return s;

  std::string statistics;
  mcap::RecordBuilder st(statistics, Opcode::kStatistics);
  const bool any = stats_.messages > 0;
  st.U64(stats_.messages);
  st.U16(static_cast<uint16_t>(w.schema_records.size()));
  st.U32(static_cast<uint32_t>(w.channel_records.size()));
  st.U32(0);  // attachments
  st.U32(0);  // metadata
  st.U32(static_cast<uint32_t>(w.chunk_indexes.size()));
  st.U64(any ? w.message_start : 0);
  st.U64(any ? w.message_end : 0);
  st.U16U64Map(w.channel_message_counts);
  st.Finish();
  if (Status s = emit_group(Opcode::kStatistics, {statistics}); !s.ok()) return s;
  if (Status s = emit_group(Opcode::kChunkIndex, w.chunk_indexes); !s.ok()) return s;

  const uint64_t summary_offset_start = w.offset;
  std::string offsets;
  for (const Group& g : groups) {
    mcap::RecordBuilder so(offsets, Opcode::kSummaryOffset);
    so.U8(static_cast<uint8_t>(g.opcode));
    so.U64(g.start);
    so.U64(g.length);
    so.Finish();
  }
  if (Status s = w.Emit(offsets, stats_); !s.ok()) return s;

  std::string footer;
  mcap::RecordBuilder f(footer, Opcode::kFooter);
  f.U64(summary_start);
  f.U64(groups.empty() ? 0 : summary_offset_start);
  f.FinishWithTrailingBytes(4);  // the summary CRC, which covers the footer up to here
  if (Status s = w.Emit(footer, stats_); !s.ok()) return s;  // CRC covers up to here
  w.in_summary = false;
  std::string tail;
  mcap::PutLe<uint32_t>(tail, Crc32Finish(w.summary_crc));
  tail.append(reinterpret_cast<const char*>(mcap::kMagic.data()), mcap::kMagic.size());
  if (Status s = w.Emit(tail, stats_); !s.ok()) return s;
  if (Status s = w.sink.Sync(); !s.ok()) return s;
  return w.sink.Close();
}

}  // namespace lgs::protocol
