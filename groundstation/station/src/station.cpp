#include "groundstation/station.h"

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <zmq.hpp>

#include "groundstation/alarm_sink.h"
#include "groundstation/bounded_queue.h"
#include "groundstation/commanding.h"
#include "groundstation/ingest_sinks.h"
#include "groundstation/output_file.h"
#include "groundstation/prior_recordings.h"
#include "groundstation/product_archive.h"
#include "groundstation/recorder_sink.h"
#include "groundstation/sink.h"
#include "groundstation/thread_bridge.h"
#include "groundstation/uplink.h"
#include "groundstation/uplink_sinks.h"
#include "protocol/clock.h"
#include "summary.h"
#include "transport/curve_keys.h"

namespace lgs::station {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

// Work waiting in each direction of the thread bridge, at most: far beyond what a working
// station ever has waiting (a few per tick), small enough that a stuck side costs little.
constexpr size_t kBridgeDepth = 65'536;
constexpr auto kViewDrainInterval = std::chrono::milliseconds(100);
// How often the control channel is read and commands are released and checked for time-outs:
// fast beside a 2.6 s round trip, cheap when idle.
constexpr auto kCommandTick = std::chrono::milliseconds(50);

}  // namespace

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

  StationOptions options;
  Logger& log;
  asio::io_context io;
  // Everything that does I/O on `io` is declared after it, so it is destroyed before it.
  LinkAccounting accounting;
  BoundedQueue<std::string> view_queue;
  // The one way work crosses between the Asio thread and the ingest thread.
  ThreadBridge bridge;
  asio::steady_timer stats_timer{io}, view_timer{io}, duration_timer{io}, gap_timer{io},
      command_timer{io};
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
  std::unique_ptr<Recorder> recorder;
  protocol::TimestampNs recorder_opened_ns = 0;
  RecorderSink* recorder_sink = nullptr;  // in `pipeline`, when recording
  AlarmSink* alarm_sink = nullptr;        // in `pipeline`, when checking limits
  std::unique_ptr<ProductSink> products;  // made before the pipeline, to resume
  ProductSink* product_sink = nullptr;    // in `pipeline`, when keeping products
  std::unique_ptr<AlarmManager> alarms;
  uint64_t gaps_at_start = 0;
  std::unique_ptr<TelemetryLink> link;

  // Asio-thread parts: the web, the uplink and commanding, and what the ingest thread hands
  // over by the bridge.
  std::unique_ptr<WebServer> web;
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

Status Station::Impl::Start() {
  if (Status s = options.Validate(); !s.ok()) return s;
  if (Status s = jsonl.Open(options.view.jsonl_path, "JSON lines file"); !s.ok()) return s;
  if (options.view.jsonl_path == "-" || options.view.summary_json_path == "-")
    terminal.set_out(stderr);
  if (!options.products.directory.empty()) products = MakeProductSink();
  if (!options.recorder.directory.empty()) {
    RecordedMessageVisitor visit;
    if (products && options.resume) {
      // The transfers the last run left unfinished go on from what it recorded.
      visit = [this](protocol::StreamId stream, const protocol::McapMessage& m) {
        products->Resume(stream, {reinterpret_cast<const char*>(m.data.data()), m.data.size()},
                         static_cast<protocol::TimestampNs>(m.publish_time));
      };
    }
    auto scanned = ScanPriorRecordings(options.recorder.directory, options.rover_id, options.resume,
                                       options.recorder.writer, log, visit);
    if (!scanned.ok()) return scanned.error();
    if (visit) static_cast<void>(products->FinishResume());
    prior = std::move(*scanned);
    if (options.resume) {
      SeedAccounting(prior, options.recorder.directory, options.gap_fill.enabled, accounting, log);
    }
    options.recorder.rover_id = options.rover_id;
    options.recorder.log = &log;
    recorder = std::make_unique<Recorder>(options.recorder);
    recorder_opened_ns = protocol::WallNowNs();
    if (Status s = recorder->Open(recorder_opened_ns); !s.ok()) return s;
  }
  gaps_at_start = accounting.Snapshot().total_gaps();  // what resuming found is not a rate
  if (Status s = StartLink(); !s.ok()) return s;
  if (Status s = StartUplink(); !s.ok()) return s;
  if (options.limits.enabled) {
    auto limits = LimitSet::Load(options.limits.path);
    if (!limits.ok()) return limits.error();
    log.Info("checking {} limits ({})", limits->limits().size(),
             options.limits.path.empty() ? "built-in" : options.limits.path);
    alarms = std::make_unique<AlarmManager>(std::move(*limits));
  }
  options.web.products_directory = options.products.directory;
  web = std::make_unique<WebServer>(io, options.web, options.rover_id, options.recorder.directory,
                                    *this, log);
  if (Status s = web->Start(); !s.ok()) return s;
  if (Status s = BuildPipeline(); !s.ok()) return s;
  if (!options.commanding.enabled && !alarms) return Status::Ok();
  // The control channel commands and acknowledges alarms; without commanding, a station that
  // cannot have it (another one for this rover holds it) runs on without it.
  options.commanding.control.refusal_log_interval_s = options.view.reject_log_interval_s;
  control = std::make_unique<ControlServer>(context, log);
  if (Status s = control->Start(options.commanding.control, options.rover_id); !s.ok()) {
    if (options.commanding.enabled || !options.commanding.control.endpoint.empty()) return s;
    log.Warn("no control channel ({}); alarms can only be acknowledged in the recording",
             s.message());
    control.reset();
  }
  if (options.commanding.enabled) {
    CommandTrackerOptions& t = options.commanding.tracker;
    t.source_id = options.gap_fill.source_id;
    t.light_time_s = options.light_time_s;
    commands = std::make_unique<Commanding>(
        t, *uplink, *control,
        [this](const CommandTracker::Transitions& transitions) { Publish(transitions); });
    log.Info("commanding on: control channel {} (token in {}), uplink {} as source {}",
             control->endpoint(), control->token_path(), options.gap_fill.uplink,
             options.gap_fill.source_id);
  }
  return Status::Ok();
}

Status Station::Impl::StartLink() {
  if (options.keys.insecure) {
    log.Warn(
        "INSECURE: telemetry is accepted in plain text from whoever answers at {}, and "
        "nothing proves it is the rover (--insecure)",
        fmt::join(options.link.connect, ", "));
  } else {
    auto pair = transport::LoadCurveKeyPair(options.keys.secret_key_path);
    if (!pair.ok()) return pair.error();
    auto rover = transport::LoadCurvePublicKey(options.keys.rover_key_path);
    if (!rover.ok()) return rover.error();
    curve = transport::CurveClient{std::move(*pair), std::move(*rover)};
  }
  LinkOptions o = options.link;
  o.auth_log_interval_s = options.view.reject_log_interval_s;
  TelemetryLink::Hooks hooks;
  hooks.request_stop = [this] { return bridge.ToAsio([this] { RequestStop(); }); };
  hooks.publish_watch = [this](LinkWatchSnapshot snapshot) {
    // A lost snapshot is replaced by the next one.
    static_cast<void>(bridge.ToAsio([this, snapshot = std::move(snapshot)]() mutable {
      link_watch_snapshot = std::move(snapshot);
    }));
  };
  link = std::make_unique<TelemetryLink>(std::move(o), options.rover_id, curve, context, accounting,
                                         pipeline, bridge, view_queue, log, std::move(hooks));
  return link->Open();
}

Status Station::Impl::StartUplink() {
  if (!options.gap_fill.enabled && !options.commanding.enabled) return Status::Ok();
  uplink = std::make_unique<Uplink>(context, log);
  if (Status s = uplink->Open(options.gap_fill.uplink, curve); !s.ok()) return s;
  if (options.gap_fill.enabled) {
    gap_filler = std::make_unique<GapFiller>(options.gap_fill, options.light_time_s, log);
    log.Info("gap fill on: retransmit requests to {} as source {}", options.gap_fill.uplink,
             options.gap_fill.source_id);
  }
  return Status::Ok();
}

// What every accepted packet goes through, in this order.
Status Station::Impl::BuildPipeline() {
  // Statistics to the recording, and the gap rate checked, at the statistics interval.
  const double record_stats_interval_s =
      options.view.stats_interval_s > 0 ? options.view.stats_interval_s : 5.0;
  pipeline.Add(std::make_unique<RejectLogSink>(options.view.reject_log_interval_s, log));
  if (recorder) {
    recorder_sink = &pipeline.Add(std::make_unique<RecorderSink>(
        *recorder, accounting, record_stats_interval_s, recorder_opened_ns));
  }
  if (web->feed()) pipeline.Add(std::make_unique<RealtimeSink>(*web->feed(), link->decoder()));
  if (alarms) {
    alarm_sink = &pipeline.Add(std::make_unique<AlarmSink>(
        *alarms, accounting, record_stats_interval_s, gaps_at_start,
        [this](const AlarmManager::Transitions& t, protocol::TimestampNs ground_ns) {
          PublishAlarms(t, ground_ns);
        }));
  }
  if (uplink) {
    pipeline.Add(std::make_unique<VerificationSink>(
        [this](std::shared_ptr<const rover::v1::CommandVerification> report) {
          const bool sent = bridge.ToAsio([this, report = std::move(report)] {
            if (commands && commands->OnReport(*report)) return;
            if (gap_filler) gap_filler->OnReport(*report, accounting);
          });
          if (!sent) {
            log.Error(
                "a command verification report was dropped: the Asio thread is not "
                "keeping up");
          }
        }));
  }
  if (options.commanding.enabled) {
    pipeline.Add(std::make_unique<RoverStateSink>([this](const protocol::RoverContext& state) {
      // A lost update is replaced by the next one.
      static_cast<void>(bridge.ToAsio([this, state] { commands->SetRover(state); }));
    }));
  }
  if (products) {
    product_sink = &pipeline.Add(std::move(products));
    log.Info("keeping CFDP products in {}{}", options.products.directory,
             uplink ? "" : " (listening only: no uplink to answer the rover's CFDP)");
  }
  if (jsonl.is_open()) pipeline.Add(std::make_unique<JsonLinesSink>(jsonl, log));
  if (options.view.print_telemetry) {
    pipeline.Add(std::make_unique<TerminalSink>(view_queue, options.view.print_interval_s));
  }
  return Status::Ok();
}

// The CFDP receiving entity: it answers the rover over the uplink when the station has one, and
// records each kept image when it records.
std::unique_ptr<ProductSink> Station::Impl::MakeProductSink() {
  ProductSink::SendPdu send;
  if (options.gap_fill.enabled || options.commanding.enabled) {  // StartUplink opens one
    send = [this](std::string pdu) {
      return bridge.ToAsio([this, pdu = std::move(pdu)] {
        static_cast<void>(uplink->SendFilePdu(pdu, options.gap_fill.source_id));
      });
    };
  }
  options.products.log_interval_s = options.view.reject_log_interval_s;
  ProductSink::OnImage on_image;
  if (!options.recorder.directory.empty()) {
    on_image = [this](const rover::v1::CameraFrame& frame, protocol::TimestampNs onboard_ns,
                      const std::string& path) { RecordImage(frame, onboard_ns, path); };
  }
  auto sink = std::make_unique<ProductSink>(options.products, options.light_time_s, send, log,
                                            std::move(on_image));
  sink->set_on_progress(
      [this](std::vector<ProductProgress> progress) {
        nlohmann::json list = nlohmann::json::array();
        for (const ProductProgress& p : progress) list.push_back(ProgressJson(p));
        // A lost snapshot is replaced by the next one.
        static_cast<void>(bridge.ToAsio(
            [this, list = std::move(list)]() mutable { transfers_snapshot = std::move(list); }));
      },
      1.0);
  return sink;
}

// A control request whose token matched (Asio thread).
void Station::Impl::OnControl(const std::string& peer, const control::Envelope& envelope) {
  if (control::IsAboutAlarms(envelope) && !alarms) {
    return control->Refuse(peer, "limit checking is off (--limits none)");
  }
  if (!control::IsAboutAlarms(envelope) && !commands) {
    return control->Refuse(peer, "this station does not command (start it with --command)");
  }
  auto request = control::ParseRequest(envelope, "control channel");
  if (!request.ok()) return control->Refuse(peer, request.error().message());
  if (std::holds_alternative<control::AlarmsRequest>(*request)) {
    return control->Reply(peer, control::AlarmsReply{Alarms()});
  }
  if (const auto* ack = std::get_if<control::AckRequest>(&*request)) {
    if (!bridge.ToIngest([this, id = ack->id, by = ack->by, peer] { Acknowledge(id, by, peer); })) {
      control->Refuse(peer, "the station is too busy to take an acknowledgement now; try again");
    }
    return;  // the ingest thread answers once it has acknowledged
  }
  if (std::holds_alternative<control::StatusRequest>(*request)) {
    return control->Reply(peer, commands->Status());
  }
  static_cast<void>(commands->Submit(std::get<CommandRequest>(*request), peer));
}

// Command stages (Asio thread; the client that asked has been answered): to the terminal and
// to the recording.
void Station::Impl::Publish(const CommandTracker::Transitions& transitions) {
  const protocol::TimestampNs now_ns = protocol::WallNowNs();
  for (const ground::v1::GroundCommand& t : transitions) view_queue.Push(Commanding::Line(t));
  if (recorder) {
    const bool sent = bridge.ToIngest([this, transitions, now_ns] {
      for (const ground::v1::GroundCommand& t : transitions) {
        recorder_sink->recorder().RecordCommand(t, now_ns);
      }
    });
    if (!sent) {
      log.Error("{} command transition(s) not recorded: the ingest thread is not keeping up",
                transitions.size());
    }
  }
}

// Alarm transitions (ingest thread): recorded, shown, and the unresolved set handed over.
void Station::Impl::PublishAlarms(const AlarmManager::Transitions& transitions,
                                  protocol::TimestampNs ground_ns) {
  for (const ground::v1::GroundAlarm& a : transitions) {
    if (recorder_sink) recorder_sink->recorder().RecordAlarm(a, ground_ns);
    std::string severity = a.severity();
    for (char& ch : severity) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    view_queue.Push(fmt::format("ALARM {:<8} {} {}: {}", severity, a.id(), a.state(), a.text()));
  }
  // A lost snapshot is replaced by the next transition's.
  static_cast<void>(bridge.ToAsio(
      [this, current = alarms->Current()]() mutable { alarm_snapshot = std::move(current); }));
}

// Ingest thread: an acknowledgement from the web (no peer) or the control channel.
void Station::Impl::Acknowledge(const std::string& id, const std::string& by,
                                const std::string& peer) {
  std::vector<std::string> acknowledged;
  const Status s = alarm_sink->Acknowledge(id, by, protocol::WallNowNs(), acknowledged);
  // Replies go out on the Asio thread, which owns the control socket (web acks have no peer:
  // the page reads /api/alarms).
  if (peer.empty()) return;
  control::Reply reply = s.ok() ? control::Reply{control::AckReply{std::move(acknowledged)}}
                                : control::Reply{control::ErrorReply{s.message()}};
  static_cast<void>(
      bridge.ToAsio([this, peer, reply = std::move(reply)] { control->Reply(peer, reply); }));
}

// Ingest thread: a kept image into the recording, where Foxglove's Image panel shows it.
void Station::Impl::RecordImage(const rover::v1::CameraFrame& frame,
                                protocol::TimestampNs onboard_ns, const std::string& path) {
  auto image = CompressedImageOf(frame, onboard_ns, path);
  if (!image.ok()) {
    log.Error("image {} kept but not recorded: {}", path, image.error().message());
    return;
  }
  recorder_sink->recorder().RecordImage(image->frame_id(), *image, protocol::WallNowNs(),
                                        onboard_ns);
}

void Station::Impl::Every(asio::steady_timer& timer, Clock::duration interval,
                          std::function<void()> work) {
  timer.expires_after(interval);
  timer.async_wait([this, &timer, interval,
                    work = std::move(work)](const boost::system::error_code& ec) mutable {
    if (ec) return;
    work();
    Every(timer, interval, std::move(work));
  });
}

void Station::Impl::RequestStop() {
  if (shutting_down) return;
  shutting_down = true;
  link->Stop();
  for (asio::steady_timer* t :
       {&stats_timer, &view_timer, &duration_timer, &gap_timer, &command_timer}) {
    t->cancel();
  }
  web->Stop();
  if (commands && commands->active() > 0) {
    log.Warn("stopping with {} command(s) still in flight: their outcome is not known here",
             commands->active());
  }
  terminal.Drain();
  io.stop();
}

StationSummary Station::Impl::Summary(const LinkSnapshot& final_stats) const {
  const double seconds = std::chrono::duration<double>(Clock::now() - started_at).count();
  // The ingest thread has stopped: its parts are read directly.
  StationSummary summary(final_stats, accounting, seconds, view_queue.dropped());
  summary.link_watch = link->WatchSnapshot();
  summary.auth_failures = link->auth_failures();
  summary.prior = &prior;
  if (gap_filler) summary.gap_fill = gap_filler->stats();
  if (alarms) summary.alarms = StationSummary::Alarms{alarms->stats(), alarms->Current()};
  if (commands) {
    summary.commands = StationSummary::Commands{commands->stats(), commands->active(),
                                                control ? control->refused() : 0};
  }
  if (recorder) summary.recording = recorder->stats();
  return summary;
}

Station::Station(StationOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Station::~Station() = default;

void Station::Stop() {
  asio::post(impl_->io, [impl = impl_.get()] { impl->RequestStop(); });
}

Result<LinkSnapshot> Station::Run() {
  Impl& s = *impl_;
  if (Status st = s.Start(); !st.ok()) return st;
  s.Every(s.view_timer, kViewDrainInterval, [&s] { s.terminal.Drain(); });
  if (s.options.view.stats_interval_s > 0) {
    s.Every(s.stats_timer, protocol::SteadySeconds(s.options.view.stats_interval_s), [&s] {
      const LinkSnapshot now = s.accounting.Snapshot();
      const auto t = Clock::now();
      s.terminal.Drain();
      s.terminal.Print(StatsLine(now, s.last_stats,
                                 std::chrono::duration<double>(t - s.last_stats_time).count(),
                                 s.accounting.Latency()));
      s.last_stats = now;
      s.last_stats_time = t;
    });
  }
  if (s.options.duration_s) {
    s.duration_timer.expires_after(protocol::SteadySeconds(*s.options.duration_s));
    s.duration_timer.async_wait([&s](const boost::system::error_code& ec) {
      if (!ec) s.RequestStop();
    });
  }
  if (s.gap_filler) {
    s.Every(s.gap_timer, protocol::SteadySeconds(s.options.gap_fill.tick_s), [&s] {
      for (const rover::v1::RetransmitRequest& r : s.gap_filler->Poll(s.accounting, Clock::now())) {
        s.uplink->SendRetransmit(r, *s.gap_filler, s.options.gap_fill.source_id);
      }
      if (const bool busy = s.gap_filler->busy(); busy != s.gap_fill_busy) {
        // Refused only by a stuck ingest thread: told again at the next tick.
        if (s.bridge.ToIngest([&s, busy] { s.link->SetGapFillWaiting(busy); })) {
          s.gap_fill_busy = busy;
        }
      }
    });
  }
  if (s.control) {
    s.Every(s.command_timer, kCommandTick, [&s] {
      s.control->Read([&s](const std::string& peer, const control::Envelope& envelope) {
        s.OnControl(peer, envelope);
      });
      if (s.commands) s.commands->Tick();
    });
  }
  s.started_at = Clock::now();
  s.link->Start();
  s.io.run();
  s.link->Stop();

  const LinkSnapshot final_stats = s.accounting.Snapshot();
  const StationSummary summary = s.Summary(final_stats);
  s.terminal.Print(SummaryText(summary));
  if (!s.options.view.summary_json_path.empty()) {
    OutputFile file;
    if (Status st = file.Open(s.options.view.summary_json_path, "summary file"); !st.ok()) {
      return st;
    }
    if (!file.Write(SummaryJson(summary).dump(2) + "\n") || !file.Flush()) {
      return Status::Error(
          fmt::format("writing summary '{}' failed", s.options.view.summary_json_path));
    }
  }
  if (!s.link->error().empty()) return Status::Error(s.link->error());
  return final_stats;
}

}  // namespace lgs::station
