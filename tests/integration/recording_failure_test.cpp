// The recording directory disappears under a running station (replaced by a plain file, so even
// root cannot write there) and comes back: the station raises the alarm, keeps decoding every
// packet, resumes recording by itself, and what it recorded is intact and accounted for.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "protocol/mcap_reader.h"
#include "support/process.h"
#include "support/programs.h"
#include "support/recording.h"

namespace lgs::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

TEST(RecordingFailure, DirectoryGoneRaisesAlarmDecodingGoesOnAndRecordingResumes) {
  ScratchDir dir;
  const std::string endpoint = dir.IpcEndpoint("tm");
  const fs::path rec = dir.path() / "rec";
  ChildProcess station(LGS_STATION_BIN,
                       StationArgs()
                           .Connect(endpoint)
                           .Record(rec.string())
                           .Arg("--split-duration", "1")
                           .Jsonl(dir.File("station.jsonl"))
                           .Quiet()
                           .SummaryJson(dir.File("summary.json"))
                           .LightTime(0)
                           .Args(),
                       dir.path(), "station");
  ASSERT_TRUE(station.started());
  ChildProcess emulator(LGS_EMULATOR_BIN,
                        EmulatorArgs()
                            .IdealLink()
                            .Bind(endpoint)
                            .WaitForSubscribers()
                            .Speed(20)
                            .Truth(dir.File("truth.jsonl"))
                            .Args(),
                        dir.path(), "emulator");
  WaitUntil([&] { return fs::exists(rec) && !fs::is_empty(rec); }, 20s);
  std::this_thread::sleep_for(2s);
  // The directory goes away; a plain file takes its name.
  fs::rename(rec, dir.path() / "rec-before");
  std::ofstream(rec) << "not a directory";
  WaitUntil([&] { return station.Stderr().find("ALARM recording stopped") != std::string::npos; },
            20s);
  std::this_thread::sleep_for(1s);
  fs::remove(rec);  // room again: the station makes the directory and resumes
  WaitUntil([&] { return station.Stderr().find("recording resumed") != std::string::npos; }, 20s);
  std::this_thread::sleep_for(2s);
  emulator.Signal(SIGINT);
  ASSERT_EQ(emulator.Wait(20s), 0) << emulator.Stderr();
  const size_t sent = ReadLines(dir.File("truth.jsonl")).size();
  WaitUntil([&] { return ReadLines(dir.File("station.jsonl")).size() >= sent; }, 20s);
  station.Signal(SIGINT);
  station.Wait(20s);  // exit status: recording is healthy again, so 0

  // Decoding never stopped: every packet the emulator sent reached the JSON lines output.
  EXPECT_EQ(ReadLines(dir.File("station.jsonl")).size(), sent);
  const json summary = json::parse(ReadFile(dir.File("summary.json")));
  const json& r = summary["recording"];
  EXPECT_EQ(r["failures"], 1) << r.dump();
  EXPECT_EQ(r["resumed"], 1) << r.dump();
  EXPECT_EQ(r["recording"], true);
  EXPECT_GT(r["not_recorded"].get<uint64_t>(), 0u);
  EXPECT_NE(r["last_error"].get<std::string>().find("rec"), std::string::npos);

  // Every file before and after is intact, and together they hold exactly what was recorded.
  uint64_t messages = 0;
  size_t files = 0;
  for (const fs::path& d : {dir.path() / "rec-before", rec}) {
    const Recording recording = ReadRecording(d);
    EXPECT_TRUE(recording.incomplete.empty()) << d;
    messages += recording.messages.size();
    files += recording.files;
  }
  EXPECT_GE(files, 3u);
  EXPECT_EQ(messages, r["messages"].get<uint64_t>());
}

// Runs a program to completion (mount, umount) and returns its exit code.
int RunTool(const ScratchDir& dir, const std::string& program, std::vector<std::string> args,
            const std::string& name) {
  ChildProcess tool(program, std::move(args), dir.path(), name);
  return tool.Wait(20s).value_or(-1);
}

TEST(RecordingFailure, SmallFileSystemFillsUpThenGrowsAndRecordingResumes) {
  // tools/check runs as root (the project's two commands are run as root), so the test mounts
  // a real small file system; without root it fails here, saying why, rather than skipping.
  ASSERT_EQ(geteuid(), 0u) << "mounting a tmpfs needs root: run tools/check as root";
  ScratchDir dir;
  const fs::path rec = dir.path() / "small";
  fs::create_directories(rec);
  ASSERT_EQ(RunTool(dir, "/bin/mount", {"-t", "tmpfs", "-o", "size=256k", "tmpfs", rec.string()},
                    "mount"),
            0);
  struct Unmount {
    const ScratchDir& dir;
    fs::path path;
    ~Unmount() { RunTool(dir, "/bin/umount", {"-l", path.string()}, "umount"); }
  } unmount{dir, rec};

  const std::string endpoint = dir.IpcEndpoint("tm");
  ChildProcess station(LGS_STATION_BIN,
                       StationArgs()
                           .Connect(endpoint)
                           .Record(rec.string())
                           .Arg("--compression", "none")
                           .Arg("--flush-interval", "0.2")
                           .Jsonl(dir.File("station.jsonl"))
                           .Quiet()
                           .SummaryJson(dir.File("summary.json"))
                           .LightTime(0)
                           .Args(),
                       dir.path(), "station");
  ASSERT_TRUE(station.started());
  ChildProcess emulator(LGS_EMULATOR_BIN,
                        EmulatorArgs()
                            .IdealLink()
                            .Bind(endpoint)
                            .WaitForSubscribers()
                            .Speed(20)
                            .Truth(dir.File("truth.jsonl"))
                            .Args(),
                        dir.path(), "emulator");
  // 256 KiB of uncompressed telemetry at 20x fills in a few seconds.
  ASSERT_TRUE(WaitUntil(
      [&] { return station.Stderr().find("ALARM recording stopped") != std::string::npos; }, 30s))
      << station.Stderr();
  EXPECT_NE(station.Stderr().find("No space left on device"), std::string::npos)
      << station.Stderr();
  std::this_thread::sleep_for(1s);
  // The operator makes room: the file system grows and recording resumes by itself.
  ASSERT_EQ(RunTool(dir, "/bin/mount", {"-o", "remount,size=64m", rec.string()}, "remount"), 0);
  ASSERT_TRUE(WaitUntil(
      [&] { return station.Stderr().find("recording resumed") != std::string::npos; }, 20s))
      << station.Stderr();
  std::this_thread::sleep_for(1s);
  emulator.Signal(SIGINT);
  ASSERT_EQ(emulator.Wait(20s), 0) << emulator.Stderr();
  const size_t sent = ReadLines(dir.File("truth.jsonl")).size();
  WaitUntil([&] { return ReadLines(dir.File("station.jsonl")).size() >= sent; }, 20s);
  station.Signal(SIGINT);
  station.Wait(20s);

  EXPECT_EQ(ReadLines(dir.File("station.jsonl")).size(), sent);  // decoding went on
  const json summary = json::parse(ReadFile(dir.File("summary.json")));
  const json& r = summary["recording"];
  EXPECT_GE(r["failures"].get<int>(), 1) << r.dump();
  EXPECT_GE(r["resumed"].get<int>(), 1) << r.dump();
  EXPECT_EQ(r["recording"], true);
  EXPECT_GT(r["not_recorded"].get<uint64_t>(), 0u);
  // What was written stays readable: every message the recorder counted as written is there.
  const Recording recording = ReadRecording(rec);
  const uint64_t messages = recording.messages.size();
  const uint64_t alarms = recording.OnTopic("/ground/alarms").size();
  EXPECT_EQ(recording.ends.size(), recording.files);  // every file opened
  size_t complete = 0;
  for (const auto& [file, end] : recording.ends) {
    EXPECT_NE(end, protocol::McapMessageReader::End::kDamaged) << file;
    complete += end == protocol::McapMessageReader::End::kComplete;
  }
  EXPECT_GE(complete, 1u);  // the file after the resume was closed properly
  // The file recording resumed in holds the alarm: raised (at the failure), then cleared.
  EXPECT_EQ(alarms, 2u * r["resumed"].get<uint64_t>());
  EXPECT_EQ(messages, r["messages"].get<uint64_t>());
}

// Files in the recording directory that are no recording at all (empty, five bytes, another
// format) are set aside, renamed and reported, and the station starts, resuming or not.
TEST(RecordingFailure, UnreadableFilesInTheRecordingDirectoryAreSetAsideNotFatal) {
  for (const bool resume : {false, true}) {
    ScratchDir dir;
    const fs::path rec = dir.path() / "rec";
    fs::create_directories(rec);
    std::ofstream(rec / "rover1_empty.mcap").flush();
    std::ofstream(rec / "rover1_short.mcap") << "\x89MCAP";
    std::ofstream(rec / "rover1_other.mcap") << std::string(200, 'x');
    StationArgs args;
    args.Connect(dir.IpcEndpoint("tm"))
        .Record(rec.string())
        .Duration(0.5)
        .Quiet()
        .NoHttp()
        .SummaryJson(dir.File("summary.json"));
    if (resume) args.Resume();
    ChildProcess station(LGS_STATION_BIN, args.Args(), dir.path(), "station");
    ASSERT_EQ(station.Wait(20s), 0) << station.Stderr();
    for (const char* name : {"rover1_empty.mcap", "rover1_short.mcap", "rover1_other.mcap"}) {
      EXPECT_FALSE(fs::exists(rec / name)) << name;
      EXPECT_TRUE(fs::exists(rec / (std::string(name) + ".unreadable"))) << name;
      EXPECT_NE(station.Stderr().find(std::string(name) + "' is not a readable recording"),
                std::string::npos)
          << station.Stderr();
    }
    const json summary = json::parse(ReadFile(dir.File("summary.json")));
    EXPECT_EQ(summary["prior_recordings"]["set_aside"].size(), 3u);
    EXPECT_EQ(summary["recording"]["files"], 1);
  }
}

}  // namespace
}  // namespace lgs::test
