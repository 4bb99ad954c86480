#include "protocol/mcap_writer.h"

#include <fmt/format.h>
#include <lz4frame.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <thread>

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

namespace {

// A channel's message index in a chunk: (log time, offset in the chunk's records).
using MessageIndexEntries = std::vector<std::pair<uint64_t, uint64_t>>;

// A closed chunk waiting to be compressed and written: its records and message indexes.
struct ChunkJob {
  std::string records;
  uint64_t start = 0, end = 0;
  std::vector<std::pair<uint16_t, MessageIndexEntries>> indexes;
};

// One piece of file output, in file order: raw record bytes or a chunk.
struct Job {
  bool is_chunk = false;
  std::string bytes;
  ChunkJob chunk;
};

// At most this many jobs wait for the I/O thread; beyond it the caller blocks (never drops).
constexpr size_t kMaxQueuedJobs = 4;
// Written chunks' buffers kept for the next chunks (one per queued job, the one being written,
// the one being filled) and message-index vectors (a few per chunk).
constexpr size_t kMaxSpareChunkBuffers = kMaxQueuedJobs + 2;
constexpr size_t kMaxSpareIndexVectors = 64;

}  // namespace

struct McapWriter::Impl {
  Impl(ByteSink& s, McapWriterOptions o) : sink(s), options(std::move(o)) {}
  ~Impl() {
    StopWorker();
    if (zstd != nullptr) ZSTD_freeCCtx(zstd);
  }

  // ---- output side: the I/O thread when background_io is on, else the caller ----
  Status Emit(std::span<const uint8_t> bytes) {
    if (in_data_section) data_crc = Crc32Update(data_crc, bytes);
    if (in_summary) summary_crc = Crc32Update(summary_crc, bytes);
    if (Status s = sink.Write(bytes); !s.ok()) return s;
    offset += bytes.size();
    bytes_written.store(offset, std::memory_order_relaxed);
    return Status::Ok();
  }
  Status Emit(const std::string& bytes) {
    return Emit(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  }
  Status WriteChunk(ChunkJob& job);
  Status Process(Job& job) {
    Status s = job.is_chunk ? WriteChunk(job.chunk) : Emit(job.bytes);
    if (!s.ok()) Fail(s.message());
    return s;
  }

  // ---- the queue between the caller and the I/O thread ----
  Status Submit(Job job) {
    if (failed.load()) return Error();
    if (!worker.joinable()) {
      Status s = Process(job);
      if (job.is_chunk) {
        std::lock_guard lock(io_mutex);
        RecycleLocked(job.chunk);
      }
      return s;
    }
    std::unique_lock lock(io_mutex);
    io_cv.wait(lock, [&] { return jobs.size() < kMaxQueuedJobs || failed.load(); });
    if (failed.load()) {
      lock.unlock();  // Error() takes the same mutex (this was a self-deadlock on disk full)
      return Error();
    }
    jobs.push_back(std::move(job));
    io_cv.notify_all();
    return Status::Ok();
  }
  // Waits until every submitted job is on disk (or failed).
  Status Drain() {
    if (worker.joinable()) {
      std::unique_lock lock(io_mutex);
      io_cv.wait(lock, [&] { return (jobs.empty() && !busy) || failed.load(); });
    }
    return failed.load() ? Error() : Status::Ok();
  }
  void WorkerLoop() {
    // Per-thread nice (Linux): best effort, an unprivileged process may only raise it.
    static_cast<void>(
        ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), options.background_io_nice));
    std::unique_lock lock(io_mutex);
    while (true) {
      io_cv.wait(lock, [&] { return !jobs.empty() || stopping; });
      if (jobs.empty()) return;  // stopping and nothing left
      Job job = std::move(jobs.front());
      jobs.pop_front();
      busy = true;
      lock.unlock();
      if (!failed.load()) static_cast<void>(Process(job));
      lock.lock();
      if (job.is_chunk) RecycleLocked(job.chunk);
      busy = false;
      io_cv.notify_all();
    }
  }
  // A written chunk's buffers go back to the caller for the next chunks: a 1 MiB buffer freshly
  // allocated per chunk cost the ingest thread page faults while filling it, and the I/O
  // thread an munmap (a TLB shoot-down that interrupts the other core) per chunk.
  void RecycleLocked(ChunkJob& job) {
    if (spare_records.size() < kMaxSpareChunkBuffers) {
      job.records.clear();
      spare_records.push_back(std::move(job.records));
    }
    for (auto& [channel, entries] : job.indexes) {
      if (spare_indexes.size() >= kMaxSpareIndexVectors) break;
      entries.clear();
      spare_indexes.push_back(std::move(entries));
    }
  }
  void StopWorker() {
    if (!worker.joinable()) return;
    {
      std::lock_guard lock(io_mutex);
      stopping = true;
    }
    io_cv.notify_all();
    worker.join();
  }
  void Fail(const std::string& why) {
    {
      std::lock_guard lock(io_mutex);
      if (error.empty()) error = why;
    }
    failed = true;
    io_cv.notify_all();
  }
  Status Error() {
    std::lock_guard lock(io_mutex);
    return Status::Error(error.empty() ? "the recording writer stopped after an earlier error"
                                       : error);
  }

  ByteSink& sink;
  McapWriterOptions options;
  bool opened = false, closed = false;
  std::atomic<bool> failed{false};

  std::thread worker;
  std::mutex io_mutex;
  std::condition_variable io_cv;
  std::deque<Job> jobs;
  std::vector<std::string> spare_records;          // empty, with capacity
  std::vector<MessageIndexEntries> spare_indexes;  // empty, with capacity
  bool busy = false, stopping = false;
  std::string error;

  // Output state, owned by whoever runs Process().
  bool in_data_section = true, in_summary = false;
  uint64_t offset = 0;
  uint32_t data_crc = kCrc32Initial;
  uint32_t summary_crc = kCrc32Initial;
  std::vector<std::string> chunk_indexes;  // ChunkIndex records for the summary
  uint64_t message_start = std::numeric_limits<uint64_t>::max(), message_end = 0;
  std::string compressed, scratch, indexes;
  ZSTD_CCtx* zstd = nullptr;
  std::atomic<uint64_t> bytes_written{0}, chunks{0}, uncompressed_bytes{0}, compressed_bytes{0};
  std::atomic<uint64_t> messages_written{0};

  // Caller state.
  std::vector<std::string> schema_records;   // by id - 1, re-emitted in the summary
  std::vector<std::string> channel_records;  // by id - 1
  std::map<uint16_t, uint64_t> channel_message_counts;
  uint64_t messages = 0;
  std::string chunk;  // the open chunk's uncompressed records
  uint64_t chunk_start = std::numeric_limits<uint64_t>::max(), chunk_end = 0;
  std::vector<MessageIndexEntries> chunk_index;  // by channel id
  std::vector<uint16_t> chunk_channels;          // channels with messages in the open chunk
};

McapWriter::McapWriter(ByteSink& sink, McapWriterOptions options)
    : impl_(std::make_unique<Impl>(sink, std::move(options))) {}

McapWriter::~McapWriter() = default;

void McapWriter::Abandon() {
  impl_->StopWorker();
}

McapWriterStats McapWriter::stats() const {
  const Impl& w = *impl_;
  McapWriterStats s;
  s.messages = w.messages;
  s.messages_written = w.messages_written.load(std::memory_order_relaxed);
  s.chunks = w.chunks.load(std::memory_order_relaxed);
  s.bytes_written = w.bytes_written.load(std::memory_order_relaxed);
  s.uncompressed_chunk_bytes = w.uncompressed_bytes.load(std::memory_order_relaxed);
  s.compressed_chunk_bytes = w.compressed_bytes.load(std::memory_order_relaxed);
  return s;
}

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
  if (Status s = w.Emit(head); !s.ok()) {
    w.Fail(s.message());
    return s;
  }
  if (w.options.background_io) w.worker = std::thread([&w] { w.WorkerLoop(); });
  return Status::Ok();
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
  w.schema_records.push_back(record);
  if (Status s = w.Submit({false, std::move(record), {}}); !s.ok()) return s;
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
  w.channel_records.push_back(record);
  w.chunk_index.resize(w.channel_records.size() + 1);
  if (Status s = w.Submit({false, std::move(record), {}}); !s.ok()) return s;
  return id;
}

uint64_t McapWriter::open_chunk_bytes() const {
  return impl_->chunk.size();
}

Status McapWriter::Write(uint16_t channel_id, uint32_t sequence, uint64_t log_time,
                         uint64_t publish_time, std::span<const uint8_t> data) {
  Impl& w = *impl_;
  if (!w.opened || w.closed) return Status::Error("writer is not open");
  if (w.failed.load(std::memory_order_relaxed)) return w.Error();
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
  ++w.messages;
  if (w.chunk.size() >= w.options.chunk_size) return FlushChunk();
  return Status::Ok();
}

Status McapWriter::FlushChunk() {
  Impl& w = *impl_;
  if (w.chunk.empty()) return Status::Ok();
  if (w.failed.load()) return w.Error();
  Job job;
  job.is_chunk = true;
  job.chunk.start = w.chunk_start;
  job.chunk.end = w.chunk_end;
  std::sort(w.chunk_channels.begin(), w.chunk_channels.end());
  std::string next_chunk;
  {
    std::lock_guard lock(w.io_mutex);
    for (uint16_t channel : w.chunk_channels) {
      MessageIndexEntries& entries = w.chunk_index[channel];
      job.chunk.indexes.emplace_back(channel, std::move(entries));
      entries.clear();
      if (!w.spare_indexes.empty()) {
        entries = std::move(w.spare_indexes.back());
        w.spare_indexes.pop_back();
      }
    }
    if (!w.spare_records.empty()) {
      next_chunk = std::move(w.spare_records.back());
      w.spare_records.pop_back();
    }
  }
  job.chunk.records.swap(w.chunk);
  w.chunk = std::move(next_chunk);
  if (w.chunk.capacity() == 0) {
    w.chunk.reserve(std::min<size_t>(job.chunk.records.capacity(), w.options.chunk_size + 65536));
  }
  w.chunk_channels.clear();
  w.chunk_start = std::numeric_limits<uint64_t>::max();
  w.chunk_end = 0;
  return w.Submit(std::move(job));
}

Status McapWriter::Impl::WriteChunk(ChunkJob& job) {
  const std::string& records_raw = job.records;
  const uint32_t uncompressed_crc =
      Crc32({reinterpret_cast<const uint8_t*>(records_raw.data()), records_raw.size()});
  std::string_view compression = mcap::kCompressionNone;
  std::string_view records = records_raw;
  if (options.compression == McapCompression::kZstd) {
    compressed.resize(ZSTD_compressBound(records_raw.size()));
    const size_t n = ZSTD_compressCCtx(zstd, compressed.data(), compressed.size(),
                                       records_raw.data(), records_raw.size(), options.zstd_level);
    if (ZSTD_isError(n)) {
      return Status::Error(fmt::format("zstd compression failed: {}", ZSTD_getErrorName(n)));
    }
    if (n < records_raw.size()) {
      compression = mcap::kCompressionZstd;
      records = std::string_view(compressed.data(), n);
    }
  } else if (options.compression == McapCompression::kLz4) {
    LZ4F_preferences_t prefs{};
    prefs.frameInfo.contentSize = records_raw.size();
    compressed.resize(LZ4F_compressFrameBound(records_raw.size(), &prefs));
    const size_t n = LZ4F_compressFrame(compressed.data(), compressed.size(), records_raw.data(),
                                        records_raw.size(), &prefs);
    if (LZ4F_isError(n)) {
      return Status::Error(fmt::format("lz4 compression failed: {}", LZ4F_getErrorName(n)));
    }
    if (n < records_raw.size()) {
      compression = mcap::kCompressionLz4;
      records = std::string_view(compressed.data(), n);
    }
  }

  const uint64_t chunk_offset = offset;
  scratch.clear();
  mcap::RecordBuilder chunk(scratch, Opcode::kChunk);
  chunk.U64(job.start);
  chunk.U64(job.end);
  chunk.U64(records_raw.size());
  chunk.U32(uncompressed_crc);
  chunk.String(compression);
  chunk.U64(records.size());
  chunk.FinishWithTrailingBytes(records.size());
  if (Status s = Emit(scratch); !s.ok()) return s;
  if (Status s = Emit(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(records.data()),
                                               records.size()));
      !s.ok()) {
    return s;
  }
  // The chunk record is complete in the file: its messages are readable from here on, even if
  // the message indexes after it never make it.
  uint64_t chunk_messages = 0;
  for (const auto& [channel, entries] : job.indexes) chunk_messages += entries.size();
  messages_written.fetch_add(chunk_messages, std::memory_order_relaxed);
  const uint64_t chunk_length = offset - chunk_offset;

  // Message indexes, one per channel with messages in this chunk, in channel order.
  std::map<uint16_t, uint64_t> index_offsets;
  const uint64_t indexes_start = offset;
  indexes.clear();
  for (const auto& [channel, entries] : job.indexes) {
    index_offsets[channel] = indexes_start + indexes.size();
    mcap::RecordBuilder b(indexes, Opcode::kMessageIndex);
    b.U16(channel);
    b.U32(static_cast<uint32_t>(entries.size() * 16));
    for (const auto& [time, at] : entries) {
      b.U64(time);
      b.U64(at);
    }
    b.Finish();
  }
  if (Status s = Emit(indexes); !s.ok()) return s;

  std::string index;
  mcap::RecordBuilder ci(index, Opcode::kChunkIndex);
  ci.U64(job.start);
  ci.U64(job.end);
  ci.U64(chunk_offset);
  ci.U64(chunk_length);
  ci.U16U64Map(index_offsets);
  ci.U64(indexes.size());
  ci.String(compression);
  ci.U64(records.size());
  ci.U64(records_raw.size());
  ci.Finish();
  chunk_indexes.push_back(std::move(index));

  uncompressed_bytes += records_raw.size();
  compressed_bytes += records.size();
  ++chunks;
  message_start = std::min(message_start, job.start);
  message_end = std::max(message_end, job.end);
  if (options.sync_on_chunk) return sink.Sync();
  return Status::Ok();
}

Status McapWriter::Close() {
  Impl& w = *impl_;
  if (!w.opened || w.closed) return Status::Error("writer is not open");
  Status flushed = FlushChunk();
  Status drained = w.Drain();
  w.StopWorker();  // from here on the summary is written on this thread
  w.closed = true;
  if (!flushed.ok()) return flushed;
  if (!drained.ok()) return drained;

  const auto emit = [&w](const std::string& bytes) {
    Job job{false, bytes, {}};
    return w.Process(job);
  };
  std::string data_end;
  mcap::RecordBuilder de(data_end, Opcode::kDataEnd);
  de.U32(Crc32Finish(w.data_crc));
  de.Finish();
  w.in_data_section = false;
  if (Status s = emit(data_end); !s.ok()) return s;

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
      if (Status s = emit(r); !s.ok()) return s;
    }
    groups.push_back({opcode, start, w.offset - start});
    return Status::Ok();
  };
  if (Status s = emit_group(Opcode::kSchema, w.schema_records); !s.ok()) return s;
  if (Status s = emit_group(Opcode::kChannel, w.channel_records); !s.ok()) return s;

  std::string statistics;
  mcap::RecordBuilder st(statistics, Opcode::kStatistics);
  const bool any = w.messages > 0;
  st.U64(w.messages);
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
  if (Status s = emit(offsets); !s.ok()) return s;

  std::string footer;
  mcap::RecordBuilder f(footer, Opcode::kFooter);
  f.U64(summary_start);
  f.U64(groups.empty() ? 0 : summary_offset_start);
  f.FinishWithTrailingBytes(4);  // the summary CRC, which covers the footer up to here
  if (Status s = emit(footer); !s.ok()) return s;
  w.in_summary = false;
  std::string tail;
  mcap::PutLe<uint32_t>(tail, Crc32Finish(w.summary_crc));
  tail.append(reinterpret_cast<const char*>(mcap::kMagic.data()), mcap::kMagic.size());
  if (Status s = emit(tail); !s.ok()) return s;
  if (Status s = w.sink.Sync(); !s.ok()) return s;
  return w.sink.Close();
}

}  // namespace lgs::protocol
