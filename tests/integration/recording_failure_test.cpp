// The recording directory disappears under a running station (replaced by a plain file, so even
// root cannot write there) and comes back: the station raises the alarm, keeps decoding every
// packet, resumes recording by itself, and what it recorded is intact and accounted for.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "protocol/mcap_reader.h"
#include "support/process.h"

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
                       {"--connect", endpoint, "--record", rec.string(), "--split-duration", "1",
                        "--jsonl", dir.File("station.jsonl"), "--quiet", "--summary-json",
                        dir.File("summary.json"), "--light-time", "0"},
                       dir.path(), "station");
  ASSERT_TRUE(station.started());
  ChildProcess emulator(
      LGS_EMULATOR_BIN,
      {"--command-bind", "none", "--ideal-link", "--bind", endpoint, "--wait-for-subscribers", "1",
       "--speed", "20", "--truth", dir.File("truth.jsonl")},
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
    for (const auto& entry : fs::directory_iterator(d)) {
      auto file = protocol::McapFile::Open(entry.path().string());
      ASSERT_TRUE(file.ok());
      protocol::McapMessageReader reader(**file);
      protocol::McapMessage m;
      while (reader.Next(m)) ++messages;
      EXPECT_EQ(reader.end(), protocol::McapMessageReader::End::kComplete) << entry.path();
      ++files;
    }
  }
  EXPECT_GE(files, 3u);
  EXPECT_EQ(messages, r["messages"].get<uint64_t>());
}

}  // namespace
}  // namespace lgs::test
