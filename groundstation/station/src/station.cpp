#include "groundstation/station.h"

#include <fmt/format.h>
#include <malloc.h>

#include "station_impl.h"

namespace lgs::station {

namespace {

constexpr auto kViewDrainInterval = std::chrono::milliseconds(100);
// A second with this many messages is a burst (a rover at mission speed sends tens a second;
// store playback hundreds).
constexpr auto kTrimInterval = std::chrono::seconds(1);
constexpr uint64_t kTrimBurstMessages = 2000;
// How often the control channel is read and commands are released and checked for time-outs:
// fast beside a 2.6 s round trip, cheap when idle.
constexpr auto kCommandTick = std::chrono::milliseconds(50);

}  // namespace

Status Station::Impl::Start() {
  if (Status s = options.Validate(); !s.ok()) return s;
  if (Status s = jsonl.Open(options.view.jsonl_path, "JSON lines file"); !s.ok()) return s;
  if (options.view.jsonl_path == "-" || options.view.summary_json_path == "-")
    terminal.set_out(stderr);
  if (!options.link_schedule_path.empty()) {
    auto schedule = LoadLinkSchedule(options.link_schedule_path);
    if (!schedule.ok()) return schedule.error();
    link_schedule = std::move(*schedule);
  }
  if (!options.sun_schedule_path.empty()) {
    auto plan = LoadSunSchedule(options.sun_schedule_path);
    if (!plan.ok()) return plan.error();
    sun_schedule = std::move(*plan);
  }
  if (!options.products.directory.empty()) products = MakeProductSink();
  map = std::make_unique<MapSink>(
      log, std::chrono::duration_cast<Clock::duration>(
               std::chrono::duration<double>(options.view.reject_log_interval_s)));
  map_sink = map.get();
  if (!options.recorder.directory.empty()) {
    const bool resume_products = products && options.resume;
    // The site map is rebuilt from every recorded tile (a recording with a parameter archive
    // gives its newest tile of each footprint and its newest pose without being read); the
    // transfers the last run left unfinished go on from what it recorded (camera records and
    // file PDUs, read from the chunks that hold them).
    const RecordedMessageVisitor visit = [this, resume_products](protocol::StreamId stream,
                                                                 const protocol::McapMessage& m) {
      const std::string_view payload{reinterpret_cast<const char*>(m.data.data()), m.data.size()};
      const auto onboard_ns = static_cast<protocol::TimestampNs>(m.publish_time);
      map->Replay(stream, payload, onboard_ns);
      if (resume_products) products->Resume(stream, payload, onboard_ns);
    };
    std::vector<protocol::StreamId> full_streams;
    if (resume_products) {
      full_streams = {protocol::StreamId::kCameraFrame, protocol::StreamId::kFileDelivery};
    }
    auto scanned = ScanPriorRecordings(options.recorder.directory, options.rover_id, options.resume,
                                       options.recorder.writer, log, visit, full_streams);
    if (!scanned.ok()) return scanned.error();
    if (resume_products) static_cast<void>(products->FinishResume());
    if (const MapSnapshot m = map->Snapshot(); m.replayed_tiles > 0) {
      log.Info("site map: {} terrain tiles from the recordings ({} cells observed)",
               m.replayed_tiles, m.mosaic->stats().observed_cells);
    }
    prior = std::move(*scanned);
    if (options.resume) {
      SeedAccounting(prior, options.recorder.directory, options.gap_fill.enabled, accounting, log);
    }
    options.recorder.rover_id = options.rover_id;
    options.recorder.log = &log;
    archive =
        std::make_unique<ArchiveMaintainer>(options.recorder.directory, options.rover_id, log);
    options.recorder.on_file_closed = [a = archive.get()](const std::string& path) {
      a->FileClosed(path);
    };
    options.recorder.on_file_opened = [a = archive.get()](const std::string& path) {
      a->FileOpened(path);
    };
    recorder = std::make_unique<Recorder>(options.recorder);
    recorder_opened_ns = protocol::WallNowNs();
    if (Status s = recorder->Open(recorder_opened_ns); !s.ok()) return s;
    archive->Start(recorder->stats().current_file);
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
  if (recorder) {
    // The 3D scene, transforms and log as Foxglove's panels read them, beside the raw channels.
    scene_sink =
        &pipeline.Add(std::make_unique<SceneSink>(options.rover_id, [this](const SceneMessage& m) {
          recorder_sink->recorder().RecordProduct(m.topic, *m.message, m.log_ns, m.publish_ns,
                                                  m.content);
        }));
  }
  // Last of all, whatever its place here: it takes the decoded message to the web thread.
  if (web->feed()) pipeline.SetTaker(std::make_unique<RealtimeSink>(*web->feed(), link->decoder()));
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
            RequestOwner owner = RequestOwner::kUnknown;
            if (commands && commands->OnReport(*report)) {
              owner = RequestOwner::kCommand;
            } else if (gap_filler && gap_filler->OnReport(*report, accounting)) {
              owner = RequestOwner::kGapFill;
            }
            if (options.view.print_telemetry) {
              view_queue.Push(
                  TerminalLine(protocol::WallNowNs(), FormatVerificationLine(*report, owner)));
            }
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
  if (web->running()) {
    pipeline.Add(std::make_unique<ConsoleStateSink>([this](const station::ConsoleState& state) {
      // A lost update is replaced by the next one.
      static_cast<void>(bridge.ToAsio([this, state] { console_state = state; }));
    }));
  }
  if (products) {
    product_sink = &pipeline.Add(std::move(products));
    log.Info("keeping CFDP products in {}{}", options.products.directory,
             uplink ? "" : " (listening only: no uplink to answer the rover's CFDP)");
  }
  pipeline.Add(std::move(map));
  if (jsonl.is_open()) pipeline.Add(std::make_unique<JsonLinesSink>(jsonl, log));
  if (options.view.print_telemetry) {
    // With an uplink, reports are shown once their owner is known (the Asio thread, above).
    pipeline.Add(std::make_unique<TerminalSink>(view_queue, options.view.print_interval_s,
                                                uplink != nullptr));
  }
  return Status::Ok();
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
  if (archive) summary.archive = archive->stats();
  if (product_sink) {
    size_t in_progress = 0;
    for (const protocol::cfdp::TransactionView& t : product_sink->Transactions()) {
      in_progress += t.state == protocol::cfdp::TransactionState::kReceiving;
    }
    summary.products = StationSummary::Products{product_sink->stats(),
                                                product_sink->receiver_stats(), in_progress};
  }
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
  // After a burst (a flood of garbage, a store playback) the receive queue's freed pages stay in
  // glibc's arenas; giving them back each second of a burst and once after it keeps the
  // station's memory its working set, not its worst second's.
  s.Every(s.trim_timer, kTrimInterval, [&s] {
    const LinkSnapshot now = s.accounting.Snapshot();
    const uint64_t messages = now.total_received() + now.total_rejected();
    const bool burst = messages - s.trim_messages >= kTrimBurstMessages;
    if (burst || s.trim_burst) ::malloc_trim(0);
    s.trim_messages = messages;
    s.trim_burst = burst;
  });
  if (s.options.view.stats_interval_s > 0) {
    s.Every(s.stats_timer, protocol::SteadySeconds(s.options.view.stats_interval_s), [&s] {
      const LinkSnapshot now = s.accounting.Snapshot();
      const auto t = Clock::now();
      s.terminal.Drain();
      s.terminal.Print(TerminalLine(
          protocol::WallNowNs(),
          StatsLine(now, s.last_stats, std::chrono::duration<double>(t - s.last_stats_time).count(),
                    s.accounting.Latency())));
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
  // The recording's last file is summarized before the station ends (well under a second for
  // an hour of the default mix); a longer wait is left to the next start.
  if (s.archive && !s.archive->WaitClosed(std::chrono::seconds(20))) {
    s.log.Warn("parameter archive: the last recording is not summarized yet; the next start will");
  }

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
