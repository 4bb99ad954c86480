// groundstation: the lunar rover ground station. Arguments -> StationOptions -> Station -> exit.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include "groundstation/station.h"
#include "lgs_cli.h"
#include "protocol/protobuf_log.h"
#include "spdlog_logger.h"
#include "stop_signals.h"

namespace {

// "2026-12-07T06:00:00Z" (UTC, whole seconds) or Unix seconds -> Unix ns; none if neither.
std::optional<int64_t> ParseEpochNs(const std::string& text) {
  char* end = nullptr;
  const double seconds = std::strtod(text.c_str(), &end);
  if (!text.empty() && end != nullptr && *end == '\0') {
    if (!(seconds > 0 && seconds < 4.1e9)) return std::nullopt;
    return static_cast<int64_t>(std::llround(seconds * 1e9));
  }
  std::tm tm{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (rest == nullptr || *rest != '\0') return std::nullopt;
  return static_cast<int64_t>(timegm(&tm)) * 1'000'000'000;
}

}  // namespace

int main(int argc, char** argv) {
  lgs::station::StationOptions options;
  std::string mission_epoch;
  CLI::App app{
      "Lunar rover ground station: receives CCSDS telemetry over ZeroMQ, verifies and decodes "
      "every packet, accounts for every sequence number and shows it live."};
  app.add_option("--connect", options.link.connect,
                 "rover telemetry endpoint(s) to subscribe to (repeatable)")
      ->capture_default_str();
  app.add_option("--secret-key", options.keys.secret_key_path,
                 "this station's CurveZMQ key pair file (gsctl keygen ground)");
  app.add_option("--rover-key", options.keys.rover_key_path,
                 "the rover's public key file: telemetry is accepted from it only");
  app.add_flag("--insecure", options.keys.insecure,
               "plain text, no authentication: anyone who answers at --connect is believed");
  app.add_option("--rover-id", options.rover_id, "rover whose telemetry to receive")
      ->capture_default_str();
  app.add_option("--jsonl", options.view.jsonl_path,
                 "write one JSON line per accepted packet to FILE, - for stdout");
  app.add_option("--summary-json", options.view.summary_json_path,
                 "write the final link summary as JSON to FILE, - for stdout");
  app.add_option("--duration", options.duration_s, "stop by itself after SECONDS")
      ->check(CLI::PositiveNumber);
  app.add_option("--stats-interval", options.view.stats_interval_s,
                 "seconds between link-statistics lines, 0 for none")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--print-interval", options.view.print_interval_s,
                 "at most one telemetry line per stream per SECONDS (0 = every packet)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  bool quiet = false;
  app.add_flag("--quiet", quiet, "do not print decoded telemetry lines");
  app.add_option("--reject-log-interval", options.view.reject_log_interval_s,
                 "log each rejection reason at most once per SECONDS")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--light-time", options.light_time_s,
                 "one-way light time in SECONDS, subtracted from the reported latency")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 60.0));
  app.add_option("--link-schedule", options.link_schedule_path,
                 "the relay's expected outages (a YAML pass plan, or a rover-emulator scenario's "
                 "link section): the console predicts the next loss and acquisition of signal")
      ->check(CLI::ExistingFile);
  app.add_option("--sun-schedule", options.sun_schedule_path,
                 "the site's predicted shadows (a YAML illumination plan, as rover_emulator "
                 "--write-sun-plan writes): the console predicts the next loss and return of sun")
      ->check(CLI::ExistingFile);
  app.add_option("--mission-epoch", mission_epoch,
                 "the mission clock's epoch, on-board time: UTC as 2026-12-07T06:00:00Z or Unix "
                 "seconds (default: the oldest on-board time this run sees)")
      ->check([](const std::string& text) {
        return ParseEpochNs(text) ? std::string()
                                  : "expected UTC as YYYY-MM-DDTHH:MM:SSZ or Unix seconds";
      });
  app.add_option("--silence-timeout", options.link.watch.silence_timeout_s,
                 "a connected rover silent for SECONDS is reported (link.silence_s) and "
                 "reconnected")
      ->capture_default_str();
  uint64_t max_message_size = static_cast<uint64_t>(options.link.max_message_bytes);
  app.add_option("--max-message-size", max_message_size,
                 "messages larger than this are dropped with their connection (which the station "
                 "then reconnects); smaller oversized ones are counted as message_too_large")
      ->capture_default_str()
      ->transform(CLI::AsSizeValue(false));
  app.add_option("--idle-exit", options.link.idle_exit_s,
                 "stop once telemetry has arrived and then none for SECONDS")
      ->check(CLI::PositiveNumber);
  app.add_option("--record", options.recorder.directory,
                 "record everything received into MCAP files in DIR (created if missing)");
  app.add_flag("--resume", options.resume,
               "continue the recordings in the --record directory: do not record again what "
               "they hold, count (and with --gap-fill ask for) what is missing between them");
  std::string compression = "zstd";
  app.add_option("--compression", compression, "recording chunk compression: none, zstd or lz4")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "zstd", "lz4"}));
  app.add_option("--flush-interval", options.recorder.flush_interval_s,
                 "write the open chunk to disk at least every SECONDS")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  bool no_fsync = false;
  app.add_flag("--no-fsync", no_fsync, "do not fsync after each chunk (faster, less durable)");
  uint64_t split_size = lgs::station::kDefaultSplitSizeBytes;
  app.add_option("--split-size", split_size,
                 "start a new recording file after this many bytes (e.g. 500MB; 0 = never)")
      ->capture_default_str()
      ->transform(CLI::AsSizeValue(false));
  double split_duration = lgs::station::kDefaultSplitDurationS;
  app.add_option("--split-duration", split_duration,
                 "start a new recording file every SECONDS (0 = never)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9));
  app.add_option("--chunk-size", options.recorder.writer.chunk_size,
                 "close a chunk at this many uncompressed bytes")
      ->capture_default_str()
      ->transform(CLI::AsSizeValue(false));
  app.add_option("--products", options.products.directory,
                 "keep the files the rover sends over CFDP (images) in DIR, each with a JSON "
                 "sidecar; with --gap-fill or --command the station also answers the rover's CFDP "
                 "(NAKs for what was lost, ACKs, Finished)");
  app.add_option("--cfdp-retry", options.products.retry_interval_s,
                 "seconds between CFDP NAKs and Finished resends (0 = 2 x light time + 1 s)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--gap-fill", options.gap_fill.enabled,
               "ask the rover to retransmit what the link lost (needs its command endpoint)");
  app.add_option("--uplink", options.gap_fill.uplink,
                 "the rover's command endpoint (retransmit requests and commands)")
      ->capture_default_str();
  app.add_option("--source-id", options.gap_fill.source_id,
                 "this station's id in the telecommands it sends")
      ->capture_default_str();
  app.add_option("--tail-probe", options.gap_fill.tail_probe_s,
                 "ask a stream quiet for SECONDS for anything newer (finds losses at the end of a "
                 "pass; 0 = never)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--command", options.commanding.enabled,
               "accept operators' commands (gsctl command) on the control channel, validate, "
               "uplink and track them (needs the rover's command endpoint, --uplink)");
  app.add_option("--control", options.commanding.control.endpoint,
                 "control channel endpoint (default: ipc:// in a 0700 directory, "
                 "$XDG_RUNTIME_DIR/lunar-gs or /tmp/lunar-gs-UID)");
  app.add_option("--control-token", options.commanding.control.token_path,
                 "file the control channel's token is written to (0600; default beside the "
                 "default endpoint)");
  app.add_flag("--control-remote", options.commanding.control.allow_remote,
               "allow a --control endpoint that is not ipc:// or loopback (the token is then "
               "the only guard)");
  app.add_option("--command-sends", options.commanding.tracker.max_sends,
                 "sends of a telecommand before it times out (resends carry the same request "
                 "id; the rover executes it once)")
      ->capture_default_str()
      ->check(CLI::Range(1, 20));
  app.add_option("--uplink-timeout", options.commanding.tracker.uplink_timeout_s,
                 "a command the uplink has not taken within SECONDS times out")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--acceptance-margin", options.commanding.tracker.acceptance_margin_s,
                 "SECONDS beyond the round-trip light time to wait for acceptance before resending")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  std::string limits = "";
  app.add_option("--limits", limits,
                 "limit definitions (YAML, see groundstation/limits/default.yaml); 'none' = no "
                 "limit checking (default: the built-in set)");
  auto* http = app.add_option("--http", options.web.address,
                              "HTTP API (and web UI) address:port, 'none' = off; not loopback "
                              "needs --http-remote")
                   ->capture_default_str();
  app.add_flag("--http-remote", options.web.remote,
               "allow a --http address other than loopback; requests then need the token "
               "written to --http-token");
  app.add_option("--http-token", options.web.token_path,
                 "file the HTTP token is written to (0600); with it every HTTP request needs the "
                 "token, on loopback too (always with --http-remote)");
  app.add_option("--web-root", options.web.web_root,
                 "directory of the web UI's page and plugin (default: the source tree's "
                 "groundstation/web/ui)")
      ->check(CLI::ExistingDirectory);
  app.add_option("--openmct-root", options.web.openmct_root,
                 "directory of Open MCT's dist/ (default: node_modules/openmct/dist, installed by "
                 "tools/setup)")
      ->check(CLI::ExistingDirectory);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  lgs::cli::CheckNumbers(app);
  CLI11_PARSE(app, argc, argv);
  if (!mission_epoch.empty()) options.mission_epoch_ns = *ParseEpochNs(mission_epoch);
  options.view.print_telemetry = !quiet;
  options.link.max_message_bytes =
      static_cast<int64_t>(std::min<uint64_t>(max_message_size, 1ULL << 40));
  options.web.address_explicit = http->count() > 0;
  options.limits.enabled = limits != "none";
  if (limits != "none") options.limits.path = limits;
  options.recorder.writer.compression = *lgs::protocol::ParseMcapCompression(compression);
  options.recorder.writer.sync_on_chunk = !no_fsync;
  options.recorder.split_size_bytes =
      split_size > 0 ? std::optional<uint64_t>(split_size) : std::nullopt;
  options.recorder.split_duration_s =
      split_duration > 0 ? std::optional<double>(split_duration) : std::nullopt;

  // Log lines go to stderr so stdout stays clean for telemetry and JSON.
  auto logger = spdlog::stderr_color_mt("station");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%^[station %H:%M:%S.%e] %l:%$ %v");
  lgs::protocol::RouteProtobufLogging(
      [](lgs::protocol::ProtobufLogLevel, std::string_view line) { spdlog::warn("{}", line); },
      options.view.reject_log_interval_s);

  lgs::cli::SpdlogLogger log;
  options.log = &log;
  lgs::station::Station station(options);
  auto result = [&] {
    const lgs::cli::StopSignals signals([&](int signal) {
      log.Info("{} received: stopping", lgs::cli::StopSignals::Name(signal));
      station.Stop();
    });
    return station.Run();
  }();
  if (!result.ok()) {
    spdlog::error("{}", result.error().message());
    return 1;
  }
  return 0;
}
