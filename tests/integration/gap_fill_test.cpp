// Gap fill end to end: the real emulator (link model, on-board packet store, uplink) and the real
// station with --gap-fill on loopback. The emulator's truth file is the ground truth: at the end
// the station's recording must hold every generated packet exactly once, byte-identical, except
// what the on-board store evicted, which the station must report as lost — exactly those.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "protocol/bytes.h"
#include "protocol/space_packet.h"
#include "protocol/stream_registry.h"
#include "support/process.h"
#include "support/programs.h"
#include "support/recording.h"

namespace lgs::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Key = std::pair<std::string, uint32_t>;

constexpr int64_t kMissionStartS = 1'800'000'000;

struct TruthSummary {
  std::set<Key> generated;      // every packet the rover made
  std::set<Key> evicted;        // pushed out of the on-board store before being sent
  std::map<Key, uint16_t> crc;  // of the packet as generated
  size_t dropped = 0, retransmitted = 0, pending = 0;
  size_t requests_executed = 0;  // retransmit telecommands executed on board
};

TruthSummary SummarizeTruth(const std::string& path) {
  TruthSummary t;
  const Truth truth = ReadTruth(path);
  for (const TruthTelecommand& tc : truth.telecommands) {
    // Every retransmit request that reached the rover ran once; copies were only answered.
    if (tc.outcome == "executed") ++t.requests_executed;
  }
  for (const TruthPacket& p : truth.packets) {
    const Key key{p.stream, p.seq};
    if (!p.retransmit) {
      t.generated.insert(key);
      t.crc[key] = static_cast<uint16_t>(p.crc);
    } else {
      ++t.retransmitted;
    }
    if (p.fate == "evicted") t.evicted.insert(key);
    if (p.fate == "dropped") ++t.dropped;
    if (p.fate == "pending") ++t.pending;
  }
  return t;
}

struct RecordedCounts {
  std::map<Key, int> count;  // how many times each packet is in the recording
  size_t messages = 0;
  size_t crc_mismatches = 0;  // rebuilt packet differs from what the rover generated
};

RecordedCounts CountRecording(const std::filesystem::path& dir, const TruthSummary& truth) {
  RecordedCounts r;
  const Recording recording = ReadRecording(dir);
  for (const auto& [file, why] : recording.incomplete) ADD_FAILURE() << file << ": " << why;
  for (const RecordedMessage& m : recording.messages) {
    if (!m.rover_channel) continue;
    EXPECT_NE(m.stream, nullptr) << m.topic;
    if (m.stream == nullptr) continue;
    const Key key{std::string(m.stream->name), m.sequence};
    ++r.count[key];
    ++r.messages;
    // The packet rebuilt from the recording carries the CRC of the one the rover generated.
    std::string packet;
    EXPECT_TRUE(protocol::EncodeTmPacket(m.stream->apid, m.sequence,
                                         static_cast<int64_t>(m.publish_time),
                                         protocol::AsBytes(m.data), packet)
                    .ok());
    const auto* b = reinterpret_cast<const uint8_t*>(packet.data());
    const auto crc = static_cast<uint16_t>((b[packet.size() - 2] << 8) | b[packet.size() - 1]);
    auto it = truth.crc.find(key);
    if (it == truth.crc.end() || it->second != crc) ++r.crc_mismatches;
  }
  return r;
}

// The rover of every gap-fill test: a scenario to its end, serving retransmit requests for a
// while after it, with its truth file.
EmulatorArgs RoverArgs(const ScratchDir& dir, const std::string& scenario, const std::string& speed,
                       const std::string& until) {
  return EmulatorArgs()
      .Scenario(scenario)
      .Arg("--speed", speed)
      .Until(until)
      .ServeAfterEnd(6)
      .Bind(dir.IpcEndpoint("tm"))
      .CommandBind(dir.IpcEndpoint("tc"))
      .WaitForSubscribers()
      .MissionStart(kMissionStartS)
      .Truth(dir.File("truth.jsonl"));
}

struct GapFillRun {
  TruthSummary truth;
  RecordedCounts recording;
  json summary;
  std::string station_err, emulator_err;
};

GapFillRun RunWithGapFill(const ScratchDir& dir, const std::string& scenario,
                          const std::string& until, const std::string& speed) {
  GapFillRun run;
  const std::string tm = dir.IpcEndpoint("tm"), tc = dir.IpcEndpoint("tc");
  ChildProcess station(LGS_STATION_BIN,
                       StationArgs()
                           .Connect(tm)
                           .GapFill(tc)
                           .Arg("--tail-probe", "1")
                           .LightTime(0.5)
                           .Record(dir.File("rec"))
                           .Quiet()
                           .StatsInterval(0)
                           .SummaryJson(dir.File("summary.json"))
                           .Args(),
                       dir.path(), "station");
  EXPECT_TRUE(station.started());
  ChildProcess emulator(LGS_EMULATOR_BIN, RoverArgs(dir, scenario, speed, until).Args(), dir.path(),
                        "emulator");
  EXPECT_EQ(emulator.Wait(120s), 0) << emulator.Stderr();
  station.Signal(SIGTERM);
  EXPECT_EQ(station.Wait(30s), 0) << station.Stderr();
  run.station_err = station.Stderr();
  run.emulator_err = emulator.Stderr();
  run.truth = SummarizeTruth(dir.File("truth.jsonl"));
  run.recording = CountRecording(dir.path() / "rec", run.truth);
  run.summary = json::parse(ReadFile(dir.File("summary.json")));
  return run;
}

std::set<Key> LostBySummary(const json& summary) {
  std::set<Key> lost;
  for (const auto& [stream, s] : summary["streams"].items()) {
    for (const json& range : s["lost_ranges"]) {
      for (uint32_t seq = range[0]; seq <= range[1].get<uint32_t>(); ++seq) {
        lost.insert({stream, seq});
      }
    }
  }
  return lost;
}

void ExpectCompleteExceptEvicted(const GapFillRun& run) {
  const TruthSummary& t = run.truth;
  EXPECT_EQ(t.pending, 0u) << "the emulator ended with packets not yet sent";
  std::set<Key> expected;
  for (const Key& k : t.generated) {
    if (!t.evicted.contains(k)) expected.insert(k);
  }
  std::set<Key> recorded;
  size_t twice = 0;
  for (const auto& [key, n] : run.recording.count) {
    recorded.insert(key);
    if (n != 1) ++twice;
  }
  EXPECT_EQ(twice, 0u) << "packets recorded more than once";
  EXPECT_EQ(run.recording.crc_mismatches, 0u);
  std::vector<Key> absent, extra;
  std::set_difference(expected.begin(), expected.end(), recorded.begin(), recorded.end(),
                      std::back_inserter(absent));
  std::set_difference(recorded.begin(), recorded.end(), expected.begin(), expected.end(),
                      std::back_inserter(extra));
  EXPECT_TRUE(absent.empty()) << absent.size() << " generated packets not recorded, first "
                              << (absent.empty()
                                      ? ""
                                      : absent[0].first + " " + std::to_string(absent[0].second))
                              << "\n"
                              << run.station_err;
  EXPECT_TRUE(extra.empty()) << extra.size() << " recorded packets the truth does not have";
  // The summary names exactly what the store evicted as lost, and nothing as still missing.
  EXPECT_EQ(LostBySummary(run.summary), t.evicted);
  EXPECT_EQ(run.summary["totals"]["missing"], 0);
  EXPECT_EQ(run.summary["totals"]["received"], recorded.size());
}

TEST(GapFill, LossyLinkRecordingHoldsEveryPacketExactlyOnce) {
  ScratchDir dir;
  const GapFillRun run = RunWithGapFill(dir, "lossy-link", "10m", "60");
  ASSERT_GT(run.truth.generated.size(), 7'000u);
  EXPECT_GT(run.truth.dropped, 50u);  // the link did lose packets
  EXPECT_GT(run.truth.retransmitted, 50u);
  EXPECT_TRUE(run.truth.evicted.empty());
  ExpectCompleteExceptEvicted(run);
  EXPECT_GT(run.summary["gap_fill"]["requests"].get<int>(), 0);
  // Each request the rover received ran once (2% of the uplink is lost on this link).
  EXPECT_GT(run.truth.requests_executed, 0u);
  EXPECT_LE(run.truth.requests_executed, run.summary["gap_fill"]["requests"].get<size_t>());
  EXPECT_GT(run.summary["totals"]["duplicates"].get<int>(), 0);  // dropped, never recorded twice
}

TEST(GapFill, RelayOutagePlaybackLosesNothing) {
  ScratchDir dir;
  const GapFillRun run = RunWithGapFill(dir, "relay-outage", "45m", "200");
  ASSERT_GT(run.truth.generated.size(), 30'000u);
  EXPECT_TRUE(run.truth.evicted.empty());
  ExpectCompleteExceptEvicted(run);
}

TEST(GapFill, PacketsTheStoreEvictedAreReportedLostExactly) {
  ScratchDir dir;
  // A small store, an outage longer than it can hold, and a lossy link around it.
  {
    std::ofstream yaml(dir.File("evict.yaml"));
    yaml << "name: evict\nseed: 11\nlink:\n  light_time_s: 1.28\n  loss_probability: 0.01\n"
            "  uplink_loss_probability: 0.05\n  store_capacity_packets: 400\n"
            "  outages:\n    - start: 2m\n      duration: 3m\n";
  }
  const GapFillRun run = RunWithGapFill(dir, dir.File("evict.yaml"), "8m", "60");
  ASSERT_GT(run.truth.generated.size(), 5'000u);
  EXPECT_GT(run.truth.evicted.size(), 1'000u);
  ExpectCompleteExceptEvicted(run);
  EXPECT_EQ(run.summary["gap_fill"]["lost"], run.truth.evicted.size());
}

// What an operator watching the terminal sees of a lossy pass: every line stamped with its time,
// each soil instrument's lines (one throttle each, not one for the three), and the station's own
// retransmit requests labelled as gap fill, named by the request sequence.
TEST(GapFill, TheTerminalStampsEveryLineShowsEachInstrumentAndLabelsItsOwnRequests) {
  ScratchDir dir;
  ChildProcess station(LGS_STATION_BIN,
                       StationArgs()
                           .Connect(dir.IpcEndpoint("tm"))
                           .GapFill(dir.IpcEndpoint("tc"))
                           .Arg("--tail-probe", "1")
                           .LightTime(0.5)
                           .Jsonl(dir.File("station.jsonl"))
                           .StatsInterval(0)
                           .SummaryJson(dir.File("summary.json"))
                           .Args(),
                       dir.path(), "station");
  ChildProcess emulator(LGS_EMULATOR_BIN, RoverArgs(dir, "lossy-link", "60", "10m").Args(),
                        dir.path(), "emulator");
  ASSERT_EQ(emulator.Wait(120s), 0) << emulator.Stderr();
  station.Signal(SIGTERM);
  ASSERT_EQ(station.Wait(30s), 0) << station.Stderr();
  const json summary = json::parse(ReadFile(dir.File("summary.json")));

  // Soil measurements per instrument, as the station decoded them.
  std::map<std::string, size_t> measured;
  for (const std::string& line : ReadLines(dir.File("station.jsonl"))) {
    if (line.find("\"stream\":\"soil\"") == std::string::npos) continue;
    const json data = json::parse(line)["data"];
    for (const char* kind : {"apxs", "vnis", "neutron"}) {
      if (data.contains(kind)) ++measured[kind];
    }
  }
  const std::regex stamped(R"(^\d\d:\d\d:\d\d\.\d{3} (\S+) +(\S+))");
  std::map<std::string, size_t> shown;
  size_t lines = 0, gap_fill_lines = 0, unlabelled_reports = 0;
  std::istringstream out(station.Stdout());
  for (std::string line; std::getline(out, line);) {
    if (line.empty() || line.starts_with("station summary") || line.starts_with("  ")) continue;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(line, m, stamped)) << "a line without its time: " << line;
    ++lines;
    if (m[1] == "SOIL") ++shown[m[2]];
    if (m[1] == "GAPFILL") {
      ++gap_fill_lines;
      EXPECT_TRUE(m[2] == "request") << line;
    }
    if (m[1] == "CMD" && m[2] == "request") ++unlabelled_reports;
  }
  EXPECT_GT(lines, 50u);
  // Ten minutes of mission in ten seconds, one line a second per instrument at most: a rarely
  // reporting instrument (a few neutron counts among 70 spectra) is shown, not crowded out.
  for (const auto& [kind, label] : std::map<std::string, std::string>{
           {"apxs", "APXS"}, {"vnis", "VNIS"}, {"neutron", "NEUTRON"}}) {
    EXPECT_GE(shown[label], std::min<size_t>(measured[kind], 3))
        << kind << ": " << measured[kind] << " measured";
  }
  EXPECT_GE(measured.size(), 2u);
  std::printf(
      "[ measured ] %zu lines; soil shown/measured: APXS %zu/%zu VNIS %zu/%zu NEUTRON %zu/%zu; "
      "%zu gap fill report lines\n",
      lines, shown["APXS"], measured["apxs"], shown["VNIS"], measured["vnis"], shown["NEUTRON"],
      measured["neutron"], gap_fill_lines);
  // Every report to its retransmit requests is shown as gap fill; none is a bare command report.
  EXPECT_GT(summary["gap_fill"]["reports"].get<size_t>(), 0u);
  EXPECT_EQ(gap_fill_lines, summary["gap_fill"]["reports"].get<size_t>()) << station.Stdout();
  EXPECT_EQ(unlabelled_reports, 0u);
}

TEST(GapFill, StationKilledAndRestartedEndsWithACompleteUnionOfRecordings) {
  ScratchDir dir;
  const std::string tm = dir.IpcEndpoint("tm"), tc = dir.IpcEndpoint("tc");
  const auto station_args = [&](bool resume) {
    StationArgs args;
    args.Connect(tm)
        .GapFill(tc)
        .Arg("--tail-probe", "1")
        .LightTime(0.5)
        .Record(dir.File("rec"))
        .Quiet()
        .StatsInterval(0)
        .Arg("--flush-interval", "0.5");
    if (resume) args.Resume().SummaryJson(dir.File("summary.json"));
    return args.Args();
  };
  auto first =
      std::make_unique<ChildProcess>(LGS_STATION_BIN, station_args(false), dir.path(), "station-a");
  ChildProcess emulator(LGS_EMULATOR_BIN, RoverArgs(dir, "lossy-link", "60", "10m").Args(),
                        dir.path(), "emulator");
  // Let it record for a while, then kill it without warning: its file is left open.
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(dir.path() / "rec", ec)) {
          if (e.path().extension() == ".mcap" &&
              std::filesystem::file_size(e.path(), ec) > 100'000) {
            return true;
          }
        }
        return false;
      },
      20s));
  first->Signal(SIGKILL);
  EXPECT_EQ(first->Wait(10s), 128 + SIGKILL);
  first.reset();
  std::this_thread::sleep_for(1s);  // the emulator goes on without it: a gap to fill

  ChildProcess second(LGS_STATION_BIN, station_args(true), dir.path(), "station-b");
  EXPECT_EQ(emulator.Wait(120s), 0) << emulator.Stderr();
  second.Signal(SIGTERM);
  EXPECT_EQ(second.Wait(30s), 0) << second.Stderr();

  const TruthSummary truth = SummarizeTruth(dir.File("truth.jsonl"));
  const RecordedCounts recording = CountRecording(dir.path() / "rec", truth);
  const json summary = json::parse(ReadFile(dir.File("summary.json")));
  EXPECT_EQ(summary["prior_recordings"]["recovered_files"], 1) << second.Stderr();
  // The one prior file is the killed run's: the packets the scan counted are among the messages
  // recovery kept (with the station's own channels), and the 100 kB it had written hold a few
  // hundred (how many depends on the mix at the kill).
  EXPECT_EQ(summary["prior_recordings"]["files"], 1);
  EXPECT_LE(summary["prior_recordings"]["messages"].get<int>(),
            summary["prior_recordings"]["recovered_messages"].get<int>());
  EXPECT_GT(summary["prior_recordings"]["messages"].get<int>(), 100);
  EXPECT_EQ(truth.pending, 0u);
  ASSERT_TRUE(truth.evicted.empty());
  std::set<Key> recorded;
  size_t twice = 0;
  for (const auto& [key, n] : recording.count) {
    recorded.insert(key);
    if (n != 1) ++twice;
  }
  EXPECT_EQ(twice, 0u) << "packets in the recordings more than once";
  EXPECT_EQ(recording.crc_mismatches, 0u);
  EXPECT_EQ(recorded, truth.generated)
      << recorded.size() << " recorded, " << truth.generated.size() << " generated\n"
      << second.Stderr();
  EXPECT_EQ(summary["totals"]["missing"], 0);
  EXPECT_EQ(summary["totals"]["lost"], 0);
  // What the second run received plus what the first had recorded is everything.
  uint64_t before = 0;
  for (const auto& [name, s] : summary["streams"].items())
    before += s["recorded_before"].get<uint64_t>();
  EXPECT_EQ(before + summary["totals"]["received"].get<uint64_t>(), truth.generated.size())
      << summary.dump();
}

}  // namespace
}  // namespace lgs::test
