// Reading MCAP files: the summary of a complete file, and every message of any file — complete,
// torn by a crash, or damaged — in file order.
//
// McapFile maps a file read-only; McapMessage::data and the records it yields point into that
// mapping (or into the reader's chunk buffer, valid until the next Next()). Readers never trust
// lengths from the file: every problem becomes a reason with a byte offset, never a crash.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocol/status.h"

namespace lgs::protocol {

struct McapSchema {
  uint16_t id = 0;
  std::string name, encoding, data;
};

struct McapChannel {
  uint16_t id = 0;
  uint16_t schema_id = 0;
  std::string topic, message_encoding;
  std::map<std::string, std::string> metadata;
};

struct McapMessage {
  uint16_t channel_id = 0;
  uint32_t sequence = 0;
  uint64_t log_time = 0;
  uint64_t publish_time = 0;
  std::span<const uint8_t> data;
};

struct McapChunkIndex {
  uint64_t message_start_time = 0, message_end_time = 0;
  uint64_t chunk_start_offset = 0, chunk_length = 0;
  std::map<uint16_t, uint64_t> message_index_offsets;
  uint64_t message_index_length = 0;
  std::string compression;
  uint64_t compressed_size = 0, uncompressed_size = 0;
};

struct McapStatistics {
  uint64_t message_count = 0;
  uint16_t schema_count = 0;
  uint32_t channel_count = 0, attachment_count = 0, metadata_count = 0, chunk_count = 0;
  uint64_t message_start_time = 0, message_end_time = 0;
  std::map<uint16_t, uint64_t> channel_message_counts;
};

struct McapSummary {
  std::optional<McapStatistics> statistics;
  std::vector<McapChunkIndex> chunk_indexes;
  std::map<uint16_t, McapSchema> schemas;
  std::map<uint16_t, McapChannel> channels;
  uint64_t data_end_offset = 0;  // file offset of the DataEnd record
  uint32_t data_section_crc = 0;
  uint64_t summary_start = 0, summary_offset_start = 0;
  uint32_t summary_crc = 0;
  std::string library, profile;
};

class McapFile {
 public:
  // Fails with a one-line reason: missing, unreadable, a directory, empty, not MCAP.
  static Result<std::unique_ptr<McapFile>> Open(const std::string& path);
  // A view of bytes already in memory (not copied: they must outlive the McapFile); `name`
  // stands for the path in messages. For fuzzing and for data that never touched a disk.
  static std::unique_ptr<McapFile> FromBytes(std::span<const uint8_t> bytes, std::string name);
  ~McapFile();
  McapFile(const McapFile&) = delete;
  McapFile& operator=(const McapFile&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

  // The summary of a complete file: footer, both magics, summary CRC, DataEnd position checked.
  // Fails for a file that was never closed (use McapMessageReader or `gsctl recover`).
  Result<McapSummary> ReadSummary() const;

 private:
  McapFile(std::string path, const uint8_t* data, size_t size, bool mapped)
      : path_(std::move(path)), data_(data), size_(size), mapped_(mapped) {}
  std::string path_;
  const uint8_t* data_;
  size_t size_;
  bool mapped_;  // unmapped on destruction
};

struct McapReadOptions {
  std::optional<uint64_t> start_ns;  // only messages with log_time >= start
  std::optional<uint64_t> end_ns;    // only messages with log_time <= end
  bool check_crcs = true;            // chunk CRCs
  // Skip a chunk whose contents are damaged (CRC, compression) and go on after it, instead of
  // stopping there. Used by recovery; the skipped chunks are listed in skipped_chunks().
  bool skip_damaged_chunks = false;
  uint64_t max_chunk_bytes = uint64_t{1} << 30;  // refuse to inflate a chunk beyond this
};

// Where and why a read stopped early, or a chunk it had to skip.
struct McapProblem {
  uint64_t offset = 0;
  std::string reason;
  uint64_t start_time = 0, end_time = 0;  // of the affected chunk, when known
};

class McapMessageReader {
 public:
  enum class End {
    kNotYet,    // Next() has not returned false yet
    kComplete,  // reached DataEnd: every message of the file was read
    kTorn,      // the file stops without DataEnd (a crash or a copy in progress)
    kDamaged,   // a record is corrupt; everything before it was read
  };

  McapMessageReader(const McapFile& file, McapReadOptions options = {});
  ~McapMessageReader();

  // Reads only the chunks at `chunk_offsets` (taken from `summary`'s chunk indexes), in that
  // order, knowing the summary's schemas and channels: no walk through the rest of the file.
  // Call before the first Next(); end() is kComplete after the last of them.
  void ReadOnlyChunks(const McapSummary& summary, std::vector<uint64_t> chunk_offsets);

  // The next message (after the time filter) in file order; false at the end or a problem.
  bool Next(McapMessage& out);

  End end() const { return end_; }
  // Why the read ended early (kTorn, kDamaged); empty when complete.
  const McapProblem& problem() const { return problem_; }
  const std::vector<McapProblem>& skipped_chunks() const { return skipped_; }
  // Offset just past the last record read completely and intact.
  uint64_t intact_offset() const { return intact_offset_; }
  uint64_t chunks_read() const { return chunks_read_; }

  const std::map<uint16_t, McapSchema>& schemas() const { return schemas_; }
  const std::map<uint16_t, McapChannel>& channels() const { return channels_; }

 private:
  bool Fail(End end, uint64_t offset, std::string reason);
  bool ReadChunk(std::span<const uint8_t> content, uint64_t offset, bool& skipped);
  // Parses a Schema/Channel/Message from `content`; returns false on a malformed record.
  bool HandleRecord(uint8_t opcode, std::span<const uint8_t> content, uint64_t offset,
                    McapMessage* message, bool& have_message);
  bool InTimeRange(uint64_t t) const;

  const McapFile& file_;
  McapReadOptions options_;
  End end_ = End::kNotYet;
  McapProblem problem_;
  std::vector<McapProblem> skipped_;
  uint64_t pos_ = 0;
  uint64_t intact_offset_ = 0;
  uint64_t chunks_read_ = 0;
  bool header_seen_ = false;
  bool indexed_ = false;
  std::vector<uint64_t> chunk_offsets_;
  size_t next_chunk_ = 0;

  std::string chunk_buffer_;
  std::span<const uint8_t> chunk_;  // the open chunk's uncompressed records
  size_t chunk_pos_ = 0;
  uint64_t chunk_offset_ = 0;
  void* zstd_ = nullptr;

  std::map<uint16_t, McapSchema> schemas_;
  std::map<uint16_t, McapChannel> channels_;
};

}  // namespace lgs::protocol
