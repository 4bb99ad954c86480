// gsctl: the ground station's command-line tool. One binary, one subcommand per job.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "common.h"
#include "groundstation/site_mosaic.h"
#include "lgs_cli.h"
#include "protocol/protobuf_log.h"

namespace {
int Run(int argc, char** argv);
}  // namespace

int main(int argc, char** argv) {
  // A failure nobody foresaw is still one readable line and an exit code, never an abort.
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gsctl: internal error: %s\n", e.what());
    return lgs::gsctl::kExitFailure;
  }
}

namespace {
int Run(int argc, char** argv) {
  using namespace lgs::gsctl;
  // Library logs (the recorder's, in bench) go to stderr: stdout carries data and JSON.
  spdlog::set_default_logger(spdlog::stderr_color_mt("gsctl"));
  spdlog::set_level(spdlog::level::warn);
  lgs::protocol::RouteProtobufLogging(
      [](lgs::protocol::ProtobufLogLevel, std::string_view line) { spdlog::warn("{}", line); });
  CLI::App app{
      "gsctl: command the rover through the station; inspect, check, repair, export and replay "
      "ground station recordings (MCAP)"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "help for every subcommand");

  InfoOptions info;
  auto* info_cmd = app.add_subcommand(
      "info",
      "duration, start/end, per-channel counts, rates, bytes, compression and sequence gaps");
  info_cmd->add_option("FILE", info.files, "recordings (each in turn)")->required();
  info_cmd->add_flag("--json", info.json, "one JSON object per file, a line each, on stdout");

  VerifyOptions verify;
  auto* verify_cmd = app.add_subcommand(
      "verify", "check every CRC, index and count; exit 0 only when the file is sound");
  verify_cmd->add_option("FILE", verify.file, "recording")->required();
  verify_cmd->add_flag("--json", verify.json, "one JSON object on stdout");

  RecoverOptions recover;
  auto* recover_cmd = app.add_subcommand(
      "recover",
      "write a complete, indexed copy of a torn or damaged recording, saying what was lost");
  recover_cmd->add_option("BROKEN", recover.broken, "torn or damaged recording")->required();
  recover_cmd->add_option("OUT", recover.out, "where to write the recovered file")->required();
  recover_cmd->add_option("--compression", recover.compression, "none, zstd or lz4")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "zstd", "lz4"}));
  recover_cmd->add_flag("--json", recover.json, "one JSON object on stdout");

  CatOptions cat;
  auto* cat_cmd = app.add_subcommand("cat", "decoded messages as compact text or JSON lines");
  cat_cmd
      ->add_option("FILE", cat.files,
                   "recordings, or directories of them (read in the order they were started)")
      ->required();
  cat_cmd->add_option("--topics", cat.topics, "channels (/rover1/soil) or stream names (soil)");
  cat_cmd->add_option("--start", cat.start, "from this time: ISO 8601 UTC or +OFFSET (+90s, +2m)");
  cat_cmd->add_option("--end", cat.end, "up to this time: ISO 8601 UTC or +OFFSET");
  cat_cmd->add_flag("--json", cat.json, "JSON lines, the shape of the station's --jsonl");

  ExportOptions exp;
  auto* export_cmd = app.add_subcommand("export", "one CSV or JSON-lines file per channel");
  export_cmd
      ->add_option("FILE", exp.files,
                   "recordings, or directories of them (one output file per channel for all)")
      ->required();
  export_cmd->add_option("--format", exp.format, "csv or jsonl")
      ->capture_default_str()
      ->check(CLI::IsMember({"csv", "jsonl"}));
  export_cmd->add_option("--out", exp.out, "output directory (created if missing)");
  export_cmd->add_option("--images", exp.images,
                         "reassemble every file the rover delivered over CFDP (images) from the "
                         "recorded PDUs into DIR, each with a JSON sidecar (created if missing)");
  export_cmd->add_option("--science", exp.science,
                         "every soil measurement into DIR as a tidy CSV pandas reads as it is "
                         "(VNIS: wavelength and reflectance; APXS: oxides; neutron: counts and "
                         "WEH), each row with time, position and settings, and index.csv");
  export_cmd->add_option("--topics", exp.topics, "channels or stream names to export");
  export_cmd->add_option("--start", exp.start, "from this time: ISO 8601 UTC or +OFFSET");
  export_cmd->add_option("--end", exp.end, "up to this time: ISO 8601 UTC or +OFFSET");

  MapOptions map;
  auto* map_cmd = app.add_subcommand(
      "map",
      "the site map from recordings' terrain tiles as a georeferenced GeoTIFF or PNG (the IAU 2015 "
      "Moon, centred on the landing site), and the traverse as GeoJSON");
  map_cmd->add_option("FILE", map.files, "recordings (tiles merge, the newest per cell)")
      ->required();
  map_cmd->add_option("--layer", map.layer, lgs::station::MapLayerNames())->capture_default_str();
  map_cmd->add_option("--format", map.format, "geotiff or png (default: from --out's extension)");
  map_cmd->add_option("--out", map.out, "the layer's file");
  map_cmd->add_option("--traverse", map.traverse,
                      "the traverse (poses, soil-measurement sites, image footprints) as "
                      "GeoJSON to FILE, - for stdout");
  map_cmd->add_option("--site", map.site,
                      "LAT,LON of the site frame's origin, selenographic degrees (default: what "
                      "the rover's poses say)");
  map_cmd->add_option("--site-name", map.site_name, "the site's name in the CRS")
      ->capture_default_str();
  map_cmd->add_option("--sun-azimuth", map.sun_azimuth_deg, "hillshade light, degrees from north")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 360.0));
  map_cmd->add_option("--sun-elevation", map.sun_elevation_deg, "hillshade light, degrees")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 90.0));
  map_cmd->add_option("--start", map.start, "from this time: ISO 8601 UTC or +OFFSET");
  map_cmd->add_option("--end", map.end, "up to this time: ISO 8601 UTC or +OFFSET");
  map_cmd->add_flag("--json", map.json, "a JSON summary on stdout");

  IndexOptions index;
  auto* index_cmd = app.add_subcommand(
      "index",
      "build the parameter archive of recordings (DIR/archive/*.lgsarc: per-minute to per-day "
      "summaries of every numeric field, which history answers long ranges from); recordings "
      "whose archive is valid are left as they are");
  index_cmd->add_option("PATH", index.paths, "recording directories and recordings")->required();
  index_cmd->add_flag("--force", index.force, "rebuild valid archives too");
  index_cmd->add_flag("--check", index.check,
                      "build nothing: list the recordings without a valid archive (exit 1 if any)");
  index_cmd->add_option("--jobs", index.jobs, "recordings summarized at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  index_cmd->add_flag("--json", index.json, "a JSON summary on stdout");

  SceneOptions scene;
  auto* scene_cmd = app.add_subcommand(
      "scene",
      "a copy of a recording with the Foxglove channels a station records (/ROVER/tf, /pose, "
      "/scene, /log: transforms, the 3D scene, the log), made from its telemetry");
  scene_cmd->add_option("FILE", scene.in, "the recording")->required();
  scene_cmd->add_option("--out", scene.out, "the copy")->required();
  scene_cmd->add_flag("--json", scene.json, "a JSON summary on stdout");

  ReplayOptions replay;
  auto* replay_cmd = app.add_subcommand(
      "replay", "publish recorded telemetry again, byte for byte, paced like the recording");
  replay_cmd->add_option("FILE", replay.files, "recordings (several merge by time)")->required();
  auto* speed = replay_cmd->add_option("--speed", replay.speed, "pace: recorded time / wall time")
                    ->capture_default_str()
                    ->check(CLI::Range(0.01, 1000.0));
  replay_cmd->add_flag("--max", replay.max, "as fast as subscribers take it")->excludes(speed);
  replay_cmd->add_option("--start", replay.start, "from this time: ISO 8601 UTC or +OFFSET");
  replay_cmd->add_option("--end", replay.end, "up to this time: ISO 8601 UTC or +OFFSET");
  replay_cmd->add_option("--topics", replay.topics, "channels or stream names to replay");
  replay_cmd->add_flag("--loop", replay.loop, "start again at the end until interrupted");
  replay_cmd->add_option("--secret-key", replay.secret_key_path,
                         "CurveZMQ key pair to publish with (stations must trust its public key "
                         "as the rover's, e.g. keys/rover.key)");
  replay_cmd->add_option("--allow-key", replay.allowed_key_paths,
                         "public key of a station allowed to subscribe (repeatable)");
  replay_cmd->add_flag("--insecure", replay.insecure, "publish in plain text to anyone (warns)");
  replay_cmd->add_option("--bind", replay.bind, "ZeroMQ endpoint to publish on")
      ->capture_default_str();
  replay_cmd
      ->add_option("--wait-for-subscribers", replay.wait_for_subscribers,
                   "hold the replay until N subscribers have joined")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  replay_cmd
      ->add_option("--subscriber-timeout", replay.subscriber_timeout_s,
                   "give up waiting for subscribers after SECONDS")
      ->capture_default_str();

  BenchOptions bench;
  auto* bench_cmd = app.add_subcommand(
      "bench", "measure raw ZeroMQ, the station's full pipeline, replay, latency and memory");
  bench_cmd->add_flag("--quick", bench.quick, "a smoke run of a few seconds");
  bench_cmd->add_flag("--json", bench.json, "one JSON object on stdout");
  bench_cmd->add_option("--transport", bench.transport, "tcp (127.0.0.1) or ipc")
      ->capture_default_str()
      ->check(CLI::IsMember({"tcp", "ipc"}));
  bench_cmd->add_option("--packets", bench.packets, "packets per throughput run")
      ->capture_default_str();
  bench_cmd
      ->add_option("--memory-packets", bench.memory_packets,
                   "packets in the memory run (the full pipeline paced at half its measured rate)")
      ->capture_default_str();
  bench_cmd->add_option("--latency-seconds", bench.latency_seconds, "length of each latency run")
      ->capture_default_str();
  bench_cmd->add_option("--station", bench.station, "groundstation binary to measure");
  bench_cmd
      ->add_option("--web-clients", bench.web_clients,
                   "WebSocket clients subscribed to every field for the web rows (0 = skip them)")
      ->capture_default_str();
  bench_cmd
      ->add_option("--archive-days", bench.archive_days,
                   "--only archive: the sizes of the synthesized mission, in days (hourly files "
                   "of the default mix; about 110 MB a day)")
      ->capture_default_str()
      ->delimiter(',');
  bench_cmd->add_option("--keep-archive", bench.keep_archive,
                        "--only archive: move the synthesized recordings (and their archive) to "
                        "this new directory instead of deleting them, e.g. to open them in a "
                        "station and a browser");
  bench_cmd
      ->add_option("--downlink-speed", bench.downlink_speed,
                   "the emulator's --speed for the products section (rendering must keep up)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  bench_cmd
      ->add_option("--only", bench.only,
                   "run only these sections, comma-separated: ceiling, pipeline, replay, latency, "
                   "web (throughput rows bring the default-mix ceiling with them); products "
                   "(a navcam panorama over CFDP, about a minute) and archive (history over "
                   "synthesized months of recordings, see --archive-days) only run when named")
      ->delimiter(',')
      ->check(CLI::IsMember(
          {"ceiling", "pipeline", "replay", "latency", "web", "products", "archive"}));

  KeygenOptions keygen;
  auto* keygen_cmd = app.add_subcommand(
      "keygen", "make a CurveZMQ key pair: DIR/NAME.key (secret, mode 0600) and DIR/NAME.pub");
  keygen_cmd->add_option("name", keygen.name, "key name, e.g. rover or ground")->required();
  keygen_cmd->add_option("--dir", keygen.dir, "directory for the key files")->capture_default_str();
  keygen_cmd->add_flag("--force", keygen.force, "replace existing key files");
  keygen_cmd->add_flag("--json", keygen.json, "print the file names and public key as JSON");

  CommandOptions command;
  auto* command_cmd = app.add_subcommand(
      "command",
      "send a command to the rover through the running station and follow it to completion "
      "(exit 0 only on success); --list shows every command and its arguments");
  command_cmd->add_option("NAME", command.name, "command, e.g. drive");
  command_cmd->add_option("ARGS", command.arguments, "arguments as NAME=VALUE, e.g. distance_m=2");
  command_cmd->add_option("--file", command.file,
                          "run a plan (YAML list of {command, args}): each step after the last "
                          "completed, stopping at the first that does not");
  command_cmd->add_flag("--confirm", command.confirm, "send hazardous commands (hibernate)");
  command_cmd->add_flag("--no-wait", command.no_wait, "return once the station released it");
  command_cmd->add_flag("--json", command.json, "one JSON object per stage on stdout");
  command_cmd->add_flag("--list", command.list, "print the command dictionary");
  command_cmd->add_flag("--status", command.status,
                        "print the station's last 100 commands and where each one is");
  command_cmd->add_option("--rover-id", command.rover_id, "rover whose station to use")
      ->capture_default_str();
  command_cmd->add_option("--control", command.control,
                          "the station's control endpoint (default: its ipc:// socket)");
  command_cmd->add_option("--control-token", command.token_path,
                          "the station's control token file (default: beside its socket)");
  command_cmd
      ->add_option("--connect-timeout", command.connect_timeout_s,
                   "give up when the station has not answered within SECONDS")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);

  AlarmsOptions alarms;
  auto* alarms_cmd = app.add_subcommand(
      "alarms", "the running station's unresolved alarms; --ack ID (or all) acknowledges");
  alarms_cmd->add_option("--ack", alarms.ack, "acknowledge this alarm id, or 'all'");
  alarms_cmd->add_option("--by", alarms.by, "who acknowledges (default: $USER)");
  alarms_cmd->add_flag("--json", alarms.json, "the station's answer as JSON");
  alarms_cmd->add_option("--rover-id", alarms.rover_id, "rover whose station to use")
      ->capture_default_str();
  alarms_cmd->add_option("--control", alarms.control,
                         "the station's control endpoint (default: its ipc:// socket)");
  alarms_cmd->add_option("--control-token", alarms.token_path,
                         "the station's control token file (default: beside its socket)");
  alarms_cmd
      ->add_option("--connect-timeout", alarms.connect_timeout_s,
                   "give up when the station has not answered within SECONDS")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);

  ProductsOptions products;
  auto* products_cmd = app.add_subcommand(
      "products",
      "the running station's file transfers (progress, rate, ETA) and kept products, newest "
      "first; 'products get ID --out FILE' fetches one");
  const auto web_options = [&](CLI::App* c) {
    c->add_option("--url", products.url, "the station's web endpoint")->capture_default_str();
    c->add_option("--http-token", products.token_path,
                  "the station's HTTP token file (when it asks for one: --http-remote or "
                  "--http-token)");
    c->add_option("--timeout", products.timeout_s, "give up after SECONDS")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
  };
  web_options(products_cmd);
  products_cmd->add_flag("--json", products.json, "the station's answer as JSON");
  products_cmd->add_option("--limit", products.limit, "kept products to list (newest first)")
      ->capture_default_str()
      ->check(CLI::Range(1, 2000));
  auto* products_get = products_cmd->add_subcommand(
      "get", "fetch a kept product by name, or what has arrived of a transfer by ID (7-12)");
  products_get->add_option("ID", products.id, "product name or transfer id")->required();
  products_get->add_option("--out", products.out, "file to write, or - for stdout")->required();
  web_options(products_get);

  BenchSinkOptions sink;
  auto* sink_cmd = app.add_subcommand("bench-sink", "(internal) raw ZeroMQ receiver for bench");
  sink_cmd->group("");  // hidden from --help
  sink_cmd->add_option("--connect", sink.connect)->required();
  sink_cmd->add_option("--count", sink.count)->required();
  sink_cmd->add_option("--timeout", sink.timeout_s);
  sink_cmd->add_flag("--latency", sink.latency);

  lgs::cli::CheckNumbers(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints the reason (or the help); any refused argument is our "bad arguments".
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  if (bench_cmd->parsed()) return RunBench(bench);
  if (sink_cmd->parsed()) return RunBenchSink(sink);
  if (info_cmd->parsed()) return RunInfo(info);
  if (verify_cmd->parsed()) return RunVerify(verify);
  if (recover_cmd->parsed()) return RunRecover(recover);
  if (cat_cmd->parsed()) return RunCat(cat);
  if (export_cmd->parsed()) return RunExport(exp);
  if (map_cmd->parsed()) return RunMap(map);
  if (scene_cmd->parsed()) return RunScene(scene);
  if (index_cmd->parsed()) return RunIndex(index);
  if (replay_cmd->parsed()) return RunReplay(replay);
  if (keygen_cmd->parsed()) return RunKeygen(keygen);
  if (command_cmd->parsed()) return RunCommand(command);
  if (alarms_cmd->parsed()) return RunAlarms(alarms);
  if (products_cmd->parsed()) {
    products.get = products_get->parsed();
    return RunProducts(products);
  }
  return kExitUsage;
}
}  // namespace
