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
#include "groundstation/control_server.h"
#include "groundstation/gap_filler.h"
#include "groundstation/limits.h"
#include "groundstation/link_accounting.h"
#include "groundstation/product_sink.h"
#include "groundstation/recorder.h"
#include "groundstation/telemetry_link.h"
#include "groundstation/web_server.h"
#include "protocol/logger.h"
#include "protocol/status.h"

namespace lgs::station {

// The station's own keys and the rover's (CurveZMQ on the telemetry link and the uplink).
struct KeyOptions {
  std::string secret_key_path;  // this station's key pair
  std::string rover_key_path;   // the rover's public key: the only server believed
  bool insecure = false;        // plain text (warned about on every start)

  [[nodiscard]] Status Validate() const;
};

// What the station prints and writes besides the recording.
struct ViewOptions {
  std::string jsonl_path;              // one JSON line per accepted packet; "" none, "-" stdout
  std::string summary_json_path;       // final summary as JSON; "" none, "-" stdout
  double stats_interval_s = 5.0;       // periodic link-statistics line; 0 = none
  double print_interval_s = 1.0;       // at most one telemetry line per stream per interval
  bool print_telemetry = true;         // decoded telemetry lines on stdout
  double reject_log_interval_s = 5.0;  // each rejection reason logged at most once per interval
  size_t queue_depth = 1024;           // lines waiting for the terminal, at most

  [[nodiscard]] Status Validate() const;
};

// Operators' commands from the local control channel (gsctl command, the web), validated,
// uplinked (the endpoint and source id are gap fill's) and tracked to completion.
struct CommandingOptions {
  bool enabled = false;
  ControlOptions control;         // also used without commanding, to acknowledge alarms
  CommandTrackerOptions tracker;  // source id and light time are copied from the station's

  [[nodiscard]] Status Validate() const;
};

struct StationOptions {
  // Where the station and its parts log (not owned; must outlive Run()); null = nothing logged.
  // The program gives an adapter to spdlog (tools/cli/spdlog_logger.h).
  Logger* log = nullptr;
  std::string rover_id = "rover1";
  double light_time_s = 1.28;  // one-way light time, subtracted from latency
  // The console's pass plan (groundstation/link_schedule.h), read at start: "" = none.
  std::string link_schedule_path;
  // The console's illumination plan (SunSchedule in groundstation/link_schedule.h): "" = none.
  std::string sun_schedule_path;
  // The mission clock's epoch, Unix ns of on-board time: 0 = the oldest on-board time this
  // run has seen. The link schedule's mission times count from it.
  int64_t mission_epoch_ns = 0;
  std::optional<double> duration_s;  // stop by itself after this long
  LinkOptions link;                  // the telemetry link (the ingest thread)
  KeyOptions keys;
  ViewOptions view;
  // Recording: on when recorder.directory is set (rover_id is copied from above).
  RecorderOptions recorder;
  // Continue the recordings already in recorder.directory: what they hold is not recorded again
  // and the holes in them (this station was down) are missing, for gap fill to ask for. Torn
  // files there are recovered in place on every start, resuming or not.
  bool resume = false;
  // Gap fill: retransmit requests to the rover over the uplink (off unless asked for: a station
  // listening to a relayed feed or a replay must not command the rover).
  GapFillOptions gap_fill;
  CommandingOptions commanding;  // off unless asked for, like gap fill
  // Limits checked on every sample; alarms are printed, recorded on /ground/alarms and
  // acknowledged over the control channel or the web.
  LimitOptions limits;
  WebOptions web;  // the HTTP API and the Open MCT UI
  // Files over CFDP (images): kept in products.directory with JSON sidecars. The station answers
  // the rover's CFDP (NAK, ACK, Finished) over the uplink when it has one (gap fill or
  // commanding on); otherwise it only listens.
  ProductOptions products;

  // Every part's options, and how they fit together.
  [[nodiscard]] Status Validate() const;
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
