// gsctl bench, harness: each run of the benchmark — the raw ZeroMQ ceiling, the station's full
// pipeline (flat out, paced for memory, with web clients), a replay into the station, latency at
// fixed rates, history queries — as a Row measured against real child processes. Not
// thread-safe: one run at a time.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "bench/report.h"
#include "bench/traffic.h"
#include "bench/web_clients.h"
#include "commands.h"
#include "process/child_process.h"

namespace lgs::gsctl::bench {

class Bench {
 public:
  Bench(const BenchOptions& o, fs::path dir) : o_(o), dir_(std::move(dir)) {}

  // Raw ZeroMQ: this process sends, a `gsctl bench-sink` process counts.
  Row Ceiling(const std::string& name, const Mix* mix, size_t fixed_size, uint64_t count);

  // The real station (verify, decode, account, record with zstd) fed at full speed.
  // The full pipeline fed as fast as the sender can (`rate` 0) or at a fixed rate: paced, the
  // ZeroMQ receive queue stays near empty, so the station's memory is its own and not how full a
  // queue of up to --receive-hwm messages happened to be when it was sampled.
  // `products`: the station also receives the mix's files (--products), the file mix's row.
  Row StationFullPipeline(const Mix& mix, uint64_t count, bool sample_memory, bool web = false,
                          double rate = 0, bool products = false);

  Row ReplayIntoStation(const Mix& mix, uint64_t count);

  // End-to-end latency at a fixed rate into the station, or (raw) into a bare ZeroMQ receiver
  // as the floor this machine sets.
  Row Latency(const Mix& mix, double rate, double seconds, bool raw, bool web = false);

  // History for the web UI: one hour of housekeeping at 10 Hz (with the rest of the default mix
  // around it) in a closed recording, asked for by a station with `minmax` at 1000 points and in
  // full, each `repeats` times; wall time per answer.
  nlohmann::json History(const Mix& mix, int repeats, double hours);

  // Images: a panorama of `frames` navcam images commanded through the real station (gsctl
  // command) from the real emulator flying `scenario` at `speed`, brought down by CFDP class 2.
  // From the emulator's truth file, in mission time: from the first file PDU sent to the last
  // file data on the ground and to the last file confirmed, against what the link could carry
  // in that time beside the real-time telemetry (the files' octets over the bandwidth left).
  nlohmann::json Downlink(int frames, double speed, const std::string& scenario);

  // History at mission scale (bench/archive.cpp): hourly recordings of the default mix for each
  // of `days` (growing: 1, then 30, ...), their parameter archive built, then a station over
  // them: start-up with --resume, minmax at 1000 points over everything, latest, an hour in
  // full, `repeats` times each.
  nlohmann::json Archive(const std::vector<int>& days, int repeats);

 private:
  // `http_port` 0: no web endpoint (the station's default would take 8080 if it is free).
  process::ChildProcess StartStation(const std::string& endpoint, const std::string& name,
                                     int http_port = 0, bool products = false);

  // Starts `o_.web_clients` WebSocket clients subscribed to every field of the station about to
  // listen on `port`; empty when not asked for.
  std::unique_ptr<WebClients> StartWebClients(int port, Row& row);
  // Asks the station (still up: it waits a second of silence before it exits) what the web got.
  static void FinishWebClients(Row& row, std::unique_ptr<WebClients>& clients, int port);

  void FinishStation(Row& row, process::ChildProcess& station, const std::string& name);

  fs::path WriteRecording(const Mix& mix, uint64_t count);

  static Row Failed(Row& row, std::string why);

  const BenchOptions& o_;
  fs::path dir_;
};

}  // namespace lgs::gsctl::bench
