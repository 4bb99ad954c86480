#include "protocol/mcap_verify.h"

#include <fmt/format.h>
#include <zstd.h>

#include <algorithm>
#include <set>

#include "mcap_records.h"
#include "protocol/crc32.h"

namespace lgs::protocol {

using mcap::FieldReader;
using mcap::GetLe;
using mcap::Opcode;

namespace {

struct ChunkSeen {
  McapChunkIndex index;  // rebuilt from the data section
  std::map<uint16_t, uint64_t> messages_per_channel;
};

}  // namespace

McapVerifyReport VerifyMcap(const McapFile& file) {
  McapVerifyReport report;
  const auto problem = [&](std::string text) { report.problems.push_back(std::move(text)); };
  const auto b = file.bytes();

  auto summary = file.ReadSummary();
  if (!summary.ok()) problem(summary.error().message());
  report.complete = summary.ok();
  const uint64_t data_end = summary.ok() ? summary->data_end_offset : b.size();

  std::vector<ChunkSeen> chunks;
  std::map<uint16_t, std::string> schemas_seen, channels_seen;  // id -> record bytes
  std::string inflated;
  void* zstd = nullptr;
  bool saw_data_end = false;
  uint64_t pos = mcap::kMagic.size();
  while (pos < b.size()) {
    if (b.size() - pos < mcap::kRecordPrefixSize) {
      problem(fmt::format("offset {}: file ends inside a record header", pos));
      break;
    }
    const uint8_t opcode = b[pos];
    const uint64_t length = GetLe<uint64_t>(&b[pos + 1]);
    if (length > b.size() - pos - mcap::kRecordPrefixSize) {
      problem(fmt::format("offset {}: record 0x{:02X} runs past the end of the file", pos, opcode));
      break;
    }
    const auto content = b.subspan(pos + mcap::kRecordPrefixSize, length);
    const uint64_t record_end = pos + mcap::kRecordPrefixSize + length;
    if (pos == mcap::kMagic.size() && opcode != static_cast<uint8_t>(Opcode::kHeader)) {
      problem("the first record is not a Header");
    }
    switch (static_cast<Opcode>(opcode)) {
      case Opcode::kSchema: {
        FieldReader r(content);
        uint16_t id = 0;
        if (!r.U16(id)) problem(fmt::format("offset {}: malformed schema", pos));
        schemas_seen[id] =
            std::string(reinterpret_cast<const char*>(content.data()), content.size());
        break;
      }
      case Opcode::kChannel: {
        FieldReader r(content);
        uint16_t id = 0;
        if (!r.U16(id)) problem(fmt::format("offset {}: malformed channel", pos));
        channels_seen[id] =
            std::string(reinterpret_cast<const char*>(content.data()), content.size());
        break;
      }
      case Opcode::kChunk: {
        ChunkSeen seen;
        FieldReader r(content);
        uint32_t crc = 0;
        uint64_t records_size = 0;
        std::span<const uint8_t> records;
        McapChunkIndex& ci = seen.index;
        if (!r.U64(ci.message_start_time) || !r.U64(ci.message_end_time) ||
            !r.U64(ci.uncompressed_size) || !r.U32(crc) || !r.String(ci.compression) ||
            !r.U64(records_size) || !r.Bytes(records_size, records)) {
          problem(fmt::format("offset {}: malformed chunk", pos));
          break;
        }
        ci.chunk_start_offset = pos;
        ci.chunk_length = record_end - pos;
        ci.compressed_size = records_size;
        if (std::string why =
                mcap::InflateChunk(ci.compression, records, ci.uncompressed_size, inflated, zstd);
            !why.empty()) {
          problem(fmt::format("offset {}: chunk: {}", pos, why));
          break;
        }
        const auto chunk = std::span<const uint8_t>(
            reinterpret_cast<const uint8_t*>(inflated.data()), inflated.size());
        if (crc == 0) {
          problem(fmt::format("offset {}: chunk has no CRC", pos));
        } else if (Crc32(chunk) != crc) {
          problem(fmt::format("offset {}: chunk CRC mismatch", pos));
          break;
        }
        // Every message in the chunk, by offset, to check the message indexes against.
        std::map<uint64_t, std::pair<uint16_t, uint64_t>> messages;  // offset -> channel, time
        uint64_t min_time = UINT64_MAX, max_time = 0;
        for (size_t at = 0; at < chunk.size();) {
          if (chunk.size() - at < mcap::kRecordPrefixSize) {
            problem(fmt::format("offset {}: chunk ends inside a record", pos));
            break;
          }
          const uint8_t inner = chunk[at];
          const uint64_t n = GetLe<uint64_t>(&chunk[at + 1]);
          if (n > chunk.size() - at - mcap::kRecordPrefixSize) {
            problem(fmt::format("offset {}: a record runs past its chunk", pos));
            break;
          }
          if (inner == static_cast<uint8_t>(Opcode::kMessage)) {
            if (n < mcap::kMessageHeaderSize) {
              problem(fmt::format("offset {}: short message record in chunk", pos));
              break;
            }
            const uint16_t channel = GetLe<uint16_t>(&chunk[at + 9]);
            const uint64_t t = GetLe<uint64_t>(&chunk[at + 15]);
            messages[at] = {channel, t};
            ++seen.messages_per_channel[channel];
            ++report.channel_message_counts[channel];
            ++report.messages;
            min_time = std::min(min_time, t);
            max_time = std::max(max_time, t);
          }
          at += mcap::kRecordPrefixSize + n;
        }
        if (!messages.empty() &&
            (min_time != ci.message_start_time || max_time != ci.message_end_time)) {
          problem(
              fmt::format("offset {}: chunk start/end times are not its messages' min/max", pos));
        }
        // The message indexes that must follow, contiguously.
        uint64_t at = record_end;
        std::map<uint16_t, uint64_t> indexed;
        while (at + mcap::kRecordPrefixSize <= b.size() &&
               b[at] == static_cast<uint8_t>(Opcode::kMessageIndex)) {
          const uint64_t n = GetLe<uint64_t>(&b[at + 1]);
          if (n > b.size() - at - mcap::kRecordPrefixSize) break;
          FieldReader mi(b.subspan(at + mcap::kRecordPrefixSize, n));
          uint16_t channel = 0;
          uint32_t bytes = 0;
          if (!mi.U16(channel) || !mi.U32(bytes) || bytes % 16 != 0 || mi.remaining() != bytes) {
            problem(fmt::format("offset {}: malformed message index", at));
            break;
          }
          ci.message_index_offsets[channel] = at;
          for (uint32_t e = 0; e < bytes / 16; ++e) {
            uint64_t t = 0, off = 0;
            static_cast<void>(mi.U64(t) && mi.U64(off));
            const auto it = messages.find(off);
            if (it == messages.end() || it->second.first != channel || it->second.second != t) {
              problem(
                  fmt::format("offset {}: message index entry {} does not point at a message "
                              "of channel {} at time {}",
                              at, e, channel, t));
              break;
            }
            ++indexed[channel];
          }
          at += mcap::kRecordPrefixSize + n;
        }
        ci.message_index_length = at - record_end;
        if (indexed != seen.messages_per_channel) {
          problem(fmt::format(
              "offset {}: message indexes do not cover exactly the chunk's messages", pos));
        }
        chunks.push_back(std::move(seen));
        ++report.chunks;
        break;
      }
      case Opcode::kDataEnd: {
        saw_data_end = true;
        FieldReader r(content);
        uint32_t crc = 0;
        if (!r.U32(crc)) problem("malformed DataEnd");
        if (crc != 0 && Crc32(b.first(pos)) != crc) problem("data section CRC mismatch");
        if (crc == 0) problem("DataEnd has no data section CRC");
        break;
      }
      case Opcode::kMessage:
        problem(fmt::format("offset {}: message outside a chunk in an indexed file", pos));
        break;
      default:
        if (opcode == 0) problem(fmt::format("offset {}: invalid opcode 0x00", pos));
        break;
    }
    pos = record_end;
    if (static_cast<Opcode>(opcode) == Opcode::kDataEnd) break;
  }
  if (zstd != nullptr) ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(zstd));
  if (!saw_data_end) problem("no DataEnd record: the data section is incomplete");
  if (saw_data_end && pos != data_end + 13 && summary.ok()) {
    problem("the footer's summary does not start right after DataEnd");
  }

  if (!summary.ok()) return report;
  const McapSummary& s = *summary;
  if (!s.statistics) {
    problem("the summary has no Statistics record");
  } else {
    const McapStatistics& st = *s.statistics;
    if (st.message_count != report.messages) {
      problem(fmt::format("statistics say {} messages, the chunks hold {}", st.message_count,
                          report.messages));
    }
    if (st.chunk_count != report.chunks) {
      problem(
          fmt::format("statistics say {} chunks, the file has {}", st.chunk_count, report.chunks));
    }
    if (st.channel_message_counts != report.channel_message_counts) {
      problem("statistics' per-channel message counts disagree with the chunks");
    }
    if (st.channel_count != channels_seen.size() || st.schema_count != schemas_seen.size()) {
      problem("statistics' schema or channel count disagrees with the data section");
    }
  }
  if (s.chunk_indexes.size() != chunks.size()) {
    problem(fmt::format("{} chunk indexes for {} chunks", s.chunk_indexes.size(), chunks.size()));
  } else {
    for (size_t i = 0; i < chunks.size(); ++i) {
      const McapChunkIndex& want = chunks[i].index;
      const McapChunkIndex& got = s.chunk_indexes[i];
      if (got.chunk_start_offset != want.chunk_start_offset ||
          got.chunk_length != want.chunk_length ||
          got.message_start_time != want.message_start_time ||
          got.message_end_time != want.message_end_time || got.compression != want.compression ||
          got.compressed_size != want.compressed_size ||
          got.uncompressed_size != want.uncompressed_size ||
          got.message_index_offsets != want.message_index_offsets ||
          got.message_index_length != want.message_index_length) {
        problem(fmt::format("chunk index {} disagrees with the chunk at offset {}", i,
                            want.chunk_start_offset));
      }
    }
  }
  for (const auto& [id, channel] : s.channels) {
    if (!channels_seen.contains(id)) problem(fmt::format("summary channel {} not in the data", id));
  }
  for (const auto& [id, schema] : s.schemas) {
    if (!schemas_seen.contains(id)) problem(fmt::format("summary schema {} not in the data", id));
  }
  // The summary repeats the data section's Schema and Channel records, and MCAP requires them to
  // be identical: a reader that trusts the summary (most do) would otherwise decode with another
  // schema or topic than the data has. Compared byte for byte, whatever the summary CRC says (a
  // zeroed CRC disables that check).
  constexpr uint64_t kFooterRecordSize = mcap::kRecordPrefixSize + 20;
  const uint64_t footer_start = b.size() >= mcap::kMagic.size() + kFooterRecordSize
                                    ? b.size() - mcap::kMagic.size() - kFooterRecordSize
                                    : 0;
  const uint64_t summary_end = s.summary_offset_start != 0 ? s.summary_offset_start : footer_start;
  for (uint64_t at = s.summary_start; s.summary_start != 0 && at < summary_end;) {
    if (summary_end - at < mcap::kRecordPrefixSize) break;
    const uint8_t opcode = b[at];
    const uint64_t length = GetLe<uint64_t>(&b[at + 1]);
    if (length > summary_end - at - mcap::kRecordPrefixSize) break;
    const auto content = b.subspan(at + mcap::kRecordPrefixSize, length);
    const bool schema = opcode == static_cast<uint8_t>(Opcode::kSchema);
    if (schema || opcode == static_cast<uint8_t>(Opcode::kChannel)) {
      uint16_t id = 0;
      FieldReader r(content);
      static_cast<void>(r.U16(id));
      const auto& seen = schema ? schemas_seen : channels_seen;
      const auto it = seen.find(id);
      if (it != seen.end() && (it->second.size() != content.size() ||
                               !std::equal(content.begin(), content.end(),
                                           reinterpret_cast<const uint8_t*>(it->second.data())))) {
        problem(
            fmt::format("offset {}: the summary's {} record {} differs from the data "
                        "section's",
                        at, schema ? "Schema" : "Channel", id));
      }
    }
    at += mcap::kRecordPrefixSize + length;
  }
  return report;
}

}  // namespace lgs::protocol
