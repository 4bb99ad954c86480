// The parameter archive with the real programs: a recording station summarizes each file it
// closes (splits and the last one at stop), starts again from the summaries (--resume reads no
// archived file), and answers long history from them over HTTP exactly as from the messages;
// gsctl index checks, rebuilds what is missing or damaged, and refuses bad arguments.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "groundstation/parameter_archive.h"
#include "protocol/recording_profile.h"
#include "support/gsctl.h"
#include "support/http.h"
#include "support/process.h"
#include "support/programs.h"

namespace lgs::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

std::vector<std::string> Recordings(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".mcap") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return protocol::recording::RecordingOrder(a, b);
  });
  return out;
}

TEST(Archive, AStationSummarizesTheFilesItClosesAndStartsAndAnswersFromThem) {
  ScratchDir dir;
  const std::string tm = dir.IpcEndpoint("tm");
  {
    // Files of 64 KiB: a 3-minute drive makes about ten (at 100 times its speed, so that a
    // sanitizer build keeps up too).
    std::vector<std::string> args = StationArgs()
                                        .Connect(tm)
                                        .Record(dir.File("rec"))
                                        .Jsonl(dir.File("station.jsonl"))
                                        .SummaryJson(dir.File("summary.json"))
                                        .Quiet()
                                        .NoHttp()
                                        .Args();
    args.insert(args.end(), {"--split-size", "65536"});
    ChildProcess station(LGS_STATION_BIN, args, dir.path(), "station");
    ChildProcess emulator(LGS_EMULATOR_BIN,
                          EmulatorArgs()
                              .IdealLink()
                              .Bind(tm)
                              .WaitForSubscribers()
                              .Speed(100)
                              .Until("3m")
                              .Truth(dir.File("truth.jsonl"))
                              .Args(),
                          dir.path(), "emulator");
    ASSERT_EQ(emulator.Wait(60s), 0) << emulator.Stderr();
    const size_t sent = ReadLines(dir.File("truth.jsonl")).size();
    ASSERT_TRUE(
        WaitUntil([&] { return ReadLines(dir.File("station.jsonl")).size() >= sent; }, 20s));
    station.Signal(SIGINT);
    ASSERT_EQ(station.Wait(30s), 0) << station.Stderr();
  }
  const std::vector<std::string> files = Recordings(dir.File("rec"));
  ASSERT_GE(files.size(), 3u);
  const json summary = json::parse(ReadFile(dir.File("summary.json")));
  // Every file it closed, the last one at stop too, is summarized, and valid.
  EXPECT_EQ(summary["archive"]["built"].get<size_t>(), files.size()) << summary.dump();
  EXPECT_EQ(summary["archive"]["failed"], 0);
  EXPECT_EQ(summary["archive"]["pending"], 0);
  for (const std::string& f : files) {
    EXPECT_EQ(station::CheckArchive(f), station::ArchiveState::kValid) << f;
  }
  std::printf("[ measured ] %zu files, %.1f kB of recordings, %.1f kB of archive\n", files.size(),
              summary["archive"]["recording_bytes"].get<double>() / 1e3,
              summary["archive"]["archive_bytes"].get<double>() / 1e3);

  // Started again with --resume, it reads none of them: the archives say what they hold.
  const int port = FreeTcpPort();
  ChildProcess again(LGS_STATION_BIN,
                     StationArgs()
                         .Connect(dir.IpcEndpoint("tm2"))
                         .Record(dir.File("rec"))
                         .Resume()
                         .SummaryJson(dir.File("summary2.json"))
                         .Quiet()
                         .Http(port)
                         .Args(),
                     dir.path(), "again");
  ASSERT_TRUE(WaitUntil([&] { return Get(port, "/api/link").status == 200; }, 20s));
  // History over three hours around the drive (long enough for the archive's buckets): from
  // the archives, then with them deleted, from the messages: the same answer.
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const std::string range = fmt::format("start={}&end={}", now_ms - 3'600'000, now_ms + 7'200'000);
  const std::vector<std::string> queries = {
      "housekeeping.battery_soc_percent&strategy=minmax&size=50",
      "navigation_pose.x_m&strategy=minmax&size=1000",
      "radiation.dose_rate_ugy_per_h&strategy=latest"};
  std::vector<Reply> archived;
  for (const std::string& q : queries) {
    archived.push_back(Get(port, fmt::format("/api/history?key={}&{}", q, range)));
    ASSERT_EQ(archived.back().status, 200) << archived.back().body;
    EXPECT_GT(std::stoi(archived.back().headers["X-History-Archives"]), 0) << q;
    EXPECT_GE(json::parse(archived.back().body).size(), 1u) << q;
  }
  // At 100 times mission speed the drive lasted two seconds of ground time: one or two buckets
  // of the finest level (a minute, when it straddled one's end), each its minimum and maximum.
  EXPECT_EQ(archived[1].headers["X-History-Bucket-Ns"], "60000000000");
  EXPECT_GE(json::parse(archived[1].body).size(), 2u);
  EXPECT_LE(json::parse(archived[1].body).size(), 4u);
  // Once the station's maintainer has checked the archives at start (it would rebuild what is
  // missing), they go: the answers must not change.
  ASSERT_TRUE(WaitUntil(
      [&] { return again.Stderr().find("recordings checked") != std::string::npos; }, 20s))
      << again.Stderr();
  fs::remove_all(station::ArchiveDirectoryOf(dir.File("rec")));
  for (size_t i = 0; i < queries.size(); ++i) {
    const Reply raw = Get(port, fmt::format("/api/history?key={}&{}", queries[i], range));
    ASSERT_EQ(raw.status, 200) << raw.body;
    EXPECT_EQ(raw.headers.at("X-History-Archives"), "0");
    EXPECT_GT(std::stoi(raw.headers.at("X-History-Files")), 0);
    EXPECT_EQ(raw.body, archived[i].body)
        << queries[i] << ": from " << archived[i].headers["X-History-Archives"] << " archives and "
        << archived[i].headers["X-History-Files"] << " files, then from "
        << raw.headers.at("X-History-Files") << " files\n"
        << again.Stderr();
  }
  // A recording copied in while the station runs (from another station, or a backup) is
  // summarized once the copy has settled, and history answers from its archive.
  const std::string rover = fs::path(files[0]).filename().string().substr(
      0, fs::path(files[0]).filename().string().find('_'));
  const std::string copied = dir.File(
      "rec/" + protocol::recording::FileName(rover, (now_ms - 2 * 3'600'000) * 1'000'000ull));
  fs::copy_file(files[0], copied);
  ASSERT_TRUE(WaitUntil(
      [&] { return station::CheckArchive(copied) == station::ArchiveState::kValid; }, 20s))
      << again.Stderr();
  const Reply arrived = Get(port, fmt::format("/api/history?key={}&{}", queries[0], range));
  ASSERT_EQ(arrived.status, 200) << arrived.body;
  EXPECT_EQ(arrived.headers.at("X-History-Archives"), "1");
  again.Signal(SIGINT);
  ASSERT_EQ(again.Wait(30s), 0) << again.Stderr();
  const json summary2 = json::parse(ReadFile(dir.File("summary2.json")));
  EXPECT_EQ(summary2["archive"]["arrived"], 1) << summary2.dump();
  EXPECT_EQ(summary2["archive"]["failed"], 0) << summary2.dump();
  EXPECT_EQ(summary2["prior_recordings"]["archived_files"].get<size_t>(), files.size());
  // Every packet the rover sent (an ideal link: each recorded once), learned from the archives.
  EXPECT_EQ(summary2["prior_recordings"]["messages"].get<size_t>(),
            ReadLines(dir.File("truth.jsonl")).size());
}

TEST(Archive, GsctlIndexChecksRebuildsWhatIsMissingOrDamagedAndRefusesBadArguments) {
  ScratchDir dir;
  const std::string tm = dir.IpcEndpoint("tm");
  {
    std::vector<std::string> args =
        StationArgs().Connect(tm).Record(dir.File("rec")).Quiet().NoHttp().Args();
    args.insert(args.end(), {"--split-size", "65536"});
    ChildProcess station(LGS_STATION_BIN, args, dir.path(), "station");
    ChildProcess emulator(
        LGS_EMULATOR_BIN,
        EmulatorArgs().IdealLink().Bind(tm).WaitForSubscribers().Speed(400).Until("8m").Args(),
        dir.path(), "emulator");
    ASSERT_EQ(emulator.Wait(60s), 0) << emulator.Stderr();
    std::this_thread::sleep_for(500ms);  // the last packets reach the recorder
    station.Signal(SIGINT);
    ASSERT_EQ(station.Wait(30s), 0) << station.Stderr();
  }
  const std::vector<std::string> files = Recordings(dir.File("rec"));
  ASSERT_GE(files.size(), 2u);
  // cat and export take a directory for its recordings in the order they were started: the
  // same lines as file by file.
  std::vector<std::string> cat_files = {"cat", "--json"};
  cat_files.insert(cat_files.end(), files.begin(), files.end());
  const std::string by_file = Gsctl(dir, cat_files).out;
  // The first file alone is where the whole begins.
  EXPECT_EQ(by_file.find(Gsctl(dir, {"cat", files[0], "--json"}).out), 0u);
  const GsctlResult all = Gsctl(dir, {"cat", dir.File("rec"), "--json"});
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_TRUE(all.out == by_file) << all.out.size() << " bytes against " << by_file.size();
  EXPECT_GT(all.out.size(), 100'000u);
  const GsctlResult exported =
      Gsctl(dir, {"export", dir.File("rec"), "--out", dir.File("csv"), "--topics", "radiation"});
  ASSERT_EQ(exported.code, 0) << exported.err;
  size_t radiation_lines = 0;
  for (size_t at = 0; at < by_file.size();) {
    radiation_lines += by_file.compare(at, 21, "{\"stream\":\"radiation\"") == 0;
    const size_t next = by_file.find('\n', at);
    at = next == std::string::npos ? by_file.size() : next + 1;
  }
  EXPECT_GT(radiation_lines, 100u);
  EXPECT_EQ(ReadLines(dir.File("csv/rover1_radiation.csv")).size(), radiation_lines + 1);  // header

  const GsctlResult ok = Gsctl(dir, {"index", dir.File("rec"), "--check", "--json"});
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(json::parse(ok.out)["up_to_date"].get<size_t>(), files.size());

  // One archive deleted, one torn, one recording changed after it was summarized.
  fs::remove(station::ArchivePathFor(files[0]));
  const std::string torn = station::ArchivePathFor(files[1]);
  fs::resize_file(torn, fs::file_size(torn) / 2);
  const GsctlResult check = Gsctl(dir, {"index", dir.File("rec"), "--check"});
  EXPECT_EQ(check.code, 1);
  EXPECT_NE(check.out.find(files[0] + ": missing"), std::string::npos) << check.out;
  EXPECT_NE(check.out.find(files[1] + ": damaged"), std::string::npos) << check.out;
  EXPECT_NE(check.out.find("torn"), std::string::npos) << check.out;
  EXPECT_NE(check.out.find(fmt::format("{} recording(s): {} with a valid archive, 2 without",
                                       files.size(), files.size() - 2)),
            std::string::npos)
      << check.out;

  const GsctlResult built = Gsctl(dir, {"index", dir.File("rec"), "--json", "--jobs", "2"});
  ASSERT_EQ(built.code, 0) << built.err;
  const json summary = json::parse(built.out);
  EXPECT_EQ(summary["built"], 2);
  EXPECT_EQ(summary["up_to_date"].get<size_t>(), files.size() - 2);
  EXPECT_EQ(summary["failed"], 0);
  EXPECT_GT(summary["archive_bytes"].get<uint64_t>(), 0u);
  for (const std::string& f : files) {
    EXPECT_EQ(station::CheckArchive(f), station::ArchiveState::kValid) << f;
  }
  const GsctlResult forced = Gsctl(dir, {"index", files[0], "--force", "--json"});
  ASSERT_EQ(forced.code, 0) << forced.err;
  EXPECT_EQ(json::parse(forced.out)["built"], 1);

  // Bad arguments and bad files: a clear line, the right exit code, nothing written.
  const GsctlResult absent = Gsctl(dir, {"index", dir.File("no-such-dir")});
  EXPECT_EQ(absent.code, 2);
  EXPECT_NE(absent.err.find("neither a recording nor a directory"), std::string::npos)
      << absent.err;
  std::ofstream(dir.File("junk.mcap")) << "this is not an MCAP file at all";
  const GsctlResult junk = Gsctl(dir, {"index", dir.File("junk.mcap")});
  EXPECT_EQ(junk.code, 1);
  EXPECT_NE(junk.err.find("junk.mcap"), std::string::npos) << junk.err;
  EXPECT_FALSE(fs::exists(station::ArchivePathFor(dir.File("junk.mcap"))));
  EXPECT_EQ(Gsctl(dir, {"index"}).code, 2);
  EXPECT_EQ(Gsctl(dir, {"index", dir.File("rec"), "--jobs", "0"}).code, 2);
  const GsctlResult help = Gsctl(dir, {"index", "--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("--check"), std::string::npos);
}

// A rover that rebooted while the station was down numbers its packets from 0 again. The station
// started again with --resume knows those numbers from its recordings, and the newest on-board
// time recorded (from the archives, and with them deleted, from the messages): packets newer on
// board than that are a restarted numbering, not copies, and every one is kept.
TEST(Archive, AResumedStationKeepsEveryPacketOfARoverThatRebootedWhileItWasDown) {
  ScratchDir dir;
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  // Each run: a station (resuming after the first) and a rover from boot, 90 s of mission time
  // at 100 times its speed, the rover's clock on from where the last run left it.
  const auto run = [&](int n, bool resume) {
    SCOPED_TRACE(n);
    const std::string tm = dir.IpcEndpoint(fmt::format("tm{}", n));
    StationArgs args = StationArgs()
                           .Connect(tm)
                           .Record(dir.File("rec"))
                           .Jsonl(dir.File(fmt::format("station{}.jsonl", n)))
                           .SummaryJson(dir.File(fmt::format("summary{}.json", n)))
                           .Quiet()
                           .NoHttp();
    if (resume) args.Resume();
    ChildProcess station(LGS_STATION_BIN, args.Args(), dir.path(), fmt::format("station{}", n));
    const std::string truth = dir.File(fmt::format("truth{}.jsonl", n));
    ChildProcess emulator(LGS_EMULATOR_BIN,
                          EmulatorArgs()
                              .IdealLink()
                              .Bind(tm)
                              .WaitForSubscribers()
                              .Speed(100)
                              .Until("90s")
                              .MissionStart(now_s + 200 * n)
                              .Truth(truth)
                              .Args(),
                          dir.path(), fmt::format("emulator{}", n));
    EXPECT_EQ(emulator.Wait(60s), 0) << emulator.Stderr();
    const size_t sent = ReadLines(truth).size();
    const std::string lines = dir.File(fmt::format("station{}.jsonl", n));
    EXPECT_TRUE(WaitUntil([&] { return ReadLines(lines).size() >= sent; }, 20s));
    station.Signal(SIGINT);
    EXPECT_EQ(station.Wait(30s), 0) << station.Stderr();
    const json summary = json::parse(ReadFile(dir.File(fmt::format("summary{}.json", n))));
    std::printf("[ measured ] run %d: %zu sent, %zu kept, %s duplicates\n", n, sent,
                ReadLines(lines).size(), summary["totals"]["duplicates"].dump().c_str());
    // Per stream, what the rover sent and what the station kept (they must agree).
    std::map<std::string, std::pair<size_t, size_t>> per_stream;
    for (const std::string& l : ReadLines(truth)) ++per_stream[json::parse(l)["stream"]].first;
    for (const std::string& l : ReadLines(lines)) ++per_stream[json::parse(l)["stream"]].second;
    for (const auto& [stream, counts] : per_stream) {
      EXPECT_EQ(counts.second, counts.first) << stream;
    }
    return std::make_pair(sent, ReadLines(lines).size());
  };
  const auto [sent1, kept1] = run(1, false);
  EXPECT_EQ(kept1, sent1);
  ASSERT_GT(sent1, 1000u);
  // Resumed from the archives the first station wrote.
  ASSERT_TRUE(fs::exists(dir.File("rec/archive")));
  const auto [sent2, kept2] = run(2, true);
  EXPECT_EQ(kept2, sent2);
  // Resumed from the messages: no archives.
  fs::remove_all(dir.File("rec/archive"));
  const auto [sent3, kept3] = run(3, true);
  EXPECT_EQ(kept3, sent3);
}

}  // namespace
}  // namespace lgs::test
