// gsctl on recordings made by the station's own Recorder with known contents and timing, and
// on every kind of bad file and argument.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "groundstation/recorder.h"
#include "protocol/byte_sink.h"
#include "protocol/mcap_writer.h"
#include "protocol/protobuf_schema.h"
#include "protocol/telemetry_decoder.h"
#include "support/capture.h"
#include "support/official_reader.h"
#include "support/packets.h"
#include "support/process.h"
#include "support/programs.h"

namespace lgs::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

constexpr int64_t kStartNs = 1'795'000'000'000'000'000;

// A recording of `count` housekeeping packets, one every `step_ns` of ground time, with battery
// state of charge = the sequence number / 10.
std::string MakeRecording(const ScratchDir& dir, int count, int64_t step_ns) {
  station::RecorderOptions options;
  options.directory = dir.File("rec");
  options.writer.chunk_size = 4096;
  options.split_duration_s = std::nullopt;  // one file, however much ground time it spans
  station::Recorder recorder(options);
  EXPECT_TRUE(recorder.Open(kStartNs).ok());
  protocol::TelemetryDecoder decoder("rover1");
  const std::string topic =
      protocol::TelemetryTopic("rover1", protocol::Stream(protocol::StreamId::kHousekeeping));
  for (int i = 0; i < count; ++i) {
    const std::string packet =
        HousekeepingPacket(i, i / 10.0, kStartNs - 1'280'000'000 + i * step_ns);
    auto decoded = decoder.Decode(topic, protocol::AsBytes(packet));
    EXPECT_TRUE(decoded.ok());
    recorder.RecordTelemetry(*decoded, kStartNs + i * step_ns);
  }
  EXPECT_TRUE(recorder.Close().ok());
  // Every recording a test makes is also judged by the official MCAP readers.
  for (const auto& r : CheckWithOfficialReaders({recorder.stats().current_file})) {
    EXPECT_TRUE(r["ok"].get<bool>()) << r.dump();
    EXPECT_EQ(r["messages"], count) << r.dump();
  }
  return recorder.stats().current_file;
}

struct GsctlRun {
  int code;
  std::string out, err;
};

GsctlRun Gsctl(std::vector<std::string> args) {
  ScratchDir dir;
  ChildProcess p(LGS_GSCTL_BIN, std::move(args), dir.path(), "gsctl");
  const int code = p.Wait(120s).value_or(-1);
  return {code, p.Stdout(), p.Stderr()};
}

size_t Lines(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

TEST(Gsctl, InfoReportsDurationCountsAndGaps) {
  ScratchDir dir;
  const std::string file = MakeRecording(dir, 200, 100'000'000);
  const GsctlRun r = Gsctl({"info", file, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["messages"], 200);
  EXPECT_NEAR(j["duration_s"].get<double>(), 19.9, 1e-6);
  EXPECT_EQ(j["state"], "complete");
  EXPECT_EQ(j["channels"][0]["topic"], "/rover1/housekeeping");
  EXPECT_EQ(j["channels"][0]["sequence_gaps"], 0);
  EXPECT_NEAR(j["channels"][0]["rate_hz"].get<double>(), 200 / 19.9, 1e-6);
  const GsctlRun text = Gsctl({"info", file});
  ASSERT_EQ(text.code, 0);
  EXPECT_NE(text.out.find("duration:    19.900 s"), std::string::npos) << text.out;
}

// The README's own example, `gsctl info recordings/*.mcap`, with several files; and a packet
// recorded late (a retransmission) fills its hole wherever it sits in the file: no gap.
TEST(Gsctl, InfoTakesSeveralFilesAndALatePacketIsNoGap) {
  ScratchDir dir;
  station::RecorderOptions options;
  options.directory = dir.File("rec");
  options.split_duration_s = std::nullopt;
  protocol::TelemetryDecoder decoder("rover1");
  const std::string topic =
      protocol::TelemetryTopic("rover1", protocol::Stream(protocol::StreamId::kHousekeeping));
  std::vector<std::string> files;
  for (int f = 0; f < 2; ++f) {
    station::Recorder recorder(options);
    ASSERT_TRUE(recorder.Open(kStartNs + f * 3'600'000'000'000LL).ok());
    // 0..9 with 4 arriving after 9 (it was retransmitted); the second file also lacks 20.
    std::vector<uint32_t> order = {0, 1, 2, 3, 5, 6, 7, 8, 9, 4};
    if (f == 1) order = {10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22};
    int64_t t = kStartNs + f * 3'600'000'000'000LL;
    for (uint32_t seq : order) {
      const std::string packet = HousekeepingPacket(seq, 50.0, t);
      auto decoded = decoder.Decode(topic, protocol::AsBytes(packet));
      ASSERT_TRUE(decoded.ok());
      recorder.RecordTelemetry(*decoded, t += 1'000'000'000);
    }
    ASSERT_TRUE(recorder.Close().ok());
    files.push_back(recorder.stats().current_file);
  }
  const GsctlRun r = Gsctl({"info", files[0], files[1], "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<json> lines;
  for (size_t at = 0, end; (end = r.out.find('\n', at)) != std::string::npos; at = end + 1) {
    lines.push_back(json::parse(r.out.substr(at, end - at)));
  }
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0]["file"], files[0]);
  EXPECT_EQ(lines[0]["channels"][0]["sequence_gaps"], 0);
  EXPECT_EQ(lines[0]["channels"][0]["sequences_missing"], 0);
  EXPECT_EQ(lines[0]["channels"][0]["sequences_repeated_or_reordered"], 1);
  EXPECT_EQ(lines[1]["channels"][0]["sequence_gaps"], 1);
  EXPECT_EQ(lines[1]["channels"][0]["sequences_missing"], 1);
  const GsctlRun text = Gsctl({"info", files[0], files[1]});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find(files[0]), std::string::npos);
  EXPECT_NE(text.out.find(files[1]), std::string::npos);
}

// A file whose names and metadata hold invalid UTF-8 and escape sequences (anyone can write
// such a file): info reports it in JSON that parses and in text that cannot drive a terminal.
TEST(Gsctl, InfoOfAFileWithHostileNamesAndMetadataIsValidJsonAndInertText) {
  ScratchDir dir;
  const std::string path = dir.File("hostile.mcap");
  {
    auto sink = protocol::FileSink::Create(path);
    ASSERT_TRUE(sink.ok());
    protocol::McapWriter writer(**sink, {});
    ASSERT_TRUE(writer.Open().ok());
    const std::string schema =
        protocol::FileDescriptorSetOf(*rover::v1::Housekeeping::descriptor());
    auto schema_id =
        writer.AddSchema("rover.v1.Housekeeping\x1b[2J", "protobuf", protocol::AsBytes(schema));
    ASSERT_TRUE(schema_id.ok());
    auto channel = writer.AddChannel("/rover1/\x1b]0;owned\x07housekeeping", "protobuf", *schema_id,
                                     {{"apid", "\xF4"}, {"note\xFF", "x\xC3"}});
    ASSERT_TRUE(channel.ok());
    const std::string payload = rover::v1::Housekeeping().SerializeAsString();
    ASSERT_TRUE(writer.Write(*channel, 0, kStartNs, kStartNs, protocol::AsBytes(payload)).ok());
    ASSERT_TRUE(writer.Close().ok());
  }
  const GsctlRun j = Gsctl({"info", path, "--json"});
  ASSERT_EQ(j.code, 0) << j.err;
  const json parsed = json::parse(j.out, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << j.out;
  EXPECT_EQ(parsed["messages"], 1);
  EXPECT_EQ(parsed["channels"][0]["metadata"]["apid"], "\xEF\xBF\xBD");
  const GsctlRun text = Gsctl({"info", path});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_EQ(text.out.find('\x1b'), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("/rover1/\\e]0;owned\\x07housekeeping"), std::string::npos) << text.out;
}

TEST(Gsctl, ReplayAtTenTimesSpeedTakesAboutATenthOfTheRecording) {
  ScratchDir dir;
  const std::string file = MakeRecording(dir, 201, 100'000'000);  // 20.0 s of recording
  const std::string endpoint = dir.IpcEndpoint("replay");
  WireCapture wire(endpoint);
  const auto start = std::chrono::steady_clock::now();
  ChildProcess replay(LGS_GSCTL_BIN,
                      ReplayArgs({file}).Speed(10).Bind(endpoint).WaitForSubscribers().Args(),
                      dir.path(), "replay");
  ASSERT_EQ(replay.Wait(60s), 0) << replay.Stderr();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GT(seconds, 1.9);
  EXPECT_LT(seconds, 4.0);
  ASSERT_TRUE(WaitUntil([&] { return wire.size() >= 201; }, 10s));
  // Packets are rebuilt exactly as they were built.
  for (uint32_t i = 0; i < 201; ++i) {
    ASSERT_EQ(wire.messages()[i].packet,
              HousekeepingPacket(i, i / 10.0, kStartNs - 1'280'000'000 + i * 100'000'000LL))
        << i;
  }
}

// A message logged at time 0 (a damaged clock, a forged file) used to stall a replay for
// decades of "recorded time"; it now goes at once and the rest is paced as recorded.
TEST(Gsctl, AMessageWithLogTimeZeroDoesNotStallAReplay) {
  ScratchDir dir;
  station::RecorderOptions options;
  options.directory = dir.File("rec");
  options.split_duration_s = std::nullopt;
  station::Recorder recorder(options);
  ASSERT_TRUE(recorder.Open(kStartNs).ok());
  protocol::TelemetryDecoder decoder("rover1");
  const std::string topic =
      protocol::TelemetryTopic("rover1", protocol::Stream(protocol::StreamId::kHousekeeping));
  for (int i = 0; i < 200; ++i) {
    const std::string packet = HousekeepingPacket(i, 50.0, kStartNs + i * 10'000'000LL);
    auto decoded = decoder.Decode(topic, protocol::AsBytes(packet));
    ASSERT_TRUE(decoded.ok());
    recorder.RecordTelemetry(*decoded, i == 100 ? 0 : kStartNs + i * 10'000'000LL);
  }
  ASSERT_TRUE(recorder.Close().ok());
  const std::string endpoint = dir.IpcEndpoint("replay");
  WireCapture wire(endpoint);
  const auto start = std::chrono::steady_clock::now();
  ChildProcess replay(LGS_GSCTL_BIN,
                      ReplayArgs({recorder.stats().current_file})
                          .Speed(1000)
                          .Bind(endpoint)
                          .WaitForSubscribers()
                          .Args(),
                      dir.path(), "replay");
  ASSERT_EQ(replay.Wait(30s), 0) << replay.Stderr();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_TRUE(WaitUntil([&] { return wire.size() >= 200; }, 10s)) << wire.size();
}

TEST(Gsctl, ReplayUsesCurveLikeTheRoverAndPlainTextOnlyWhenAsked) {
  ScratchDir dir;
  const std::string file = MakeRecording(dir, 30, 10'000'000);
  for (const char* name : {"rover", "ground"}) {
    ChildProcess keygen(LGS_GSCTL_BIN, {"keygen", name, "--dir", dir.File("keys")}, dir.path(),
                        std::string("keygen-") + name);
    ASSERT_EQ(keygen.Wait(20s), 0) << keygen.Stderr();
  }
  const GsctlRun refused = Gsctl({"replay", file, "--max", "--bind", dir.IpcEndpoint("x")});
  EXPECT_EQ(refused.code, 2);
  EXPECT_NE(refused.err.find("--insecure"), std::string::npos) << refused.err;

  const std::string endpoint = dir.IpcEndpoint("curve");
  ChildProcess station(LGS_STATION_BIN,
                       StationArgs()
                           .Keys(dir.File("keys/ground.key"), dir.File("keys/rover.pub"))
                           .Connect(endpoint)
                           .Quiet()
                           .LightTime(0)
                           .IdleExit(1)
                           .SummaryJson(dir.File("summary.json"))
                           .Args(),
                       dir.path(), "station");
  ChildProcess replay(
      LGS_GSCTL_BIN,
      {"replay", file, "--max", "--bind", endpoint, "--secret-key", dir.File("keys/rover.key"),
       "--allow-key", dir.File("keys/ground.pub"), "--wait-for-subscribers", "1"},
      dir.path(), "replay");
  ASSERT_EQ(replay.Wait(30s), 0) << replay.Stderr();
  EXPECT_EQ(replay.Stderr().find("INSECURE"), std::string::npos);
  ASSERT_EQ(station.Wait(30s), 0) << station.Stderr();
  EXPECT_EQ(json::parse(ReadFile(dir.File("summary.json")))["totals"]["received"], 30);
}

TEST(Gsctl, ReplayLoopsUntilInterrupted) {
  ScratchDir dir;
  const std::string file = MakeRecording(dir, 50, 1'000'000);
  const std::string endpoint = dir.IpcEndpoint("loop");
  WireCapture wire(endpoint);
  ChildProcess replay(
      LGS_GSCTL_BIN,
      ReplayArgs({file}).Speed(1).Flag("--loop").Bind(endpoint).WaitForSubscribers().Args(),
      dir.path(), "replay");
  ASSERT_TRUE(WaitUntil([&] { return wire.size() >= 160; }, 20s)) << wire.size();
  replay.Signal(SIGINT);
  ASSERT_EQ(replay.Wait(10s), 0) << replay.Stderr();
  EXPECT_NE(replay.Stderr().find("(interrupted)"), std::string::npos) << replay.Stderr();
  // Each pass repeats the recording exactly.
  const auto messages = wire.messages();
  for (size_t i = 50; i < 150; ++i) EXPECT_EQ(messages[i].packet, messages[i % 50].packet) << i;
}

TEST(Gsctl, CatSelectsByTimeAndPrintsTheStationJsonShape) {
  ScratchDir dir;
  const std::string file = MakeRecording(dir, 100, 100'000'000);
  const GsctlRun r = Gsctl({"cat", file, "--json", "--start", "+2s", "--end", "+2.45s"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream lines(r.out);
  std::vector<json> got;
  for (std::string line; std::getline(lines, line);) got.push_back(json::parse(line));
  ASSERT_EQ(got.size(), 5u);  // 2.0, 2.1, 2.2, 2.3, 2.4 s
  EXPECT_EQ(got[0]["seq"], 20);
  EXPECT_EQ(got[0]["stream"], "housekeeping");
  EXPECT_EQ(got[0]["apid"], 257);
  EXPECT_EQ(got[0]["ground_time_ns"], kStartNs + 2'000'000'000);
  EXPECT_DOUBLE_EQ(got[0]["data"]["battery_soc_percent"].get<double>(), 2.0);
  // ISO 8601 gives the same selection.
  const GsctlRun iso = Gsctl({"cat", file, "--json", "--start", "2026-11-18T11:06:42Z", "--end",
                              "2026-11-18T11:06:42.45Z"});
  ASSERT_EQ(iso.code, 0) << iso.err;
  EXPECT_EQ(iso.out, r.out);
  const GsctlRun text = Gsctl({"cat", file, "--topics", "housekeeping"});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_EQ(Lines(text.out), 100u);
  EXPECT_NE(text.out.find("HK    mode DRIVE"), std::string::npos);
}

TEST(Gsctl, ExportWritesOneCsvPerStreamWithUnitsInTheHeader) {
  ScratchDir dir;
  const std::string file = MakeRecording(dir, 30, 100'000'000);
  const GsctlRun r = Gsctl({"export", file, "--format", "csv", "--out", dir.File("csv")});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = ReadLines(dir.path() / "csv" / "rover1_housekeeping.csv");
  ASSERT_EQ(rows.size(), 31u);
  EXPECT_TRUE(rows[0].starts_with(
      "seq,onboard_time_ns,ground_time_ns,mode,battery_soc_percent,bus_voltage_v"))
      << rows[0];
  EXPECT_TRUE(rows[12].starts_with("11,")) << rows[12];
  EXPECT_NE(rows[12].find(",ROVER_MODE_DRIVE,1.1,30.1,"), std::string::npos) << rows[12];
  const GsctlRun jsonl = Gsctl({"export", file, "--format", "jsonl", "--out", dir.File("jsonl")});
  ASSERT_EQ(jsonl.code, 0) << jsonl.err;
  EXPECT_EQ(ReadLines(dir.path() / "jsonl" / "rover1_housekeeping.jsonl").size(), 30u);
}

class BadFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    good_ = MakeRecording(dir_, 500, 10'000'000);
    const std::string bytes = ReadFile(good_);
    const auto write = [&](const std::string& name, const std::string& content) {
      std::ofstream(dir_.File(name), std::ios::binary) << content;
      return dir_.File(name);
    };
    empty_ = write("empty.mcap", "");
    text_ = write("text.mcap", "timestamp,value\n1,2\n");
    truncated_ = write("truncated.mcap", bytes.substr(0, bytes.size() / 2));
    std::string corrupt = bytes;
    corrupt[bytes.size() / 2] ^= 0x10;
    corrupt_ = write("corrupt.mcap", corrupt);
  }
  ScratchDir dir_;
  std::string good_, empty_, text_, truncated_, corrupt_;
};

TEST_F(BadFiles, EveryCommandRefusesNonMcapInOneLine) {
  for (const std::string& file : {empty_, text_, dir_.File("missing.mcap"), dir_.path().string()}) {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"info", file},
          {"verify", file},
          {"cat", file},
          {"export", file, "--out", dir_.File("x")},
          {"recover", file, dir_.File("r.mcap")},
          {"replay", file, "--insecure", "--max", "--bind", dir_.IpcEndpoint("r")}}) {
      // cat and export read a directory's recordings (below).
      if (file == dir_.path().string() && (args[0] == "cat" || args[0] == "export")) continue;
      const GsctlRun r = Gsctl(args);
      EXPECT_EQ(r.code, 1) << args[0] << " " << file << ": " << r.err;
      EXPECT_EQ(Lines(r.err), 1u) << args[0] << " " << file << ": " << r.err;
      EXPECT_TRUE(r.err.starts_with("gsctl " + args[0] + ": ")) << r.err;
    }
  }
}

// cat and export take a directory for its recordings: one that is not a recording stops them
// with its name (after what came before it was delivered), exit 1.
TEST_F(BadFiles, CatAndExportOfADirectoryStopAtAFileThatIsNoRecording) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"cat", dir_.path().string()},
        {"export", dir_.path().string(), "--out", dir_.File("x")}}) {
    const GsctlRun r = Gsctl(args);
    EXPECT_EQ(r.code, 1) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find("gsctl " + args[0] + ": '" + empty_ + "' is empty, not an MCAP file"),
              std::string::npos)
        << r.err;
  }
  const GsctlRun none = Gsctl({"cat", dir_.File("x")});
  EXPECT_NE(none.code, 0);
}

// A FIFO named where a file is expected (by mistake, or by someone else) used to hang every
// command in open(); the station hung the same way on a FIFO as its key. Each is refused at once.
TEST_F(BadFiles, AFifoWhereAFileBelongsIsRefusedAtOnceNotWaitedOn) {
  const std::string fifo = dir_.File("fifo.mcap");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"info", fifo},
        {"verify", fifo},
        {"cat", fifo},
        {"export", fifo, "--out", dir_.File("x")},
        {"recover", fifo, dir_.File("r.mcap")},
        {"replay", fifo, "--insecure", "--max", "--bind", dir_.IpcEndpoint("r")},
        {"command", "--file", fifo},
        {"command", "ping", "--control", dir_.IpcEndpoint("c"), "--control-token", fifo},
        {"alarms", "--control", dir_.IpcEndpoint("c"), "--control-token", fifo}}) {
    const auto start = std::chrono::steady_clock::now();
    const GsctlRun r = Gsctl(args);
    EXPECT_NE(r.code, 0) << args[0];
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s) << args[0];
    EXPECT_NE(r.err.find("FIFO"), std::string::npos) << args[0] << ": " << r.err;
  }
  ChildProcess station(LGS_STATION_BIN,
                       {"--connect", dir_.IpcEndpoint("tm"), "--secret-key", fifo, "--rover-key",
                        fifo, "--http", "none"},
                       dir_.path(), "station");
  EXPECT_EQ(station.Wait(10s), 1) << station.Stderr();
  EXPECT_NE(station.Stderr().find("is a FIFO (named pipe), not a file"), std::string::npos)
      << station.Stderr();
  // A plan that does not exist says so.
  const GsctlRun missing = Gsctl({"command", "--file", dir_.File("plan.yaml")});
  EXPECT_NE(missing.code, 0);
  EXPECT_NE(missing.err.find("No such file"), std::string::npos) << missing.err;
}

TEST_F(BadFiles, TruncatedFileDeliversWhatIsIntactAndSaysWhereItStopped) {
  const GsctlRun cat = Gsctl({"cat", truncated_, "--json"});
  EXPECT_EQ(cat.code, 3);
  EXPECT_GT(Lines(cat.out), 10u);
  EXPECT_LT(Lines(cat.out), 500u);
  EXPECT_NE(cat.err.find("stopped at offset"), std::string::npos) << cat.err;
  // What was delivered is the exact start of the recording.
  const GsctlRun whole = Gsctl({"cat", good_, "--json"});
  EXPECT_TRUE(whole.out.starts_with(cat.out));
  const GsctlRun verify = Gsctl({"verify", truncated_});
  EXPECT_EQ(verify.code, 1);
  EXPECT_NE(verify.out.find("NOT sound"), std::string::npos);
  const GsctlRun info = Gsctl({"info", truncated_, "--json"});
  EXPECT_EQ(info.code, 0);
  EXPECT_EQ(json::parse(info.out)["state"], "torn");
}

TEST_F(BadFiles, CorruptedChunkIsFoundAndEverythingBeforeItDelivered) {
  const GsctlRun verify = Gsctl({"verify", corrupt_, "--json"});
  EXPECT_EQ(verify.code, 1);
  EXPECT_FALSE(json::parse(verify.out)["sound"].get<bool>());
  const GsctlRun cat = Gsctl({"cat", corrupt_, "--json"});
  EXPECT_EQ(cat.code, 3) << cat.err;
  EXPECT_NE(cat.err.find("stopped at offset"), std::string::npos) << cat.err;
  const GsctlRun whole = Gsctl({"cat", good_, "--json"});
  EXPECT_TRUE(whole.out.starts_with(cat.out));
  const GsctlRun recover = Gsctl({"recover", corrupt_, dir_.File("fixed.mcap"), "--json"});
  ASSERT_EQ(recover.code, 0) << recover.err;
  const json report = json::parse(recover.out);
  EXPECT_EQ(report["skipped_chunks"].size(), 1u) << report.dump();
  EXPECT_GT(report["messages"].get<int>(), 400);
  EXPECT_EQ(Gsctl({"verify", dir_.File("fixed.mcap")}).code, 0);
}

TEST_F(BadFiles, BadArgumentsAreClearErrors) {
  const GsctlRun topic = Gsctl({"cat", good_, "--topics", "/rover1/nope"});
  EXPECT_EQ(topic.code, 2);
  EXPECT_NE(topic.err.find("no channel matches /rover1/nope"), std::string::npos) << topic.err;
  const GsctlRun time = Gsctl({"cat", good_, "--start", "yesterday"});
  EXPECT_EQ(time.code, 2);
  EXPECT_NE(time.err.find("'yesterday' is not a time"), std::string::npos) << time.err;
  const GsctlRun order =
      Gsctl({"export", good_, "--out", dir_.File("o"), "--start", "+3s", "--end", "+1s"});
  EXPECT_EQ(order.code, 2);
  EXPECT_NE(order.err.find("is after the end"), std::string::npos) << order.err;
  const GsctlRun speed = Gsctl({"replay", good_, "--speed", "5000"});
  EXPECT_NE(speed.code, 0);
  EXPECT_NE(speed.err.find("speed"), std::string::npos) << speed.err;
  const GsctlRun same = Gsctl({"recover", good_, good_});
  EXPECT_EQ(same.code, 2);
  const GsctlRun none = Gsctl({});
  EXPECT_NE(none.code, 0);
  const GsctlRun help = Gsctl({"replay", "--help"});
  EXPECT_EQ(help.code, 0);
  for (const char* option :
       {"--speed", "--max", "--start", "--end", "--topics", "--loop", "--bind"}) {
    EXPECT_NE(help.out.find(option), std::string::npos) << option;
  }
}

}  // namespace
}  // namespace lgs::test
