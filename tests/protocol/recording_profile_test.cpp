#include "protocol/recording_profile.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "protocol/space_packet.h"

namespace lgs::protocol::recording {
namespace {

TEST(RecordingProfile, FileNamesSortByTimeAndBelongToTheirRover) {
  const TimestampNs t = 1'795'000'000'123'000'000;  // `date -u -d @1795000000`: 11:06:40
  EXPECT_EQ(FileName("rover1", t), "rover1_2026-11-18T11-06-40Z.mcap");
  EXPECT_EQ(FileName("rover1", t, 2), "rover1_2026-11-18T11-06-40Z_2.mcap");
  EXPECT_LT(FileName("rover1", t), FileName("rover1", t + 1'000'000'000));
  EXPECT_TRUE(IsRecordingOf(FileName("rover1", t), "rover1"));
  EXPECT_FALSE(IsRecordingOf(FileName("rover10", t), "rover1"));
  EXPECT_FALSE(IsRecordingOf("rover1_notes.txt", "rover1"));
  EXPECT_FALSE(IsRecordingOf("rover1.mcap", "rover1"));
}

TEST(RecordingProfile, ChannelNamesAreTheRoverAndTheStreamAndNothingElseMatches) {
  const StreamInfo& hk = Stream(StreamId::kHousekeeping);
  const std::string channel = TelemetryChannel("rover1", hk.name);
  EXPECT_EQ(channel, "/rover1/housekeeping");
  EXPECT_EQ(StreamOfChannel(channel, "rover1"), &hk);
  EXPECT_EQ(StreamOfChannel(channel, "rover2"), nullptr);
  EXPECT_EQ(StreamOfChannel("/rover1/", "rover1"), nullptr);
  EXPECT_EQ(StreamOfChannel("/ground/alarms", "rover1"), nullptr);
  EXPECT_EQ(StreamOfChannel(kRejectedChannel, "rover1"), nullptr);
  EXPECT_EQ(StreamOfChannel("/rover1/no_such_stream", "rover1"), nullptr);
}

TEST(RecordingProfile, AChannelsMetadataRebuildsItsPacketsByteForByte) {
  const StreamInfo& hk = Stream(StreamId::kHousekeeping);
  std::string original;
  const std::string payload = "\x08\x02\x11payload";
  ASSERT_TRUE(
      EncodeTmPacket(hk.apid, 77'000, 1'795'000'000'123'456'000, AsBytes(payload), original).ok());
  McapChannel channel;
  channel.topic = TelemetryChannel("rover1", hk.name);
  for (const auto& [key, value] : TelemetryChannelMetadata("rover1", hk)) {
    channel.metadata[key] = value;
  }
  const auto recorded = ReadTelemetryChannel(channel);
  ASSERT_TRUE(recorded.has_value());
  EXPECT_EQ(recorded->apid, hk.apid);
  EXPECT_EQ(recorded->stream, &hk);
  EXPECT_EQ(recorded->zmq_topic, TelemetryTopic("rover1", hk));
  auto view = ParseTmPacket(AsBytes(original));
  ASSERT_TRUE(view.ok());
  McapMessage message;
  message.sequence = view->extended_sequence;
  message.publish_time = static_cast<uint64_t>(view->onboard_time_ns);
  message.data = view->payload;
  std::string rebuilt;
  ASSERT_TRUE(RebuildPacket(*recorded, message, rebuilt).ok());
  EXPECT_EQ(rebuilt, original);
}

TEST(RecordingProfile, GroundChannelsAndBadMetadataAreNotTelemetry) {
  McapChannel ground;
  ground.topic = std::string(kCommandsChannel);
  EXPECT_FALSE(ReadTelemetryChannel(ground).has_value());
  McapChannel bad;
  bad.metadata = {{"apid", "4096"}, {"zmq_topic", "tm.rover1.x"}};
  EXPECT_FALSE(ReadTelemetryChannel(bad).has_value());
  bad.metadata["apid"] = "not a number";
  EXPECT_FALSE(ReadTelemetryChannel(bad).has_value());
  bad.metadata["apid"] = "2000";  // valid, but no stream of this build
  const auto unknown = ReadTelemetryChannel(bad);
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->stream, nullptr);
}

TEST(RecordingProfile, RecordingsSortInTheOrderTheyWereStarted) {
  std::vector<std::string> names = {
      "d/rover1_2026-11-22T06-30-01Z.mcap",   "d/rover1_2026-11-22T06-30-00Z_10.mcap",
      "d/rover1_2026-11-22T06-30-00Z_2.mcap", "d/rover1_2026-11-22T06-30-00Z.mcap",
      "d/rover1_2026-11-22T06-30-00Z_1.mcap", "d/rover1_2026-11-22T06-29-59Z_11.mcap"};
  std::sort(names.begin(), names.end(),
            [](const std::string& a, const std::string& b) { return RecordingOrder(a, b); });
  const std::vector<std::string> expected = {
      "d/rover1_2026-11-22T06-29-59Z_11.mcap", "d/rover1_2026-11-22T06-30-00Z.mcap",
      "d/rover1_2026-11-22T06-30-00Z_1.mcap",  "d/rover1_2026-11-22T06-30-00Z_2.mcap",
      "d/rover1_2026-11-22T06-30-00Z_10.mcap", "d/rover1_2026-11-22T06-30-01Z.mcap"};
  EXPECT_EQ(names, expected);
  // What FileName makes sorts the same way.
  EXPECT_TRUE(RecordingOrder(FileName("rover1", 1'790'000'000'000'000'000, 9),
                             FileName("rover1", 1'790'000'000'000'000'000, 10)));
}

}  // namespace
}  // namespace lgs::protocol::recording
