// Station::Impl, shared by station.cpp (ingest, lifecycle), station_control.cpp (the control
// channel) and station_web.cpp (HTTP, realtime, history). Internal to gs_station.
#pragma once

#include <fcntl.h>
#include <fmt/format.h>
#include <pthread.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <zmq.hpp>

#include "groundstation/alarm_sink.h"
#include "groundstation/bounded_queue.h"
#include "groundstation/history_store.h"
#include "groundstation/http_server.h"
#include "groundstation/ingest_sinks.h"
#include "groundstation/link_watch.h"
#include "groundstation/output_file.h"
#include "groundstation/prior_recordings.h"
#include "groundstation/realtime.h"
#include "groundstation/recorder_sink.h"
#include "groundstation/sink.h"
#include "groundstation/static_files.h"
#include "groundstation/station.h"
#include "groundstation/telemetry_dictionary.h"
#include "groundstation/telemetry_format.h"
#include "groundstation/thread_bridge.h"
#include "groundstation/uplink_sinks.h"
#include "protocol/stream_registry.h"
#include "protocol/telecommand.h"
#include "protocol/telemetry_decoder.h"
#include "summary.h"
#include "transport/control_channel.h"
#include "transport/curve_keys.h"

namespace lgs::station {
namespace internal {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using protocol::StreamId;

constexpr auto kIngestPoll = std::chrono::milliseconds(100);
constexpr auto kViewDrainInterval = std::chrono::milliseconds(100);
// Work waiting in each direction of the thread bridge, at most: far beyond what a working
// station ever has waiting (a few per tick), small enough that a stuck side costs little.
constexpr size_t kBridgeDepth = 65'536;
// How often the ingest thread hands the link watch's state to the Asio thread.
constexpr auto kLinkWatchPublishInterval = std::chrono::milliseconds(100);
constexpr double kIdleExitGapFillFactor = 4.0;
// How often the control channel is read and commands are released and checked for time-outs:
// fast beside a 2.6 s round trip, cheap when idle.
constexpr auto kCommandTick = std::chrono::milliseconds(50);
// Control requests larger than this are refused (a command is a few hundred bytes).
constexpr int64_t kMaxControlMessageBytes = 64 * 1024;
// Request sequences count tenths of a second since this epoch (2026-01-01T00:00:00Z) at start,
// so they keep growing across station restarts for 13 years.
constexpr int64_t kRequestSequenceEpochS = 1'767'225'600;

inline protocol::TimestampNs WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline Clock::duration Seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

inline nlohmann::json RecentCommandsJson(const CommandTracker& tracker) {
  nlohmann::json commands = nlohmann::json::array();
  for (const ground::v1::GroundCommand& c : tracker.Recent(100)) {
    commands.push_back({{"command_id", c.command_id()},
                        {"name", c.name()},
                        {"arguments", c.arguments()},
                        {"stage", StageName(c.stage())},
                        {"detail", c.detail()},
                        {"request_sequence", c.request_sequence()}});
  }
  return commands;
}

// A command as the control channel and the HTTP API take it:
// {"name": "drive", "args": {"distance_m": 2}, "confirm": false, "origin": "..."}.
inline Result<CommandRequest> CommandRequestFromJson(const nlohmann::json& body,
                                                     const std::string& default_origin) {
  const auto name = body.is_object() ? body.find("name") : body.end();
  if (!body.is_object() || name == body.end() || !name->is_string()) {
    return Status::Error(
        "a command is {\"name\": \"<command>\", \"args\": {...}, \"confirm\": false}");
  }
  CommandRequest command;
  command.name = name->get<std::string>();
  if (const auto args = body.find("args"); args != body.end()) {
    if (!args->is_object()) return Status::Error("args must be an object of name: value");
    for (const auto& [key, value] : args->items()) {
      if (!value.is_string() && !value.is_number() && !value.is_boolean()) {
        return Status::Error(fmt::format("argument {} must be a string or a number", key));
      }
      command.arguments.emplace_back(key,
                                     value.is_string() ? value.get<std::string>() : value.dump());
    }
  }
  const auto confirm = body.find("confirm");
  command.confirmed = confirm != body.end() && confirm->is_boolean() && confirm->get<bool>();
  const auto origin = body.find("origin");
  command.origin =
      origin != body.end() && origin->is_string() ? origin->get<std::string>() : default_origin;
  return command;
}

}  // namespace internal
using namespace internal;

struct Station::Impl {
  explicit Impl(StationOptions o)
      : options(std::move(o)),
        log(OrNull(options.log)),
        accounting(
            LinkAccountingOptions{.light_time_ns = static_cast<int64_t>(options.light_time_s * 1e9),
                                  .from_zero = options.gap_fill.enabled}),
        view_queue(options.view_queue_depth),
        bridge(io, kBridgeDepth) {}

  Status Start();
  // Makes `socket` a CURVE client of the rover (no-op with --insecure).
  void Secure(zmq::socket_t& socket) const {
    if (!keys) return;
    socket.set(zmq::sockopt::curve_serverkey, rover_key);
    socket.set(zmq::sockopt::curve_publickey, keys->public_z85);
    socket.set(zmq::sockopt::curve_secretkey, keys->secret_z85);
  }
  void IngestLoop();
  void HandleMessage(std::string_view topic, std::span<const uint8_t> packet, size_t frames);
  // The sinks, in the order they see every packet (ingest thread).
  Status BuildPipeline();
  // An accepted packet to every sink. `latency`: what the accounting measured of it, when it is
  // a live packet.
  void Deliver(const protocol::DecodedPacket& p, protocol::TimestampNs ground_ns,
               const Observation* latency = nullptr) {
    pipeline.Accepted(AcceptedPacket{p, ground_ns, latency});
  }
  // Packets with an implausible sequence, held (ingest thread) until the accounting decides.
  struct HeldPacket {
    std::string topic, bytes;
    protocol::TimestampNs ground_ns = 0;
    uint32_t seq = 0;
  };
  void Hold(const protocol::DecodedPacket& p, std::string_view topic,
            protocol::TimestampNs ground_ns);
  std::optional<HeldPacket> TakeHeld(StreamId stream, uint32_t seq);
  void SetAside(StreamId stream, uint32_t seq);  // rejected as implausible_sequence
  void Release(StreamId stream, uint32_t seq);   // accepted after all
  void ExpireSuspects(protocol::TimestampNs now_ns);
  void RequestStop();
  void Shutdown();
  void ScheduleStats();
  void ScheduleGapFill();
  void SendRetransmit(const rover::v1::RetransmitRequest& request);
  bool SendUplink(const std::string& packet);
  Status StartCommanding();
  Status StartControl();
  Status StartHttp();
  HttpResponse HandleHttp(const HttpRequest& request);
  bool Authorized(const HttpRequest& r) const;
  std::optional<HttpResponse> UpgradeHttp(const HttpRequest& r, boost::beast::tcp_stream& stream,
                                          HttpServer::Request& request);
  HttpResponse HandleHistory(const HttpRequest& r);
  HttpResponse HandleTraverse(const HttpRequest& r);
  void ScheduleCommands();
  void ReadControl();
  void HandleControlRequest(const std::string& peer, std::string_view body);
  void Publish(const CommandTracker::Transitions& transitions);
  void Reply(const std::string& peer, const nlohmann::json& message);
  protocol::RoverContext RoverNow() const { return rover_now; }
  void ScheduleViewDrain();
  void DrainView();

  StationOptions options;
  Logger& log;
  asio::io_context io;
  // Everything that does I/O on `io` is declared after it, so it is destroyed before it.
  std::unique_ptr<HttpServer> http;
  std::string http_token;
  // The web UI (Asio thread, but the feed is filled by the ingest thread; the server uses the
  // feed, so the feed is declared first).
  std::unique_ptr<RealtimeFeed> realtime_feed;
  std::unique_ptr<RealtimeServer> realtime;
  std::unique_ptr<HistoryStore> history;
  std::unique_ptr<StaticFiles> web_files;
  LinkAccounting accounting;
  BoundedQueue<std::string> view_queue;
  // The one way work crosses between the Asio thread and the ingest thread.
  ThreadBridge bridge;
  std::unique_ptr<asio::steady_timer> stats_timer, view_timer, duration_timer, gap_timer,
      command_timer;
  bool shutting_down = false;
  // Telemetry lines, statistics and the summary; stderr when stdout carries machine output.
  std::FILE* human_out = stdout;

  zmq::context_t context{1};
  std::optional<transport::CurveKeyPair> keys;
  std::string rover_key;
  std::unique_ptr<zmq::socket_t> socket;
  // CURVE handshakes on the telemetry link (ingest thread): a publisher that cannot prove it
  // holds the rover's key fails them, and that is counted and logged as an authentication
  // failure.
  std::unique_ptr<zmq::socket_t> monitor;
  std::atomic<uint64_t> auth_failures{0};
  std::map<std::string, bool> awaiting_handshake;  // endpoint -> connected, not authenticated
  Clock::time_point last_auth_log{};
  bool authenticated_once = false;
  void ReadMonitor();
  // Drops libzmq does not retry, and silence: reconnects, reports (ingest thread).
  std::unique_ptr<LinkWatch> link_watch;
  void WatchLink();
  Clock::time_point last_link_watch_post{};  // ingest thread
  LinkWatchSnapshot link_watch_snapshot;     // Asio thread: the ingest thread's latest
  std::thread ingest;
  std::atomic<bool> stop_ingest{false};
  std::string ingest_error;  // set by the ingest thread before it exits on failure

  // Ingest-thread state.
  std::array<std::vector<HeldPacket>, protocol::kStreamCount> suspects;
  std::vector<Expired> expired;
  std::unique_ptr<protocol::TelemetryDecoder> decoder;
  Pipeline pipeline;
  OutputFile jsonl;
  std::unique_ptr<Recorder> recorder;
  protocol::TimestampNs recorder_opened_ns = 0;
  RecorderSink* recorder_sink = nullptr;  // in `pipeline`, when recording
  AlarmSink* alarm_sink = nullptr;        // in `pipeline`, when checking limits
  PriorRecordings prior;
  bool gap_fill_waiting = false;  // gap fill still asks for packets (from the Asio thread)

  // Gap fill (Asio thread): the filler, the uplink and the request numbering.
  std::unique_ptr<GapFiller> gap_filler;
  std::unique_ptr<zmq::socket_t> uplink;
  uint32_t next_request_sequence = 0;
  std::string tc_buffer, tc_payload;
  bool gap_fill_busy = false;  // as last told to the ingest thread

  // Limits and alarms (ingest thread: AlarmSink). Acknowledgements cross to it by the bridge;
  // the unresolved alarms come back the same way, as a snapshot for the Asio thread.
  std::unique_ptr<AlarmManager> alarms;
  uint64_t gaps_at_start = 0;
  std::vector<ground::v1::GroundAlarm> alarm_snapshot;  // Asio thread
  // Ingest thread: records and shows alarm transitions, and hands the snapshot over.
  void PublishAlarms(const AlarmManager::Transitions& transitions, protocol::TimestampNs ground_ns);
  // Ingest thread: an acknowledgement from the web (no peer) or the control channel.
  void Acknowledge(const std::string& id, const std::string& by, const std::string& peer);
  // The Asio thread's latest snapshot of the unresolved alarms.
  nlohmann::json CurrentAlarmsJson() const {
    nlohmann::json list = nlohmann::json::array();
    for (const ground::v1::GroundAlarm& a : alarm_snapshot) list.push_back(AlarmJson(a));
    return list;
  }

  // Commanding (Asio thread): the tracker, the control channel and who asked for what.
  std::unique_ptr<CommandTracker> tracker;
  std::unique_ptr<zmq::socket_t> control;
  std::string control_endpoint, control_token, control_token_path;
  std::map<uint64_t, std::string> command_clients;  // command id -> ROUTER peer
  uint64_t control_refused = 0;
  int control_lock_fd = -1;  // flock held while this station owns the control channel
  Clock::time_point last_refusal_log{};
  // What the telemetry says about the rover (RoverStateSink, by the bridge).
  protocol::RoverContext rover_now;
  Clock::time_point started_at = Clock::now();

  // Asio-thread state for rates in the statistics line.
  LinkSnapshot last_stats;
  Clock::time_point last_stats_time = Clock::now();
};

}  // namespace lgs::station
