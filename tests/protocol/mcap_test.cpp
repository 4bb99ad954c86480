#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <zstd.h>

#include <cstring>
#include <fstream>

#include "protocol/crc32.h"
#include "protocol/mcap_reader.h"
#include "protocol/mcap_verify.h"
#include "protocol/mcap_writer.h"
#include "protocol/protobuf_schema.h"
#include "protocol/space_packet.h"
#include "rover/v1/housekeeping.pb.h"
#include "support/process.h"

namespace lgs::protocol {
namespace {

struct Written {
  uint16_t channel;
  uint32_t sequence;
  uint64_t log_time, publish_time;
  std::string data;
};

// Writes `count` messages over two channels into memory and returns the file bytes.
std::string WriteFile(McapCompression compression, int count, std::vector<Written>* written,
                      size_t chunk_size = 4096, bool close = true, bool background_io = false) {
  MemorySink sink;
  McapWriterOptions options;
  options.compression = compression;
  options.chunk_size = chunk_size;
  options.background_io = background_io;
  McapWriter writer(sink, options);
  EXPECT_TRUE(writer.Open().ok());
  const std::string schema = FileDescriptorSetOf(*rover::v1::Housekeeping::descriptor());
  auto schema_id = writer.AddSchema("rover.v1.Housekeeping", "protobuf", AsBytes(schema));
  EXPECT_TRUE(schema_id.ok());
  auto a = writer.AddChannel("/rover1/housekeeping", "protobuf", *schema_id, {{"apid", "257"}});
  auto b = writer.AddChannel("/rover1/other", "protobuf", *schema_id, {});
  EXPECT_TRUE(a.ok() && b.ok());
  for (int i = 0; i < count; ++i) {
    rover::v1::Housekeeping hk;
    hk.set_battery_soc_percent(i);
    hk.set_uptime_s(static_cast<uint64_t>(i) * 1000);
    Written w{i % 3 == 0 ? *b : *a, static_cast<uint32_t>(i), 1'000'000'000ULL + i * 1000ULL,
              900'000'000ULL + i * 1000ULL, hk.SerializeAsString()};
    EXPECT_TRUE(
        writer.Write(w.channel, w.sequence, w.log_time, w.publish_time, AsBytes(w.data)).ok());
    if (written) written->push_back(std::move(w));
  }
  if (close) {
    EXPECT_TRUE(writer.Close().ok());
  } else {
    EXPECT_TRUE(writer.FlushChunk().ok());
  }
  return sink.data();
}

class TempMcap {
 public:
  explicit TempMcap(const std::string& bytes) : path_(dir_.File("f.mcap")) {
    std::ofstream(path_, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  Result<std::unique_ptr<McapFile>> Open() const { return McapFile::Open(path_); }
  const std::string& path() const { return path_; }

 private:
  test::ScratchDir dir_;
  std::string path_;
};

// A summary Channel or Schema record damaged, with the summary CRC zeroed so no CRC catches it:
// the records no longer match the data section's, which MCAP forbids (@mcap/core refuses such a
// file: "differs from previous channel record"), so the file is not sound.
TEST(McapVerify, SummaryRecordsThatDifferFromTheDataSectionAreFound) {
  const std::string good = WriteFile(McapCompression::kZstd, 50, nullptr);
  {
    TempMcap file(good);
    auto opened = file.Open();
    ASSERT_TRUE(opened.ok());
    EXPECT_TRUE(VerifyMcap(**opened).sound());
  }
  for (const char opcode : {'\x04', '\x03'}) {  // Channel, Schema
    std::string bytes = good;
    auto opened = McapFile::FromBytes(AsBytes(bytes), "x");
    auto summary = opened->ReadSummary();
    ASSERT_TRUE(summary.ok());
    size_t at = summary->summary_start;
    while (static_cast<uint8_t>(bytes[at]) != static_cast<uint8_t>(opcode)) {
      uint64_t length = 0;
      std::memcpy(&length, &bytes[at + 1], 8);
      at += 9 + length;
    }
    bytes[at + 9 + 2 + (opcode == '\x04' ? 2 + 4 + 3 : 4 + 3)] ^= 0x01;  // inside the name
    std::memset(&bytes[bytes.size() - 8 - 4], 0, 4);                     // summary CRC: none
    TempMcap damaged(bytes);
    auto reopened = damaged.Open();
    ASSERT_TRUE(reopened.ok());
    const McapVerifyReport report = VerifyMcap(**reopened);
    EXPECT_FALSE(report.sound()) << static_cast<int>(opcode);
    bool named = false;
    for (const std::string& p : report.problems) {
      named = named || p.find("differs from the data section's") != std::string::npos;
    }
    EXPECT_TRUE(named) << static_cast<int>(opcode);
  }
}

std::vector<Written> ReadAll(const McapFile& file, McapMessageReader::End* end = nullptr,
                             McapReadOptions options = {}) {
  McapMessageReader reader(file, options);
  std::vector<Written> out;
  McapMessage m;
  while (reader.Next(m)) {
    out.push_back({m.channel_id, m.sequence, m.log_time, m.publish_time,
                   std::string(reinterpret_cast<const char*>(m.data.data()), m.data.size())});
  }
  if (end) *end = reader.end();
  return out;
}

void ExpectSame(const std::vector<Written>& a, const std::vector<Written>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].channel, b[i].channel);
    EXPECT_EQ(a[i].sequence, b[i].sequence);
    EXPECT_EQ(a[i].log_time, b[i].log_time);
    EXPECT_EQ(a[i].publish_time, b[i].publish_time);
    EXPECT_EQ(a[i].data, b[i].data);
  }
}

TEST(Crc32, CheckValue) {
  EXPECT_EQ(Crc32(AsBytes("123456789")), 0xCBF43926u);
}

TEST(Crc32, LongInputMatchesBytewiseDefinition) {
  std::string data(10'007, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 + 7);
  uint32_t slow = 0xFFFFFFFF;
  for (char c : data) {
    slow ^= static_cast<uint8_t>(c);
    for (int k = 0; k < 8; ++k) slow = (slow & 1) ? (slow >> 1) ^ 0xEDB88320 : slow >> 1;
  }
  EXPECT_EQ(Crc32(AsBytes(data)), slow ^ 0xFFFFFFFF);
}

// The folding path (PCLMULQDQ) and the table path agree for every length across the folding
// thresholds, any alignment and any running state.
TEST(Crc32, FastPathMatchesTablesForEveryLengthAlignmentAndState) {
  std::vector<uint8_t> data(1100);
  uint32_t x = 0x12345678;
  for (uint8_t& b : data) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<uint8_t>(x >> 24);
  }
  const std::span<const uint8_t> all(data);
  for (size_t offset : {0u, 1u, 3u, 8u, 15u}) {
    for (size_t length = 0; length + offset <= 1040; ++length) {
      for (uint32_t state : {kCrc32Initial, 0u, 0xA5A5A5A5u}) {
        const auto bytes = all.subspan(offset, length);
        ASSERT_EQ(Crc32Update(state, bytes), Crc32UpdatePortable(state, bytes))
            << "length " << length << " offset " << offset << " state " << state;
      }
    }
  }
  // Running form: any split gives the CRC of the whole.
  const uint32_t whole = Crc32(all);
  for (size_t split : {1u, 63u, 64u, 65u, 500u, 1099u}) {
    EXPECT_EQ(
        Crc32Finish(Crc32Update(Crc32Update(kCrc32Initial, all.first(split)), all.subspan(split))),
        whole);
  }
}

class McapRoundTrip : public ::testing::TestWithParam<McapCompression> {};

TEST_P(McapRoundTrip, EveryMessageComesBackAndTheFileVerifies) {
  std::vector<Written> written;
  TempMcap file(WriteFile(GetParam(), 2000, &written));
  auto opened = file.Open();
  ASSERT_TRUE(opened.ok()) << opened.error().message();
  McapMessageReader::End end;
  ExpectSame(ReadAll(**opened, &end), written);
  EXPECT_EQ(end, McapMessageReader::End::kComplete);

  auto summary = (*opened)->ReadSummary();
  ASSERT_TRUE(summary.ok()) << summary.error().message();
  ASSERT_TRUE(summary->statistics);
  EXPECT_EQ(summary->statistics->message_count, 2000u);
  EXPECT_EQ(summary->statistics->channel_message_counts.at(1) +
                summary->statistics->channel_message_counts.at(2),
            2000u);
  EXPECT_EQ(summary->statistics->chunk_count, summary->chunk_indexes.size());
  EXPECT_GT(summary->chunk_indexes.size(), 5u);
  EXPECT_EQ(summary->channels.at(1).metadata.at("apid"), "257");
  EXPECT_EQ(summary->schemas.at(1).name, "rover.v1.Housekeeping");

  const McapVerifyReport report = VerifyMcap(**opened);
  EXPECT_TRUE(report.sound()) << ::testing::PrintToString(report.problems);
  EXPECT_EQ(report.messages, 2000u);
}

TEST_P(McapRoundTrip, BackgroundIoWritesTheSameBytes) {
  const std::string direct = WriteFile(GetParam(), 3000, nullptr, 2048, true, false);
  const std::string background = WriteFile(GetParam(), 3000, nullptr, 2048, true, true);
  EXPECT_EQ(direct.size(), background.size());
  EXPECT_TRUE(direct == background);
  const std::string torn = WriteFile(GetParam(), 3000, nullptr, 2048, false, true);
  EXPECT_TRUE(direct.starts_with(torn.substr(0, torn.size() - 64)));
}

INSTANTIATE_TEST_SUITE_P(Compressions, McapRoundTrip,
                         ::testing::Values(McapCompression::kNone, McapCompression::kZstd,
                                           McapCompression::kLz4),
                         [](const auto& info) {
                           return std::string(McapCompressionName(info.param));
                         });

TEST(McapReader, TimeRangeSelectsMessagesAndSkipsChunks) {
  std::vector<Written> written;
  TempMcap file(WriteFile(McapCompression::kZstd, 1000, &written));
  auto opened = file.Open();
  ASSERT_TRUE(opened.ok());
  McapReadOptions options;
  options.start_ns = written[100].log_time;
  options.end_ns = written[199].log_time;
  const auto got = ReadAll(**opened, nullptr, options);
  ExpectSame(got, std::vector<Written>(written.begin() + 100, written.begin() + 200));
}

TEST(McapReader, ReadOnlyChunksReadsJustTheIndexedChunks) {
  std::vector<Written> written;
  TempMcap file(WriteFile(McapCompression::kZstd, 1000, &written));
  auto opened = file.Open();
  ASSERT_TRUE(opened.ok());
  auto summary = (*opened)->ReadSummary();
  ASSERT_TRUE(summary.ok());
  ASSERT_GE(summary->chunk_indexes.size(), 5u);
  // The second and the fourth chunk: exactly the messages in their time ranges.
  const McapChunkIndex& second = summary->chunk_indexes[1];
  const McapChunkIndex& fourth = summary->chunk_indexes[3];
  std::vector<Written> expected;
  for (const Written& w : written) {
    if ((w.log_time >= second.message_start_time && w.log_time <= second.message_end_time) ||
        (w.log_time >= fourth.message_start_time && w.log_time <= fourth.message_end_time)) {
      expected.push_back(w);
    }
  }
  McapMessageReader reader(**opened);
  reader.ReadOnlyChunks(*summary, {second.chunk_start_offset, fourth.chunk_start_offset});
  std::vector<Written> got;
  McapMessage m;
  while (reader.Next(m)) {
    got.push_back({m.channel_id, m.sequence, m.log_time, m.publish_time,
                   std::string(reinterpret_cast<const char*>(m.data.data()), m.data.size())});
  }
  EXPECT_EQ(reader.end(), McapMessageReader::End::kComplete);
  EXPECT_EQ(reader.chunks_read(), 2u);
  ExpectSame(got, expected);
  // An offset that is not a chunk is a problem with a reason, not a crash.
  for (uint64_t bad :
       {uint64_t{0}, uint64_t{8}, (*opened)->bytes().size() - 3, (*opened)->bytes().size() + 100}) {
    McapMessageReader broken(**opened);
    broken.ReadOnlyChunks(*summary, {bad});
    EXPECT_FALSE(broken.Next(m));
    EXPECT_EQ(broken.end(), McapMessageReader::End::kDamaged) << bad;
    EXPECT_NE(broken.problem().reason.find("chunk"), std::string::npos) << bad;
  }
}

TEST(McapReader, TornFileYieldsEveryCompleteChunk) {
  std::vector<Written> written;
  const std::string bytes = WriteFile(McapCompression::kZstd, 500, &written, 4096, false);
  // Cut the file at every 97th byte: what is read is always a prefix of what was written.
  size_t longest = 0;
  for (size_t cut = 8; cut <= bytes.size(); cut += 97) {
    TempMcap file(bytes.substr(0, cut));
    auto opened = file.Open();
    ASSERT_TRUE(opened.ok());
    McapMessageReader::End end;
    const auto got = ReadAll(**opened, &end);
    ASSERT_LE(got.size(), written.size());
    ExpectSame(got, std::vector<Written>(written.begin(), written.begin() + got.size()));
    EXPECT_EQ(end, McapMessageReader::End::kTorn) << "cut at " << cut;
    longest = std::max(longest, got.size());
  }
  TempMcap whole(bytes);
  auto opened = whole.Open();
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(ReadAll(**opened).size(), written.size());  // flushed: everything is there
  EXPECT_FALSE((*opened)->ReadSummary().ok());
}

TEST(McapReader, CorruptChunkStopsThereOrIsSkipped) {
  std::vector<Written> written;
  std::string bytes = WriteFile(McapCompression::kNone, 300, &written, 2048);
  TempMcap clean(bytes);
  auto summary = (*clean.Open())->ReadSummary();
  ASSERT_TRUE(summary.ok());
  ASSERT_GT(summary->chunk_indexes.size(), 3u);
  const McapChunkIndex& third = summary->chunk_indexes[2];
  bytes[third.chunk_start_offset + third.chunk_length - 5] ^= 0x40;  // inside its records
  TempMcap damaged(bytes);
  auto opened = damaged.Open();
  ASSERT_TRUE(opened.ok());

  McapMessageReader strict(**opened);
  McapMessage m;
  size_t count = 0;
  while (strict.Next(m)) ++count;
  EXPECT_EQ(strict.end(), McapMessageReader::End::kDamaged);
  EXPECT_EQ(strict.problem().reason, "chunk CRC mismatch");
  EXPECT_EQ(strict.problem().offset, third.chunk_start_offset);
  EXPECT_GT(count, 0u);

  McapReadOptions tolerant;
  tolerant.skip_damaged_chunks = true;
  McapMessageReader::End end;
  const auto got = ReadAll(**opened, &end, tolerant);
  EXPECT_EQ(end, McapMessageReader::End::kComplete);
  EXPECT_GT(got.size(), count);
  EXPECT_LT(got.size(), written.size());

  const McapVerifyReport report = VerifyMcap(**opened);
  EXPECT_FALSE(report.sound());
}

TEST(McapReader, FlippedSummaryByteFailsTheSummaryCrc) {
  std::string bytes = WriteFile(McapCompression::kZstd, 50, nullptr);
  TempMcap clean(bytes);
  const uint64_t summary_start = (*clean.Open())->ReadSummary()->summary_start;
  bytes[summary_start + 20] ^= 0x01;
  TempMcap damaged(bytes);
  auto summary = (*damaged.Open())->ReadSummary();
  ASSERT_FALSE(summary.ok());
  EXPECT_NE(summary.error().message().find("summary CRC mismatch"), std::string::npos);
}

TEST(McapFile, RefusesWhatIsNotMcap) {
  test::ScratchDir dir;
  const auto missing = McapFile::Open(dir.File("missing.mcap"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("No such file"), std::string::npos);
  std::ofstream(dir.File("empty.mcap")).close();
  const auto empty = McapFile::Open(dir.File("empty.mcap"));
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message().find("empty"), std::string::npos);
  std::ofstream(dir.File("text.mcap")) << "this is not an MCAP file at all\n";
  const auto text = McapFile::Open(dir.File("text.mcap"));
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.error().message().find("not an MCAP file"), std::string::npos);
  const auto directory = McapFile::Open(dir.path().string());
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.error().message().find("directory"), std::string::npos);
}

TEST(SchemaDecoder, DecodesWithCompiledAndWithRecordedDescriptors) {
  rover::v1::Housekeeping hk;
  hk.set_battery_soc_percent(77.0);
  const std::string bytes = hk.SerializeAsString();
  SchemaDecoder decoder;
  McapSchema schema{1, "rover.v1.Housekeeping", "protobuf",
                    FileDescriptorSetOf(*rover::v1::Housekeeping::descriptor())};
  auto compiled = decoder.Decode(schema, AsBytes(bytes));
  ASSERT_TRUE(compiled.ok()) << compiled.error().message();
  EXPECT_EQ((*compiled)->GetDescriptor(), rover::v1::Housekeeping::descriptor());
  // A recording made by an older build: same name, different descriptor bytes -> dynamic type.
  google::protobuf::FileDescriptorSet set;
  ASSERT_TRUE(set.ParseFromString(schema.data));
  set.mutable_file(set.file_size() - 1)->set_name("rover/v1/housekeeping_old.proto");
  McapSchema old{2, "rover.v1.Housekeeping", "protobuf", set.SerializeAsString()};
  auto dynamic = decoder.Decode(old, AsBytes(bytes));
  ASSERT_TRUE(dynamic.ok()) << dynamic.error().message();
  EXPECT_NE((*dynamic)->GetDescriptor(), rover::v1::Housekeeping::descriptor());
  EXPECT_NE((*dynamic)->DebugString().find("77"), std::string::npos);
  McapSchema broken{3, "rover.v1.Housekeeping", "protobuf", "\xFF\xFF garbage"};
  EXPECT_FALSE(decoder.Decode(broken, AsBytes(bytes)).ok());
}

}  // namespace
}  // namespace lgs::protocol

namespace lgs::protocol {
namespace {

// Regressions found by tests/fuzz/mcap_reader_fuzz.
// Magic, a Header, then one Chunk of `compression` claiming `uncompressed_size` and holding
// `records` (no footer: the file ends there).
std::string McapWithOneChunk(const std::string& compression, uint64_t uncompressed_size,
                             const std::string& records) {
  std::string b = "\x89MCAP0\r\n";
  const auto put_u64 = [&](uint64_t v) {
    for (int i = 0; i < 8; ++i) b.push_back(static_cast<char>(v >> (8 * i)));
  };
  const auto put_u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<char>(v >> (8 * i)));
  };
  b.push_back(0x01);  // Header: profile "", library ""
  put_u64(8);
  put_u32(0);
  put_u32(0);
  b.push_back(0x06);  // Chunk
  put_u64(8 + 8 + 8 + 4 + 4 + compression.size() + 8 + records.size());
  put_u64(0);
  put_u64(0);
  put_u64(uncompressed_size);
  put_u32(0);
  put_u32(static_cast<uint32_t>(compression.size()));
  b += compression;
  put_u64(records.size());
  b += records;
  return b;
}

TEST(McapFuzzRegressions, FilesShorterThanTheMagicEndCleanly) {
  for (size_t size : {0u, 1u, 7u}) {
    const std::string bytes(size, '\x89');
    auto file = McapFile::FromBytes(AsBytes(bytes), "short.mcap");
    McapMessageReader reader(*file);
    McapMessage m;
    EXPECT_FALSE(reader.Next(m));
    EXPECT_EQ(reader.end(), McapMessageReader::End::kTorn);
    EXPECT_EQ(reader.intact_offset(), 0u);
    EXPECT_NE(reader.problem().reason.find("no MCAP magic"), std::string::npos);
    EXPECT_FALSE(VerifyMcap(*file).sound());
  }
}

// A zstd chunk under the size limit claiming 512 MiB from 16 bytes of real data (its frame
// says no size): a clear problem, and the reader's memory grows by what the data inflates to,
// not by the claim. Then the same chunk of an unknown compression claiming 900 MiB: refused
// before anything is allocated (the fuzzer found 4 KB of one asking for 1 GiB).
TEST(McapFuzzRegressions, AChunkClaimingFarMoreThanItsDataCostsOnlyItsData) {
  const std::string plain(16, 'x');
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ASSERT_EQ(ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0)), 0u);
  std::string frame(ZSTD_compressBound(plain.size()), '\0');
  ZSTD_outBuffer out{frame.data(), frame.size(), 0};
  ZSTD_inBuffer in{plain.data(), plain.size(), 0};
  ASSERT_EQ(ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_end), 0u);
  ZSTD_freeCCtx(cctx);
  frame.resize(out.pos);
  ASSERT_EQ(ZSTD_getFrameContentSize(frame.data(), frame.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  std::string b = McapWithOneChunk("zstd", uint64_t{512} << 20, frame);
  const auto peak_kb = [] {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
  };
  const long before = peak_kb();
  auto file = McapFile::FromBytes(AsBytes(b), "claims-512-mib.mcap");
  McapMessageReader reader(*file);
  McapMessage m;
  EXPECT_FALSE(reader.Next(m));
  EXPECT_EQ(reader.end(), McapMessageReader::End::kDamaged);
  EXPECT_NE(reader.problem().reason.find("wrong size"), std::string::npos)
      << reader.problem().reason;
  EXPECT_FALSE(VerifyMcap(*file).sound());
  EXPECT_LT(peak_kb() - before, 64 * 1024) << "KB of peak memory for a chunk of 16 bytes";

  // A chunk of a compression nobody knows, claiming 900 MiB: refused before any allocation.
  b = McapWithOneChunk("zsta", uint64_t{900} << 20, frame);
  const long before_unknown = peak_kb();
  auto unknown = McapFile::FromBytes(AsBytes(b), "unknown-compression.mcap");
  McapMessageReader unknown_reader(*unknown);
  EXPECT_FALSE(unknown_reader.Next(m));
  EXPECT_NE(unknown_reader.problem().reason.find("unknown chunk compression 'zsta'"),
            std::string::npos)
      << unknown_reader.problem().reason;
  EXPECT_FALSE(VerifyMcap(*unknown).sound());
  EXPECT_LT(peak_kb() - before_unknown, 64 * 1024) << "KB of peak memory for an unknown chunk";
}

TEST(McapFuzzRegressions, AChunkClaimingHugeUncompressedSizeIsAProblemNotAnAllocation) {
  // A zstd Chunk whose header claims 2^62 bytes uncompressed.
  const std::string b = McapWithOneChunk("zstd", uint64_t{1} << 62, "garbage!");
  auto file = McapFile::FromBytes(AsBytes(b), "hostile.mcap");
  const McapVerifyReport report = VerifyMcap(*file);
  ASSERT_FALSE(report.sound());
  bool mentions_size = false;
  for (const std::string& p : report.problems)
    mentions_size |= p.find("uncompressed") != std::string::npos;
  EXPECT_TRUE(mentions_size) << report.problems[0];
  McapMessageReader reader(*file);
  McapMessage m;
  EXPECT_FALSE(reader.Next(m));
  EXPECT_EQ(reader.end(), McapMessageReader::End::kDamaged);
}

}  // namespace
}  // namespace lgs::protocol
