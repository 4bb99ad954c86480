#include "bench/report.h"

#include <fmt/format.h>

namespace lgs::gsctl::bench {

using nlohmann::json;

namespace {

std::string Micros(const json& latency, const char* key) {
  return fmt::format("{:.0f}", latency[key].get<double>() / 1e3);
}

}  // namespace

std::string Rate(double r) {
  return r >= 1e6 ? fmt::format("{:.2f}M", r / 1e6) : fmt::format("{:.1f}k", r / 1e3);
}

json RowJson(const Row& r) {
  json j = {{"name", r.name},
            {"packets", r.packets},
            {"packets_per_s", r.packets_per_s},
            {"ratio", r.ratio},
            {"lost", r.lost}};
  if (r.cpu_us_per_packet) j["cpu_us_per_packet"] = *r.cpu_us_per_packet;
  if (r.latency) j["latency"] = *r.latency;
  if (r.memory) j["memory"] = *r.memory;
  if (r.paced) j["paced"] = true;
  if (r.web) j["web"] = *r.web;
  if (!r.note.empty()) j["note"] = r.note;
  return j;
}

bool Lossless(const std::vector<Row>& rows) {
  bool lossless = true;
  for (const Row& r : rows) lossless = lossless && r.lost == 0 && r.note.empty();
  return lossless;
}

json ReportJson(const std::vector<Row>& rows, const Mix& mix, const std::string& transport,
                bool quick, const json& history) {
  json out = {{"mix_packets", mix.packets.size()},
              {"mix_mean_packet_bytes", mix.bytes / std::max<size_t>(mix.packets.size(), 1)},
              {"transport", transport},
              {"quick", quick},
              {"lossless", Lossless(rows)},
              {"rows", json::array()}};
  for (const Row& r : rows) out["rows"].push_back(RowJson(r));
  if (!history.is_null()) out["history"] = history;
  return out;
}

void PrintTable(const std::vector<Row>& rows, const Mix& mix, const std::string& transport,
                const json& history) {
  fmt::print("\n{:<38}{:>10}{:>11}{:>8}{:>7}{:>9}{:>9}{:>9}{:>9}{:>10}{:>10}\n", "run", "packets",
             "packets/s", "ratio", "lost", "p50 us", "p99 us", "p99.9us", "max us", "CPU us/p",
             "RSS MB");
  for (const Row& r : rows) {
    std::string p50 = "-", p99 = "-", p999 = "-", max = "-", rss = "-", cpu = "-", ratio = "-";
    if (r.ratio > 0) ratio = fmt::format("{:.0f}%", r.ratio * 100);
    if (r.latency && r.name.starts_with("latency")) {
      p50 = Micros(*r.latency, "p50_ns");
      p99 = Micros(*r.latency, "p99_ns");
      p999 = Micros(*r.latency, "p999_ns");
      max = Micros(*r.latency, "max_ns");
    }
    // Paced: the station's own memory, after warm-up > peak. Flat out: the peak, most of it
    // the ZeroMQ receive queue.
    if (r.memory && r.paced) {
      rss = fmt::format("{:.1f}>{:.1f}", (*r.memory)["rss_warm_mb"].get<double>(),
                        (*r.memory)["rss_peak_mb"].get<double>());
    } else if (r.memory) {
      rss = fmt::format("{:.0f}", (*r.memory)["rss_peak_mb"].get<double>());
    }
    if (r.cpu_us_per_packet) cpu = fmt::format("{:.2f}", *r.cpu_us_per_packet);
    fmt::print("{:<38}{:>10}{:>11}{:>8}{:>7}{:>9}{:>9}{:>9}{:>9}{:>10}{:>10}{}\n", r.name,
               r.packets, Rate(r.packets_per_s), ratio, r.lost, p50, p99, p999, max, cpu, rss,
               r.note.empty() ? "" : "  (" + r.note + ")");
  }
  fmt::print(
      "\nmix: {} packets, mean {} B; transport {}; ratio = packets/s over the raw ZeroMQ "
      "ceiling for the same packets; CPU = the receiving process's user+system time per "
      "packet; RSS = peak (flat out: mostly the ZeroMQ receive queue); paced memory run: "
      "after 10% warm-up > peak after it\n",
      mix.packets.size(), mix.bytes / std::max<size_t>(mix.packets.size(), 1), transport);
  for (const Row& r : rows) {
    if (!r.web) continue;
    fmt::print("web clients of '{}': {} messages, {:.0f} MB received; station: {}\n", r.name,
               (*r.web)["messages_received"].get<uint64_t>(), (*r.web)["mb_received"].get<double>(),
               r.web->value("station", json()).dump());
  }
  if (!history.is_null()) fmt::print("history (10 Hz housekeeping): {}\n", history.dump());
}

void PrintDownlink(const json& d) {
  if (d.contains("error")) {
    fmt::print("images: FAILED: {}\n", d["error"].get<std::string>());
    return;
  }
  fmt::print(
      "images: {} navcam frames, {:.2f} MB in {} file PDUs ({:.2f} MB on the link) at speed {}\n"
      "  capture {:.1f} s; downlink {:.1f} s to the last data, {:.1f} s to the last Finished "
      "(mission time); the files alone at {:.0f} bit/s: {:.1f} s\n"
      "  efficiency {:.0f} % of what the link carried beside {:.2f} MB of telemetry; wall {:.1f} "
      "s\n",
      d.value("frames", 0), d.value("file_bytes", 0.0) / 1e6, d.value("file_pdus", 0),
      d.value("file_pdu_bytes", 0.0) / 1e6, d.value("speed", 0.0), d.value("capture_s", 0.0),
      d.value("downlink_data_s", 0.0), d.value("downlink_confirmed_s", 0.0),
      d.value("bandwidth_bps", 0.0), d.value("ideal_s", 0.0), 100 * d.value("efficiency", 0.0),
      d.value("telemetry_bytes_meanwhile", 0.0) / 1e6, d.value("wall_s", 0.0),
      d.value("station_cpu_s", 0.0), d.value("emulator_cpu_s", 0.0));
}

}  // namespace lgs::gsctl::bench
