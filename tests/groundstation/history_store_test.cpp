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
    RecorderOptions options;
    options.directory = dir_.File("rec");
    options.writer.sync_on_chunk = false;
    recorder_ = std::make_unique<Recorder>(options);
    ASSERT_TRUE(recorder_->Open(now_).ok());
  }

  void Record(StreamId id, const google::protobuf::Message& message) {
    const std::string payload = message.SerializeAsString();
    std::string packet;
    const protocol::StreamInfo& stream = protocol::Stream(id);
    ASSERT_TRUE(protocol::EncodeTmPacket(stream.apid, seq_[static_cast<size_t>(id)]++, now_,
                                         protocol::AsBytes(payload), packet)
                    .ok());
    auto decoded =
        decoder_.Decode(protocol::TelemetryTopic("rover1", stream), protocol::AsBytes(packet));
    ASSERT_TRUE(decoded.ok()) << decoded.error().detail;
    now_ += 100'000'000;  // 100 ms
    recorder_->RecordTelemetry(*decoded, now_);
    recorder_->Tick(now_);
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

}  // namespace
}  // namespace lgs::station
