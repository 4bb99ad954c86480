// rover_emulator: the emulated lunar rover. Arguments -> EmulatorOptions -> Emulator -> exit code.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "lgs_cli.h"
#include "protocol/protobuf_log.h"
#include "rover_emulator/emulator.h"
#include "rover_emulator/scenario.h"
#include "rover_emulator/sun_plan.h"
#include "spdlog_logger.h"
#include "stop_signals.h"

namespace {

// --write-sun-plan: the plan, and an exit code.
int WriteSunPlan(const lgs::emulator::EmulatorOptions& options, const std::string& path,
                 const std::vector<double>& at) {
  auto scenario = lgs::emulator::LoadScenario(options.scenario);
  if (!scenario.ok()) {
    std::fprintf(stderr, "%s\n", scenario.error().message().c_str());
    return 2;
  }
  lgs::emulator::SunPlanOptions plan_options;
  if (options.mission_duration_s) plan_options.until_s = *options.mission_duration_s;
  if (at.size() == 2) {
    const double half = scenario->site.terrain.size_m / 2;
    if (!(std::abs(at[0]) <= half && std::abs(at[1]) <= half)) {
      std::fprintf(stderr, "--sun-plan-at: %g %g is outside the %g m region of the site\n", at[0],
                   at[1], scenario->site.terrain.size_m);
      return 2;
    }
    plan_options.x_m = at[0];
    plan_options.y_m = at[1];
  }
  const uint64_t seed = options.seed.value_or(scenario->seed);
  const auto plan = lgs::emulator::PlanSunlight(*scenario, seed, plan_options);
  const std::string text = lgs::emulator::SunPlanYaml(*scenario, seed, plan_options, plan);
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : 1;
  }
  std::FILE* out = std::fopen(path.c_str(), "w");
  bool written = out != nullptr && std::fwrite(text.data(), 1, text.size(), out) == text.size();
  if (out != nullptr) written = std::fclose(out) == 0 && written;
  if (!written) {
    std::fprintf(stderr, "--write-sun-plan: cannot write %s: %s\n", path.c_str(),
                 std::strerror(errno));
    return 1;
  }
  std::fprintf(stderr, "sun plan for scenario '%s' written to %s: %zu shadow spells in %g s\n",
               scenario->name.c_str(), path.c_str(), plan.shadows.size(), plan_options.until_s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  lgs::emulator::EmulatorOptions options;
  CLI::App app{
      "Emulated lunar rover: publishes CCSDS telemetry (housekeeping, navigation, terrain, "
      "cameras, soil, radiation, events) over ZeroMQ."};
  app.add_option("--bind", options.bind, "ZeroMQ endpoint to publish telemetry on")
      ->capture_default_str();
  app.add_option("--command-bind", options.command_bind,
                 "ZeroMQ endpoint where telecommands arrive from the ground ('none' = no uplink)")
      ->capture_default_str();
  app.add_option("--secret-key", options.secret_key_path,
                 "the rover's CurveZMQ key pair file (gsctl keygen rover)");
  app.add_option("--allow-key", options.allowed_key_paths,
                 "public key file of a ground station allowed to subscribe and command "
                 "(repeatable)");
  app.add_flag("--insecure", options.insecure,
               "plain text, no authentication: anyone on the network can listen and command");
  app.add_option("--rover-id", options.rover_id, "rover identifier used in every topic")
      ->capture_default_str();
  app.add_option("--scenario", options.scenario,
                 "built-in scenario (nominal, spe-storm, lossy-link, relay-outage, night-fall) or "
                 "a YAML file")
      ->capture_default_str();
  bool list_scenarios = false;
  app.add_flag("--list-scenarios", list_scenarios, "print the built-in scenarios and exit");
  std::string sun_plan_path;
  app.add_option("--write-sun-plan", sun_plan_path,
                 "write the scenario's predicted sunlight (when the sun is wholly behind the "
                 "terrain or the massifs) up to --until (default 30d) as the station's "
                 "--sun-schedule to FILE (- for stdout), and exit");
  std::vector<double> sun_plan_at;
  app.add_option("--sun-plan-at", sun_plan_at,
                 "where the sun plan is for: X Y in metres east and north of the landing point")
      ->expected(2)
      ->needs("--write-sun-plan");
  app.add_option("--seed", options.seed,
                 "random seed (default: the scenario's): same scenario + seed, same mission");
  app.add_option("--speed", options.speed, "mission time / wall time (1 = real time)")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 1e6));
  app.add_flag("--max", options.max,
               "run the mission clock as fast as possible; the publisher waits for slow "
               "subscribers instead of dropping (benchmarks)");
  app.add_flag("--ideal-link", options.ideal_link,
               "no light time, bandwidth cap, loss, bit errors, duplicates, reordering or outages");
  app.add_option("--light-time", options.light_time_s,
                 "one-way light time in seconds (default: the scenario's, 1.28)")
      ->check(CLI::Range(0.0, 60.0));
  app.add_option("--duration", options.duration_s, "stop after this many wall-clock seconds")
      ->check(CLI::PositiveNumber);
  std::string until;
  app.add_option("--until", until,
                 "stop after this much mission time (seconds, or with s, m, h, d: 90m, 6h)");
  app.add_option(
         "--serve-after-end", options.serve_after_end_s,
         "after --until, keep the link and uplink running (store playback, retransmissions) "
         "until the link is idle and no telecommand came for SECONDS")
      ->check(CLI::NonNegativeNumber);
  app.add_option(
      "--truth", options.truth_path,
      "write one JSON line per packet and what the link did to it (stream, apid, seq, "
      "size, onboard_time_ns, crc, fate, stored, reordered, retransmit, sent_ns, arrival_ns) to "
      "FILE, - for stdout");
  app.add_option("--wait-for-subscribers", options.wait_for_subscribers,
                 "hold the mission clock until N subscribers have joined")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--subscriber-timeout", options.subscriber_wait_timeout_s,
                 "give up waiting for subscribers after SECONDS")
      ->capture_default_str();
  int64_t mission_start_s = 0;
  app.add_option("--mission-start", mission_start_s,
                 "mission clock origin in Unix seconds (default: now)");
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  lgs::cli::CheckNumbers(app);
  CLI11_PARSE(app, argc, argv);
  if (options.command_bind == "none") options.command_bind.clear();

  if (list_scenarios) {
    for (const std::string& name : lgs::emulator::BuiltinScenarioNames()) {
      auto scenario = lgs::emulator::LoadScenario(name);
      std::printf("%-14s %s\n", name.c_str(),
                  scenario.ok() ? scenario->description.c_str() : "(invalid)");
    }
    return 0;
  }
  if (!until.empty()) {
    options.mission_duration_s = lgs::emulator::ParseDurationSeconds(until);
    if (!options.mission_duration_s || !(*options.mission_duration_s > 0) ||
        *options.mission_duration_s > 100 * 365.25 * 86400) {
      std::fprintf(stderr,
                   "--until: '%s' is not a positive duration of at most 100 years (e.g. 600, 90m, "
                   "6h, 2d)\n",
                   until.c_str());
      return 2;
    }
  }
  if (!sun_plan_path.empty()) return WriteSunPlan(options, sun_plan_path, sun_plan_at);
  // Log lines go to stderr so stdout stays clean for --truth -.
  spdlog::set_default_logger(spdlog::stderr_color_mt("emulator"));
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%^[emulator %H:%M:%S.%e] %l:%$ %v");
  lgs::protocol::RouteProtobufLogging(
      [](lgs::protocol::ProtobufLogLevel, std::string_view line) { spdlog::warn("{}", line); });
  if (mission_start_s > 0) options.mission_start_ns = mission_start_s * 1'000'000'000LL;

  lgs::cli::SpdlogLogger log;
  options.log = &log;
  lgs::emulator::Emulator emulator(options);
  auto result = [&] {
    const lgs::cli::StopSignals signals([&](int) { emulator.Stop(); });
    return emulator.Run();
  }();
  if (!result.ok()) {
    spdlog::error("{}", result.error().message());
    return 1;
  }
  const auto& r = *result;
  spdlog::info(
      "generated {} packets, sent {} ({} bytes) covering {:.1f} mission seconds in {:.1f} s; "
      "link: {} dropped, {} corrupted, {} duplicated, {} via the on-board store, {} evicted, {} "
      "still pending",
      r.packets_generated, r.packets_sent, r.bytes_sent, r.mission_seconds, r.wall_seconds,
      r.dropped, r.corrupted, r.duplicated, r.stored, r.evicted, r.pending);
  spdlog::info(
      "uplink: {} telecommands received, {} executed ({} completed, {} failed), {} repeated "
      "(not executed again), {} rejected, {} lost on the uplink; {} packets retransmitted on "
      "request",
      r.commands_received, r.commands_executed, r.commands_completed, r.commands_failed,
      r.commands_repeated, r.commands_rejected, r.uplink_lost, r.retransmitted);
  if (r.slips > 0) {
    spdlog::warn(
        "the mission clock slipped {} times, {:.1f} wall seconds in all: the machine "
        "could not keep --speed {}",
        r.slips, r.slipped_s, options.speed);
  }
  return 0;
}
