// gsctl bench, report: one row per run (what it moved, how fast against the ceiling, what it
// lost, its CPU, latency and memory) and the two views of them, the table and the JSON that
// BenchSmoke and docs/performance.md read. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bench/traffic.h"

namespace lgs::gsctl::bench {

struct Row {
  Row(std::string n, uint64_t p) : name(std::move(n)), packets(p) {}
  std::string name;
  uint64_t packets = 0;
  double packets_per_s = 0;
  double ratio = 0;  // to the ceiling for the same packets
  uint64_t lost = 0;
  std::optional<double> cpu_us_per_packet;
  std::optional<nlohmann::json> latency;
  std::optional<nlohmann::json> memory;
  std::optional<nlohmann::json> web;  // what the web clients got
  bool paced = false;  // fed at a fixed rate: its rate is the sender's, not a capacity
  std::string note;
};

nlohmann::json RowJson(const Row& r);
// 1.23M, 456.7k.
std::string Rate(double r);
// Every run moved everything it sent, and none failed.
bool Lossless(const std::vector<Row>& rows);
nlohmann::json ReportJson(const std::vector<Row>& rows, const Mix& mix,
                          const std::string& transport, bool quick, const nlohmann::json& history);
void PrintTable(const std::vector<Row>& rows, const Mix& mix, const std::string& transport,
                const nlohmann::json& history);
// The images row (Bench::Downlink): files, times and the efficiency against the link.
void PrintDownlink(const nlohmann::json& downlink);

}  // namespace lgs::gsctl::bench
