// The recorder under write failures: a sink that fails while the "disk" is full (injected through
// the recorder's file interface, on real files), then recovers.
#include "groundstation/recorder.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "ground/v1/ground.pb.h"
#include "protocol/mcap_reader.h"
#include "protocol/mcap_verify.h"
#include "support/packets.h"
#include "support/process.h"
#include "support/recording.h"

namespace lgs::station {
namespace {

namespace fs = std::filesystem;

std::string HousekeepingTopic() {
  return protocol::TelemetryTopic("rover1", protocol::Stream(protocol::StreamId::kHousekeeping));
}

// A real file whose writes fail with "No space left on device" while `full` is set.
class FillableSink final : public protocol::ByteSink {
 public:
  FillableSink(std::unique_ptr<protocol::FileSink> file, const std::atomic<bool>& full)
      : file_(std::move(file)), full_(full) {}
  Status Write(std::span<const uint8_t> bytes) override {
    if (full_) return Status::Error("write: No space left on device");
    return file_->Write(bytes);
  }
  Status Sync() override {
    return full_ ? Status::Error("fsync: No space left on device") : file_->Sync();
  }
  Status Close() override { return file_->Close(); }

 private:
  std::unique_ptr<protocol::FileSink> file_;
  const std::atomic<bool>& full_;
};

TEST(Recorder, DiskFullStopsRecordingKeepsWhatWasWrittenAndResumesWhenThereIsRoom) {
  test::ScratchDir dir;
  std::atomic<bool> full{false};
  RecorderOptions options;
  options.directory = (dir.path() / "rec").string();
  options.writer.sync_on_chunk = false;
  options.retry_interval_s = 1.0;
  options.open_sink = [&](const std::string& path) -> Result<std::unique_ptr<protocol::ByteSink>> {
    if (full)
      return Status::Error(fmt::format("cannot create '{}': No space left on device", path));
    auto file = protocol::FileSink::Create(path);
    if (!file.ok()) return file.error();
    return std::unique_ptr<protocol::ByteSink>(new FillableSink(std::move(*file), full));
  };
  Recorder recorder(options);
  protocol::TelemetryDecoder decoder("rover1");
  const std::string topic = HousekeepingTopic();
  protocol::TimestampNs now = test::kSomeTimeNs;
  ASSERT_TRUE(recorder.Open(now).ok());
  uint32_t seq = 0;
  const auto record = [&](int n) {
    for (int i = 0; i < n; ++i, ++seq) {
      const std::string packet = test::HousekeepingPacket(seq);
      auto decoded = decoder.Decode(topic, protocol::AsBytes(packet));
      ASSERT_TRUE(decoded.ok());
      now += 10'000'000;  // 10 ms
      recorder.RecordTelemetry(*decoded, now);
      recorder.Tick(now);  // flush interval 1 s: chunks close as time passes
    }
  };
  record(500);  // 5 s: several chunks on disk
  const std::string first_file = recorder.stats().current_file;
  // Let the I/O thread put the closed chunks on disk before the disk fills (it runs behind).
  for (int stable = 0, i = 0; stable < 5 && i < 500; ++i) {
    const auto before = fs::file_size(first_file);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    stable = fs::file_size(first_file) == before && before > 1000 ? stable + 1 : 0;
  }
  full = true;
  // The disk fills. The I/O thread notices on its next chunk; a live station keeps receiving
  // meanwhile, so keep recording until the failure shows (bounded), then some more.
  for (int i = 0; i < 10'000 && recorder.stats().recording; ++i) {
    record(1);
    if (i % 100 == 99) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  record(300);
  EXPECT_FALSE(recorder.stats().recording);
  EXPECT_EQ(recorder.stats().failures, 1u);
  EXPECT_NE(recorder.stats().error.find("No space left"), std::string::npos);
  const uint64_t lost = recorder.stats().not_recorded;
  EXPECT_GT(lost, 0u);
  full = false;
  record(400);  // room again: a new file within the retry interval
  EXPECT_TRUE(recorder.stats().recording);
  EXPECT_EQ(recorder.stats().resumed, 1u);
  EXPECT_NE(recorder.stats().current_file, first_file);
  ASSERT_TRUE(recorder.Close().ok());

  // The first file is torn but readable up to its last chunk; the resumed one is whole.
  uint64_t read_back = 0, telemetry = 0;
  std::set<uint32_t> sequences;
  std::vector<ground::v1::GroundAlarm> alarms;
  const test::Recording recording = test::ReadRecording(options.directory);
  EXPECT_EQ(recording.ends.size(), recording.files);  // every file opened
  for (const test::RecordedMessage& m : recording.messages) {
    ++read_back;
    if (m.topic == "/ground/alarms") {
      EXPECT_TRUE(m.ParseAs(alarms.emplace_back()));
      continue;
    }
    if (!m.rover_channel) continue;
    ++telemetry;
    EXPECT_TRUE(sequences.insert(m.sequence).second);
  }
  for (const auto& [path, end] : recording.ends) {
    if (path == first_file) {
      EXPECT_EQ(end, protocol::McapMessageReader::End::kTorn);
    } else {
      EXPECT_EQ(end, protocol::McapMessageReader::End::kComplete);
      auto file = protocol::McapFile::Open(path);
      ASSERT_TRUE(file.ok());
      EXPECT_TRUE(protocol::VerifyMcap(**file).sound());
    }
  }
  // Exactly what the recorder says it recorded is in the files (chunks still queued for the
  // disk when it filled are counted as not recorded, not silently missing).
  EXPECT_EQ(read_back, recorder.stats().messages);
  EXPECT_EQ(telemetry + recorder.stats().not_recorded, seq);
  EXPECT_GE(telemetry, 400u);
  // The resumed file tells the story: the alarm raised when recording stopped, then cleared.
  ASSERT_EQ(alarms.size(), 2u);
  EXPECT_EQ(alarms[0].id(), "recording_stopped");
  EXPECT_EQ(alarms[0].severity(), "critical");
  EXPECT_EQ(alarms[0].state(), "raised");
  EXPECT_NE(alarms[0].text().find("No space left"), std::string::npos);
  EXPECT_EQ(alarms[1].state(), "cleared");
  EXPECT_NE(alarms[1].text().find("resumed"), std::string::npos);
  EXPECT_EQ(alarms[0].raised_ns(), alarms[1].raised_ns());
  EXPECT_TRUE(sequences.count(0));
  EXPECT_TRUE(sequences.count(seq - 1));
}

// A station left running for days must not hold one ever-growing file: its chunk index lives in
// memory until the file closes. By default a file ends after an hour of ground time.
TEST(Recorder, StartsANewFileEveryHourByDefault) {
  test::ScratchDir dir;
  RecorderOptions options;
  options.directory = (dir.path() / "rec").string();
  options.writer.sync_on_chunk = false;
  Recorder recorder(options);
  protocol::TelemetryDecoder decoder("rover1");
  const std::string topic = HousekeepingTopic();
  protocol::TimestampNs now = test::kSomeTimeNs;
  ASSERT_TRUE(recorder.Open(now).ok());
  constexpr uint32_t kPackets = 9'000;  // 2.5 h of 1 Hz housekeeping, a chunk a second
  for (uint32_t seq = 0; seq < kPackets; ++seq) {
    const std::string packet = test::HousekeepingPacket(seq);
    auto decoded = decoder.Decode(topic, protocol::AsBytes(packet));
    ASSERT_TRUE(decoded.ok());
    now += 1'000'000'000;
    recorder.RecordTelemetry(*decoded, now);
    recorder.Tick(now);
  }
  ASSERT_TRUE(recorder.Close().ok());

  std::map<std::string, std::pair<protocol::TimestampNs, protocol::TimestampNs>> span_of;
  std::set<uint32_t> sequences;
  const test::Recording recording = test::ReadRecording(options.directory);
  EXPECT_TRUE(recording.incomplete.empty());
  for (const auto& [path, end] : recording.ends) {
    auto file = protocol::McapFile::Open(path);
    ASSERT_TRUE(file.ok());
    EXPECT_TRUE(protocol::VerifyMcap(**file).sound()) << path;
    auto summary = (*file)->ReadSummary();
    ASSERT_TRUE(summary.ok());
    EXPECT_LE(summary->chunk_indexes.size(), 3'601u) << path;
  }
  for (const test::RecordedMessage& m : recording.messages) {
    if (!m.rover_channel) continue;
    EXPECT_TRUE(sequences.insert(m.sequence).second);
    auto [it, fresh] = span_of.try_emplace(m.file, static_cast<protocol::TimestampNs>(m.log_time),
                                           static_cast<protocol::TimestampNs>(m.log_time));
    it->second.second = static_cast<protocol::TimestampNs>(m.log_time);
  }
  std::vector<std::pair<protocol::TimestampNs, protocol::TimestampNs>> spans;
  for (const auto& [file, span] : span_of) spans.push_back(span);
  ASSERT_EQ(spans.size(), 3u);
  std::sort(spans.begin(), spans.end());
  for (const auto& [first, last] : spans) EXPECT_LT(last - first, 3'600'000'000'000);
  EXPECT_EQ(sequences.size(), kPackets);  // nothing lost or doubled at a split
  EXPECT_EQ(*sequences.rbegin(), kPackets - 1);
}

}  // namespace
}  // namespace lgs::station
