// gsctl bench: one command, one run, one table. Measures what raw ZeroMQ can move on this
// machine (the ceiling), then the station's full pipeline, a replay into the station, latency
// at fixed rates, and the station's memory, all with the same packets in the same run. The parts
// are in bench/: traffic (what is sent), harness (each run), web_clients, memory_sampler, report.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "bench/harness.h"
#include "bench/report.h"
#include "bench/traffic.h"
#include "commands.h"
#include "common.h"
#include "groundstation/latency_histogram.h"
#include "protocol/clock.h"
#include "protocol/cuc_time.h"
#include "protocol/space_packet.h"

namespace lgs::gsctl {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace bench;

int RunBenchSink(const BenchSinkOptions& o) {
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::sub);
  socket.set(zmq::sockopt::rcvhwm, 100'000);
  socket.set(zmq::sockopt::rcvtimeo, static_cast<int>(o.timeout_s * 1000));
  socket.set(zmq::sockopt::subscribe, "");
  socket.connect(o.connect);
  uint64_t received = 0;
  int64_t first = 0, last = 0;
  station::LatencyHistogram latency;
  zmq::message_t topic, packet;
  while (received < o.count) {
    if (!socket.recv(topic)) break;
    if (topic.more()) static_cast<void>(socket.recv(packet));
    last = protocol::WallNowNs();
    if (received++ == 0) first = last;
    if (o.latency && packet.size() >= protocol::kMinTmPacketSize) {
      const auto* b = static_cast<const uint8_t*>(packet.data());
      const protocol::CucTime cuc =
          protocol::DecodeCuc(std::span<const uint8_t, protocol::kCucSize>(
              b + protocol::kPrimaryHeaderSize, protocol::kCucSize));
      latency.Record(last - protocol::UnixNsFromCuc(cuc));
    }
  }
  json out = {{"received", received}, {"first_ns", first}, {"last_ns", last}};
  if (o.latency) {
    out["latency"] = {{"count", latency.count()},
                      {"negative", latency.negative()},
                      {"p50_ns", latency.Percentile(0.5)},
                      {"p99_ns", latency.Percentile(0.99)},
                      {"p999_ns", latency.Percentile(0.999)},
                      {"max_ns", latency.max()}};
  }
  fmt::print("{}\n", out.dump());
  return received == o.count ? kExitOk : kExitFailure;
}

int RunBench(const BenchOptions& options) {
  BenchOptions o = options;
  if (o.station.empty()) {
    o.station = (fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "groundstation" /
                 "groundstation")
                    .string();
  }
  if (o.self.empty()) o.self = fs::read_symlink("/proc/self/exe").string();
  if (!fs::exists(o.station)) {
    fmt::print(stderr, "gsctl bench: no station at '{}' (use --station PATH)\n", o.station);
    return kExitUsage;
  }
  if (o.transport != "tcp" && o.transport != "ipc") {
    fmt::print(stderr, "gsctl bench: transport must be tcp or ipc\n");
    return kExitUsage;
  }
  const uint64_t throughput_packets = o.quick ? 50'000 : o.packets;
  const uint64_t memory_packets = o.quick ? 50'000 : o.memory_packets;
  const double latency_seconds = o.quick ? 0.3 : o.latency_seconds;
  const fs::path dir = fs::temp_directory_path() / fmt::format("gsctl-bench-{}", ::getpid());
  fs::create_directories(dir);

  const auto say = [&](const std::string& what) {
    if (!o.json) fmt::print(stderr, "bench: {}\n", what);
  };
  say("generating the default stream mix");
  const Mix mix = MakeMix(std::min<uint64_t>(200'000, throughput_packets));
  Bench bench(o, dir);
  std::vector<Row> rows;
  const auto wanted = [&](std::string_view section) {
    return o.only.empty() || std::ranges::find(o.only, section) != o.only.end();
  };
  const bool web = o.web_clients > 0 && wanted("web");
  double ceiling = 0;
  if (wanted("ceiling") || wanted("pipeline") || wanted("replay") || web) {
    say("raw ZeroMQ ceilings");
    rows.push_back(bench.Ceiling("raw ZeroMQ, default mix (ceiling)", &mix, 0, throughput_packets));
    ceiling = rows.back().packets_per_s;
    rows.back().ratio = 1.0;
  }
  if (wanted("ceiling")) {
    for (size_t size : {64, 512, 4096}) {
      rows.push_back(
          bench.Ceiling(fmt::format("raw ZeroMQ, {} B", size), nullptr, size, throughput_packets));
      rows.back().ratio = 1.0;
    }
  }
  if (wanted("pipeline")) {
    say(fmt::format("station full pipeline, {} packets", throughput_packets));
    rows.push_back(bench.StationFullPipeline(mix, throughput_packets, true));
    rows.back().ratio = ceiling > 0 ? rows.back().packets_per_s / ceiling : 0;
    // Memory at half the rate just measured (so no queue builds up), or at a rate every
    // machine we run on sustains when the flat-out run failed.
    const Row& flat_out = rows.back();
    const double paced = flat_out.lost == 0 && flat_out.note.empty() && flat_out.packets_per_s > 0
                             ? std::round(flat_out.packets_per_s / 2 / 1000) * 1000
                             : 100'000.0;
    // A quick run still lasts half a second, so start-up jitter does not make its rate.
    const uint64_t paced_packets =
        o.quick ? std::max(memory_packets, static_cast<uint64_t>(paced / 2)) : memory_packets;
    say(fmt::format("station memory, {} packets at {}/s", paced_packets, Rate(paced)));
    rows.push_back(bench.StationFullPipeline(mix, paced_packets, true, false, paced));
  }
  if (wanted("replay")) {
    say("replay into the station");
    rows.push_back(bench.ReplayIntoStation(mix, throughput_packets));
    rows.back().ratio = ceiling > 0 ? rows.back().packets_per_s / ceiling : 0;
  }
  if (wanted("latency")) {
    for (double rate : {1'000.0, 10'000.0, 100'000.0}) {
      say(fmt::format("latency at {:.0f} packets/s", rate));
      rows.push_back(bench.Latency(mix, rate, latency_seconds, true));
      rows.push_back(bench.Latency(mix, rate, latency_seconds, false));
    }
  }
  json history;
  if (web) {
    say(fmt::format("the same with {} WebSocket clients subscribed to every field", o.web_clients));
    rows.push_back(bench.StationFullPipeline(mix, throughput_packets, false, true));
    rows.back().ratio = ceiling > 0 ? rows.back().packets_per_s / ceiling : 0;
    rows.push_back(bench.Latency(mix, 100'000.0, latency_seconds, false, true));
    say(o.quick ? "history: 6 min of 10 Hz housekeeping" : "history: 1 h of 10 Hz housekeeping");
    history = bench.History(mix, o.quick ? 2 : 5, o.quick ? 0.1 : 1.0);
  }
  json downlink, file_mix;
  // Only when asked for by name: it flies the emulator in (scaled) mission time for a minute.
  if (std::ranges::find(o.only, "products") != o.only.end()) {
    say("the default mix with files beside it (CFDP class 2 at a 285 kbit/s link's share)");
    const Mix files = MakeFileMix(std::min<uint64_t>(200'000, throughput_packets));
    const uint32_t file_pdus =
        files.per_stream[static_cast<size_t>(protocol::StreamId::kFileDelivery)];
    file_mix = {{"packets", files.packets.size()},
                {"file_pdus", file_pdus},
                {"transactions", files.transactions},
                {"mean_bytes", static_cast<double>(files.bytes) / files.packets.size()}};
    say(fmt::format("  {} of its {} packets are file PDUs, in {} transactions; mean {:.0f} B",
                    file_pdus, files.packets.size(), files.transactions,
                    file_mix["mean_bytes"].get<double>()));
    rows.push_back(
        bench.Ceiling("raw ZeroMQ, mix with files (ceiling)", &files, 0, throughput_packets));
    const double files_ceiling = rows.back().packets_per_s;
    rows.back().ratio = 1.0;
    // The same packets without --products, then with it: what keeping the files costs beyond
    // decoding and recording them.
    for (const bool products : {false, true}) {
      rows.push_back(
          bench.StationFullPipeline(files, throughput_packets, false, false, 0, products));
      rows.back().ratio = files_ceiling > 0 ? rows.back().packets_per_s / files_ceiling : 0;
    }
    const int frames = o.quick ? 2 : 12;
    say(fmt::format("images: a {}-frame navcam panorama over the nominal link", frames));
    downlink = bench.Downlink(frames, o.quick ? 10.0 : o.downlink_speed, "nominal");
  }
  json archive;
  // Only when asked for by name: it writes gigabytes of recordings.
  if (std::ranges::find(o.only, "archive") != o.only.end()) {
    std::vector<int> days = o.archive_days;
    if (o.quick) days = {1};
    say(fmt::format("history at mission scale: hourly recordings of {} day(s)",
                    fmt::join(days, ", ")));
    archive = bench.Archive(days, o.quick ? 2 : 5);
    if (!o.keep_archive.empty()) {
      std::error_code moved;
      fs::rename(dir / "archive", o.keep_archive, moved);
      say(moved
              ? fmt::format("cannot keep the recordings in {}: {}", o.keep_archive, moved.message())
              : fmt::format("the recordings are kept in {}", o.keep_archive));
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);

  const bool lossless = Lossless(rows);
  if (o.json) {
    json report = ReportJson(rows, mix, o.transport, o.quick, history);
    if (!downlink.is_null()) report["downlink"] = downlink;
    if (!file_mix.is_null()) report["file_mix"] = file_mix;
    if (!archive.is_null()) report["archive"] = archive;
    fmt::print("{}\n", report.dump());
  } else {
    PrintTable(rows, mix, o.transport, history);
    if (!downlink.is_null()) PrintDownlink(downlink);
    if (!archive.is_null()) fmt::print("archive (history at mission scale): {}\n", archive.dump(2));
  }
  return lossless && !downlink.contains("error") && !archive.contains("error") ? kExitOk
                                                                               : kExitFailure;
}

}  // namespace lgs::gsctl
