#include "groundstation/station.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <zmq.hpp>

#include "groundstation/bounded_queue.h"
#include "groundstation/http_server.h"
#include "groundstation/prior_recordings.h"
#include "groundstation/reject_reporter.h"
#include "groundstation/telemetry_dictionary.h"
#include "groundstation/telemetry_format.h"
#include "protocol/stream_registry.h"
#include "protocol/telecommand.h"
#include "protocol/telemetry_decoder.h"
#include "rover/v1/housekeeping.pb.h"
#include "rover/v1/navigation.pb.h"
#include "transport/control_channel.h"
#include "transport/curve_keys.h"

namespace lgs::station {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using protocol::StreamId;

constexpr auto kIngestPoll = std::chrono::milliseconds(100);
constexpr auto kViewDrainInterval = std::chrono::milliseconds(100);
constexpr double kIdleExitGapFillFactor = 4.0;
// How often the control channel is read and commands are released and checked for time-outs:
// fast beside a 2.6 s round trip, cheap when idle.
constexpr auto kCommandTick = std::chrono::milliseconds(50);
// Control requests larger than this are refused (a command is a few hundred bytes).
constexpr int64_t kMaxControlMessageBytes = 64 * 1024;
// Request sequences count tenths of a second since this epoch (2026-01-01T00:00:00Z) at start,
// so they keep growing across station restarts for 13 years.
constexpr int64_t kRequestSequenceEpochS = 1'767'225'600;

protocol::TimestampNs WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Clock::duration Seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

// An output file or stdout ("-"), written with a large buffer.
class OutputFile {
 public:
  Status Open(const std::string& path, const char* what) {
    path_ = path;
    if (path.empty()) return Status::Ok();
    if (path == "-") {
      file_ = stdout;
      return Status::Ok();
    }
    file_ = std::fopen(path.c_str(), "w");
    if (file_ == nullptr) {
      return Status::Error(
          fmt::format("cannot write {} '{}': {}", what, path, std::strerror(errno)));
    }
    owned_ = true;
    std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
    return Status::Ok();
  }
  ~OutputFile() {
    if (owned_) std::fclose(file_);
  }
  bool is_open() const { return file_ != nullptr; }

  // Returns false on a write error (reported once by the caller).
  bool Write(std::string_view data) {
    return std::fwrite(data.data(), 1, data.size(), file_) == data.size();
  }
  bool Flush() { return std::fflush(file_) == 0; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  bool owned_ = false;
};

std::string FormatRanges(const std::vector<SequenceRange>& ranges) {
  std::string out;
  for (const SequenceRange& r : ranges) {
    if (!out.empty()) out += ", ";
    out += r.first == r.last ? fmt::format("{}", r.first) : fmt::format("{}-{}", r.first, r.last);
  }
  return out;
}

std::string FormatSummary(const LinkSnapshot& s, const LinkAccounting& accounting, double seconds,
                          uint64_t view_drops) {
  std::string out = "station summary\n";
  out += fmt::format("  {:<22}{:>10}{:>12}{:>9}{:>11}{:>9}{:>7}{:>7}{:>7}{:>7}  {}\n", "stream",
                     "received", "bytes", "pkt/s", "bit/s", "missing", "lost", "gaps", "dup", "ooo",
                     "latency ms p50/p99/max");
  const auto row = [&](std::string_view name, uint64_t received, uint64_t bytes, uint64_t missing,
                       uint64_t lost, uint64_t gaps, uint64_t dup, uint64_t ooo,
                       const LatencySummary& l) {
    // Latency means something only when on-board time is not ahead of the ground clock.
    const std::string latency =
        l.count > 0 && l.negative == 0
            ? fmt::format("{:.1f}/{:.1f}/{:.1f}", l.p50_ns / 1e6, l.p99_ns / 1e6, l.max_ns / 1e6)
            : "-";
    out += fmt::format("  {:<22}{:>10}{:>12}{:>9.1f}{:>11.0f}{:>9}{:>7}{:>7}{:>7}{:>7}  {}\n", name,
                       received, bytes, seconds > 0 ? received / seconds : 0.0,
                       seconds > 0 ? bytes * 8.0 / seconds : 0.0, missing, lost, gaps, dup, ooo,
                       latency);
  };
  for (const protocol::StreamInfo& info : protocol::AllStreams()) {
    const StreamStats& st = s.streams[static_cast<size_t>(info.id)];
    row(info.name, st.received, st.bytes, st.missing, st.lost, st.gaps, st.duplicates,
        st.out_of_order, accounting.Latency(info.id));
  }
  row("total", s.total_received(), s.total_bytes(), s.total_missing(), s.total_lost(),
      s.total_gaps(), s.total_duplicates(), s.total_out_of_order(), accounting.Latency());
  for (const protocol::StreamInfo& info : protocol::AllStreams()) {
    const StreamStats& st = s.streams[static_cast<size_t>(info.id)];
    if (st.missing > 0) {
      out += fmt::format("  {} still missing: {}\n", info.name,
                         FormatRanges(accounting.MissingRanges(info.id, 20)));
    }
    if (st.lost > 0) {
      out += fmt::format("  {} lost for good (the rover no longer has them): {}\n", info.name,
                         FormatRanges(accounting.LostRanges(info.id, 20)));
    }
  }
  out += fmt::format("  rejected: {}", s.total_rejected());
  for (const auto& info : protocol::kRejectReasons) {
    const uint64_t n = s.rejected[static_cast<size_t>(info.reason)];
    if (n > 0) out += fmt::format("  {} {}", info.name, n);
  }
  out += "\n";
  if (view_drops > 0)
    out += fmt::format("  terminal view dropped {} lines (too slow)\n", view_drops);
  return out;
}

nlohmann::json AlarmJson(const ground::v1::GroundAlarm& a) {
  return {{"id", a.id()},
          {"severity", a.severity()},
          {"state", a.state()},
          {"text", a.text()},
          {"raised_ns", a.raised_ns()},
          {"value", a.value()},
          {"limit", a.limit()},
          {"unit", a.unit()},
          {"acknowledged", a.acknowledged()},
          {"acknowledged_by", a.acknowledged_by()},
          {"active", a.active()}};
}

nlohmann::json RecentCommandsJson(const CommandTracker& tracker) {
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
Result<CommandRequest> CommandRequestFromJson(const nlohmann::json& body,
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

nlohmann::json LatencyJson(const LatencySummary& l) {
  return {{"count", l.count},   {"negative", l.negative}, {"p50_ns", l.p50_ns},
          {"p99_ns", l.p99_ns}, {"p999_ns", l.p999_ns},   {"max_ns", l.max_ns}};
}

nlohmann::json RangesJson(const std::vector<SequenceRange>& ranges) {
  nlohmann::json out = nlohmann::json::array();
  for (const SequenceRange& r : ranges) out.push_back({r.first, r.last});
  return out;
}

nlohmann::json SummaryJson(const LinkSnapshot& s, const LinkAccounting& accounting, double seconds,
                           uint64_t view_drops) {
  nlohmann::json streams = nlohmann::json::object();
  for (const protocol::StreamInfo& info : protocol::AllStreams()) {
    const StreamStats& st = s.streams[static_cast<size_t>(info.id)];
    streams[std::string(info.name)] = {
        {"packets_per_s", seconds > 0 ? st.received / seconds : 0.0},
        {"bits_per_s", seconds > 0 ? st.bytes * 8.0 / seconds : 0.0},
        {"lost", st.lost},
        {"recorded_before", st.recorded_before},
        {"latency", LatencyJson(accounting.Latency(info.id))},
        {"missing_ranges", RangesJson(accounting.MissingRanges(info.id, 1000))},
        {"lost_ranges", RangesJson(accounting.LostRanges(info.id, 1000))},
        {"apid", info.apid},
        {"received", st.received},
        {"bytes", st.bytes},
        {"missing", st.missing},
        {"gaps", st.gaps},
        {"duplicates", st.duplicates},
        {"out_of_order", st.out_of_order},
        {"first_seq", st.first_seq},
        {"highest_seq", st.highest_seq},
        {"started", st.started},
    };
  }
  nlohmann::json rejected = nlohmann::json::object();
  for (const auto& info : protocol::kRejectReasons) {
    rejected[std::string(info.name)] = s.rejected[static_cast<size_t>(info.reason)];
  }
  return {{"streams", streams},
          {"rejected", rejected},
          {"totals",
           {{"received", s.total_received()},
            {"bytes", s.total_bytes()},
            {"rejected", s.total_rejected()},
            {"missing", s.total_missing()},
            {"lost", s.total_lost()},
            {"gaps", s.total_gaps()},
            {"duplicates", s.total_duplicates()},
            {"out_of_order", s.total_out_of_order()},
            {"first_ground_ns", s.first_ground_ns()},
            {"last_ground_ns", s.last_ground_ns()}}},
          {"latency", LatencyJson(accounting.Latency())},
          {"view_dropped", view_drops}};
}

}  // namespace

Status StationOptions::Validate() const {
  if (connect.empty()) return Status::Error("no endpoint to connect to");
  if (!insecure && (secret_key_path.empty() || rover_key_path.empty())) {
    return Status::Error(
        "CurveZMQ keys are needed: --secret-key FILE (this station's key pair) and --rover-key "
        "FILE (the rover's public key; gsctl keygen makes them), or --insecure for plain text");
  }
  if (!protocol::IsValidRoverId(rover_id)) {
    return Status::Error(
        fmt::format("rover id '{}' must be 1-32 characters of a-z 0-9 _ -", rover_id));
  }
  if (duration_s && !(*duration_s > 0.0)) {
    return Status::Error(fmt::format("duration {} s must be positive", *duration_s));
  }
  if (idle_exit_s && !(*idle_exit_s > 0.0)) return Status::Error("idle exit must be positive");
  if (light_time_s < 0.0 || light_time_s > 60.0) {
    return Status::Error(fmt::format("light time {} s is outside 0..60", light_time_s));
  }
  if (stats_interval_s < 0.0 || print_interval_s < 0.0 || reject_log_interval_s < 0.0) {
    return Status::Error("intervals must not be negative");
  }
  if (receive_hwm < 0) return Status::Error("receive HWM must not be negative");
  if (max_message_bytes < static_cast<int64_t>(protocol::kMaxPacketSize)) {
    return Status::Error(
        fmt::format("max message size must be at least {} bytes", protocol::kMaxPacketSize));
  }
  if (view_queue_depth == 0) return Status::Error("view queue depth must be positive");
  if (gap_fill.enabled || commanding.enabled) {
    if (Status s = gap_fill.Validate(); !s.ok()) return s;
  }
  if (commanding.enabled) {
    if (Status s = commanding.tracker.Validate(); !s.ok()) return s;
    if (!commanding.control_endpoint.empty()) {
      if (Status s =
              transport::CheckControlEndpoint(commanding.control_endpoint, commanding.allow_remote);
          !s.ok()) {
        return s;
      }
    }
  }
  if (!recorder.directory.empty()) return recorder.Validate();
  return Status::Ok();
}

struct Station::Impl {
  explicit Impl(StationOptions o)
      : options(std::move(o)),
        accounting(static_cast<int64_t>(options.light_time_s * 1e9)),
        view_queue(options.view_queue_depth),
        signals(io) {}

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
  std::unique_ptr<HttpServer> http;
  std::string http_token;
  void ScheduleCommands();
  void ReadControl();
  void HandleControlRequest(const std::string& peer, std::string_view body);
  void Publish(const CommandTracker::Transitions& transitions);
  void Reply(const std::string& peer, const nlohmann::json& message);
  protocol::RoverContext RoverNow() const;
  void ScheduleViewDrain();
  void DrainView();

  StationOptions options;
  asio::io_context io;
  LinkAccounting accounting;
  BoundedQueue<std::string> view_queue;
  asio::signal_set signals;
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
  std::thread ingest;
  std::atomic<bool> stop_ingest{false};
  std::string ingest_error;  // set by the ingest thread before it exits on failure

  // Ingest-thread state.
  std::unique_ptr<protocol::TelemetryDecoder> decoder;
  std::unique_ptr<RejectReporter> reporter;
  OutputFile jsonl;
  bool jsonl_failed = false;
  std::string json_buffer;
  std::array<Clock::time_point, protocol::kStreamCount> last_printed{};
  std::unique_ptr<Recorder> recorder;
  PriorRecordings prior;
  LinkSnapshot last_recorded_stats;
  protocol::TimestampNs last_recorded_stats_ns = 0;

  // Gap fill (Asio thread): the filler, the uplink and the request numbering.
  std::unique_ptr<GapFiller> gap_filler;
  std::unique_ptr<zmq::socket_t> uplink;
  uint32_t next_request_sequence = 0;
  std::string tc_buffer, tc_payload;
  std::atomic<bool> gap_fill_busy{false};  // read by the ingest thread's idle exit

  // Limits and alarms (ingest thread). Acknowledgements arrive from the control channel on the
  // Asio thread through a small inbox; the current alarms go the other way as a snapshot.
  std::unique_ptr<AlarmManager> alarms;
  AlarmManager::Transitions alarm_out;
  struct AckRequest {
    std::string id, by, peer;
  };
  std::mutex alarm_mutex;
  std::vector<AckRequest> ack_inbox;                    // guarded by alarm_mutex
  std::vector<ground::v1::GroundAlarm> alarm_snapshot;  // guarded by alarm_mutex
  std::atomic<bool> ack_pending{false};
  Clock::time_point last_gap_check = Clock::now();
  uint64_t gaps_at_last_check = 0;
  void PublishAlarms(const AlarmManager::Transitions& transitions, protocol::TimestampNs ground_ns);
  void TakeAcknowledgements();
  // The ingest thread's latest snapshot of the unresolved alarms (any thread).
  nlohmann::json CurrentAlarmsJson() {
    nlohmann::json list = nlohmann::json::array();
    std::lock_guard lock(alarm_mutex);
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
  // What the telemetry says about the rover, written by the ingest thread.
  std::atomic<int> rover_mode{rover::v1::ROVER_MODE_UNSPECIFIED};
  std::atomic<bool> rover_position_known{false};
  std::atomic<double> rover_x_m{0.0}, rover_y_m{0.0};
  // Command history for the recorder, handed from the Asio thread to the ingest thread.
  std::mutex ground_mutex;
  std::vector<std::pair<ground::v1::GroundCommand, protocol::TimestampNs>> ground_pending;
  Clock::time_point started_at = Clock::now();

  // Asio-thread state for rates in the statistics line.
  LinkSnapshot last_stats;
  Clock::time_point last_stats_time = Clock::now();
};

Status Station::Impl::Start() {
  if (Status s = options.Validate(); !s.ok()) return s;
  if (Status s = jsonl.Open(options.jsonl_path, "JSON lines file"); !s.ok()) return s;
  if (options.jsonl_path == "-" || options.summary_json_path == "-") human_out = stderr;
  decoder = std::make_unique<protocol::TelemetryDecoder>(options.rover_id);
  if (options.gap_fill.enabled) accounting.ExpectSequencesFromZero(true);
  if (!options.recorder.directory.empty()) {
    auto scanned = ScanPriorRecordings(options.recorder.directory, options.rover_id, options.resume,
                                       options.recorder.writer);
    if (!scanned.ok()) return scanned.error();
    prior = std::move(*scanned);
    if (options.resume) {
      for (const protocol::StreamInfo& info : protocol::AllStreams()) {
        accounting.SeedRecorded(info.id, prior.recorded[static_cast<size_t>(info.id)]);
      }
      const LinkSnapshot seeded = accounting.Snapshot();
      spdlog::info(
          "resuming {}: {} packets already recorded in {} file(s); {} missing in {} "
          "gaps{}",
          options.recorder.directory, prior.messages, prior.files, seeded.total_missing(),
          seeded.total_gaps(), options.gap_fill.enabled ? " (gap fill will ask for them)" : "");
    }
  } else if (options.resume) {
    return Status::Error("--resume needs a recording directory (--record DIR)");
  }
  if (!options.recorder.directory.empty()) {
    options.recorder.rover_id = options.rover_id;
    recorder = std::make_unique<Recorder>(options.recorder);
    last_recorded_stats_ns = WallNowNs();
    if (Status s = recorder->Open(last_recorded_stats_ns); !s.ok()) return s;
  }
  reporter = std::make_unique<RejectReporter>(Seconds(options.reject_log_interval_s));

  if (options.insecure) {
    spdlog::warn(
        "INSECURE: telemetry is accepted in plain text from whoever answers at {}, and "
        "nothing proves it is the rover (--insecure)",
        fmt::join(options.connect, ", "));
  } else {
    auto pair = transport::LoadCurveKeyPair(options.secret_key_path);
    if (!pair.ok()) return pair.error();
    auto rover = transport::LoadCurvePublicKey(options.rover_key_path);
    if (!rover.ok()) return rover.error();
    keys = std::move(*pair);
    rover_key = std::move(*rover);
  }
  socket = std::make_unique<zmq::socket_t>(context, zmq::socket_type::sub);
  Secure(*socket);
  socket->set(zmq::sockopt::rcvhwm, options.receive_hwm);
  socket->set(zmq::sockopt::maxmsgsize, options.max_message_bytes);
  socket->set(zmq::sockopt::linger, 0);
  socket->set(zmq::sockopt::subscribe, protocol::TelemetryTopicPrefix(options.rover_id));
  if (keys) {
    const std::string address = fmt::format("inproc://telemetry-monitor-{}", fmt::ptr(this));
    if (zmq_socket_monitor(
            socket->handle(), address.c_str(),
            ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0) {
      return Status::Error(
          fmt::format("cannot monitor the telemetry socket: {}", zmq_strerror(zmq_errno())));
    }
    monitor = std::make_unique<zmq::socket_t>(context, zmq::socket_type::pair);
    monitor->set(zmq::sockopt::linger, 0);
    monitor->connect(address);
  }
  for (const std::string& endpoint : options.connect) {
    try {
      socket->connect(endpoint);
    } catch (const zmq::error_t& e) {
      return Status::Error(fmt::format("cannot connect to '{}': {}", endpoint, e.what()));
    }
  }
  spdlog::info("station for rover '{}' listening to {}", options.rover_id,
               fmt::join(options.connect, ", "));
  if (options.gap_fill.enabled || options.commanding.enabled) {
    if (options.gap_fill.enabled) {
      gap_filler = std::make_unique<GapFiller>(options.gap_fill, options.light_time_s);
    }
    uplink = std::make_unique<zmq::socket_t>(context, zmq::socket_type::dealer);
    Secure(*uplink);
    uplink->set(zmq::sockopt::linger, 0);
    // Only hand requests to a connected rover; otherwise the filler retries them later.
    uplink->set(zmq::sockopt::immediate, 1);
    uplink->set(zmq::sockopt::sndhwm, 100);
    try {
      uplink->connect(options.gap_fill.uplink);
    } catch (const zmq::error_t& e) {
      return Status::Error(
          fmt::format("cannot connect the uplink to '{}': {}", options.gap_fill.uplink, e.what()));
    }
    // Request sequences must grow across station restarts (the rover executes each at most
    // once): start from the wall clock in tenths of a second; requests go out at most once per
    // tick, well under ten a second.
    next_request_sequence = static_cast<uint32_t>(
        std::max<int64_t>(0, WallNowNs() / 100'000'000 - kRequestSequenceEpochS * 10));
    if (gap_filler) {
      spdlog::info("gap fill on: retransmit requests to {} as source {}", options.gap_fill.uplink,
                   options.gap_fill.source_id);
    }
  }
  if (options.limits_enabled) {
    auto limits = LimitSet::Load(options.limits_path);
    if (!limits.ok()) return limits.error();
    spdlog::info("checking {} limits ({})", limits->limits().size(),
                 options.limits_path.empty() ? "built-in" : options.limits_path);
    alarms = std::make_unique<AlarmManager>(std::move(*limits));
  }
  if (Status s = StartHttp(); !s.ok()) return s;
  if (options.commanding.enabled) return StartCommanding();
  if (alarms) {
    // Without commanding the control channel is only for acknowledging alarms: a station that
    // cannot have it (another one for this rover holds it) runs on without it.
    if (Status s = StartControl(); !s.ok()) {
      if (!options.commanding.control_endpoint.empty()) return s;  // asked for: an error
      spdlog::warn("no control channel ({}); alarms can only be acknowledged in the recording",
                   s.message());
      control.reset();
    }
  }
  return Status::Ok();
}

protocol::RoverContext Station::Impl::RoverNow() const {
  protocol::RoverContext rover;
  rover.mode = static_cast<rover::v1::RoverMode>(rover_mode.load(std::memory_order_relaxed));
  rover.position_known = rover_position_known.load(std::memory_order_relaxed);
  rover.x_m = rover_x_m.load(std::memory_order_relaxed);
  rover.y_m = rover_y_m.load(std::memory_order_relaxed);
  return rover;
}

Status Station::Impl::StartCommanding() {
  if (Status s = StartControl(); !s.ok()) return s;
  StationOptions::Commanding& c = options.commanding;
  c.tracker.source_id = options.gap_fill.source_id;
  c.tracker.light_time_s = options.light_time_s;
  tracker = std::make_unique<CommandTracker>(c.tracker, [this] { return next_request_sequence++; });
  spdlog::info("commanding on: control channel {} (token in {}), uplink {} as source {}",
               control_endpoint, control_token_path, options.gap_fill.uplink,
               options.gap_fill.source_id);
  return Status::Ok();
}

Status Station::Impl::StartHttp() {
  if (options.http == "none") return Status::Ok();
  HttpOptions o;
  const size_t colon = options.http.rfind(':');
  int port = -1;
  if (colon != std::string::npos) {
    try {
      port = std::stoi(options.http.substr(colon + 1));
    } catch (const std::exception&) {
      port = -1;
    }
  }
  if (colon == std::string::npos || port < 0 || port > 65535) {
    return Status::Error(fmt::format("--http '{}' is not ADDRESS:PORT", options.http));
  }
  o.address = options.http.substr(0, colon);
  o.port = static_cast<uint16_t>(port);
  const bool loopback = o.address.rfind("127.", 0) == 0 || o.address == "::1";
  if (!loopback) {
    if (!options.http_remote) {
      return Status::Error(fmt::format(
          "--http {} is not a loopback address: anyone on that network could reach the station; "
          "add --http-remote (requests then need the token)",
          options.http));
    }
    if (Status s = transport::PrepareControlDirectory(transport::DefaultControlDirectory());
        !s.ok() && options.http_token_path.empty()) {
      return s;
    }
    const std::string path =
        options.http_token_path.empty()
            ? fmt::format("{}/{}.http-token", transport::DefaultControlDirectory(),
                          options.rover_id)
            : options.http_token_path;
    auto token = transport::CreateControlToken(path);
    if (!token.ok()) return token.error();
    http_token = std::move(*token);
    spdlog::info("HTTP token in {}", path);
  }
  http =
      std::make_unique<HttpServer>(io, o, [this](const HttpRequest& r) { return HandleHttp(r); });
  if (Status s = http->Start(); !s.ok()) {
    http.reset();
    if (options.http_explicit) return s;
    spdlog::warn("{}; running without the web endpoint (give --http another port)", s.message());
    return Status::Ok();
  }
  spdlog::info("serving HTTP on http://{}:{}/", o.address, http->port());
  return Status::Ok();
}

HttpResponse Station::Impl::HandleHttp(const HttpRequest& r) {
  const auto json = [](unsigned status, const nlohmann::json& body) {
    return HttpResponse{status, "application/json", body.dump()};
  };
  const auto error = [&](unsigned status, const std::string& why) {
    return json(status, {{"error", why}});
  };
  if (!http_token.empty() && r.authorization != "Bearer " + http_token) {
    return error(401, "this endpoint needs the station's HTTP token (Authorization: Bearer ...)");
  }
  const auto only = [&](const char* method) { return r.method == method; };
  if (r.path == "/api/dictionary") {
    if (!only("GET")) return error(405, "GET only");
    return json(200,
                TelemetryDictionaryJson(options.rover_id, alarms ? &alarms->limits() : nullptr));
  }
  if (r.path == "/api/commands/dictionary") {
    if (!only("GET")) return error(405, "GET only");
    return json(200, CommandDictionaryJson());
  }
  if (r.path == "/api/link") {
    if (!only("GET")) return error(405, "GET only");
    const uint64_t drops = view_queue.dropped();
    const double seconds = std::chrono::duration<double>(Clock::now() - started_at).count();
    return json(200, SummaryJson(accounting.Snapshot(), accounting, seconds, drops));
  }
  if (r.path == "/api/alarms") {
    if (!only("GET")) return error(405, "GET only");
    if (!alarms) return error(404, "limit checking is off (--limits none)");
    return json(200, {{"alarms", CurrentAlarmsJson()}});
  }
  if (r.path == "/api/alarms/ack") {
    if (!only("POST")) return error(405, "POST only");
    if (!alarms) return error(404, "limit checking is off (--limits none)");
    const nlohmann::json body = nlohmann::json::parse(r.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("id") ||
        !body["id"].is_string() || body["id"].get<std::string>().empty()) {
      return error(400, "expected {\"id\": \"<alarm id>\" or \"all\", \"by\": \"<name>\"}");
    }
    {
      std::lock_guard lock(alarm_mutex);
      ack_inbox.push_back({body["id"], body.value("by", "web"), std::string()});
    }
    ack_pending = true;
    return json(202, {{"queued", body["id"]}});
  }
  if (r.path == "/api/commands") {
    if (!tracker) return error(404, "this station does not command (start it with --command)");
    if (only("GET")) return json(200, {{"commands", RecentCommandsJson(*tracker)}});
    if (!only("POST")) return error(405, "GET or POST");
    auto parsed = CommandRequestFromJson(nlohmann::json::parse(r.body, nullptr, false), "web");
    if (!parsed.ok()) return error(400, parsed.error().message());
    const CommandRequest& command = *parsed;
    CommandTracker::Transitions transitions;
    const uint64_t id = tracker->Submit(command, RoverNow(), Clock::now(), transitions);
    Publish(transitions);
    const ground::v1::GroundCommand& t = transitions.back();
    const bool rejected = t.stage() == ground::v1::COMMAND_STAGE_REJECTED;
    return json(rejected ? 422 : 202,
                {{"command_id", id}, {"stage", StageName(t.stage())}, {"detail", t.detail()}});
  }
  return error(404, fmt::format("no such resource: {}", r.path.substr(0, 200)));
}

Status Station::Impl::StartControl() {
  StationOptions::Commanding& c = options.commanding;
  control_endpoint = c.control_endpoint.empty()
                         ? transport::DefaultControlEndpoint(options.rover_id)
                         : c.control_endpoint;
  control_token_path =
      c.token_path.empty() ? transport::DefaultControlTokenPath(options.rover_id) : c.token_path;
  // Checked here too: without --command the channel still exists (for alarms).
  if (Status s = transport::CheckControlEndpoint(control_endpoint, c.allow_remote); !s.ok()) {
    return s;
  }
  if (c.control_endpoint.empty() || c.token_path.empty()) {
    if (Status s = transport::PrepareControlDirectory(transport::DefaultControlDirectory());
        !s.ok()) {
      return s;
    }
  }
  // One station per control channel: a second one would take the socket over silently (libzmq
  // replaces an ipc socket file) and rewrite the token under the first one's clients.
  const std::string lock_path = control_token_path + ".lock";
  control_lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (control_lock_fd < 0 || ::flock(control_lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return Status::Error(fmt::format(
        "another station holds the control channel of rover '{}' ({}): stop it first, or give "
        "this one its own --control and --control-token",
        options.rover_id, lock_path));
  }
  auto token = transport::CreateControlToken(control_token_path);
  if (!token.ok()) return token.error();
  control_token = std::move(*token);
  control = std::make_unique<zmq::socket_t>(context, zmq::socket_type::router);
  control->set(zmq::sockopt::linger, 0);
  control->set(zmq::sockopt::maxmsgsize, kMaxControlMessageBytes);
  try {
    control->bind(control_endpoint);
  } catch (const zmq::error_t& e) {
    return Status::Error(
        fmt::format("cannot bind the control channel to '{}': {}", control_endpoint, e.what()));
  }
  return Status::Ok();
}

void Station::Impl::HandleMessage(std::string_view topic, std::span<const uint8_t> packet,
                                  size_t frames) {
  // One clock read per packet on the hot path; the steady clock only where a rate limit needs it.
  const protocol::TimestampNs ground_ns = WallNowNs();
  if (frames != protocol::kTelemetryFrameCount) {
    const std::string detail = fmt::format("{} frame(s), topic '{}'", frames,
                                           topic.substr(0, std::min<size_t>(topic.size(), 48)));
    accounting.Reject(protocol::RejectReason::kWrongFrameCount);
    reporter->Report(protocol::RejectReason::kWrongFrameCount, detail, Clock::now());
    if (recorder) {
      recorder->RecordRejected(protocol::RejectReason::kWrongFrameCount, detail, topic, packet,
                               frames, ground_ns);
    }
    return;
  }
  auto decoded = decoder->Decode(topic, packet);
  if (!decoded) {
    const protocol::Rejection& rejection = decoded.error();
    accounting.Reject(rejection.reason);
    reporter->Report(rejection.reason, rejection.detail, Clock::now());
    if (recorder) {
      recorder->RecordRejected(rejection.reason, rejection.detail, topic, packet, frames,
                               ground_ns);
    }
    return;
  }
  const protocol::DecodedPacket& p = decoded.value();
  const Arrival arrival =
      accounting.Observe(p.stream->id, p.packet.extended_sequence, p.packet.bytes.size(),
                         p.packet.onboard_time_ns, ground_ns);
  if (arrival == Arrival::kDuplicate) return;
  if (recorder) recorder->RecordTelemetry(p, ground_ns);
  if (alarms) {
    alarm_out.clear();
    alarms->Evaluate(p.stream->id, *p.message, ground_ns, alarm_out);
    if (!alarms->limits().ForLink(LinkMetric::kLatencyMs).empty()) {
      const double latency_ms = static_cast<double>(ground_ns - p.packet.onboard_time_ns) / 1e6 -
                                options.light_time_s * 1e3;
      alarms->EvaluateLink(LinkMetric::kLatencyMs, latency_ms, ground_ns, alarm_out);
    }
    if (!alarm_out.empty()) PublishAlarms(alarm_out, ground_ns);
  }
  if ((gap_filler || tracker) && p.stream->id == StreamId::kCommandVerification) {
    auto report = std::make_shared<rover::v1::CommandVerification>();
    report->CopyFrom(*p.message);
    asio::post(io, [this, report] {
      if (tracker) {
        CommandTracker::Transitions transitions;
        const bool ours = tracker->OnReport(*report, Clock::now(), transitions);
        Publish(transitions);
        if (ours) return;
      }
      if (gap_filler) gap_filler->OnReport(*report, accounting);
    });
  }
  if (tracker) {
    // What commands are checked against: the rover's mode and position as last reported.
    if (p.stream->id == StreamId::kHousekeeping) {
      rover_mode.store(static_cast<const rover::v1::Housekeeping&>(*p.message).mode(),
                       std::memory_order_relaxed);
    } else if (p.stream->id == StreamId::kNavigationPose) {
      const auto& pose = static_cast<const rover::v1::NavigationPose&>(*p.message);
      rover_x_m.store(pose.x_m(), std::memory_order_relaxed);
      rover_y_m.store(pose.y_m(), std::memory_order_relaxed);
      rover_position_known.store(true, std::memory_order_relaxed);
    }
  }

  if (jsonl.is_open() && !jsonl_failed) {
    json_buffer.clear();
    AppendPacketJson(p, ground_ns, json_buffer);
    if (!jsonl.Write(json_buffer)) {
      jsonl_failed = true;
      spdlog::error("writing '{}' failed ({}); JSON lines output stopped, decoding goes on",
                    jsonl.path(), std::strerror(errno));
    }
  }

  if (options.print_telemetry) {
    const bool always = p.stream->nominal_rate_hz == 0.0;  // events and command reports
    auto& last = last_printed[static_cast<size_t>(p.stream->id)];
    const auto now = Clock::now();
    if (always || now - last >= Seconds(options.print_interval_s)) {
      last = now;
      view_queue.Push(FormatTelemetryLine(p));
    }
  }
}

void Station::Impl::ReadMonitor() {
  zmq::message_t event, address;
  while (monitor->recv(event, zmq::recv_flags::dontwait)) {
    if (!event.more() || !monitor->recv(address) || event.size() < 6) continue;
    uint16_t id = 0;
    uint32_t value = 0;
    std::memcpy(&id, event.data(), sizeof id);
    std::memcpy(&value, static_cast<const uint8_t*>(event.data()) + 2, sizeof value);
    const std::string endpoint = address.to_string();
    std::string failure;
    switch (id) {
      case ZMQ_EVENT_CONNECTED:
        awaiting_handshake[endpoint] = true;
        break;
      case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        awaiting_handshake[endpoint] = false;
        if (!authenticated_once) {
          authenticated_once = true;
          spdlog::info("telemetry link to {} authenticated: the publisher holds the rover's key",
                       endpoint);
        }
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
      case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
      case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        awaiting_handshake[endpoint] = false;
        failure = fmt::format("CURVE handshake failed (event 0x{:04X}, code {})", id, value);
        break;
      case ZMQ_EVENT_DISCONNECTED:
        if (awaiting_handshake[endpoint]) {
          failure = "the publisher hung up during the CURVE handshake";
        }
        awaiting_handshake[endpoint] = false;
        break;
      default:
        break;
    }
    if (failure.empty()) continue;
    const uint64_t n = ++auth_failures;
    const auto now = Clock::now();
    if (n == 1 || now - last_auth_log >= Seconds(options.reject_log_interval_s)) {
      last_auth_log = now;
      spdlog::warn(
          "authentication failure on the telemetry link to {}: {} — it does not prove it holds "
          "the rover's key; nothing from it is accepted ({} so far)",
          endpoint, failure, n);
    }
  }
}

void Station::Impl::IngestLoop() {
  // SIGINT/SIGTERM belong to the Asio thread; here they would only interrupt ZeroMQ (EINTR).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  zmq::message_t topic, packet, extra;
  const auto flush_jsonl = [this] {
    if (jsonl.is_open() && !jsonl_failed && !jsonl.Flush()) {
      jsonl_failed = true;
      spdlog::error("flushing '{}' failed ({}); JSON lines output stopped", jsonl.path(),
                    std::strerror(errno));
    }
  };
  // Receives every message already queued; returns how many.
  const auto drain = [&]() -> size_t {
    size_t handled = 0;
    while (socket->recv(topic, zmq::recv_flags::dontwait)) {
      size_t frames = 1;
      bool more = topic.more();
      if (more) {
        static_cast<void>(socket->recv(packet));
        ++frames;
        more = packet.more();
      }
      while (more) {  // frames beyond [topic][packet] are read and discarded
        static_cast<void>(socket->recv(extra));
        ++frames;
        more = extra.more();
      }
      HandleMessage(topic.to_string_view(),
                    frames >= 2 ? std::span<const uint8_t>(
                                      static_cast<const uint8_t*>(packet.data()), packet.size())
                                : std::span<const uint8_t>(),
                    frames);
      ++handled;
    }
    return handled;
  };
  // Recorder housekeeping: flush interval, splits, and the link statistics channel.
  const double record_stats_interval_s =
      options.stats_interval_s > 0 ? options.stats_interval_s : 5.0;
  const auto record_ground = [&] {
    std::vector<std::pair<ground::v1::GroundCommand, protocol::TimestampNs>> pending;
    {
      std::lock_guard lock(ground_mutex);
      pending.swap(ground_pending);
    }
    for (const auto& [command, at_ns] : pending) recorder->RecordCommand(command, at_ns);
  };
  const auto tick_alarms = [&] {
    if (!alarms) return;
    if (ack_pending.load(std::memory_order_relaxed)) TakeAcknowledgements();
    const auto now = Clock::now();
    const double since_s = std::chrono::duration<double>(now - last_gap_check).count();
    if (since_s >= record_stats_interval_s) {
      const uint64_t gaps = accounting.Snapshot().total_gaps();
      alarm_out.clear();
      alarms->EvaluateLink(LinkMetric::kGapRatePerMin,
                           static_cast<double>(gaps - gaps_at_last_check) * 60.0 / since_s,
                           WallNowNs(), alarm_out);
      if (!alarm_out.empty()) PublishAlarms(alarm_out, WallNowNs());
      gaps_at_last_check = gaps;
      last_gap_check = now;
    }
  };
  const auto tick_recorder = [&] {
    tick_alarms();
    if (!recorder) return;
    record_ground();
    const protocol::TimestampNs now_ns = WallNowNs();
    const double since_s = static_cast<double>(now_ns - last_recorded_stats_ns) / 1e9;
    if (since_s >= record_stats_interval_s) {
      LinkSnapshot snapshot = accounting.Snapshot();
      recorder->RecordLinkStats(snapshot, last_recorded_stats, accounting, since_s, now_ns);
      last_recorded_stats = std::move(snapshot);
      last_recorded_stats_ns = now_ns;
    }
    recorder->Tick(now_ns);
  };
  try {
    zmq::pollitem_t items[2] = {{socket->handle(), 0, ZMQ_POLLIN, 0},
                                {monitor ? monitor->handle() : nullptr, 0, ZMQ_POLLIN, 0}};
    const int item_count = monitor ? 2 : 1;
    bool received_any = false;
    Clock::time_point last_activity = Clock::now();
    bool idle_stop_posted = false;
    while (!stop_ingest.load(std::memory_order_relaxed)) {
      const int ready = zmq::poll(items, item_count, kIngestPoll);
      if (ready > 0 && monitor && (items[1].revents & ZMQ_POLLIN)) ReadMonitor();
      if (ready > 0 && (items[0].revents & ZMQ_POLLIN) && drain() > 0) {
        received_any = true;
        last_activity = Clock::now();
      } else {
        flush_jsonl();  // idle: make the file current for anyone tailing it
        // With gap fill still waiting for packets, idle means four times as long: the rover
        // may be gone for good, and a station must not wait for ever.
        const bool waiting = gap_fill_busy.load(std::memory_order_relaxed);
        if (options.idle_exit_s && received_any && !idle_stop_posted &&
            Clock::now() - last_activity >=
                Seconds(*options.idle_exit_s * (waiting ? kIdleExitGapFillFactor : 1))) {
          idle_stop_posted = true;
          spdlog::info("no telemetry for {} s: stopping{}", *options.idle_exit_s,
                       waiting ? " with packets still missing" : "");
          asio::post(io, [this] { RequestStop(); });
        }
      }
      tick_recorder();
    }
    drain();  // whatever arrived before the stop was requested
  } catch (const zmq::error_t& e) {
    ingest_error = fmt::format("telemetry receive failed: {}", e.what());
    asio::post(io, [this] { RequestStop(); });
  }
  flush_jsonl();
  if (recorder) {
    record_ground();
    const protocol::TimestampNs now_ns = WallNowNs();
    recorder->RecordLinkStats(accounting.Snapshot(), last_recorded_stats, accounting,
                              static_cast<double>(now_ns - last_recorded_stats_ns) / 1e9, now_ns);
    if (Status s = recorder->Close(); !s.ok() && ingest_error.empty()) {
      ingest_error = fmt::format("closing the recording failed: {}", s.message());
    }
  }
}

void Station::Impl::DrainView() {
  std::vector<std::string> lines = view_queue.TakeAll();
  if (lines.empty()) return;
  std::string out;
  for (const std::string& line : lines) {
    out += line;
    out += '\n';
  }
  std::fwrite(out.data(), 1, out.size(), human_out);
  std::fflush(human_out);
}

void Station::Impl::ScheduleViewDrain() {
  view_timer->expires_after(kViewDrainInterval);
  view_timer->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    DrainView();
    ScheduleViewDrain();
  });
}

void Station::Impl::ScheduleStats() {
  stats_timer->expires_after(Seconds(options.stats_interval_s));
  stats_timer->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    const LinkSnapshot now = accounting.Snapshot();
    const auto t = Clock::now();
    const double dt = std::chrono::duration<double>(t - last_stats_time).count();
    const double pps = (now.total_received() - last_stats.total_received()) / dt;
    const double kbps = (now.total_bytes() - last_stats.total_bytes()) * 8.0 / 1000.0 / dt;
    DrainView();
    // Latency means something only when on-board time is not ahead of the ground clock (an
    // emulator at --speed > 1 runs ahead of it).
    const LatencySummary latency = accounting.Latency();
    const std::string latency_text = latency.count > 0 && latency.negative == 0
                                         ? fmt::format(" | latency p50 {:.1f} ms p99 {:.1f} ms",
                                                       latency.p50_ns / 1e6, latency.p99_ns / 1e6)
                                         : "";
    fmt::print(human_out,
               "LINK  {} packets  {:.1f} pkt/s  {:.1f} kbit/s | rejected {} | missing {} in {} "
               "gaps | duplicates {} | out of order {}{}\n",
               now.total_received(), pps, kbps, now.total_rejected(), now.total_missing(),
               now.total_gaps(), now.total_duplicates(), now.total_out_of_order(), latency_text);
    std::fflush(human_out);
    last_stats = now;
    last_stats_time = t;
    ScheduleStats();
  });
}

void Station::Impl::SendRetransmit(const rover::v1::RetransmitRequest& request) {
  protocol::TcHeader header;
  const protocol::CommandInfo& command = protocol::Command(protocol::CommandId::kRetransmit);
  header.service = command.service;
  header.subtype = command.subtype;
  header.source_id = options.gap_fill.source_id;
  // Only the completion report: it carries what was queued and what is gone; an acceptance
  // report would be one more packet to lose. Failures are always reported.
  header.ack_flags = protocol::kAckCompletion;
  header.request_sequence = next_request_sequence++;
  tc_payload.clear();
  if (!request.AppendToString(&tc_payload) ||
      !protocol::EncodeTcPacket(header, protocol::AsBytes(tc_payload), tc_buffer).ok()) {
    spdlog::error("cannot encode a retransmit request of {} ranges", request.ranges_size());
    gap_filler->OnSendFailed(request);
    return;
  }
  if (SendUplink(tc_buffer)) {
    gap_filler->OnSent(header.request_sequence, request);
  } else {
    if (gap_filler->stats().send_failures % 100 == 0) {
      spdlog::warn("uplink {} not connected: retransmit request held back (retried)",
                   options.gap_fill.uplink);
    }
    gap_filler->OnSendFailed(request);
  }
}

bool Station::Impl::SendUplink(const std::string& packet) {
  try {
    return uplink->send(zmq::buffer(packet), zmq::send_flags::dontwait).has_value();
  } catch (const zmq::error_t&) {
    return false;
  }
}

void Station::Impl::ScheduleCommands() {
  command_timer->expires_after(kCommandTick);
  command_timer->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    ReadControl();
    if (!tracker) return ScheduleCommands();
    std::vector<Transmission> transmit;
    CommandTracker::Transitions transitions;
    const auto now = Clock::now();
    tracker->Poll(now, transmit, transitions);
    for (const Transmission& t : transmit) {
      if (SendUplink(*t.packet)) {
        tracker->OnSent(t.command_id, now, transitions);
      } else {
        tracker->OnSendFailed(t.command_id);
      }
    }
    Publish(transitions);
    ScheduleCommands();
  });
}

void Station::Impl::Reply(const std::string& peer, const nlohmann::json& message) {
  const std::string body = message.dump();
  try {
    static_cast<void>(
        control->send(zmq::buffer(peer), zmq::send_flags::sndmore | zmq::send_flags::dontwait));
    static_cast<void>(control->send(zmq::buffer(body), zmq::send_flags::dontwait));
  } catch (const zmq::error_t&) {
    // The client went away: its commands go on; the history has them.
  }
}

void Station::Impl::ReadControl() {
  zmq::message_t peer, body, extra;
  while (true) {
    try {
      if (!control->recv(peer, zmq::recv_flags::dontwait)) return;
    } catch (const zmq::error_t&) {
      return;
    }
    size_t frames = 0;
    bool more = peer.more();
    while (more) {
      static_cast<void>(control->recv(frames == 0 ? body : extra));
      ++frames;
      more = (frames == 1 ? body : extra).more();
    }
    const std::string from = peer.to_string();
    if (frames != 1) {
      Reply(from, {{"error", "a control request is one frame of JSON"}});
      continue;
    }
    HandleControlRequest(from, body.to_string_view());
  }
}

void Station::Impl::HandleControlRequest(const std::string& peer, std::string_view body) {
  const auto refuse = [&](const std::string& why) {
    ++control_refused;
    const auto now = Clock::now();
    if (now - last_refusal_log >= Seconds(options.reject_log_interval_s)) {
      last_refusal_log = now;
      spdlog::warn("control request refused: {} ({} refused so far)", why, control_refused);
    }
    Reply(peer, {{"error", why}});
  };
  nlohmann::json request = nlohmann::json::parse(body, nullptr, false);
  if (request.is_discarded() || !request.is_object()) return refuse("not a JSON object");
  const auto token = request.find("token");
  if (token == request.end() || !token->is_string() || *token != control_token) {
    return refuse("bad or missing token");
  }
  const std::string op = request.value("op", "");
  if (op == "alarms") {
    if (!alarms) return refuse("limit checking is off (--limits none)");
    return Reply(peer, {{"alarms", CurrentAlarmsJson()}});
  }
  if (op == "ack") {
    if (!alarms) return refuse("limit checking is off (--limits none)");
    const std::string id = request.value("id", "");
    if (id.empty()) return refuse("ack needs an alarm id, or \"all\"");
    {
      std::lock_guard lock(alarm_mutex);
      ack_inbox.push_back({id, request.value("by", "control channel"), peer});
    }
    ack_pending = true;
    return;  // the ingest thread answers once it has acknowledged
  }
  if (!tracker) return refuse("this station does not command (start it with --command)");
  if (op == "status") {
    const protocol::RoverContext rover = RoverNow();
    return Reply(peer, {{"commands", RecentCommandsJson(*tracker)},
                        {"rover_mode", protocol::ModeName(rover.mode)},
                        {"in_flight", tracker->active()}});
  }
  if (op != "command") return refuse(fmt::format("unknown op '{}'", op.substr(0, 32)));
  auto parsed = CommandRequestFromJson(request, "control channel");
  if (!parsed.ok()) return refuse(parsed.error().message());
  const CommandRequest& command = *parsed;
  CommandTracker::Transitions transitions;
  const uint64_t id = tracker->Submit(command, RoverNow(), Clock::now(), transitions);
  command_clients[id] = peer;
  Publish(transitions);
}

void Station::Impl::PublishAlarms(const AlarmManager::Transitions& transitions,
                                  protocol::TimestampNs ground_ns) {
  for (const ground::v1::GroundAlarm& a : transitions) {
    if (recorder) recorder->RecordAlarm(a, ground_ns);
    std::string severity = a.severity();
    for (char& ch : severity) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    view_queue.Push(fmt::format("ALARM {:<8} {} {}: {}", severity, a.id(), a.state(), a.text()));
  }
  std::vector<ground::v1::GroundAlarm> current = alarms->Current();
  std::lock_guard lock(alarm_mutex);
  alarm_snapshot.swap(current);
}

void Station::Impl::TakeAcknowledgements() {
  std::vector<AckRequest> requests;
  {
    std::lock_guard lock(alarm_mutex);
    requests.swap(ack_inbox);
    ack_pending = false;
  }
  for (const AckRequest& r : requests) {
    alarm_out.clear();
    const protocol::TimestampNs now_ns = WallNowNs();
    const Status s = alarms->Acknowledge(r.id, r.by, now_ns, alarm_out);
    if (!alarm_out.empty()) PublishAlarms(alarm_out, now_ns);
    nlohmann::json reply;
    if (s.ok()) {
      nlohmann::json acked = nlohmann::json::array();
      for (const ground::v1::GroundAlarm& a : alarm_out) acked.push_back(a.id());
      reply = {{"acknowledged", acked}};
    } else {
      reply = {{"error", s.message()}};
    }
    // Replies go out on the Asio thread, which owns the control socket (web acks have no peer:
    // the page reads /api/alarms).
    if (r.peer.empty()) continue;
    asio::post(io, [this, peer = r.peer, reply = std::move(reply)] { Reply(peer, reply); });
  }
}

void Station::Impl::Publish(const CommandTracker::Transitions& transitions) {
  if (transitions.empty()) return;
  const protocol::TimestampNs now_ns = WallNowNs();
  for (const ground::v1::GroundCommand& t : transitions) {
    const bool final = IsFinal(t.stage());
    std::string line =
        fmt::format("CMD   #{} {}{}{}: {}", t.command_id(), t.name(),
                    t.arguments().empty() ? "" : " ", t.arguments(), StageName(t.stage()));
    if (t.stage() == ground::v1::COMMAND_STAGE_PROGRESS) {
      line += fmt::format(" {}", t.progress_step());
    } else if (!t.detail().empty()) {
      line += fmt::format(" ({})", t.detail());
    }
    view_queue.Push(std::move(line));
    if (auto client = command_clients.find(t.command_id()); client != command_clients.end()) {
      nlohmann::json message = {{"command_id", t.command_id()},
                                {"name", t.name()},
                                {"arguments", t.arguments()},
                                {"stage", StageName(t.stage())},
                                {"detail", t.detail()},
                                {"request_sequence", t.request_sequence()},
                                {"attempt", t.attempt()},
                                {"progress_step", t.progress_step()},
                                {"expected_duration_s", t.expected_duration_s()},
                                {"final", final}};
      if (final) message["ok"] = t.stage() == ground::v1::COMMAND_STAGE_COMPLETED;
      Reply(client->second, message);
      if (final) command_clients.erase(client);
    }
  }
  if (recorder) {
    std::lock_guard lock(ground_mutex);
    for (const ground::v1::GroundCommand& t : transitions) ground_pending.emplace_back(t, now_ns);
  }
}

void Station::Impl::ScheduleGapFill() {
  gap_timer->expires_after(Seconds(options.gap_fill.tick_s));
  gap_timer->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    for (const rover::v1::RetransmitRequest& request : gap_filler->Poll(accounting, Clock::now())) {
      SendRetransmit(request);
    }
    gap_fill_busy = gap_filler->busy();
    ScheduleGapFill();
  });
}

void Station::Impl::RequestStop() {
  if (shutting_down) return;
  shutting_down = true;
  stop_ingest = true;
  if (ingest.joinable()) ingest.join();
  signals.cancel();
  if (stats_timer) stats_timer->cancel();
  if (view_timer) view_timer->cancel();
  if (duration_timer) duration_timer->cancel();
  if (gap_timer) gap_timer->cancel();
  if (command_timer) command_timer->cancel();
  if (http) http->Stop();
  if (tracker && tracker->active() > 0) {
    spdlog::warn("stopping with {} command(s) still in flight: their outcome is not known here",
                 tracker->active());
  }
  DrainView();
  io.stop();
}

Station::Station(StationOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Station::~Station() {
  impl_->stop_ingest = true;
  if (impl_->ingest.joinable()) impl_->ingest.join();
  if (impl_->control_lock_fd >= 0) ::close(impl_->control_lock_fd);
}

void Station::Stop() {
  asio::post(impl_->io, [impl = impl_.get()] { impl->RequestStop(); });
}

Result<LinkSnapshot> Station::Run() {
  Impl& s = *impl_;
  if (Status st = s.Start(); !st.ok()) return st;

  if (s.options.handle_signals) {
    s.signals.add(SIGINT);
    s.signals.add(SIGTERM);
    s.signals.async_wait([&s](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      spdlog::info("{} received: stopping", signal == SIGINT ? "SIGINT" : "SIGTERM");
      s.RequestStop();
    });
  }
  s.view_timer = std::make_unique<asio::steady_timer>(s.io);
  s.ScheduleViewDrain();
  if (s.options.stats_interval_s > 0) {
    s.stats_timer = std::make_unique<asio::steady_timer>(s.io);
    s.ScheduleStats();
  }
  if (s.options.duration_s) {
    s.duration_timer = std::make_unique<asio::steady_timer>(s.io);
    s.duration_timer->expires_after(Seconds(*s.options.duration_s));
    s.duration_timer->async_wait([&s](const boost::system::error_code& ec) {
      if (!ec) s.RequestStop();
    });
  }

  if (s.gap_filler) {
    s.gap_timer = std::make_unique<asio::steady_timer>(s.io);
    s.ScheduleGapFill();
  }
  if (s.control) {
    s.command_timer = std::make_unique<asio::steady_timer>(s.io);
    s.ScheduleCommands();
  }
  s.started_at = Clock::now();
  s.ingest = std::thread([&s] { s.IngestLoop(); });
  s.io.run();
  if (s.ingest.joinable()) s.ingest.join();

  const LinkSnapshot final_stats = s.accounting.Snapshot();
  if (s.monitor) {
    zmq_socket_monitor(s.socket->handle(), nullptr, 0);
    s.monitor.reset();
  }
  const uint64_t view_drops = s.view_queue.dropped();
  const double seconds = std::chrono::duration<double>(Clock::now() - s.started_at).count();
  fmt::print(s.human_out, "{}", FormatSummary(final_stats, s.accounting, seconds, view_drops));
  if (s.gap_filler) {
    const GapFillStats& g = s.gap_filler->stats();
    fmt::print(s.human_out,
               "  gap fill: {} requests ({} ranges, {} packets asked for, {} retries, {} tail "
               "probes), {} reports, rover queued {} packets, {} lost for good, {} held back by "
               "the uplink\n",
               g.requests, g.ranges_requested, g.packets_requested, g.retries, g.probes, g.reports,
               g.packets_queued, g.lost, g.send_failures);
  }
  if (s.alarms) {
    const AlarmStats& a = s.alarms->stats();
    const auto current = s.alarms->Current();
    fmt::print(s.human_out,
               "  alarms: {} raised, {} escalated, {} acknowledged, {} cleared; {} unresolved "
               "({} values checked)\n",
               a.raised, a.escalated, a.acknowledged, a.cleared, current.size(), a.samples);
  }
  if (s.auth_failures > 0) {
    fmt::print(s.human_out,
               "  telemetry authentication failures: {} (publishers without the rover's key)\n",
               s.auth_failures.load());
  }
  if (s.tracker) {
    const CommandTrackerStats& c = s.tracker->stats();
    fmt::print(s.human_out,
               "  commands: {} submitted, {} rejected by the station, {} completed, {} failed, {} "
               "timed out, {} still in flight; {} sends ({} resends)\n",
               c.submitted, c.rejected, c.completed, c.failed, c.timed_out, s.tracker->active(),
               c.sent, c.resent);
  }
  if (s.recorder) {
    const RecorderStats& r = s.recorder->stats();
    fmt::print(s.human_out, "  recorded {} messages, {} bytes in {} file(s); last: {}\n",
               r.messages, r.bytes, r.files, r.current_file);
    if (r.not_recorded > 0 || r.failures > 0) {
      fmt::print(s.human_out,
                 "  NOT recorded: {} messages; recording stopped {} time(s), resumed {} "
                 "time(s); last error: {}\n",
                 r.not_recorded, r.failures, r.resumed, r.error);
    }
  }
  std::fflush(s.human_out);
  if (!s.options.summary_json_path.empty()) {
    OutputFile summary;
    if (Status st = summary.Open(s.options.summary_json_path, "summary file"); !st.ok()) return st;
    nlohmann::json json = SummaryJson(final_stats, s.accounting, seconds, view_drops);
    json["duration_s"] = seconds;
    json["telemetry_auth_failures"] = s.auth_failures.load();
    if (s.alarms) {
      const AlarmStats& a = s.alarms->stats();
      nlohmann::json unresolved = nlohmann::json::array();
      for (const ground::v1::GroundAlarm& alarm : s.alarms->Current()) {
        unresolved.push_back(AlarmJson(alarm));
      }
      json["alarms"] = {
          {"raised", a.raised},   {"escalated", a.escalated}, {"acknowledged", a.acknowledged},
          {"cleared", a.cleared}, {"samples", a.samples},     {"unresolved", unresolved}};
    }
    json["prior_recordings"] = {{"files", s.prior.files},
                                {"recovered_files", s.prior.recovered_files},
                                {"recovered_messages", s.prior.recovered_messages},
                                {"lost_tail_bytes", s.prior.lost_tail_bytes},
                                {"messages", s.prior.messages}};
    if (s.gap_filler) {
      const GapFillStats& g = s.gap_filler->stats();
      json["gap_fill"] = {{"requests", g.requests},
                          {"ranges_requested", g.ranges_requested},
                          {"packets_requested", g.packets_requested},
                          {"retries", g.retries},
                          {"probes", g.probes},
                          {"reports", g.reports},
                          {"failed_reports", g.failed_reports},
                          {"packets_queued", g.packets_queued},
                          {"lost", g.lost},
                          {"send_failures", g.send_failures}};
    }
    if (s.tracker) {
      const CommandTrackerStats& c = s.tracker->stats();
      json["commands"] = {{"submitted", c.submitted},
                          {"rejected", c.rejected},
                          {"completed", c.completed},
                          {"failed", c.failed},
                          {"timed_out", c.timed_out},
                          {"in_flight", s.tracker->active()},
                          {"sent", c.sent},
                          {"resent", c.resent},
                          {"control_refused", s.control_refused}};
    }
    if (s.recorder) {
      const RecorderStats& r = s.recorder->stats();
      json["recording"] = {{"files", r.files},
                           {"messages", r.messages},
                           {"bytes", r.bytes},
                           {"not_recorded", r.not_recorded},
                           {"failures", r.failures},
                           {"resumed", r.resumed},
                           {"recording", r.recording},
                           {"last_error", r.error},
                           {"current_file", r.current_file}};
    }
    if (!summary.Write(json.dump(2) + "\n") || !summary.Flush()) {
      return Status::Error(fmt::format("writing summary '{}' failed", s.options.summary_json_path));
    }
  }
  if (!s.ingest_error.empty()) return Status::Error(s.ingest_error);
  return final_stats;
}

}  // namespace lgs::station
