// gsctl bench, archive: history at mission scale. Hourly recordings of the emulator's default
// mix are synthesized — the first day by the rover model (TelemetryGenerator, the emulator's own
// packets, recorded by the station's Recorder as a live station would), each later day a copy of
// the first shifted by whole days (the same messages at new times, written by the MCAP writer:
// far faster than a model run, and as large and as compressible) — then their parameter archive
// is built, and a station over them is asked for history and started with --resume.
#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <thread>

#include "bench/harness.h"
#include "bench/web_clients.h"
#include "groundstation/parameter_archive.h"
#include "groundstation/recorder.h"
#include "protocol/byte_sink.h"
#include "protocol/mcap_reader.h"
#include "protocol/mcap_writer.h"
#include "protocol/recording_profile.h"
#include "protocol/telemetry_decoder.h"
#include "rover_emulator/telemetry_generator.h"

namespace lgs::gsctl::bench {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kDayNs = 86'400'000'000'000ULL;
constexpr int64_t kLightTimeNs = 1'280'000'000;  // ground receipt = on-board time + this

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Day one: the rover model's packets, recorded by the Recorder in hourly files.
Status GenerateFirstDay(const fs::path& dir, std::vector<std::string>& files, uint64_t& messages) {
  station::RecorderOptions options;
  options.directory = dir.string();
  options.writer.sync_on_chunk = false;
  options.split_duration_s = 3600.0;
  std::vector<std::string> closed;
  options.on_file_closed = [&](const std::string& path) { closed.push_back(path); };
  station::Recorder recorder(options);
  if (Status s = recorder.Open(kMissionStart + kLightTimeNs); !s.ok()) return s;
  emulator::TelemetryGenerator generator(1, "rover1", kMissionStart);
  protocol::TelemetryDecoder decoder("rover1");
  std::vector<emulator::GeneratedPacket> batch;
  while (true) {
    if (Status s = generator.Next(batch); !s.ok()) return s;
    bool done = false;
    for (const emulator::GeneratedPacket& p : batch) {
      if (p.onboard_time_ns >= kMissionStart + static_cast<protocol::TimestampNs>(kDayNs)) {
        done = true;
        break;
      }
      auto decoded = decoder.Decode(*p.topic, protocol::AsBytes(p.packet));
      if (!decoded.ok()) continue;
      const auto ground = static_cast<protocol::TimestampNs>(p.onboard_time_ns + kLightTimeNs);
      recorder.RecordTelemetry(*decoded, ground);
      recorder.Tick(ground);
      ++messages;
    }
    if (done) break;
  }
  if (Status s = recorder.Close(); !s.ok()) return s;
  files = std::move(closed);
  return Status::Ok();
}

// A copy of `from` with every time `shift_ns` later, in `dir`, named by its new start time.
Status ShiftedCopy(const std::string& from, uint64_t shift_ns, const fs::path& dir,
                   uint64_t& bytes) {
  auto file = protocol::McapFile::Open(from);
  if (!file.ok()) return file.error();
  auto summary = (*file)->ReadSummary();
  if (!summary.ok() || !summary->statistics) return Status::Error(from + ": no summary");
  const uint64_t start = summary->statistics->message_start_time + shift_ns;
  const std::string path =
      (dir / protocol::recording::FileName("rover1", static_cast<protocol::TimestampNs>(start)))
          .string();
  auto sink = protocol::FileSink::Create(path);
  if (!sink.ok()) return sink.error();
  protocol::McapWriterOptions options;
  options.sync_on_chunk = false;
  protocol::McapWriter writer(**sink, options);
  if (Status s = writer.Open(); !s.ok()) return s;
  std::map<uint16_t, uint16_t> schemas, channels;
  protocol::McapMessageReader reader(**file);
  protocol::McapMessage m;
  uint64_t chunk_start = 0;
  while (reader.Next(m)) {
    auto ch = channels.find(m.channel_id);
    if (ch == channels.end()) {
      const protocol::McapChannel& c = reader.channels().at(m.channel_id);
      auto sc = schemas.find(c.schema_id);
      if (sc == schemas.end()) {
        const protocol::McapSchema& schema = reader.schemas().at(c.schema_id);
        auto id = writer.AddSchema(schema.name, schema.encoding, protocol::AsBytes(schema.data));
        if (!id.ok()) return id.error();
        sc = schemas.emplace(c.schema_id, *id).first;
      }
      auto id = writer.AddChannel(c.topic, c.message_encoding, sc->second, c.metadata);
      if (!id.ok()) return id.error();
      ch = channels.emplace(m.channel_id, *id).first;
    }
    // Chunks of a second, as a live recorder closes them.
    if (m.log_time >= chunk_start + 1'000'000'000) {
      if (Status s = writer.FlushChunk(); !s.ok()) return s;
      chunk_start = m.log_time;
    }
    if (Status s = writer.Write(ch->second, m.sequence, m.log_time + shift_ns,
                                m.publish_time + shift_ns, m.data);
        !s.ok()) {
      return s;
    }
  }
  if (Status s = writer.Close(); !s.ok()) return s;
  bytes += writer.stats().bytes_written;
  return Status::Ok();
}

uint64_t DirectoryBytes(const fs::path& dir, std::string_view extension) {
  uint64_t total = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == extension) total += fs::file_size(it->path(), ec);
  }
  return total;
}

uint64_t StatusKb(pid_t pid, std::string_view key) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(key)) return std::strtoull(line.c_str() + key.size() + 1, nullptr, 10);
  }
  return 0;
}

}  // namespace

json Bench::Archive(const std::vector<int>& days_list, int repeats) {
  const fs::path dir = dir_ / "archive";
  fs::remove_all(dir);
  fs::create_directories(dir);
  json out = json::array();
  std::vector<std::string> day_one;
  uint64_t messages_per_day = 0, recording_bytes = 0;
  double generate_s = 0, build_s = 0;
  int days_made = 0;
  std::vector<std::string> recordings;
  const unsigned jobs = std::max(1u, std::min(2u, std::thread::hardware_concurrency()));
  for (const int days : days_list) {
    if (days < 1) continue;
    // Recordings up to `days`.
    auto t0 = Clock::now();
    if (days_made == 0) {
      if (Status s = GenerateFirstDay(dir, day_one, messages_per_day); !s.ok()) {
        return {{"error", s.message()}};
      }
      recordings = day_one;
      days_made = 1;
    }
    std::vector<std::pair<std::string, uint64_t>> copies;
    for (int d = days_made; d < days; ++d) {
      for (const std::string& f : day_one)
        copies.emplace_back(f, kDayNs * static_cast<uint64_t>(d));
    }
    std::atomic<size_t> next{0};
    std::atomic<uint64_t> copied_bytes{0};
    std::atomic<bool> failed{false};
    const auto copy = [&] {
      uint64_t bytes = 0;
      for (size_t i = next++; i < copies.size() && !failed; i = next++) {
        if (!ShiftedCopy(copies[i].first, copies[i].second, dir, bytes).ok()) failed = true;
      }
      copied_bytes += bytes;
    };
    {
      std::vector<std::thread> threads;
      for (unsigned j = 0; j < jobs; ++j) threads.emplace_back(copy);
      for (std::thread& t : threads) t.join();
    }
    if (failed) return {{"error", "cannot write the synthesized recordings"}};
    days_made = std::max(days_made, days);
    generate_s += Since(t0);
    recordings.clear();
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ".mcap") recordings.push_back(e.path().string());
    }
    recording_bytes = DirectoryBytes(dir, ".mcap");

    // The archive of the new files (the older ones were built at the smaller size).
    t0 = Clock::now();
    std::vector<std::string> to_build;
    for (const std::string& r : recordings) {
      if (station::CheckArchive(r) != station::ArchiveState::kValid) to_build.push_back(r);
    }
    next = 0;
    const auto build = [&] {
      for (size_t i = next++; i < to_build.size(); i = next++) {
        if (!station::BuildArchive(to_build[i]).ok()) failed = true;
      }
    };
    {
      std::vector<std::thread> threads;
      for (unsigned j = 0; j < jobs; ++j) threads.emplace_back(build);
      for (std::thread& t : threads) t.join();
    }
    if (failed) return {{"error", "cannot build the archive"}};
    build_s += Since(t0);
    const uint64_t archive_bytes =
        DirectoryBytes(station::ArchiveDirectoryOf(dir.string()), ".lgsarc");

    json row = {{"days", days},
                {"files", recordings.size()},
                {"messages", messages_per_day * static_cast<uint64_t>(days)},
                {"recording_mb", recording_bytes / 1e6},
                {"generate_s", generate_s},
                {"archive_build_s", build_s},
                {"archive_build_jobs", jobs},
                {"archive_mb", archive_bytes / 1e6},
                {"archive_percent", 100.0 * static_cast<double>(archive_bytes) / recording_bytes}};

    // Start-up with --resume, until the station answers HTTP (the scan of the recordings comes
    // first), then history queries against it.
    const int port = FreeTcpPortNumber();
    t0 = Clock::now();
    process::ChildProcess station(
        o_.station,
        {"--insecure", "--connect", FreeEndpoint(o_.transport, dir_, "archive"), "--record",
         dir.string(), "--resume", "--quiet", "--stats-interval", "0", "--log-level", "info",
         "--http", fmt::format("127.0.0.1:{}", port), "--duration", "900"},
        dir_ / "archive-station.log", dir_ / "archive-station.log");
    const auto deadline = Clock::now() + std::chrono::seconds(600);
    while (HttpGet(port, "/api/link").first != 200 && Clock::now() < deadline &&
           station.Running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    row["startup_resume_s"] = Since(t0);
    const uint64_t rss_before_kb = StatusKb(station.pid(), "VmRSS:");
    const int64_t start_ms = static_cast<int64_t>(kMissionStart / 1'000'000);
    const int64_t end_ms = start_ms + static_cast<int64_t>(days) * 86'400'000;
    const auto measure = [&](const std::string& key, int64_t from_ms, int64_t to_ms,
                             const std::string& query) {
      std::vector<double> ms;
      size_t samples = 0;
      for (int i = 0; i < repeats; ++i) {
        const auto q0 = Clock::now();
        const auto [status, body] = HttpGet(
            port, fmt::format("/api/history?key={}&start={}&end={}{}", key, from_ms, to_ms, query));
        ms.push_back(Since(q0) * 1e3);
        if (status != 200) return json{{"error", fmt::format("HTTP {}: {}", status, body)}};
        samples = json::parse(body).size();
      }
      std::sort(ms.begin(), ms.end());
      return json{{"samples", samples}, {"median_ms", ms[ms.size() / 2]}, {"max_ms", ms.back()}};
    };
    const std::string hk = "housekeeping.battery_soc_percent", nav = "navigation_pose.x_m";
    const int64_t mid_ms = start_ms + (end_ms - start_ms) / 2;
    row["minmax_1000_housekeeping"] = measure(hk, start_ms, end_ms, "&strategy=minmax&size=1000");
    row["minmax_1000_navigation"] = measure(nav, start_ms, end_ms, "&strategy=minmax&size=1000");
    row["latest_housekeeping"] = measure(hk, start_ms, end_ms, "&strategy=latest");
    row["latest_navigation"] = measure(nav, start_ms, end_ms, "&strategy=latest");
    row["full_1h_navigation"] = measure(nav, mid_ms, mid_ms + 3'600'000, "");
    // Every sample of 30 days (the route allows up to 31): the newest of them, as many as the
    // route keeps, read from where the archives count that many.
    row["all_30d_housekeeping"] =
        measure(hk, std::max(start_ms, end_ms - int64_t{30} * 86'400'000), end_ms, "");
    {
      // The traverse map's data over the last 10 days (or all of a shorter mission): path,
      // hazards and soil sites, what the browser's map asks for.
      const int64_t from_ms = std::max(start_ms, end_ms - int64_t{10} * 86'400'000);
      std::vector<double> ms;
      json traverse;
      for (int i = 0; i < repeats; ++i) {
        const auto q0 = Clock::now();
        const auto [status, body] =
            HttpGet(port, fmt::format("/api/traverse?start={}&end={}", from_ms, end_ms));
        ms.push_back(Since(q0) * 1e3);
        if (status != 200) {
          traverse = {{"error", fmt::format("HTTP {}: {}", status, body)}};
          break;
        }
        const json t = json::parse(body);
        traverse = {{"path_points", t["path"].size()},
                    {"hazard_cells", t["hazards"].size()},
                    {"sites", t["sites"].size()},
                    {"sites_left_out", t["sites_left_out"]},
                    {"bytes", body.size()}};
      }
      std::sort(ms.begin(), ms.end());
      if (!traverse.contains("error")) {
        traverse["median_ms"] = ms[ms.size() / 2];
        traverse["max_ms"] = ms.back();
      }
      row["traverse_10d"] = std::move(traverse);
    }
    row["station_rss_mb_before_queries"] = rss_before_kb / 1024.0;
    row["station_rss_mb_after_queries"] = StatusKb(station.pid(), "VmRSS:") / 1024.0;
    ::kill(station.pid(), SIGTERM);
    station.Wait();
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace lgs::gsctl::bench
