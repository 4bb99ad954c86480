// Station::Impl: the station's parts and what connects them, shared by the files that make up
// the station: station.cpp (start-up, the pipeline, the run loop and the summary) and
// station_events.cpp (what crosses between the threads at run time: control requests, command
// and alarm transitions, acknowledgements, the CFDP receiving entity and kept images). Private
// to groundstation/station; which thread owns what is said at the members.
#pragma once

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <zmq.hpp>

#include "groundstation/alarm_sink.h"
#include "groundstation/archive_maintainer.h"
#include "groundstation/bounded_queue.h"
#include "groundstation/commanding.h"
#include "groundstation/console_state.h"
#include "groundstation/ingest_sinks.h"
#include "groundstation/link_schedule.h"
#include "groundstation/map_sink.h"
#include "groundstation/output_file.h"
#include "groundstation/prior_recordings.h"
#include "groundstation/product_archive.h"
#include "groundstation/recorder_sink.h"
#include "groundstation/scene_sink.h"
#include "groundstation/sink.h"
#include "groundstation/station.h"
#include "groundstation/telemetry_format.h"
#include "groundstation/thread_bridge.h"
#include "groundstation/uplink.h"
#include "groundstation/uplink_sinks.h"
#include "protocol/clock.h"
#include "summary.h"
#include "transport/curve_keys.h"

namespace lgs::station {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// Work waiting in each direction of the thread bridge, at most: far beyond what a working
// station ever has waiting (a few per tick), small enough that a stuck side costs little.
inline constexpr size_t kBridgeDepth = 65'536;

struct Station::Impl final : WebBackend {
  explicit Impl(StationOptions o)
      : options(std::move(o)),
        log(OrNull(options.log)),
        accounting(
            LinkAccountingOptions{.light_time_ns = static_cast<int64_t>(options.light_time_s * 1e9),
                                  .from_zero = options.gap_fill.enabled}),
        view_queue(options.view.queue_depth),
        bridge(io, kBridgeDepth) {}

  Status Start();
  Status StartLink();
  Status StartUplink();
  Status BuildPipeline();
  std::unique_ptr<ProductSink> MakeProductSink();
  void OnControl(const std::string& peer, const control::Envelope& envelope);
  void Publish(const CommandTracker::Transitions& transitions);
  void PublishAlarms(const AlarmManager::Transitions& transitions, protocol::TimestampNs ground_ns);
  void Acknowledge(const std::string& id, const std::string& by, const std::string& peer);
  void RecordImage(const rover::v1::CameraFrame& frame, protocol::TimestampNs onboard_ns,
                   const std::string& path);
  void Every(asio::steady_timer& timer, Clock::duration interval, std::function<void()> work);
  void RequestStop();
  StationSummary Summary(const LinkSnapshot& final_stats) const;

  // WebBackend (Asio thread).
  const LimitSet* limits() const override { return alarms ? &alarms->limits() : nullptr; }
  nlohmann::json LinkStatus() const override {
    const double seconds = std::chrono::duration<double>(Clock::now() - started_at).count();
    nlohmann::json link =
        LinkSummaryJson(accounting.Snapshot(), accounting, seconds, view_queue.dropped());
    link["link"] = LinkWatchJson(link_watch_snapshot);
    return link;
  }
  nlohmann::json Alarms() const override {
    nlohmann::json list = nlohmann::json::array();
    for (const ground::v1::GroundAlarm& a : alarm_snapshot) list.push_back(AlarmJson(a));
    return list;
  }
  bool Acknowledge(const std::string& id, const std::string& by) override {
    return bridge.ToIngest([this, id, by] { Acknowledge(id, by, std::string()); });
  }
  bool commanding() const override { return commands != nullptr; }
  std::vector<control::CommandSummary> RecentCommands() const override {
    return commands->Recent();
  }
  std::pair<uint64_t, ground::v1::GroundCommand> Submit(const CommandRequest& command) override {
    return commands->Submit(command);
  }
  nlohmann::json Transfers() const override { return transfers_snapshot; }
  nlohmann::json ConsoleState(int64_t now_ns) const override;
  // Any thread (the map sink locks for the copy).
  MapSnapshot SiteMap() const override {
    if (map_sink != nullptr) return map_sink->Snapshot();
    return MapSnapshot{std::make_shared<const SiteMosaic>(), std::nullopt, 0, 0};
  }

  StationOptions options;
  Logger& log;
  asio::io_context io;
  // Everything that does I/O on `io` is declared after it, so it is destroyed before it.
  LinkAccounting accounting;
  BoundedQueue<std::string> view_queue;
  // The one way work crosses between the Asio thread and the ingest thread.
  ThreadBridge bridge;
  asio::steady_timer stats_timer{io}, view_timer{io}, duration_timer{io}, gap_timer{io},
      command_timer{io}, trim_timer{io};
  // Messages (accepted and rejected) at the last trim tick, and whether that second was a burst.
  uint64_t trim_messages = 0;
  bool trim_burst = false;
  bool shutting_down = false;
  // Telemetry lines, statistics and the summary; stderr when stdout carries machine output.
  TerminalView terminal{view_queue, stdout};
  zmq::context_t context{1};
  std::optional<transport::CurveClient> curve;
  Clock::time_point started_at = Clock::now();

  // Ingest-thread parts (the sinks and what they write to), and the thread itself.
  Pipeline pipeline;
  OutputFile jsonl;
  PriorRecordings prior;
  // Before the recorder: it tells the maintainer of each file it closes, to its last.
  std::unique_ptr<ArchiveMaintainer> archive;
  std::unique_ptr<Recorder> recorder;
  protocol::TimestampNs recorder_opened_ns = 0;
  RecorderSink* recorder_sink = nullptr;  // in `pipeline`, when recording
  AlarmSink* alarm_sink = nullptr;        // in `pipeline`, when checking limits
  std::unique_ptr<ProductSink> products;  // made before the pipeline, to resume
  ProductSink* product_sink = nullptr;    // in `pipeline`, when keeping products
  // The site map: made first, rebuilt from the recordings, then in `pipeline`.
  std::unique_ptr<MapSink> map;
  MapSink* map_sink = nullptr;      // lives as long as the station, once made
  SceneSink* scene_sink = nullptr;  // in `pipeline`, when recording: the Foxglove channels
  std::unique_ptr<AlarmManager> alarms;
  uint64_t gaps_at_start = 0;
  std::unique_ptr<TelemetryLink> link;

  // Asio-thread parts: the web, the uplink and commanding, and what the ingest thread hands
  // over by the bridge.
  std::unique_ptr<WebServer> web;
  // The rover's state as ConsoleStateSink last published it (the console's banner and clock).
  station::ConsoleState console_state;
  std::optional<LinkSchedule> link_schedule;  // --link-schedule
  std::optional<SunSchedule> sun_schedule;    // --sun-schedule
  std::unique_ptr<GapFiller> gap_filler;
  std::unique_ptr<Uplink> uplink;
  bool gap_fill_busy = false;  // as last told to the ingest thread
  std::unique_ptr<ControlServer> control;
  std::unique_ptr<Commanding> commands;
  std::vector<ground::v1::GroundAlarm> alarm_snapshot;
  LinkWatchSnapshot link_watch_snapshot;
  nlohmann::json transfers_snapshot = nlohmann::json::array();
  LinkSnapshot last_stats;  // for the rates in the statistics line
  Clock::time_point last_stats_time = Clock::now();
};

}  // namespace lgs::station
