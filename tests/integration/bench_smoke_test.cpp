// The benchmark harness cannot rot: `gsctl bench --quick` runs every measurement end to end and
// reports each with zero loss. (Speeds are reported, never asserted: see docs/performance.md.)
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "support/process.h"

namespace lgs::test {
namespace {

using namespace std::chrono_literals;

TEST(BenchSmoke, QuickRunMeasuresEveryRowWithoutLoss) {
  ScratchDir dir;
  ChildProcess bench(LGS_GSCTL_BIN,
                     {"bench", "--quick", "--json", "--transport", "ipc", "--station",
                      LGS_STATION_BIN, "--web-clients", "3"},
                     dir.path(), "bench");
  ASSERT_EQ(bench.Wait(180s), 0) << bench.Stdout() << bench.Stderr();
  const auto result = nlohmann::json::parse(bench.Stdout());
  EXPECT_TRUE(result["lossless"].get<bool>());
  std::vector<std::string> names;
  for (const auto& row : result["rows"]) {
    names.push_back(row["name"]);
    // The paced memory run is named by its rate, half of what the flat-out run just measured.
    if (names.back().starts_with("station memory run at ")) names.back() = "station memory run";
    EXPECT_EQ(row["lost"], 0) << row.dump();
    EXPECT_GT(row["packets"].get<uint64_t>(), 0u) << row.dump();
    EXPECT_GT(row["packets_per_s"].get<double>(), 0.0) << row.dump();
    EXPECT_FALSE(row.contains("note")) << row.dump();
  }
  const std::vector<std::string> expected = {"raw ZeroMQ, default mix (ceiling)",
                                             "raw ZeroMQ, 64 B",
                                             "raw ZeroMQ, 512 B",
                                             "raw ZeroMQ, 4096 B",
                                             "station full pipeline (record zstd)",
                                             "station memory run",
                                             "gsctl replay --max -> station",
                                             "latency, raw ZeroMQ at 1000 packets/s",
                                             "latency, station at 1000 packets/s",
                                             "latency, raw ZeroMQ at 10000 packets/s",
                                             "latency, station at 10000 packets/s",
                                             "latency, raw ZeroMQ at 100000 packets/s",
                                             "latency, station at 100000 packets/s",
                                             "station full pipeline + 3 web clients",
                                             "latency, station + 3 web at 100000 packets/s"};
  EXPECT_EQ(names, expected);
  // Rows are found by name, so a new row anywhere changes only the list above.
  const auto row = [&](const std::string& name) -> const nlohmann::json& {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) return result["rows"][i];
    }
    ADD_FAILURE() << "no row '" << name << "'";
    static const nlohmann::json kEmpty = nlohmann::json::object();
    return kEmpty;
  };
  // The web rows: three clients connected, subscribed and got samples; the history benchmark
  // asked the station for a recorded span of 10 Hz housekeeping.
  for (const char* name :
       {"station full pipeline + 3 web clients", "latency, station + 3 web at 100000 packets/s"}) {
    const auto& web = row(name)["web"];
    EXPECT_EQ(web["station"]["clients"], 3) << web.dump();
    EXPECT_GT(web["station"]["samples_sent"].get<uint64_t>(), 0u) << web.dump();
    EXPECT_GT(web["messages_received"].get<uint64_t>(), 0u) << web.dump();
  }
  const auto& history = result["history"];
  EXPECT_EQ(history["housekeeping_messages"], 3600) << history.dump();
  EXPECT_EQ(history["full"]["samples"], 3600) << history.dump();
  EXPECT_EQ(history["latest"]["samples"], 1) << history.dump();
  EXPECT_GT(history["minmax_1000"]["samples"].get<int>(), 1000) << history.dump();
  EXPECT_LE(history["minmax_1000"]["samples"].get<int>(), 2000) << history.dump();
  const auto& pipeline = row("station full pipeline (record zstd)");
  EXPECT_TRUE(pipeline.contains("memory"));
  EXPECT_GT(pipeline["memory"]["rss_peak_mb"].get<double>(), 1.0);
  const auto& memory = row("station memory run");
  EXPECT_TRUE(memory["paced"].get<bool>()) << memory.dump();
  // --quick: 50 000 packets flat out; the paced run lasts at least half a second.
  EXPECT_GE(memory["packets"].get<uint64_t>(), pipeline["packets"].get<uint64_t>());
  EXPECT_GE(memory["memory"]["rss_peak_mb"].get<double>(),
            memory["memory"]["rss_warm_mb"].get<double>());
  EXPECT_FALSE(memory["memory"]["rss_every_5_percent_mb"].empty()) << memory.dump();
  // Paced at half the measured rate: not flat out (the station may run slower than the pace
  // when other tests share the machine, never much faster).
  const double paced = std::round(pipeline["packets_per_s"].get<double>() / 2 / 1000) * 1000;
  EXPECT_LE(memory["packets_per_s"].get<double>(), paced * 1.25) << memory.dump();
  for (const std::string& name : expected) {
    if (!name.starts_with("latency, ") || name.find(" web ") != std::string::npos) continue;
    const auto& latency = row(name)["latency"];
    EXPECT_EQ(latency["count"], row(name)["packets"]);
    EXPECT_LE(latency["p50_ns"].get<uint64_t>(), latency["p99_ns"].get<uint64_t>());
    EXPECT_LE(latency["p99_ns"].get<uint64_t>(), latency["max_ns"].get<uint64_t>());
  }
}

TEST(BenchSmoke, OnlyRunsTheSectionsAskedForAndRefusesUnknownOnes) {
  ScratchDir dir;
  ChildProcess bench(LGS_GSCTL_BIN,
                     {"bench", "--quick", "--json", "--transport", "ipc", "--station",
                      LGS_STATION_BIN, "--only", "latency"},
                     dir.path(), "bench");
  ASSERT_EQ(bench.Wait(120s), 0) << bench.Stdout() << bench.Stderr();
  const auto result = nlohmann::json::parse(bench.Stdout());
  ASSERT_EQ(result["rows"].size(), 6u) << result.dump();
  for (const auto& row : result["rows"]) {
    EXPECT_TRUE(row["name"].get<std::string>().starts_with("latency, ")) << row.dump();
    EXPECT_EQ(row["lost"], 0) << row.dump();
  }
  EXPECT_FALSE(result.contains("history"));

  ChildProcess wrong(LGS_GSCTL_BIN, {"bench", "--only", "latency,speed"}, dir.path(), "wrong");
  EXPECT_NE(wrong.Wait(30s), 0);
  EXPECT_NE(wrong.Stderr().find("speed"), std::string::npos) << wrong.Stderr();
}

}  // namespace
}  // namespace lgs::test
