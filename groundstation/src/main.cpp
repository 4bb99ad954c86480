// groundstation: the lunar rover ground station. Arguments -> StationOptions -> Station -> exit.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "groundstation/station.h"

int main(int argc, char** argv) {
  lgs::station::StationOptions options;
  CLI::App app{
      "Lunar rover ground station: receives CCSDS telemetry over ZeroMQ, verifies and decodes "
      "every packet, accounts for every sequence number and shows it live."};
  app.add_option("--connect", options.connect,
                 "rover telemetry endpoint(s) to subscribe to (repeatable)")
      ->capture_default_str();
  app.add_option("--rover-id", options.rover_id, "rover whose telemetry to receive")
      ->capture_default_str();
  app.add_option("--jsonl", options.jsonl_path,
                 "write one JSON line per accepted packet to FILE, - for stdout");
  app.add_option("--summary-json", options.summary_json_path,
                 "write the final link summary as JSON to FILE, - for stdout");
  app.add_option("--duration", options.duration_s, "stop by itself after SECONDS")
      ->check(CLI::PositiveNumber);
  app.add_option("--stats-interval", options.stats_interval_s,
                 "seconds between link-statistics lines, 0 for none")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--print-interval", options.print_interval_s,
                 "at most one telemetry line per stream per SECONDS (0 = every packet)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  bool quiet = false;
  app.add_flag("--quiet", quiet, "do not print decoded telemetry lines");
  app.add_option("--reject-log-interval", options.reject_log_interval_s,
                 "log each rejection reason at most once per SECONDS")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  options.print_telemetry = !quiet;

  // Log lines go to stderr so stdout stays clean for telemetry and JSON.
  auto logger = spdlog::stderr_color_mt("station");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%^[station %H:%M:%S.%e] %l:%$ %v");

  lgs::station::Station station(options);
  auto result = station.Run();
  if (!result.ok()) {
    spdlog::error("{}", result.error().message());
    return 1;
  }
  return 0;
}
