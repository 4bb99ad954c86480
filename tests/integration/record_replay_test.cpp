// Recording and replay with the real programs: emulator -> station (recording A) ->
// gsctl replay A -> station (recording B). What the replay puts on the wire is byte-identical
// to what the emulator did, and B holds the same messages as A.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "protocol/mcap_reader.h"
#include "protocol/recording_profile.h"
#include "support/capture.h"
#include "support/official_reader.h"
#include "support/process.h"
#include "support/programs.h"
#include "support/recording.h"

namespace lgs::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

std::vector<std::string> McapFilesIn(const fs::path& dir) {
  std::vector<std::string> files;
  if (!fs::exists(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".mcap") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end(), [](const std::string& a, const std::string& b) {
    return protocol::recording::RecordingOrder(a, b);  // "_2" before "_10"
  });
  return files;
}

struct Recorded {
  uint16_t channel;
  std::string topic;
  uint32_t sequence;
  uint64_t publish_time;
  std::string data;
};

// Every message on the rover's channels (not the ground products), in file order.
std::vector<Recorded> RoverMessages(const std::vector<std::string>& files) {
  std::vector<Recorded> out;
  const Recording recording = ReadRecordingFiles(files);
  for (const auto& [file, why] : recording.incomplete) ADD_FAILURE() << file << ": " << why;
  for (const RecordedMessage& m : recording.messages) {
    if (m.rover_channel) out.push_back({m.channel_id, m.topic, m.sequence, m.publish_time, m.data});
  }
  return out;
}

int RunGsctl(const ScratchDir& dir, std::vector<std::string> args, const std::string& name,
             std::string* out = nullptr, std::string* err = nullptr) {
  ChildProcess gsctl(LGS_GSCTL_BIN, std::move(args), dir.path(), name);
  const int code = gsctl.Wait(120s).value_or(-1);
  if (out) *out = gsctl.Stdout();
  if (err) *err = gsctl.Stderr();
  return code;
}

TEST(RecordReplay, ReplayIsByteIdenticalAndRecordsTheSameMessages) {
  ScratchDir dir;
  const std::string live = dir.IpcEndpoint("live");
  const std::string replayed = dir.IpcEndpoint("replay");

  // Live: the emulator, a station recording A, and a raw capture of the wire.
  {
    ChildProcess station(LGS_STATION_BIN,
                         StationArgs()
                             .Connect(live)
                             .Record(dir.File("A"))
                             .Quiet()
                             .SummaryJson(dir.File("a.json"))
                             .Arg("--flush-interval", "0.3")
                             .Args(),
                         dir.path(), "station_a");
    WireCapture wire(live);
    ChildProcess emulator(LGS_EMULATOR_BIN,
                          EmulatorArgs()
                              .IdealLink()
                              .Bind(live)
                              .WaitForSubscribers(2)
                              .Speed(25)
                              .Duration(2)
                              .Truth(dir.File("truth.jsonl"))
                              .Seed(5)
                              .Args(),
                          dir.path(), "emulator");
    ASSERT_EQ(emulator.Wait(60s), 0) << emulator.Stderr();
    const size_t sent = ReadLines(dir.File("truth.jsonl")).size();
    ASSERT_TRUE(WaitUntil([&] { return wire.size() >= sent; }, 20s));
    std::this_thread::sleep_for(500ms);  // the station is on the same wire
    station.Signal(SIGINT);
    ASSERT_EQ(station.Wait(30s), 0) << station.Stderr();
    const auto a_summary = json::parse(ReadFile(dir.File("a.json")));
    ASSERT_EQ(a_summary["totals"]["received"], sent);

    // Replay A as fast as it can go, to a second station and a second capture.
    const auto files_a = McapFilesIn(dir.path() / "A");
    ASSERT_EQ(files_a.size(), 1u);
    ChildProcess station_b(LGS_STATION_BIN,
                           StationArgs()
                               .Connect(replayed)
                               .Record(dir.File("B"))
                               .Quiet()
                               .SummaryJson(dir.File("b.json"))
                               .Args(),
                           dir.path(), "station_b");
    WireCapture wire_b(replayed);
    std::string replay_err;
    ASSERT_EQ(
        RunGsctl(dir, ReplayArgs({files_a[0]}).Max().Bind(replayed).WaitForSubscribers(2).Args(),
                 "replay", nullptr, &replay_err),
        0)
        << replay_err;
    ASSERT_TRUE(WaitUntil([&] { return wire_b.size() >= sent; }, 20s)) << wire_b.size();
    std::this_thread::sleep_for(500ms);
    station_b.Signal(SIGINT);
    ASSERT_EQ(station_b.Wait(30s), 0) << station_b.Stderr();

    // What the replay sent is exactly what the emulator sent: topics and packets, in order.
    const auto original = wire.messages();
    const auto again = wire_b.messages();
    ASSERT_EQ(original.size(), sent);
    ASSERT_EQ(again.size(), sent);
    for (size_t i = 0; i < sent; ++i) {
      ASSERT_EQ(again[i].topic, original[i].topic) << i;
      ASSERT_EQ(again[i].packet, original[i].packet) << "packet " << i << " differs";
    }
    const auto b_summary = json::parse(ReadFile(dir.File("b.json")));
    EXPECT_EQ(b_summary["totals"]["received"], sent);
    EXPECT_EQ(b_summary["totals"]["rejected"], 0);
    EXPECT_EQ(b_summary["totals"]["missing"], 0);
  }

  // B holds the same messages as A: payload, sequence, publish time, channel.
  const auto a = RoverMessages(McapFilesIn(dir.path() / "A"));
  const auto b = RoverMessages(McapFilesIn(dir.path() / "B"));
  ASSERT_GT(a.size(), 100u);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].topic, b[i].topic) << i;
    ASSERT_EQ(a[i].sequence, b[i].sequence) << i;
    ASSERT_EQ(a[i].publish_time, b[i].publish_time) << i;
    ASSERT_EQ(a[i].data, b[i].data) << i;
  }

  // Both recordings are sound by our verifier and by the official readers.
  std::vector<std::string> all = McapFilesIn(dir.path() / "A");
  for (const auto& f : McapFilesIn(dir.path() / "B")) all.push_back(f);
  for (const std::string& f : all) {
    std::string out;
    EXPECT_EQ(RunGsctl(dir, {"verify", f}, "verify", &out), 0) << out;
  }
  for (const json& r : CheckWithOfficialReaders(all)) {
    EXPECT_TRUE(r["ok"].get<bool>()) << r.dump();
    EXPECT_EQ(r["messages"], r["decoded"]) << r.dump();
  }
}

TEST(RecordReplay, KilledStationLeavesAFileThatRecoverMakesWhole) {
  ScratchDir dir;
  const std::string live = dir.IpcEndpoint("live");
  ChildProcess station(LGS_STATION_BIN,
                       StationArgs()
                           .Connect(live)
                           .Record(dir.File("rec"))
                           .Quiet()
                           .Jsonl(dir.File("station.jsonl"))
                           .Arg("--flush-interval", "0.2")
                           .Args(),
                       dir.path(), "station");
  ChildProcess emulator(LGS_EMULATOR_BIN,
                        EmulatorArgs()
                            .IdealLink()
                            .Bind(live)
                            .WaitForSubscribers()
                            .Speed(25)
                            .Duration(2)
                            .Truth(dir.File("truth.jsonl"))
                            .Args(),
                        dir.path(), "emulator");
  ASSERT_EQ(emulator.Wait(60s), 0) << emulator.Stderr();
  const auto truth = ReadLines(dir.File("truth.jsonl"));
  ASSERT_TRUE(
      WaitUntil([&] { return ReadLines(dir.File("station.jsonl")).size() >= truth.size(); }, 20s));
  std::this_thread::sleep_for(800ms);  // several flush intervals after the last packet
  station.Signal(SIGKILL);
  ASSERT_EQ(station.Wait(10s), 128 + SIGKILL);

  const auto files = McapFilesIn(dir.path() / "rec");
  ASSERT_EQ(files.size(), 1u);
  std::string out, err;
  EXPECT_EQ(RunGsctl(dir, {"verify", files[0]}, "verify_torn", &out), 1) << out;
  EXPECT_NE(out.find("incomplete"), std::string::npos) << out;
  // cat delivers what is there and says where it stopped.
  EXPECT_EQ(RunGsctl(dir, {"cat", files[0], "--json"}, "cat_torn", &out, &err), 3) << err;
  EXPECT_NE(err.find("stopped at offset"), std::string::npos) << err;

  const std::string fixed = dir.File("fixed.mcap");
  ASSERT_EQ(RunGsctl(dir, {"recover", files[0], fixed, "--json"}, "recover", &out, &err), 0) << err;
  const json report = json::parse(out);
  EXPECT_EQ(report["input_state"], "torn");
  EXPECT_EQ(RunGsctl(dir, {"verify", fixed}, "verify_fixed", &out), 0) << out;

  // Every packet the emulator sent was flushed before the kill, so all of them are back.
  std::set<std::pair<std::string, uint32_t>> expected, recovered;
  for (const std::string& line : truth) {
    const json t = json::parse(line);
    expected.insert({"/rover1/" + t["stream"].get<std::string>(), t["seq"].get<uint32_t>()});
  }
  for (const Recorded& r : RoverMessages({fixed})) {
    EXPECT_TRUE(recovered.insert({r.topic, r.sequence}).second) << "duplicate " << r.topic;
  }
  EXPECT_EQ(recovered, expected);
  for (const json& r : CheckWithOfficialReaders({fixed}))
    EXPECT_TRUE(r["ok"].get<bool>()) << r.dump();
}

TEST(RecordReplay, KillMidStreamRecoversAGaplessPrefixOfEveryStream) {
  ScratchDir dir;
  const std::string live = dir.IpcEndpoint("live");
  ChildProcess station(LGS_STATION_BIN,
                       StationArgs()
                           .Connect(live)
                           .Record(dir.File("rec"))
                           .Quiet()
                           .Arg("--flush-interval", "0.1")
                           .Args(),
                       dir.path(), "station");
  ChildProcess emulator(LGS_EMULATOR_BIN,
                        EmulatorArgs().IdealLink().Bind(live).WaitForSubscribers().Speed(50).Args(),
                        dir.path(), "emulator");
  std::this_thread::sleep_for(1500ms);
  station.Signal(SIGKILL);
  ASSERT_EQ(station.Wait(10s), 128 + SIGKILL);
  emulator.Signal(SIGINT);
  ASSERT_EQ(emulator.Wait(10s), 0);

  const auto files = McapFilesIn(dir.path() / "rec");
  ASSERT_EQ(files.size(), 1u);
  const std::string fixed = dir.File("fixed.mcap");
  std::string out, err;
  ASSERT_EQ(RunGsctl(dir, {"recover", files[0], fixed}, "recover", &out, &err), 0) << err;
  EXPECT_NE(out.find("recovered"), std::string::npos) << out;
  EXPECT_EQ(RunGsctl(dir, {"verify", fixed}, "verify", &out), 0) << out;
  std::map<std::string, uint32_t> next;
  size_t count = 0;
  for (const Recorded& r : RoverMessages({fixed})) {
    EXPECT_EQ(r.sequence, next[r.topic]++) << r.topic;
    ++count;
  }
  EXPECT_GT(count, 200u);  // 1.5 s at 50x is over a thousand packets; several flushes happened
}

TEST(RecordReplay, SplitByDurationGivesSoundFilesWhoseUnionIsComplete) {
  ScratchDir dir;
  const std::string live = dir.IpcEndpoint("live");
  ChildProcess station(LGS_STATION_BIN,
                       StationArgs()
                           .Connect(live)
                           .Record(dir.File("rec"))
                           .Quiet()
                           .Arg("--split-duration", "1")
                           .Arg("--compression", "lz4")
                           .Args(),
                       dir.path(), "station");
  ChildProcess emulator(LGS_EMULATOR_BIN,
                        EmulatorArgs()
                            .IdealLink()
                            .Bind(live)
                            .WaitForSubscribers()
                            .Speed(10)
                            .Duration(3.5)
                            .Truth(dir.File("truth.jsonl"))
                            .Args(),
                        dir.path(), "emulator");
  ASSERT_EQ(emulator.Wait(60s), 0);
  const auto truth = ReadLines(dir.File("truth.jsonl"));
  std::this_thread::sleep_for(700ms);
  station.Signal(SIGTERM);
  ASSERT_EQ(station.Wait(30s), 0) << station.Stderr();
  const auto files = McapFilesIn(dir.path() / "rec");
  ASSERT_GE(files.size(), 3u);
  EXPECT_EQ(RoverMessages(files).size(), truth.size());
  for (const std::string& f : files) {
    std::string out;
    EXPECT_EQ(RunGsctl(dir, {"verify", f}, "verify", &out), 0) << out;
  }
  for (const json& r : CheckWithOfficialReaders(files))
    EXPECT_TRUE(r["ok"].get<bool>()) << r.dump();

  // Several files replay merged by time, each packet exactly once.
  const std::string replayed = dir.IpcEndpoint("replay");
  WireCapture wire(replayed);
  const auto args = ReplayArgs(files).Max().Bind(replayed).WaitForSubscribers().Args();
  std::string err;
  ASSERT_EQ(RunGsctl(dir, args, "replay", nullptr, &err), 0) << err;
  ASSERT_TRUE(WaitUntil([&] { return wire.size() >= truth.size(); }, 20s));
  std::map<std::string, uint32_t> next;
  for (const WireMessage& m : wire.messages()) {
    const auto* p = reinterpret_cast<const uint8_t*>(m.packet.data());
    const uint32_t seq =
        (uint32_t{p[13]} << 24) | (uint32_t{p[14]} << 16) | (uint32_t{p[15]} << 8) | p[16];
    EXPECT_EQ(seq, next[m.topic]++) << m.topic;
  }
  EXPECT_EQ(wire.size(), truth.size());
}

}  // namespace
}  // namespace lgs::test
