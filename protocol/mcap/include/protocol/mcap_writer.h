// McapWriter: writes an indexed, chunked MCAP file that any MCAP reader opens.
//
// Layout (the one the official indexed readers require):
//   Magic Header [Schema|Channel]* [Chunk MessageIndex*]* DataEnd
//   Schema* Channel* Statistics ChunkIndex* SummaryOffset* Footer Magic
// Schemas and channels are written to the data section when added; messages are buffered into a
// chunk that is compressed and written (then optionally fsynced) when it reaches chunk_size or
// when FlushChunk() is called. Everything before the open chunk is therefore on disk and
// readable by `gsctl recover` even if the process dies.
//
// All three CRCs are written: chunk (uncompressed records), data section, summary.
// After any write error the writer refuses further calls; what it wrote is a valid prefix.
// Not thread-safe: one caller thread (with background_io, an internal I/O thread does the
// chunk compression and file output in order).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "protocol/byte_sink.h"
#include "protocol/status.h"

namespace lgs::protocol {

enum class McapCompression { kNone, kZstd, kLz4 };

Result<McapCompression> ParseMcapCompression(std::string_view name);
std::string_view McapCompressionName(McapCompression compression);

struct McapWriterOptions {
  McapCompression compression = McapCompression::kZstd;
  int zstd_level = 1;           // 1 = fastest; the recorder must never limit the station
  size_t chunk_size = 1 << 20;  // close a chunk at this many uncompressed bytes
  bool sync_on_chunk = true;    // fsync after writing each chunk
  // Compress, write and fsync chunks on a thread of the writer's own, so the caller (the
  // station's ingest thread) never waits for the disk; at most 4 chunks queue, then it blocks.
  bool background_io = false;
  // Nice value of that thread: compression yields to the caller, which has latency to keep.
  int background_io_nice = 10;
  std::string library = "lunar-groundstation";  // Header.library

  Status Validate() const;
};

struct McapWriterStats {
  uint64_t messages = 0;          // accepted by Write()
  uint64_t messages_written = 0;  // in chunks that reached the file
  uint64_t chunks = 0;
  uint64_t bytes_written = 0;  // file size so far
  uint64_t uncompressed_chunk_bytes = 0;
  uint64_t compressed_chunk_bytes = 0;
};

class McapWriter {
 public:
  McapWriter(ByteSink& sink, McapWriterOptions options);
  ~McapWriter();
  McapWriter(const McapWriter&) = delete;
  McapWriter& operator=(const McapWriter&) = delete;

  Status Open();
  // Ids start at 1 and are assigned in call order.
  Result<uint16_t> AddSchema(std::string_view name, std::string_view encoding,
                             std::span<const uint8_t> data);
  Result<uint16_t> AddChannel(std::string_view topic, std::string_view message_encoding,
                              uint16_t schema_id,
                              const std::map<std::string, std::string>& metadata);
  Status Write(uint16_t channel_id, uint32_t sequence, uint64_t log_time_ns,
               uint64_t publish_time_ns, std::span<const uint8_t> data);
  // Compresses and writes the open chunk and its message indexes (no-op when empty).
  Status FlushChunk();
  // Flushes, writes DataEnd, summary and footer. The writer cannot be used afterwards.
  Status Close();

  uint64_t open_chunk_bytes() const;
  // Bytes and chunks count what is on disk (background I/O may lag the calls).
  McapWriterStats stats() const;
  // Gives up on the file after a failure: waits for the I/O thread (which writes what it still
  // can), closes nothing. stats().messages - stats().messages_written were then lost.
  void Abandon();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lgs::protocol
