#include "protocol/mcap_reader.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <lz4frame.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "mcap_records.h"
#include "protocol/crc32.h"
#include "protocol/mcap_format.h"
#include "protocol/regular_file.h"

namespace lgs::protocol {

using mcap::FieldReader;
using mcap::GetLe;
using mcap::Opcode;

namespace {

bool HasMagicAt(std::span<const uint8_t> bytes, size_t at) {
  return bytes.size() >= at + mcap::kMagic.size() &&
         std::equal(mcap::kMagic.begin(), mcap::kMagic.end(), bytes.begin() + at);
}

bool ParseSchema(std::span<const uint8_t> content, McapSchema& s) {
  FieldReader r(content);
  uint32_t n = 0;
  std::span<const uint8_t> data;
  if (!r.U16(s.id) || !r.String(s.name) || !r.String(s.encoding) || !r.U32(n) ||
      !r.Bytes(n, data)) {
    return false;
  }
  s.data.assign(reinterpret_cast<const char*>(data.data()), data.size());
  return s.id != 0;
}

bool ParseChannel(std::span<const uint8_t> content, McapChannel& c) {
  FieldReader r(content);
  return r.U16(c.id) && r.U16(c.schema_id) && r.String(c.topic) && r.String(c.message_encoding) &&
         r.StringMap(c.metadata);
}

bool ParseChunkIndex(std::span<const uint8_t> content, McapChunkIndex& c) {
  FieldReader r(content);
  return r.U64(c.message_start_time) && r.U64(c.message_end_time) && r.U64(c.chunk_start_offset) &&
         r.U64(c.chunk_length) && r.U16U64Map(c.message_index_offsets) &&
         r.U64(c.message_index_length) && r.String(c.compression) && r.U64(c.compressed_size) &&
         r.U64(c.uncompressed_size);
}

bool ParseStatistics(std::span<const uint8_t> content, McapStatistics& s) {
  FieldReader r(content);
  return r.U64(s.message_count) && r.U16(s.schema_count) && r.U32(s.channel_count) &&
         r.U32(s.attachment_count) && r.U32(s.metadata_count) && r.U32(s.chunk_count) &&
         r.U64(s.message_start_time) && r.U64(s.message_end_time) &&
         r.U16U64Map(s.channel_message_counts);
}

}  // namespace

namespace mcap {

namespace {
// A zstd chunk's output starts with room for what it claims, up to this much or this many times
// its data (telemetry inflates 3 to 10 times: one allocation), and doubles beyond.
constexpr uint64_t kFirstInflateBytes = 64 * 1024;
constexpr uint64_t kTrustedRatio = 64;
}  // namespace

std::string InflateChunk(std::string_view compression, std::span<const uint8_t> records,
                         uint64_t uncompressed_size, std::string& out, void*& zstd_context) {
  // The size comes from the file: check it against what the data can hold before allocating
  // (the MCAP reader fuzzer found the verifier allocating whatever a chunk header claimed).
  if (uncompressed_size > kMaxInflatedChunkBytes) {
    return fmt::format("chunk claims {} bytes uncompressed (limit {})", uncompressed_size,
                       kMaxInflatedChunkBytes);
  }
  // Before anything is allocated for it (the fuzzer found a chunk of an unknown compression
  // claiming 1 GiB, allocated and then refused).
  if (compression != kCompressionNone && compression != kCompressionZstd &&
      compression != kCompressionLz4) {
    return fmt::format("unknown chunk compression '{}'", compression);
  }
  if (compression == kCompressionNone && records.size() != uncompressed_size) {
    return "uncompressed chunk size mismatch";
  }
  if (compression == kCompressionZstd) {
    const unsigned long long declared = ZSTD_getFrameContentSize(records.data(), records.size());
    if (declared == ZSTD_CONTENTSIZE_ERROR) return "zstd: not a zstd frame";
    if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != uncompressed_size) {
      return "zstd frame size disagrees with the chunk's uncompressed size";
    }
  }
  if (compression == kCompressionLz4 && uncompressed_size > records.size() * 256 + 1024) {
    return "lz4 chunk claims more than its data can inflate to";
  }
  if (compression == kCompressionZstd) {
    // A frame's header can claim any size up to the limit from a few bytes of data (the MCAP
    // reader fuzzer found 4 KB asking for 1 GiB): the output grows as the data really inflates,
    // to at most one byte past the claim (which is then an error), never to the claim at once.
    if (zstd_context == nullptr) zstd_context = ZSTD_createDCtx();
    auto* dctx = static_cast<ZSTD_DCtx*>(zstd_context);
    ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
    const uint64_t most = uncompressed_size + 1;
    out.resize(static_cast<size_t>(std::min<uint64_t>(
        most, std::max<uint64_t>(kFirstInflateBytes, kTrustedRatio * records.size()))));
    ZSTD_inBuffer in{records.data(), records.size(), 0};
    size_t produced = 0, left = 1;
    while (in.pos < in.size || left != 0) {
      if (produced == out.size()) {
        if (out.size() >= most) break;  // more than it claims: told below
        out.resize(static_cast<size_t>(std::min<uint64_t>(most, 2 * uint64_t{out.size()})));
      }
      ZSTD_outBuffer o{out.data(), out.size(), produced};
      const size_t consumed = in.pos;
      left = ZSTD_decompressStream(dctx, &o, &in);
      if (ZSTD_isError(left)) return fmt::format("zstd: {}", ZSTD_getErrorName(left));
      const bool progressed = o.pos != produced || in.pos != consumed;
      produced = o.pos;
      if (!progressed && produced < out.size()) return "zstd: the chunk's data ends mid-frame";
    }
    if (produced != uncompressed_size) return "zstd chunk inflated to the wrong size";
    out.resize(produced);
    return {};
  }
  out.resize(uncompressed_size);
  if (compression == kCompressionNone) {
    std::memcpy(out.data(), records.data(), records.size());
    return {};
  }
  if (compression == kCompressionLz4) {
    LZ4F_dctx* dctx = nullptr;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) {
      return "cannot create an lz4 context";
    }
    size_t out_total = 0, in_pos = 0, result = 1;
    while (result != 0 && in_pos < records.size()) {
      size_t out_n = out.size() - out_total;
      size_t in_n = records.size() - in_pos;
      result = LZ4F_decompress(dctx, out.data() + out_total, &out_n, records.data() + in_pos, &in_n,
                               nullptr);
      if (LZ4F_isError(result)) break;
      out_total += out_n;
      in_pos += in_n;
      if (out_n == 0 && in_n == 0) break;
    }
    LZ4F_freeDecompressionContext(dctx);
    if (LZ4F_isError(result)) return fmt::format("lz4: {}", LZ4F_getErrorName(result));
    if (result != 0 || out_total != uncompressed_size)
      return "lz4 chunk inflated to the wrong size";
    return {};
  }
  return fmt::format("unknown chunk compression '{}'", compression);
}

}  // namespace mcap

Result<std::unique_ptr<McapFile>> McapFile::Open(const std::string& path) {
  // Not open(): a FIFO would block it until someone writes.
  auto opened = OpenRegularFile(path, "recording");
  if (!opened.ok()) return opened.error();
  const int fd = *opened;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::Error(fmt::format("cannot read '{}': {}", path, std::strerror(err)));
  }
  if (st.st_size == 0) {
    ::close(fd);
    return Status::Error(fmt::format("'{}' is empty, not an MCAP file", path));
  }
  const size_t size = static_cast<size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) {
    return Status::Error(fmt::format("cannot map '{}': {}", path, std::strerror(errno)));
  }
  ::madvise(map, size, MADV_SEQUENTIAL);
  std::unique_ptr<McapFile> file(new McapFile(path, static_cast<const uint8_t*>(map), size, true));
  if (!HasMagicAt(file->bytes(), 0)) {
    return Status::Error(
        fmt::format("'{}' is not an MCAP file (no MCAP magic at the start)", path));
  }
  return file;
}

std::unique_ptr<McapFile> McapFile::FromBytes(std::span<const uint8_t> bytes, std::string name) {
  return std::unique_ptr<McapFile>(
      new McapFile(std::move(name), bytes.data(), bytes.size(), false));
}

McapFile::~McapFile() {
  if (mapped_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

Result<McapSummary> McapFile::ReadSummary() const {
  const auto b = bytes();
  const auto error = [this](std::string why) {
    return Status::Error(fmt::format("'{}': {}", path_, why));
  };
  if (b.size() < 2 * mcap::kMagic.size() + mcap::kFooterRecordSize ||
      !HasMagicAt(b, b.size() - mcap::kMagic.size())) {
    return error(
        "no footer: the file is incomplete (never closed, or cut short); "
        "'gsctl recover' makes it whole");
  }
  const size_t footer_at = b.size() - mcap::kTailSize;
  if (b[footer_at] != static_cast<uint8_t>(Opcode::kFooter) ||
      GetLe<uint64_t>(&b[footer_at + 1]) != mcap::kFooterContentSize) {
    return error(fmt::format("bad footer record at offset {}", footer_at));
  }
  McapSummary s;
  s.summary_start = GetLe<uint64_t>(&b[footer_at + 9]);
  s.summary_offset_start = GetLe<uint64_t>(&b[footer_at + 17]);
  s.summary_crc = GetLe<uint32_t>(&b[footer_at + 25]);
  if (s.summary_start == 0) return error("the file has no summary (not indexed)");
  if (s.summary_start > footer_at || s.summary_start < mcap::kMagic.size() + 13 ||
      (s.summary_offset_start != 0 &&
       (s.summary_offset_start < s.summary_start || s.summary_offset_start > footer_at))) {
    return error(fmt::format("footer points outside the file (summary at {})", s.summary_start));
  }
  s.data_end_offset = s.summary_start - 13;
  if (b[s.data_end_offset] != static_cast<uint8_t>(Opcode::kDataEnd) ||
      GetLe<uint64_t>(&b[s.data_end_offset + 1]) != 4) {
    return error(
        fmt::format("no DataEnd record right before the summary (offset {})", s.data_end_offset));
  }
  s.data_section_crc = GetLe<uint32_t>(&b[s.data_end_offset + 9]);
  if (s.summary_crc != 0) {
    const uint32_t crc =
        Crc32(b.subspan(s.summary_start, footer_at + 1 + 8 + 16 - s.summary_start));
    if (crc != s.summary_crc) {
      return error(fmt::format("summary CRC mismatch (footer says 0x{:08X}, computed 0x{:08X})",
                               s.summary_crc, crc));
    }
  }
  // Header, for the library string.
  {
    FieldReader header(b.subspan(mcap::kMagic.size()));
    uint8_t opcode = 0;
    uint64_t length = 0;
    if (header.U8(opcode) && opcode == static_cast<uint8_t>(Opcode::kHeader) &&
        header.U64(length)) {
      FieldReader content(b.subspan(
          mcap::kMagic.size() + 9, std::min<uint64_t>(length, b.size() - mcap::kMagic.size() - 9)));
      static_cast<void>(content.String(s.profile) && content.String(s.library));
    }
  }
  const size_t end = s.summary_offset_start != 0 ? s.summary_offset_start : footer_at;
  size_t pos = s.summary_start;
  while (pos < end) {
    if (end - pos < mcap::kRecordPrefixSize)
      return error(fmt::format("truncated summary record at {}", pos));
    const uint8_t opcode = b[pos];
    const uint64_t length = GetLe<uint64_t>(&b[pos + 1]);
    if (length > end - pos - mcap::kRecordPrefixSize) {
      return error(fmt::format("summary record at {} runs past the summary", pos));
    }
    const auto content = b.subspan(pos + mcap::kRecordPrefixSize, length);
    bool ok = true;
    switch (static_cast<Opcode>(opcode)) {
      case Opcode::kSchema: {
        McapSchema schema;
        ok = ParseSchema(content, schema);
        s.schemas[schema.id] = std::move(schema);
        break;
      }
      case Opcode::kChannel: {
        McapChannel channel;
        ok = ParseChannel(content, channel);
        s.channels[channel.id] = std::move(channel);
        break;
      }
      case Opcode::kStatistics: {
        McapStatistics statistics;
        ok = ParseStatistics(content, statistics);
        s.statistics = std::move(statistics);
        break;
      }
      case Opcode::kChunkIndex: {
        McapChunkIndex index;
        ok = ParseChunkIndex(content, index);
        s.chunk_indexes.push_back(std::move(index));
        break;
      }
      default:
        break;  // other summary records are not needed here
    }
    if (!ok)
      return error(fmt::format("malformed summary record (opcode 0x{:02X}) at {}", opcode, pos));
    pos += mcap::kRecordPrefixSize + length;
  }
  return s;
}

McapMessageReader::McapMessageReader(const McapFile& file, McapReadOptions options)
    : file_(file),
      options_(std::move(options)),
      pos_(mcap::kMagic.size()),
      intact_offset_(mcap::kMagic.size()) {}

McapMessageReader::~McapMessageReader() {
  if (zstd_ != nullptr) ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(zstd_));
}

bool McapMessageReader::Fail(End end, uint64_t offset, std::string reason) {
  end_ = end;
  problem_.offset = offset;
  problem_.reason = std::move(reason);
  chunk_ = {};
  return false;
}

bool McapMessageReader::InTimeRange(uint64_t t) const {
  return (!options_.start_ns || t >= *options_.start_ns) &&
         (!options_.end_ns || t <= *options_.end_ns);
}

bool McapMessageReader::HandleRecord(uint8_t opcode, std::span<const uint8_t> content,
                                     uint64_t offset, McapMessage* message, bool& have_message) {
  switch (static_cast<Opcode>(opcode)) {
    case Opcode::kSchema: {
      McapSchema schema;
      if (!ParseSchema(content, schema))
        return Fail(End::kDamaged, offset, "malformed schema record");
      auto [it, inserted] = schemas_.try_emplace(schema.id, schema);
      if (!inserted && (it->second.name != schema.name || it->second.data != schema.data)) {
        return Fail(End::kDamaged, offset,
                    fmt::format("schema {} redefined differently", schema.id));
      }
      return true;
    }
    case Opcode::kChannel: {
      McapChannel channel;
      if (!ParseChannel(content, channel))
        return Fail(End::kDamaged, offset, "malformed channel record");
      if (channel.schema_id != 0 && !schemas_.contains(channel.schema_id)) {
        return Fail(End::kDamaged, offset,
                    fmt::format("channel '{}' refers to unknown schema {}", channel.topic,
                                channel.schema_id));
      }
      auto [it, inserted] = channels_.try_emplace(channel.id, channel);
      if (!inserted &&
          (it->second.topic != channel.topic || it->second.schema_id != channel.schema_id)) {
        return Fail(End::kDamaged, offset,
                    fmt::format("channel {} redefined differently", channel.id));
      }
      return true;
    }
    case Opcode::kMessage: {
      if (content.size() < mcap::kMessageHeaderSize) {
        return Fail(End::kDamaged, offset, "message record shorter than its header");
      }
      McapMessage m;
      m.channel_id = GetLe<uint16_t>(content.data());
      m.sequence = GetLe<uint32_t>(content.data() + 2);
      m.log_time = GetLe<uint64_t>(content.data() + 6);
      m.publish_time = GetLe<uint64_t>(content.data() + 14);
      m.data = content.subspan(mcap::kMessageHeaderSize);
      if (!channels_.contains(m.channel_id)) {
        return Fail(End::kDamaged, offset,
                    fmt::format("message on unknown channel {}", m.channel_id));
      }
      if (InTimeRange(m.log_time)) {
        *message = m;
        have_message = true;
      }
      return true;
    }
    case Opcode::kHeader:
    case Opcode::kFooter:
    case Opcode::kChunk:
    case Opcode::kDataEnd:
      if (!chunk_.empty()) {
        return Fail(End::kDamaged, offset,
                    fmt::format("record 0x{:02X} is not allowed inside a chunk", opcode));
      }
      return true;
    default:
      if (opcode == 0) return Fail(End::kDamaged, offset, "invalid record opcode 0x00");
      return true;  // indexes, statistics, metadata, private records: nothing to deliver
  }
}

bool McapMessageReader::ReadChunk(std::span<const uint8_t> content, uint64_t offset,
                                  bool& skipped) {
  FieldReader r(content);
  uint64_t start = 0, end = 0, uncompressed_size = 0, records_size = 0;
  uint32_t crc = 0;
  std::string_view compression;
  std::span<const uint8_t> records;
  if (!r.U64(start) || !r.U64(end) || !r.U64(uncompressed_size) || !r.U32(crc) ||
      !r.String(compression) || !r.U64(records_size) || !r.Bytes(records_size, records)) {
    return Fail(End::kDamaged, offset, "malformed chunk record");
  }
  skipped = false;
  // Chunks entirely outside the requested time range are not even inflated.
  if ((options_.start_ns && end < *options_.start_ns) ||
      (options_.end_ns && start > *options_.end_ns)) {
    skipped = true;
    return true;
  }
  const auto damaged = [&](std::string why) {
    if (options_.skip_damaged_chunks) {
      skipped_.push_back({offset, std::move(why), start, end});
      skipped = true;
      return true;
    }
    problem_.start_time = start;
    problem_.end_time = end;
    return Fail(End::kDamaged, offset, std::move(why));
  };
  if (uncompressed_size > options_.max_chunk_bytes) {
    return damaged(fmt::format("chunk claims {} uncompressed bytes (limit {})", uncompressed_size,
                               options_.max_chunk_bytes));
  }
  if (compression == mcap::kCompressionNone) {
    if (records.size() != uncompressed_size) return damaged("uncompressed chunk size mismatch");
    chunk_ = records;
  } else {
    if (std::string why =
            mcap::InflateChunk(compression, records, uncompressed_size, chunk_buffer_, zstd_);
        !why.empty()) {
      return damaged(std::move(why));
    }
    chunk_ = {reinterpret_cast<const uint8_t*>(chunk_buffer_.data()), chunk_buffer_.size()};
  }
  if (options_.check_crcs && crc != 0 && Crc32(chunk_) != crc) {
    chunk_ = {};
    return damaged("chunk CRC mismatch");
  }
  chunk_pos_ = 0;
  chunk_offset_ = offset;
  ++chunks_read_;
  return true;
}

void McapMessageReader::ReadOnlyChunks(const McapSummary& summary,
                                       std::vector<uint64_t> chunk_offsets) {
  schemas_ = summary.schemas;
  channels_ = summary.channels;
  chunk_offsets_ = std::move(chunk_offsets);
  next_chunk_ = 0;
  indexed_ = true;
  header_seen_ = true;
}

bool McapMessageReader::Next(McapMessage& out) {
  if (end_ != End::kNotYet) return false;
  const auto b = file_.bytes();
  if (!header_seen_ && (b.size() < mcap::kMagic.size() || !HasMagicAt(b, 0))) {
    // Found by the MCAP reader fuzzer: a file shorter than the magic read past its end.
    intact_offset_ = 0;
    return Fail(b.size() < mcap::kMagic.size() ? End::kTorn : End::kDamaged, 0,
                "not an MCAP file: no MCAP magic at the start");
  }
  while (true) {
    if (!chunk_.empty()) {
      if (chunk_pos_ == chunk_.size()) {
        chunk_ = {};
        continue;
      }
      if (chunk_.size() - chunk_pos_ < mcap::kRecordPrefixSize) {
        return Fail(End::kDamaged, chunk_offset_, "chunk ends inside a record");
      }
      const uint8_t opcode = chunk_[chunk_pos_];
      const uint64_t length = GetLe<uint64_t>(&chunk_[chunk_pos_ + 1]);
      if (length > chunk_.size() - chunk_pos_ - mcap::kRecordPrefixSize) {
        return Fail(End::kDamaged, chunk_offset_, "a record runs past the end of its chunk");
      }
      const auto content = chunk_.subspan(chunk_pos_ + mcap::kRecordPrefixSize, length);
      chunk_pos_ += mcap::kRecordPrefixSize + length;
      bool have = false;
      if (!HandleRecord(opcode, content, chunk_offset_, &out, have)) return false;
      if (have) return true;
      continue;
    }

    if (indexed_) {
      // Only the chunks the caller picked from the summary's chunk indexes.
      if (next_chunk_ == chunk_offsets_.size()) {
        end_ = End::kComplete;
        return false;
      }
      const uint64_t offset = chunk_offsets_[next_chunk_++];
      if (offset > b.size() || b.size() - offset < mcap::kRecordPrefixSize ||
          b[offset] != static_cast<uint8_t>(Opcode::kChunk)) {
        return Fail(End::kDamaged, offset, "a chunk index does not point at a chunk");
      }
      const uint64_t length = GetLe<uint64_t>(&b[offset + 1]);
      if (length > b.size() - offset - mcap::kRecordPrefixSize) {
        return Fail(End::kDamaged, offset, "an indexed chunk runs past the end of the file");
      }
      bool skipped = false;
      if (!ReadChunk(b.subspan(offset + mcap::kRecordPrefixSize, length), offset, skipped)) {
        return false;
      }
      continue;
    }
    if (pos_ == b.size()) {
      return Fail(End::kTorn, pos_, "the file ends without a DataEnd record (not closed)");
    }
    if (b.size() - pos_ < mcap::kRecordPrefixSize) {
      return Fail(
          End::kTorn, pos_,
          fmt::format("the file ends inside a record header ({} bytes left)", b.size() - pos_));
    }
    const uint8_t opcode = b[pos_];
    const uint64_t length = GetLe<uint64_t>(&b[pos_ + 1]);
    if (length > b.size() - pos_ - mcap::kRecordPrefixSize) {
      return Fail(End::kTorn, pos_,
                  fmt::format("record 0x{:02X} needs {} bytes but the file has {} left", opcode,
                              length, b.size() - pos_ - mcap::kRecordPrefixSize));
    }
    const uint64_t offset = pos_;
    const auto content = b.subspan(pos_ + mcap::kRecordPrefixSize, length);
    if (!header_seen_) {
      if (opcode != static_cast<uint8_t>(Opcode::kHeader)) {
        return Fail(End::kDamaged, offset, "the first record is not a Header");
      }
      header_seen_ = true;
    }
    switch (static_cast<Opcode>(opcode)) {
      case Opcode::kChunk: {
        bool skipped = false;
        if (!ReadChunk(content, offset, skipped)) return false;
        break;
      }
      case Opcode::kDataEnd:
        pos_ += mcap::kRecordPrefixSize + length;
        intact_offset_ = pos_;
        end_ = End::kComplete;
        return false;
      case Opcode::kFooter:
        end_ = End::kComplete;  // a file without DataEnd but with a footer: nothing more to read
        return false;
      default: {
        bool have = false;
        if (!HandleRecord(opcode, content, offset, &out, have)) return false;
        pos_ += mcap::kRecordPrefixSize + length;
        intact_offset_ = pos_;
        if (have) return true;
        continue;
      }
    }
    pos_ += mcap::kRecordPrefixSize + length;
    intact_offset_ = pos_;
  }
}

}  // namespace lgs::protocol
