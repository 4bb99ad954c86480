// HistoryStore against recordings written by the real Recorder: the traverse (poses in order,
// hazard cells of the newest copy of each tile, at their site coordinates) and the strategies
// over closed and open files.
#include "groundstation/history_store.h"

#include <gtest/gtest.h>

#include <cmath>

#include "groundstation/recorder.h"
#include "protocol/telemetry_decoder.h"
#include "rover/v1/navigation.pb.h"
#include "rover/v1/terrain.pb.h"
#include "support/packets.h"
#include "support/process.h"

namespace lgs::station {
namespace {

using protocol::StreamId;

class HistoryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NewRecorder();
    ASSERT_TRUE(recorder_->Open(now_).ok());
  }
  // A recorder on the same directory (the one before it closed): a new file at Open.
  void NewRecorder() {
    RecorderOptions options;
    options.directory = dir_.File("rec");
    options.writer.sync_on_chunk = false;
    recorder_ = std::make_unique<Recorder>(options);
  }

  void Record(StreamId id, const google::protobuf::Message& message) {
    const protocol::TimestampNs taken = now_;
    now_ += 100'000'000;  // 100 ms
    RecordAt(id, message, taken, now_);
  }
  // Taken on board at `onboard_ns`, received at `ground_ns`; `decoded_onboard_ns`: the on-board
  // time the packet carries (its CUC time is in 2^-24 s).
  void RecordAt(StreamId id, const google::protobuf::Message& message,
                protocol::TimestampNs onboard_ns, protocol::TimestampNs ground_ns,
                uint64_t* decoded_onboard_ns = nullptr) {
    const std::string payload = message.SerializeAsString();
    std::string packet;
    const protocol::StreamInfo& stream = protocol::Stream(id);
    const Status encoded = protocol::EncodeTmPacket(stream.apid, seq_[static_cast<size_t>(id)]++,
                                                    onboard_ns, protocol::AsBytes(payload), packet);
    ASSERT_TRUE(encoded.ok()) << encoded.message();
    auto decoded =
        decoder_.Decode(protocol::TelemetryTopic("rover1", stream), protocol::AsBytes(packet));
    ASSERT_TRUE(decoded.ok()) << decoded.error().detail;
    if (decoded_onboard_ns) *decoded_onboard_ns = decoded->packet.onboard_time_ns;
    recorder_->RecordTelemetry(*decoded, ground_ns);
    recorder_->Tick(ground_ns);
  }

  static rover::v1::TerrainTile Tile(int x, int y, std::vector<std::pair<int, int>> hazards) {
    rover::v1::TerrainTile tile;
    tile.set_tile_x(x);
    tile.set_tile_y(y);
    tile.set_origin_x_m(x * 4.0);
    tile.set_origin_y_m(y * 4.0);
    tile.set_cell_size_m(0.5);
    tile.set_width_cells(8);
    tile.set_height_cells(8);
    std::string mask(64, '\0');
    for (const auto& [cell, kind] : hazards)
      mask[static_cast<size_t>(cell)] = static_cast<char>(kind);
    tile.set_hazard_mask(mask);
    return tile;
  }

  test::ScratchDir dir_;
  protocol::TimestampNs now_ = test::kSomeTimeNs;
  std::unique_ptr<Recorder> recorder_;
  protocol::TelemetryDecoder decoder_{"rover1"};
  std::array<uint32_t, protocol::kStreamCount> seq_{};
};

TEST_F(HistoryStoreTest, TraverseHasEveryPoseAndTheNewestHazardsOfEachTile) {
  const protocol::TimestampNs start = now_;
  std::vector<std::pair<double, double>> poses;
  for (int i = 0; i < 30; ++i) {
    rover::v1::NavigationPose pose;
    pose.set_x_m(0.1 * i);
    pose.set_y_m(-0.05 * i);
    poses.emplace_back(pose.x_m(), pose.y_m());
    Record(StreamId::kNavigationPose, pose);
    if (i == 5) Record(StreamId::kTerrainTile, Tile(0, 0, {{0, 1}, {9, 2}}));
    if (i == 20) Record(StreamId::kTerrainTile, Tile(0, 0, {{63, 2}}));  // re-mapped
    if (i == 25) Record(StreamId::kTerrainTile, Tile(-1, 2, {{10, 1}}));
  }
  HistoryStore store(dir_.File("rec"), "rover1");
  const auto check = [&](const char* when) {
    auto traverse = store.Traverse(static_cast<uint64_t>(start), static_cast<uint64_t>(now_), 5000);
    ASSERT_TRUE(traverse.ok()) << traverse.error().message();
    ASSERT_EQ(traverse->path.size(), poses.size()) << when;
    for (size_t i = 0; i < poses.size(); ++i) {
      EXPECT_EQ(traverse->path[i].x_m, poses[i].first) << when << i;
      EXPECT_EQ(traverse->path[i].y_m, poses[i].second) << when << i;
    }
    // Tile (0,0) as re-mapped: cell 63 = row 7, col 7; tile (-1,2): cell 10 = row 1, col 2.
    ASSERT_EQ(traverse->hazards.size(), 2u) << when;
    const auto find = [&](double x, double y) {
      for (const HazardCell& h : traverse->hazards) {
        if (std::abs(h.x_m - x) < 1e-9 && std::abs(h.y_m - y) < 1e-9) return h.kind;
      }
      return -1;
    };
    EXPECT_EQ(find(3.5, 3.5), 2) << when;
    EXPECT_EQ(find(-4.0 + 1.0, 8.0 + 0.5), 1) << when;
    // Thinned evenly to at most the asked number of points, first and last kept.
    auto thin = store.Traverse(static_cast<uint64_t>(start), static_cast<uint64_t>(now_), 4);
    ASSERT_TRUE(thin.ok());
    ASSERT_EQ(thin->path.size(), 4u);
    EXPECT_EQ(thin->path.front().x_m, poses.front().first);
    EXPECT_EQ(thin->path.back().x_m, poses.back().first);
  };
  // The open file's last chunk closes on the flush interval; the recorder's I/O thread writes it.
  recorder_->Tick(now_ + 2'000'000'000);
  EXPECT_TRUE(test::WaitUntil(
      [&] {
        auto t = store.Traverse(static_cast<uint64_t>(start), static_cast<uint64_t>(now_), 5000);
        return t.ok() && t->path.size() == poses.size();
      },
      std::chrono::seconds(5)));
  check("open file: ");
  ASSERT_TRUE(recorder_->Close().ok());
  check("closed file (chunk indexes): ");
}

TEST_F(HistoryStoreTest, StrategiesGiveTheSameAnswersFromOpenAndClosedFiles) {
  const protocol::TimestampNs start = now_;
  for (int i = 0; i < 200; ++i) {
    rover::v1::Housekeeping hk;
    hk.set_battery_soc_percent(50.0 + 10.0 * std::sin(i / 10.0));
    Record(StreamId::kHousekeeping, hk);
    rover::v1::NavigationPose pose;  // another channel in the same chunks
    pose.set_x_m(i);
    Record(StreamId::kNavigationPose, pose);
  }
  const protocol::TimestampNs end = now_;
  HistoryStore store(dir_.File("rec"), "rover1");
  HistoryQuery q;
  q.field = FindTelemetryField("housekeeping.battery_soc_percent");
  q.start_ns = static_cast<uint64_t>(start);
  q.end_ns = static_cast<uint64_t>(end);
  const auto run = [&](HistoryStrategy strategy, size_t size) {
    q.strategy = strategy;
    q.size = size;
    auto result = store.Query(q);
    EXPECT_TRUE(result.ok());
    std::vector<std::string> values;
    for (const HistorySample& s : result->samples) values.push_back(s.value_json);
    return values;
  };
  recorder_->Tick(now_ + 2'000'000'000);
  EXPECT_TRUE(test::WaitUntil([&] { return run(HistoryStrategy::kAll, 0).size() == 200; },
                              std::chrono::seconds(5)));
  const auto all_open = run(HistoryStrategy::kAll, 0);
  const auto latest_open = run(HistoryStrategy::kLatest, 3);
  const auto minmax_open = run(HistoryStrategy::kMinMax, 10);
  ASSERT_TRUE(recorder_->Close().ok());
  EXPECT_EQ(run(HistoryStrategy::kAll, 0), all_open);
  EXPECT_EQ(run(HistoryStrategy::kLatest, 3), latest_open);
  EXPECT_EQ(run(HistoryStrategy::kMinMax, 10), minmax_open);
  ASSERT_EQ(all_open.size(), 200u);
  ASSERT_EQ(latest_open.size(), 3u);
  EXPECT_EQ(latest_open.back(), all_open.back());
  EXPECT_LE(minmax_open.size(), 20u);
  EXPECT_GE(minmax_open.size(), 10u);
  // Nothing outside the recordings' time: an empty answer, not an error.
  q.start_ns = static_cast<uint64_t>(end) + 1'000'000'000;
  q.end_ns = q.start_ns + 1'000'000'000;
  EXPECT_TRUE(run(HistoryStrategy::kAll, 0).empty());
}

// A pass's live data, then the span the rover stored over a loss of signal, played back after
// it: by on-board time the played-back samples are where they were taken, not where they came.
TEST_F(HistoryStoreTest, ByOnboardTimeAPlayedBackSpanIsFoundWhereItWasTaken) {
  constexpr int64_t kStep = 100'000'000;  // a sample every 100 ms on board
  const protocol::TimestampNs t0 = now_;
  struct Sent {
    uint64_t onboard_ns = 0;
    double value = 0;
  };
  std::vector<Sent> sent;  // the ground truth
  const auto value = [](int i) { return 50.0 + 20.0 * std::sin(i / 7.0) + 0.01 * i; };
  const auto hk = [&](int i, protocol::TimestampNs ground) {
    rover::v1::Housekeeping m;
    m.set_battery_soc_percent(value(i));
    uint64_t taken = 0;
    RecordAt(StreamId::kHousekeeping, m, t0 + i * kStep, ground, &taken);
    sent.push_back({taken, value(i)});
  };
  // First file: samples 0..99 live (received 1.3 s after they were taken).
  constexpr int64_t kLight = 1'300'000'000;
  for (int i = 0; i < 100; ++i) hk(i, t0 + i * kStep + kLight);
  ASSERT_TRUE(recorder_->Close().ok());
  // Second file: samples 200..299 live after the loss of signal, then 100..199, stored on
  // board, played back at ten a millisecond.
  NewRecorder();
  ASSERT_TRUE(recorder_->Open(t0 + 200 * kStep + kLight).ok());
  for (int i = 200; i < 300; ++i) hk(i, t0 + i * kStep + kLight);
  const protocol::TimestampNs playback = t0 + 300 * kStep + kLight;
  for (int i = 100; i < 200; ++i) hk(i, playback + (i - 100) * 100'000);
  recorder_->Tick(playback + 3'000'000'000);

  HistoryStore store(dir_.File("rec"), "rover1");
  HistoryQuery q;
  q.field = FindTelemetryField("housekeeping.battery_soc_percent");
  q.time = HistoryTime::kOnboard;
  // Sample indices, inclusive, as an on-board range (half a step either side).
  const auto from_ns = [&](int i) { return static_cast<uint64_t>(t0 + i * kStep - kStep / 2); };
  const auto to_ns = [&](int i) { return static_cast<uint64_t>(t0 + i * kStep + kStep / 2); };
  const auto between = [&](int from, int to) {
    q.start_ns = from_ns(from);
    q.end_ns = to_ns(to);
  };
  const auto truth = [&](int from, int to) {
    std::vector<Sent> out;
    for (const Sent& s : sent) {
      if (s.onboard_ns >= from_ns(from) && s.onboard_ns <= to_ns(to)) out.push_back(s);
    }
    std::sort(out.begin(), out.end(),
              [](const Sent& a, const Sent& b) { return a.onboard_ns < b.onboard_ns; });
    return out;
  };
  // Every check, asked of the recordings as they are now.
  const auto check = [&](const char* when, size_t& files_read) {
    SCOPED_TRACE(when);
    // All samples of the loss of signal, in on-board order, though they came last.
    between(150, 249);
    q.strategy = HistoryStrategy::kAll;
    auto all = store.Query(q);
    ASSERT_TRUE(all.ok());
    const std::vector<Sent> expected = truth(150, 249);
    ASSERT_EQ(all->samples.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(all->samples[i].onboard_ns, expected[i].onboard_ns) << i;
      EXPECT_DOUBLE_EQ(all->samples[i].number, expected[i].value) << i;
    }
    // The ground receipt of the played-back ones is after every live one.
    EXPECT_GT(all->samples.front().ground_ns, all->samples.back().ground_ns);
    // Minmax in on-board buckets: each bucket's minimum and maximum of what was sent.
    between(0, 299);
    q.strategy = HistoryStrategy::kMinMax;
    q.size = 6;  // 50 samples a bucket
    auto minmax = store.Query(q);
    ASSERT_TRUE(minmax.ok());
    std::vector<double> want, got;
    for (int b = 0; b < 6; ++b) {
      double lo = 1e9, hi = -1e9;
      for (const Sent& s : truth(b * 50, b * 50 + 49)) {
        lo = std::min(lo, s.value);
        hi = std::max(hi, s.value);
      }
      want.push_back(lo);
      want.push_back(hi);
    }
    std::sort(want.begin(), want.end());
    for (const HistorySample& s : minmax->samples) got.push_back(s.number);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, want);
    // The newest on board is the last live sample, not the last one to arrive.
    q.strategy = HistoryStrategy::kLatest;
    q.size = 1;
    auto latest = store.Query(q);
    ASSERT_TRUE(latest.ok());
    ASSERT_EQ(latest->samples.size(), 1u);
    EXPECT_EQ(latest->samples[0].onboard_ns, sent[199].onboard_ns);  // sample 299
    // Only the loss of signal's on-board time: the first file holds nothing of it.
    between(100, 199);
    q.strategy = HistoryStrategy::kAll;
    auto lost = store.Query(q);
    ASSERT_TRUE(lost.ok());
    EXPECT_EQ(lost->samples.size(), 100u);
    files_read = lost->files_read;
  };
  size_t reads = 0;
  // The recorder writes on its own thread: until the last played-back sample is in the file.
  ASSERT_TRUE(test::WaitUntil(
      [&] {
        between(100, 199);
        q.strategy = HistoryStrategy::kAll;
        auto r = store.Query(q);
        return r.ok() && r->samples.size() == 100;
      },
      std::chrono::seconds(5)));
  check("second file still being written", reads);
  EXPECT_EQ(reads, 2u);  // no archive says what the first file holds on board
  ASSERT_TRUE(recorder_->Close().ok());
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.File("rec"))) {
    if (entry.is_regular_file()) files.push_back(entry.path().string());
  }
  ASSERT_EQ(files.size(), 2u);
  for (const std::string& f : files) ASSERT_TRUE(BuildArchive(f).ok()) << f;
  check("both closed and archived", reads);
  EXPECT_EQ(reads, 1u);  // the first file is not read
}

// minmax by on-board time over hours, where the archives answer: the played-back hour came
// within seconds (its ground minutes span an hour on board, so they are read message by
// message), the live hours are taken from the archives' buckets whole but at the on-board
// buckets' edges. The answer is the one the messages give, and each bucket's minimum and
// maximum of what was sent.
TEST_F(HistoryStoreTest, ByOnboardTimeMinmaxOverHoursFromTheArchivesIsWhatWasSent) {
  constexpr int64_t kStep = 10'000'000'000;  // a sample every 10 s on board
  constexpr int64_t kLight = 1'300'000'000;
  constexpr int kHour = 360;  // samples
  const protocol::TimestampNs t0 = now_;
  std::vector<std::pair<uint64_t, double>> sent;  // on-board ns, value
  const auto hk = [&](int i, protocol::TimestampNs ground) {
    rover::v1::Housekeeping m;
    const double v = 50.0 + 30.0 * std::sin(i / 37.0) + 0.001 * i;
    m.set_battery_soc_percent(v);
    uint64_t taken = 0;
    RecordAt(StreamId::kHousekeeping, m, t0 + i * kStep, ground, &taken);
    sent.emplace_back(taken, v);
  };
  for (int i = 0; i < kHour; ++i) hk(i, t0 + i * kStep + kLight);
  ASSERT_TRUE(recorder_->Close().ok());
  NewRecorder();
  ASSERT_TRUE(recorder_->Open(t0 + 2 * kHour * kStep + kLight).ok());
  for (int i = 2 * kHour; i < 3 * kHour; ++i) hk(i, t0 + i * kStep + kLight);
  const protocol::TimestampNs playback = t0 + 3 * kHour * kStep + kLight;
  for (int i = kHour; i < 2 * kHour; ++i) hk(i, playback + int64_t{i - kHour} * 10'000'000);
  ASSERT_TRUE(recorder_->Close().ok());

  HistoryStore store(dir_.File("rec"), "rover1");
  HistoryQuery q;
  q.field = FindTelemetryField("housekeeping.battery_soc_percent");
  q.time = HistoryTime::kOnboard;
  q.strategy = HistoryStrategy::kMinMax;
  q.size = 50;
  q.start_ns = static_cast<uint64_t>(t0 - kStep / 2);
  q.end_ns = static_cast<uint64_t>(t0 + 3 * kHour * kStep);
  auto from_messages = store.Query(q);
  ASSERT_TRUE(from_messages.ok());
  EXPECT_EQ(from_messages->archives_read, 0u);
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.File("rec"))) {
    if (entry.is_regular_file()) files.push_back(entry.path().string());
  }
  ASSERT_GE(files.size(), 2u);  // the recorder splits hourly, too
  for (const std::string& f : files) ASSERT_TRUE(BuildArchive(f).ok()) << f;
  auto from_archives = store.Query(q);
  ASSERT_TRUE(from_archives.ok());
  EXPECT_EQ(from_archives->archives_read, files.size());
  // The played-back hour is read (its minutes hold an hour on board each) and the live hours'
  // minutes at the buckets' edges: well under all 1080 messages, but not none.
  EXPECT_GE(from_archives->messages_decoded, static_cast<uint64_t>(kHour));
  EXPECT_LT(from_archives->messages_decoded, static_cast<uint64_t>(kHour) + 200);
  // Each bucket's minimum and maximum of what was sent, in on-board order.
  const double span = static_cast<double>(q.end_ns - q.start_ns) + 1.0;
  std::map<size_t, std::pair<std::pair<double, uint64_t>, std::pair<double, uint64_t>>> truth;
  for (const auto& [t, v] : sent) {
    const auto b = static_cast<size_t>(static_cast<double>(t - q.start_ns) / span * 50.0);
    auto [it, added] = truth.try_emplace(b, std::make_pair(v, t), std::make_pair(v, t));
    if (v < it->second.first.first) it->second.first = {v, t};
    if (v > it->second.second.first) it->second.second = {v, t};
  }
  std::vector<std::pair<uint64_t, double>> want;
  for (const auto& [b, mm] : truth) {
    want.emplace_back(mm.first.second, mm.first.first);
    want.emplace_back(mm.second.second, mm.second.first);
  }
  std::sort(want.begin(), want.end());
  const auto got = [](const HistoryResult& r) {
    std::vector<std::pair<uint64_t, double>> out;
    for (const HistorySample& s : r.samples) out.emplace_back(s.onboard_ns, s.number);
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(got(*from_archives), want);
  EXPECT_EQ(got(*from_messages), want);
  // The newest on board is the last live sample; an hour's all samples, from its one file.
  q.strategy = HistoryStrategy::kLatest;
  q.size = 1;
  auto latest = store.Query(q);
  ASSERT_TRUE(latest.ok());
  ASSERT_EQ(latest->samples.size(), 1u);
  EXPECT_EQ(latest->samples[0].onboard_ns, sent[2 * kHour - 1].first);  // sample 1079
  // Only the file holding the newest on board: every other one is older on board than it.
  EXPECT_EQ(latest->files_read, 1u);
}

}  // namespace
}  // namespace lgs::station
