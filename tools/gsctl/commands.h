// The gsctl subcommands: each takes its parsed options and returns the process exit code.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace lgs::gsctl {

struct InfoOptions {
  std::vector<std::string> files;
  bool json = false;  // one JSON object per file, a line each
};
int RunInfo(const InfoOptions& options);

struct VerifyOptions {
  std::string file;
  bool json = false;
};
int RunVerify(const VerifyOptions& options);

struct KeygenOptions {
  std::string name;
  std::string dir = "keys";
  bool force = false;
  bool json = false;
};
int RunKeygen(const KeygenOptions& options);

// Where a running station's control channel is (both default to the station's own defaults).
struct ControlOptions {
  std::string rover_id = "rover1";
  std::string control;     // "" = the station's default for rover_id
  std::string token_path;  // "" = the station's default for rover_id
  double connect_timeout_s = 5.0;
};

struct CommandOptions : ControlOptions {
  std::string name;
  std::vector<std::string> arguments;  // NAME=VALUE
  std::string file;                    // a plan: steps run in order, each after the last completed
  bool confirm = false;                // hazardous commands
  bool no_wait = false;                // return once released to the uplink
  bool json = false;                   // one JSON object per stage
  bool list = false;                   // print the command dictionary
  bool status = false;                 // print the station's recent command history
};
int RunCommand(const CommandOptions& options);

struct AlarmsOptions : ControlOptions {
  std::string ack;  // an alarm id, or "all"; "" = list only
  std::string by;   // who acknowledges ("" = $USER)
  bool json = false;
};
int RunAlarms(const AlarmsOptions& options);

// The running station's products, over its web endpoint.
struct ProductsOptions {
  std::string url = "http://127.0.0.1:8080";
  std::string token_path;  // the station's --http-token file, when it asks for one
  double timeout_s = 10.0;
  size_t limit = 200;  // kept products listed
  bool json = false;
  bool get = false;  // `products get ID --out FILE`
  std::string id, out;
};
int RunProducts(const ProductsOptions& options);

// The site map and traverse from recordings.
struct MapOptions {
  std::vector<std::string> files;
  std::string layer = "elevation";
  std::string format;    // "" = from out's extension
  std::string out;       // the layer's file; "" = none
  std::string traverse;  // GeoJSON file, "-" = stdout, "" = none
  std::string site;      // "LAT,LON"; "" = from the poses
  std::string site_name = "landing site";
  double sun_azimuth_deg = 315.0, sun_elevation_deg = 45.0;
  std::optional<std::string> start, end;
  bool json = false;
};
int RunMap(const MapOptions& options);

struct IndexOptions {
  std::vector<std::string> paths;  // recordings and directories of them
  bool force = false;              // rebuild valid archives too
  bool check = false;              // only say which are valid
  unsigned jobs = 2;
  bool json = false;
};
int RunIndex(const IndexOptions& options);

struct SceneOptions {
  std::string in, out;
  bool json = false;
};
int RunScene(const SceneOptions& options);

struct RecoverOptions {
  std::string broken;
  std::string out;
  std::string compression = "zstd";
  bool json = false;
};
int RunRecover(const RecoverOptions& options);

struct CatOptions {
  std::vector<std::string> files;  // recordings and directories of them
  std::vector<std::string> topics;
  std::optional<std::string> start, end;
  bool json = false;
};
int RunCat(const CatOptions& options);

struct ExportOptions {
  std::vector<std::string> files;  // recordings and directories of them
  std::string format = "csv";
  std::string out;
  std::string images;   // reassemble the files delivered over CFDP into this directory
  std::string science;  // one CSV per soil measurement and index.csv into this directory
  std::vector<std::string> topics;
  std::optional<std::string> start, end;
};
int RunExport(const ExportOptions& options);

struct ReplayOptions {
  std::vector<std::string> files;
  double speed = 1.0;
  bool max = false;
  std::optional<std::string> start, end;
  std::vector<std::string> topics;
  bool loop = false;
  std::string bind = "tcp://127.0.0.1:5555";
  int wait_for_subscribers = 0;
  double subscriber_timeout_s = 30.0;
  int send_hwm = 100'000;
  // CurveZMQ, as the rover: the key pair the replay proves itself with (the stations it feeds
  // must trust its public key as the rover's) and the stations' public keys it admits.
  std::string secret_key_path;
  std::vector<std::string> allowed_key_paths;
  bool insecure = false;
};
int RunReplay(const ReplayOptions& options);

struct BenchOptions {
  bool quick = false;  // a few seconds: a smoke run of the harness
  bool json = false;
  std::string transport = "tcp";            // tcp (127.0.0.1) or ipc
  uint64_t packets = 2'000'000;             // per throughput run
  uint64_t memory_packets = 10'000'000;     // the paced full-pipeline run that samples RSS
  double latency_seconds = 5.0;             // per fixed-rate latency run
  size_t web_clients = 20;                  // WebSocket clients for the web rows (0 = none)
  double downlink_speed = 2.0;              // the images section's emulator speed
  std::vector<int> archive_days = {1, 30};  // the archive section's sizes
  std::string keep_archive;  // move the archive section's recordings here, not delete them
  // Sections to run (ceiling, pipeline, replay, latency, web); empty = all. A throughput row
  // always brings the default-mix ceiling with it: its ratio is to a ceiling of the same run.
  std::vector<std::string> only;
  std::string station;  // groundstation binary; default: next to gsctl's build tree
  std::string self;     // this gsctl, for its bench-sink and replay children
};
int RunBench(const BenchOptions& options);

struct BenchSinkOptions {
  std::string connect;
  uint64_t count = 0;
  double timeout_s = 10.0;
  bool latency = false;  // packets carry their send time as on-board time
};
int RunBenchSink(const BenchSinkOptions& options);

}  // namespace lgs::gsctl
