#include "bench/harness.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

#include "bench/memory_sampler.h"
#include "protocol/bytes.h"
#include "protocol/clock.h"
#include "protocol/space_packet.h"

namespace lgs::gsctl::bench {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

Row Bench::Ceiling(const std::string& name, const Mix* mix, size_t fixed_size, uint64_t count) {
  Row row{name, count};
  const std::string endpoint = FreeEndpoint(o_.transport, dir_, "ceiling");
  Sender sender(endpoint);
  process::ChildProcess sink(
      o_.self, {"bench-sink", "--connect", endpoint, "--count", std::to_string(count)},
      dir_ / "sink.log", dir_ / "sink.log");
  if (!sender.WaitForSubscriber(std::chrono::seconds(30)))
    return Failed(row, "sink never subscribed");
  const std::string fixed(fixed_size, 'x'), fixed_topic = "tm.rover1.bench.";
  std::string scratch;
  for (uint64_t i = 0; i < count; ++i) {
    if (mix) {
      const auto& p = mix->packets[i % mix->packets.size()];
      const uint64_t cycle = i / mix->packets.size();
      if (cycle == 0) {
        sender.Send(mix->topics[p.stream], p.bytes);
      } else {
        Resequence(*mix, p, cycle, scratch);
        sender.Send(mix->topics[p.stream], scratch);
      }
    } else {
      sender.Send(fixed_topic, fixed);
    }
  }
  const int code = sink.Wait();
  json result;
  try {
    result = json::parse(std::ifstream(dir_ / "sink.log"));
  } catch (const std::exception&) {
    return Failed(row, "sink output unreadable");
  }
  const uint64_t received = result["received"];
  row.lost = count - received;
  const double seconds =
      (result["last_ns"].get<int64_t>() - result["first_ns"].get<int64_t>()) / 1e9;
  row.packets_per_s = seconds > 0 ? (received - 1) / seconds : 0;
  row.cpu_us_per_packet = sink.cpu_s() * 1e6 / std::max<uint64_t>(received, 1);
  if (code != 0) row.note = "sink timed out";
  return row;
}

Row Bench::StationFullPipeline(const Mix& mix, uint64_t count, bool sample_memory, bool web,
                               double rate, bool products) {
  Row row{web                ? fmt::format("station full pipeline + {} web clients", o_.web_clients)
          : rate             ? fmt::format("station memory run at {} packets/s", Rate(rate))
          : products         ? std::string("station, mix with files, --products")
          : mix.transactions ? std::string("station, mix with files, recorded only")
                             : std::string("station full pipeline (record zstd)"),
          count};
  row.paced = rate > 0;
  const std::string endpoint = FreeEndpoint(o_.transport, dir_, "station");
  Sender sender(endpoint);
  const int http_port = web ? FreeTcpPortNumber() : 0;
  process::ChildProcess station = StartStation(endpoint, "pipeline", http_port, products);
  if (!sender.WaitForSubscriber(std::chrono::seconds(30)))
    return Failed(row, "station never subscribed");
  auto clients = StartWebClients(http_port, row);
  MemorySampler memory(station, count);
  std::string scratch;
  // Paced in 1 ms steps: a sleep per packet would cost more than the packet.
  constexpr uint64_t kStepsPerSecond = 1000;
  const uint64_t per_step = std::max<uint64_t>(1, static_cast<uint64_t>(rate / kStepsPerSecond));
  const auto start = Clock::now();
  for (uint64_t i = 0; i < count; ++i) {
    if (rate > 0 && i % per_step == 0) {
      std::this_thread::sleep_until(start +
                                    std::chrono::nanoseconds(static_cast<int64_t>(i * 1e9 / rate)));
    }
    const auto& p = mix.packets[i % mix.packets.size()];
    const uint64_t cycle = i / mix.packets.size();
    if (cycle == 0) {
      sender.Send(mix.topics[p.stream], p.bytes);
    } else {
      Resequence(mix, p, cycle, scratch);
      sender.Send(mix.topics[p.stream], scratch);
    }
    if ((i & 0x3FFF) == 0) memory.Progress(i);
  }
  FinishWebClients(row, clients, http_port);
  FinishStation(row, station, "pipeline");
  if (sample_memory) {
    row.memory = memory.Result();
    (*row.memory)["minor_page_faults"] = station.minor_faults();
  }
  return row;
}

Row Bench::ReplayIntoStation(const Mix& mix, uint64_t count) {
  Row row{"gsctl replay --max -> station", count};
  const fs::path file = WriteRecording(mix, count);
  if (file.empty()) return Failed(row, "cannot write the replay recording");
  const std::string endpoint = FreeEndpoint(o_.transport, dir_, "replay");
  process::ChildProcess replay(o_.self,
                               {"replay", file.string(), "--insecure", "--max", "--bind", endpoint,
                                "--wait-for-subscribers", "1"},
                               dir_ / "replay.log", dir_ / "replay.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  process::ChildProcess station = StartStation(endpoint, "replay");
  if (replay.Wait() != 0) row.note = "replay failed";
  FinishStation(row, station, "replay");
  return row;
}

Row Bench::Latency(const Mix& mix, double rate, double seconds, bool raw, bool web) {
  const auto count = static_cast<uint64_t>(rate * seconds);
  Row row{fmt::format("{} at {:.0f} packets/s",
                      raw   ? "latency, raw ZeroMQ"
                      : web ? fmt::format("latency, station + {} web", o_.web_clients)
                            : "latency, station",
                      rate),
          count};
  const int http_port = web ? FreeTcpPortNumber() : 0;
  const std::string endpoint = FreeEndpoint(o_.transport, dir_, "latency");
  Sender sender(endpoint);
  process::ChildProcess station =
      raw ? process::ChildProcess(o_.self,
                                  {"bench-sink", "--connect", endpoint, "--count",
                                   std::to_string(count), "--latency"},
                                  dir_ / "sink.log", dir_ / "sink.log")
          : StartStation(endpoint, "latency", http_port);
  if (!sender.WaitForSubscriber(std::chrono::seconds(30)))
    return Failed(row, "station never subscribed");
  auto clients = StartWebClients(http_port, row);
  std::array<uint32_t, protocol::kStreamCount> seq{};
  std::string packet;
  // Precise sleeps instead of spinning: a spinning sender would take a core from the
  // station on a 2-core machine and the measurement would be of the contention.
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  const auto start = Clock::now();
  for (uint64_t i = 0; i < count; ++i) {
    const auto due = start + std::chrono::nanoseconds(static_cast<int64_t>(i * 1e9 / rate));
    std::this_thread::sleep_until(due);
    const auto& p = mix.packets[i % mix.packets.size()];
    const auto payload = protocol::AsBytes(p.bytes).subspan(
        protocol::kPrimaryHeaderSize + protocol::kSecondaryHeaderSize,
        p.bytes.size() - protocol::kTmOverheadSize);
    // On-board time = now, so the station's latency is send -> fully processed.
    if (!protocol::EncodeTmPacket(protocol::AllStreams()[p.stream].apid, seq[p.stream]++,
                                  protocol::WallNowNs(), payload, packet)
             .ok()) {
      return Failed(row, "cannot encode");
    }
    sender.Send(mix.topics[p.stream], packet);
  }
  if (!raw) {
    FinishWebClients(row, clients, http_port);
    FinishStation(row, station, "latency");
    return row;
  }
  const int code = station.Wait();
  try {
    const json result = json::parse(std::ifstream(dir_ / "sink.log"));
    row.lost = count - result["received"].get<uint64_t>();
    row.packets_per_s = rate;
    row.latency = result["latency"];
    row.cpu_us_per_packet = station.cpu_s() * 1e6 / std::max<uint64_t>(count, 1);
  } catch (const std::exception&) {
    return Failed(row, "sink output unreadable");
  }
  if (code != 0) row.note = "sink timed out";
  return row;
}

json Bench::History(const Mix& mix, int repeats, double hours) {
  const fs::path directory = dir_ / "history";
  fs::remove_all(directory);
  const size_t hk = static_cast<size_t>(protocol::StreamId::kHousekeeping);
  const double hk_share = static_cast<double>(mix.per_stream[hk]) / mix.packets.size();
  const auto target = static_cast<uint64_t>(std::llround(36'000 * hours));
  const auto total = static_cast<uint64_t>(static_cast<double>(target) / hk_share);
  const int64_t step_ns = static_cast<int64_t>(3600e9 * hours / static_cast<double>(total));
  uint64_t housekeeping = 0, recorded = 0;
  const fs::path file =
      RecordMix(mix, directory, 2 * total, step_ns, &housekeeping, target, &recorded);
  if (file.empty()) return {{"error", "cannot write the recording"}};
  const int port = FreeTcpPortNumber();
  process::ChildProcess station(
      o_.station,
      {"--insecure", "--connect", FreeEndpoint(o_.transport, dir_, "history"), "--record",
       directory.string(), "--quiet", "--stats-interval", "0", "--log-level", "warn", "--http",
       fmt::format("127.0.0.1:{}", port), "--duration", "600"},
      dir_ / "history.log", dir_ / "history.log");
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (HttpGet(port, "/api/link").first != 200 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const int64_t start_ms = kMissionStart / 1'000'000;
  const auto measure = [&](const std::string& query) {
    std::vector<double> ms;
    size_t samples = 0;
    for (int i = 0; i < repeats; ++i) {
      const auto t0 = Clock::now();
      const auto [status, body] = HttpGet(
          port, fmt::format("/api/history?key=housekeeping.battery_soc_percent&start={}&end={}{}",
                            // a tenth beyond the hour: where the mix put the last of them
                            start_ms, start_ms + static_cast<int64_t>(hours * 3'960'000), query));
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      if (status != 200) return json{{"error", fmt::format("HTTP {}", status)}};
      samples = json::parse(body).size();
    }
    std::sort(ms.begin(), ms.end());
    return json{{"samples", samples}, {"median_ms", ms[ms.size() / 2]}, {"max_ms", ms.back()}};
  };
  json out = {{"hours", hours},
              {"recorded_messages", recorded},
              {"housekeeping_messages", housekeeping},
              {"recording_mb", fs::file_size(file) / 1048576.0},
              {"minmax_1000", measure("&strategy=minmax&size=1000")},
              {"latest", measure("&strategy=latest")},
              {"full", measure("")}};
  ::kill(station.pid(), SIGTERM);
  station.Wait();
  return out;
}

json Bench::Downlink(int frames, double speed, const std::string& scenario) {
  const fs::path directory = dir_ / "downlink";
  fs::remove_all(directory);
  fs::create_directories(directory);
  const fs::path build = fs::path(o_.station).parent_path().parent_path();
  const std::string emulator_bin = (build / "rover_emulator" / "rover_emulator").string();
  if (!fs::exists(emulator_bin)) return {{"error", "no rover_emulator beside the station"}};
  const std::string tm = "ipc://" + (directory / "tm.ipc").string();
  const std::string tc = "ipc://" + (directory / "tc.ipc").string();
  const std::string control = "ipc://" + (directory / "control.ipc").string();
  const std::string token = (directory / "control.token").string();
  const std::string truth = (directory / "truth.jsonl").string();
  process::ChildProcess station(
      o_.station,
      {"--insecure", "--connect", tm, "--uplink", tc, "--command", "--control", control,
       "--control-token", token, "--products", (directory / "products").string(), "--quiet",
       "--stats-interval", "0", "--log-level", "warn", "--http", "none"},
      directory / "station.log", directory / "station.log");
  process::ChildProcess emulator(
      emulator_bin,
      {"--insecure", "--bind", tm, "--command-bind", tc, "--scenario", scenario, "--speed",
       fmt::format("{}", speed), "--wait-for-subscribers", "1", "--truth", truth, "--duration",
       "3600"},
      directory / "emulator.log", directory / "emulator.log");
  const auto stop = [&] {
    emulator.Signal(SIGTERM);
    emulator.Wait();
    station.Signal(SIGTERM);
    station.Wait();
  };
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (!fs::exists(token) && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const auto wall_start = Clock::now();
  process::ChildProcess command(
      o_.self,
      {"command", "capture_image", "camera=navcam_left", fmt::format("frames={}", frames),
       "pan_step_deg=30", "--control", control, "--control-token", token},
      directory / "command.log", directory / "command.log");
  if (command.Wait(std::chrono::seconds(120)).value_or(-1) != 0) {
    stop();
    return {{"error", "the capture_image command did not complete (see command.log)"}};
  }
  // Products and packets from the truth file, read again until every image has its fate.
  struct Seen {
    uint64_t file_bytes = 0, delivered = 0, taken = 0;
    int64_t first_pdu_sent = INT64_MAX, last_pdu_arrival = 0, last_confirmed = 0;
    int64_t first_stored = INT64_MAX, last_stored = 0;
    uint64_t pdu_bytes = 0, pdus = 0;
    std::vector<std::pair<int64_t, uint64_t>> telemetry;  // sent_ns, octets
  };
  Seen seen;
  const auto read = [&] {
    seen = Seen{};
    std::ifstream in(truth);
    for (std::string line; std::getline(in, line);) {
      const json j = json::parse(line, nullptr, false);
      if (j.is_discarded()) continue;  // the line being written
      if (j.contains("product")) {
        const std::string event = j.value("event", "");
        const int64_t at = j.value("onboard_ns", int64_t{0});
        if (event == "stored") {
          ++seen.taken;
          seen.first_stored = std::min(seen.first_stored, at);
          seen.last_stored = std::max(seen.last_stored, at);
        } else if (event == "delivered") {
          ++seen.delivered;
          seen.file_bytes += j.value("size", uint64_t{0});
          seen.last_confirmed = std::max(seen.last_confirmed, at);
        }
        continue;
      }
      const int64_t sent = j.value("sent_ns", int64_t{0});
      if (sent == 0) continue;
      const uint64_t size = j.value("size", uint64_t{0});
      if (j.value("stream", "") == "file_delivery") {
        ++seen.pdus;
        seen.pdu_bytes += size;
        seen.first_pdu_sent = std::min(seen.first_pdu_sent, sent);
        seen.last_pdu_arrival = std::max(seen.last_pdu_arrival, j.value("arrival_ns", int64_t{0}));
      } else {
        seen.telemetry.emplace_back(sent, size);
      }
    }
  };
  deadline = Clock::now() + std::chrono::seconds(600);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    read();
  } while (seen.delivered < static_cast<uint64_t>(frames) && Clock::now() < deadline);
  const double wall_s = std::chrono::duration<double>(Clock::now() - wall_start).count();
  stop();
  read();  // the emulator has flushed its truth file
  if (seen.delivered < static_cast<uint64_t>(frames)) {
    return {{"error", fmt::format("{} of {} images delivered in 600 s", seen.delivered, frames)}};
  }
  // The bandwidth is the scenario's, which the emulator states at start ("bandwidth N bit/s").
  double bandwidth_bps = 0;
  {
    std::ifstream log(directory / "emulator.log");
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    const size_t at = text.find("bandwidth ");
    if (at != std::string::npos) bandwidth_bps = std::atof(text.c_str() + at + 10);
  }
  const auto seconds = [](int64_t ns) { return static_cast<double>(ns) / 1e9; };
  const double data_s = seconds(seen.last_pdu_arrival - seen.first_pdu_sent);
  const double confirmed_s = seconds(seen.last_confirmed - seen.first_pdu_sent);
  uint64_t telemetry_bytes = 0;
  for (const auto& [sent, size] : seen.telemetry) {
    if (sent >= seen.first_pdu_sent && sent <= seen.last_pdu_arrival) telemetry_bytes += size;
  }
  json out = {{"frames", frames},
              {"speed", speed},
              {"scenario", scenario},
              {"file_bytes", seen.file_bytes},
              {"file_pdus", seen.pdus},
              {"file_pdu_bytes", seen.pdu_bytes},
              {"capture_s", seconds(seen.last_stored - seen.first_stored)},
              {"downlink_data_s", data_s},
              {"downlink_confirmed_s", confirmed_s},
              {"telemetry_bytes_meanwhile", telemetry_bytes},
              {"wall_s", wall_s},
              // The station's CPU over the whole run (telemetry, recording off, CFDP, files).
              {"station_cpu_s", station.cpu_s()},
              {"emulator_cpu_s", emulator.cpu_s()}};
  if (bandwidth_bps > 0) {
    const double left = bandwidth_bps / 8 * data_s - static_cast<double>(telemetry_bytes);
    out["bandwidth_bps"] = bandwidth_bps;
    out["ideal_s"] = static_cast<double>(seen.file_bytes) * 8 / bandwidth_bps;
    out["efficiency"] = left > 0 ? static_cast<double>(seen.file_bytes) / left : 0.0;
  }
  return out;
}

process::ChildProcess Bench::StartStation(const std::string& endpoint, const std::string& name,
                                          int http_port, bool products) {
  fs::remove_all(dir_ / ("rec-" + name));
  std::vector<std::string> args = {
      "--insecure",
      "--connect",
      endpoint,
      "--light-time",
      "0",
      "--quiet",
      "--stats-interval",
      "0",
      "--idle-exit",
      "1",
      "--summary-json",
      (dir_ / (name + ".json")).string(),
      "--record",
      (dir_ / ("rec-" + name)).string(),
      "--log-level",
      "warn",
      "--http",
      http_port > 0 ? fmt::format("127.0.0.1:{}", http_port) : std::string("none")};
  if (products) {
    fs::remove_all(dir_ / ("products-" + name));
    args.insert(args.end(), {"--products", (dir_ / ("products-" + name)).string()});
  }
  return process::ChildProcess(o_.station, std::move(args), dir_ / (name + ".log"),
                               dir_ / (name + ".log"));
}

std::unique_ptr<WebClients> Bench::StartWebClients(int port, Row& row) {
  if (port == 0) return nullptr;
  auto clients = std::make_unique<WebClients>(port, o_.web_clients);
  if (!clients->WaitConnected(o_.web_clients, std::chrono::seconds(20))) {
    Failed(row, "web clients could not connect");
  }
  return clients;
}

void Bench::FinishWebClients(Row& row, std::unique_ptr<WebClients>& clients, int port) {
  if (!clients) return;
  // The last packets' samples go out with the next batch (every 100 ms).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto [status, body] = HttpGet(port, "/api/link");
  clients->Stop();
  row.web = json{{"messages_received", clients->messages()},
                 {"mb_received", clients->bytes() / 1048576.0}};
  if (status == 200) (*row.web)["station"] = json::parse(body)["realtime"];
}

void Bench::FinishStation(Row& row, process::ChildProcess& station, const std::string& name) {
  const int code = station.Wait();
  json s;
  try {
    s = json::parse(std::ifstream(dir_ / (name + ".json")));
  } catch (const std::exception&) {
    Failed(row, fmt::format("station exited {} without a summary", code));
    return;
  }
  const uint64_t received = s["totals"]["received"];
  row.lost = row.packets > received ? row.packets - received : 0;
  row.lost += s["totals"]["missing"].get<uint64_t>() + s["totals"]["rejected"].get<uint64_t>();
  const double seconds = (s["totals"]["last_ground_ns"].get<int64_t>() -
                          s["totals"]["first_ground_ns"].get<int64_t>()) /
                         1e9;
  row.packets_per_s = seconds > 0 ? (received - 1) / seconds : 0;
  row.cpu_us_per_packet = station.cpu_s() * 1e6 / std::max<uint64_t>(received, 1);
  row.latency = s["latency"];
  if (code != 0) row.note = fmt::format("station exited {}", code);
}

fs::path Bench::WriteRecording(const Mix& mix, uint64_t count) {
  return RecordMix(mix, dir_ / "replay-source", count, 1000, nullptr);
}

Row Bench::Failed(Row& row, std::string why) {
  row.note = std::move(why);
  row.lost = row.packets;
  return row;
}

}  // namespace lgs::gsctl::bench
