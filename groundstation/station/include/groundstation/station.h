// Station: the ground station, composed from StationOptions. An ingest thread receives
// [topic][packet] messages from the rover's publisher, verifies and decodes them, accounts for
// every sequence number and hands each accepted packet to the pipeline of sinks (recorder,
// realtime, alarms, commanding, JSON lines, terminal view); the Asio thread (the caller of Run())
// handles the statistics line, the terminal, the duration timer, HTTP and WebSocket, and — when
// asked for — the uplink: gap fill's retransmit requests and operators' commands from the control
// channel. Signals belong to the program (main() calls Stop()).
//
// Run() returns after Stop() or the duration: everything already received is processed and
// flushed first. Stop() is thread-safe; the rest is for the thread that calls Run().
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "groundstation/alarm_manager.h"
#include "groundstation/command_tracker.h"
#include "groundstation/gap_filler.h"
#include "groundstation/link_accounting.h"
#include "groundstation/link_watch.h"
#include "groundstation/realtime.h"
#include "groundstation/recorder.h"
#include "protocol/logger.h"
#include "protocol/status.h"

namespace lgs::station {

struct StationOptions {
  // Where the station and its parts log (not owned; must outlive Run()); null = nothing logged.
  // The program gives an adapter to spdlog (tools/cli/spdlog_logger.h).
  Logger* log = nullptr;
  std::vector<std::string> connect = {"tcp://127.0.0.1:5555"};  // rover publishers
  std::string rover_id = "rover1";
  // CurveZMQ: this station's key pair and the rover's public key (the only server it accepts
  // telemetry from). Plain text only with `insecure` (which warns on every start).
  std::string secret_key_path;
  std::string rover_key_path;
  bool insecure = false;
  std::string jsonl_path;              // "" none, "-" stdout
  std::string summary_json_path;       // final summary as JSON; "" none, "-" stdout
  std::optional<double> duration_s;    // stop by itself after this long
  double stats_interval_s = 5.0;       // periodic link-statistics line; 0 = none
  double print_interval_s = 1.0;       // at most one telemetry line per stream per interval
  bool print_telemetry = true;         // decoded telemetry lines on stdout
  double reject_log_interval_s = 5.0;  // each rejection reason logged at most once per interval
  double light_time_s = 1.28;          // one-way light time, subtracted from latency
  // Stop by itself once packets have arrived and then none for this long (replays, benchmarks).
  std::optional<double> idle_exit_s;
  // ZeroMQ receive side. The HWM is high because the SUB queue is the only buffer between the
  // kernel and the ingest thread: at 100k packets/s it absorbs about a second of stall.
  int receive_hwm = 100'000;
  // Anything above this is dropped by libzmq at the connection (which it then closes and does
  // not retry: LinkWatch connects again). It sits well above the largest legal packet (64 KiB)
  // so that oversized but bounded messages still reach the decoder and are counted and reported
  // by reason, and low enough that the receive queue (receive_hwm messages) cannot hold more
  // than that many times this.
  int64_t max_message_bytes = 1LL << 20;
  // Silence and drops on the telemetry link: detected, reported, reconnected.
  LinkWatchOptions link_watch;
  size_t view_queue_depth = 1024;
  // Recording: on when recorder.directory is set (rover_id is copied from above).
  RecorderOptions recorder;
  // Continue the recordings already in recorder.directory: what they hold is not recorded again
  // and the holes in them (this station was down) are missing, for gap fill to ask for. Torn
  // files there are recovered in place on every start, resuming or not.
  bool resume = false;
  // Gap fill: retransmit requests to the rover over the uplink (off unless asked for: a station
  // listening to a relayed feed or a replay must not command the rover).
  GapFillOptions gap_fill;
  // Commanding: operators' commands from the local control channel (gsctl command), validated,
  // uplinked (the endpoint and source id are gap_fill's) and tracked to completion. Off unless
  // asked for, like gap fill.
  struct Commanding {
    bool enabled = false;
    std::string control_endpoint;   // "" = transport::DefaultControlEndpoint(rover_id)
    std::string token_path;         // "" = transport::DefaultControlTokenPath(rover_id)
    bool allow_remote = false;      // a control endpoint that is not ipc:// or loopback
    CommandTrackerOptions tracker;  // source id and light time are copied from above
  } commanding;
  // Limits checked on every sample ("" = the built-in set, groundstation/limits/default.yaml);
  // alarms are printed, recorded on /ground/alarms and acknowledged over the control channel.
  bool limits_enabled = true;
  std::string limits_path;
  // The web endpoint (HTTP API; the Open MCT front end builds on it). Loopback by default; any
  // other address needs `http_remote` and then every request must carry the token written to
  // `http_token_path` (Authorization: Bearer ...). A default endpoint that cannot be bound (another
  // station has it) is a warning; one asked for explicitly is an error.
  std::string http = "127.0.0.1:8080";  // "none" = off
  bool http_explicit = false;
  bool http_remote = false;
  // "" = <control directory>/<rover>.http-token; given, the token is needed on loopback too.
  std::string http_token_path;
  // The web UI's files: our page and plugin, and Open MCT's distribution ("" = the copies in
  // the source tree, groundstation/web/ui and node_modules/openmct/dist, installed by tools/setup).
  std::string web_root;
  std::string openmct_root;
  RealtimeOptions realtime;

  Status Validate() const;
};

class Station {
 public:
  explicit Station(StationOptions options);
  ~Station();

  // Runs until stopped; returns the final link statistics.
  Result<LinkSnapshot> Run();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lgs::station
