#include "groundstation/station.h"

#include <cmath>

#include "protocol/text.h"
#include "rover/v1/event.pb.h"
#include "station_impl.h"

namespace lgs::station {

Status StationOptions::Validate() const {
  if (connect.empty()) return Status::Error("no endpoint to connect to");
  if (insecure && (!secret_key_path.empty() || !rover_key_path.empty())) {
    return Status::Error(
        "--insecure and --secret-key/--rover-key contradict each other: plain text would "
        "silently drop the keys; give the keys or --insecure, not both");
  }
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
  // Written !(x >= lo) so that NaN fails too (it passes every "x < lo" test).
  if (!(light_time_s >= 0.0 && light_time_s <= 60.0)) {
    return Status::Error(fmt::format("light time {} s is outside 0..60", light_time_s));
  }
  if (!(stats_interval_s >= 0.0 && print_interval_s >= 0.0 && reject_log_interval_s >= 0.0) ||
      !std::isfinite(stats_interval_s + print_interval_s + reject_log_interval_s)) {
    return Status::Error("intervals must be finite and not negative");
  }
  if (receive_hwm < 0) return Status::Error("receive HWM must not be negative");
  if (Status s = link_watch.Validate(); !s.ok()) return s;
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

Status Station::Impl::Start() {
  if (Status s = options.Validate(); !s.ok()) return s;
  if (Status s = jsonl.Open(options.jsonl_path, "JSON lines file"); !s.ok()) return s;
  if (options.jsonl_path == "-" || options.summary_json_path == "-") human_out = stderr;
  decoder = std::make_unique<protocol::TelemetryDecoder>(options.rover_id);
  if (!options.recorder.directory.empty()) {
    auto scanned = ScanPriorRecordings(options.recorder.directory, options.rover_id, options.resume,
                                       options.recorder.writer, log);
    if (!scanned.ok()) return scanned.error();
    prior = std::move(*scanned);
    if (options.resume) {
      for (const protocol::StreamInfo& info : protocol::AllStreams()) {
        const auto& recorded = prior.recorded[static_cast<size_t>(info.id)];
        if (const uint64_t left_out = accounting.SeedRecorded(info.id, recorded); left_out > 0) {
          log.Warn(
              "resuming {}: {} recorded sequence(s) lie far from the rest of the stream (a "
              "corrupted packet an older station believed?) and are not taken as its newest",
              info.name, left_out);
        }
      }
      const LinkSnapshot seeded = accounting.Snapshot();
      log.Info(
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
    options.recorder.log = &log;
    recorder = std::make_unique<Recorder>(options.recorder);
    recorder_opened_ns = WallNowNs();
    if (Status s = recorder->Open(recorder_opened_ns); !s.ok()) return s;
  }
  gaps_at_start = accounting.Snapshot().total_gaps();  // what resuming found is not a rate

  if (options.insecure) {
    log.Warn(
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
  {
    // The monitor tells authentication failures apart and, above all, drops that libzmq will
    // not retry (LinkWatch), with or without keys.
    const std::string address = fmt::format("inproc://telemetry-monitor-{}", fmt::ptr(this));
    if (zmq_socket_monitor(
            socket->handle(), address.c_str(),
            ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_DELAYED | ZMQ_EVENT_CONNECT_RETRIED |
                ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0) {
      return Status::Error(
          fmt::format("cannot monitor the telemetry socket: {}", zmq_strerror(zmq_errno())));
    }
    monitor = std::make_unique<zmq::socket_t>(context, zmq::socket_type::pair);
    monitor->set(zmq::sockopt::linger, 0);
    monitor->connect(address);
  }
  link_watch = std::make_unique<LinkWatch>(options.link_watch, options.connect, keys.has_value(),
                                           Clock::now());
  for (const std::string& endpoint : options.connect) {
    try {
      socket->connect(endpoint);
    } catch (const zmq::error_t& e) {
      return Status::Error(fmt::format("cannot connect to '{}': {}", endpoint, e.what()));
    }
  }
  log.Info("station for rover '{}' listening to {}", options.rover_id,
           fmt::join(options.connect, ", "));
  if (options.gap_fill.enabled || options.commanding.enabled) {
    if (options.gap_fill.enabled) {
      gap_filler = std::make_unique<GapFiller>(options.gap_fill, options.light_time_s, log);
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
      log.Info("gap fill on: retransmit requests to {} as source {}", options.gap_fill.uplink,
               options.gap_fill.source_id);
    }
  }
  if (options.limits_enabled) {
    auto limits = LimitSet::Load(options.limits_path);
    if (!limits.ok()) return limits.error();
    log.Info("checking {} limits ({})", limits->limits().size(),
             options.limits_path.empty() ? "built-in" : options.limits_path);
    alarms = std::make_unique<AlarmManager>(std::move(*limits));
  }
  if (Status s = StartHttp(); !s.ok()) return s;
  if (Status s = BuildPipeline(); !s.ok()) return s;
  if (options.commanding.enabled) return StartCommanding();
  if (alarms) {
    // Without commanding the control channel is only for acknowledging alarms: a station that
    // cannot have it (another one for this rover holds it) runs on without it.
    if (Status s = StartControl(); !s.ok()) {
      if (!options.commanding.control_endpoint.empty()) return s;  // asked for: an error
      log.Warn("no control channel ({}); alarms can only be acknowledged in the recording",
               s.message());
      control.reset();
    }
  }
  return Status::Ok();
}

// What every accepted packet goes through, in this order. The uplink sinks exist when something
// uplinks (their readers are built by StartCommanding and the gap filler, after this, before the
// ingest thread starts).
Status Station::Impl::BuildPipeline() {
  // Statistics to the recording, and the gap rate checked, at the statistics interval.
  const double record_stats_interval_s =
      options.stats_interval_s > 0 ? options.stats_interval_s : 5.0;
  pipeline.Add(std::make_unique<RejectLogSink>(options.reject_log_interval_s, log));
  if (recorder) {
    recorder_sink = &pipeline.Add(std::make_unique<RecorderSink>(
        *recorder, accounting, record_stats_interval_s, recorder_opened_ns));
  }
  if (realtime_feed) pipeline.Add(std::make_unique<RealtimeSink>(*realtime_feed, *decoder));
  if (alarms) {
    alarm_sink = &pipeline.Add(std::make_unique<AlarmSink>(
        *alarms, accounting, record_stats_interval_s, gaps_at_start,
        [this](const AlarmManager::Transitions& t, protocol::TimestampNs ground_ns) {
          PublishAlarms(t, ground_ns);
        }));
  }
  if (options.gap_fill.enabled || options.commanding.enabled) {
    pipeline.Add(std::make_unique<VerificationSink>(
        [this](std::shared_ptr<const rover::v1::CommandVerification> report) {
          const bool sent = bridge.ToAsio([this, report = std::move(report)] {
            if (tracker) {
              CommandTracker::Transitions transitions;
              const bool ours = tracker->OnReport(*report, Clock::now(), transitions);
              Publish(transitions);
              if (ours) return;
            }
            if (gap_filler) gap_filler->OnReport(*report, accounting);
          });
          if (!sent)
            log.Error(
                "a command verification report was dropped: the Asio thread "
                "is not keeping up");
        }));
  }
  if (options.commanding.enabled) {
    pipeline.Add(std::make_unique<RoverStateSink>([this](const protocol::RoverContext& state) {
      // A lost update is replaced by the next one.
      static_cast<void>(bridge.ToAsio([this, state] { rover_now = state; }));
    }));
  }
  if (jsonl.is_open()) pipeline.Add(std::make_unique<JsonLinesSink>(jsonl, log));
  if (options.print_telemetry) {
    pipeline.Add(std::make_unique<TerminalSink>(view_queue, options.print_interval_s));
  }
  return Status::Ok();
}

Status Station::Impl::StartCommanding() {
  if (Status s = StartControl(); !s.ok()) return s;
  StationOptions::Commanding& c = options.commanding;
  c.tracker.source_id = options.gap_fill.source_id;
  c.tracker.light_time_s = options.light_time_s;
  tracker = std::make_unique<CommandTracker>(c.tracker, [this] { return next_request_sequence++; });
  log.Info("commanding on: control channel {} (token in {}), uplink {} as source {}",
           control_endpoint, control_token_path, options.gap_fill.uplink,
           options.gap_fill.source_id);
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
    pipeline.Rejected(RejectedMessage{protocol::RejectReason::kWrongFrameCount, detail, topic,
                                      packet, frames, ground_ns});
    return;
  }
  auto decoded = decoder->Decode(topic, packet);
  if (!decoded) {
    const protocol::Rejection& rejection = decoded.error();
    accounting.Reject(rejection.reason);
    pipeline.Rejected(
        RejectedMessage{rejection.reason, rejection.detail, topic, packet, frames, ground_ns});
    return;
  }
  const protocol::DecodedPacket& p = decoded.value();
  const Observation o =
      accounting.Observe(p.stream->id, p.packet.extended_sequence, p.packet.bytes.size(),
                         p.packet.onboard_time_ns, ground_ns);
  if (o.released_count == 0 && o.discarded_count == 0) {  // the common case
    if (o.arrival == Arrival::kSuspect) return Hold(p, topic, ground_ns);
    if (o.arrival != Arrival::kDuplicate) Deliver(p, ground_ns, &o);
    return;
  }
  // Held packets decided by this one: set aside, or accepted before it.
  const StreamId stream = p.stream->id;
  const uint32_t seq = p.packet.extended_sequence;
  for (size_t i = 0; i < o.discarded_count; ++i) SetAside(stream, o.discarded[i]);
  if (o.arrival == Arrival::kSuspect) return Hold(p, topic, ground_ns);
  for (size_t i = 0; i < o.released_count; ++i) Release(o.released[i].stream, o.released[i].seq);
  if (o.arrival == Arrival::kDuplicate) return;
  // Decoding a held packet reused the stream's message: decode this one again.
  auto again = decoder->Decode(topic, packet);
  if (again.ok()) Deliver(*again, ground_ns, &o);
  log.Info("{}: sequence {} confirmed by the packet after it; the stream goes on from there",
           protocol::Stream(stream).name, seq);
}

void Station::Impl::Hold(const protocol::DecodedPacket& p, std::string_view topic,
                         protocol::TimestampNs ground_ns) {
  auto& held = suspects[static_cast<size_t>(p.stream->id)];
  // The accounting holds at most kMaxSuspects and said which to drop first (SetAside).
  held.push_back(
      {std::string(topic),
       std::string(reinterpret_cast<const char*>(p.packet.bytes.data()), p.packet.bytes.size()),
       ground_ns, p.packet.extended_sequence});
}

std::optional<Station::Impl::HeldPacket> Station::Impl::TakeHeld(StreamId stream, uint32_t seq) {
  auto& held = suspects[static_cast<size_t>(stream)];
  for (auto it = held.begin(); it != held.end(); ++it) {
    if (it->seq != seq) continue;
    HeldPacket h = std::move(*it);
    held.erase(it);
    return h;
  }
  return std::nullopt;
}

void Station::Impl::SetAside(StreamId stream, uint32_t seq) {
  auto h = TakeHeld(stream, seq);
  if (!h) return;
  const LinkSnapshot snapshot = accounting.Snapshot();
  const StreamStats& st = snapshot.streams[static_cast<size_t>(stream)];
  const std::string detail = fmt::format(
      "{} sequence {} (the stream is at {}..{}), and no packet after it confirmed the jump",
      protocol::Stream(stream).name, seq, st.first_seq, st.highest_seq);
  pipeline.Rejected(RejectedMessage{protocol::RejectReason::kImplausibleSequence, detail, h->topic,
                                    protocol::AsBytes(h->bytes), protocol::kTelemetryFrameCount,
                                    h->ground_ns});
}

void Station::Impl::Release(StreamId stream, uint32_t seq) {
  auto h = TakeHeld(stream, seq);
  if (!h) return;
  auto decoded = decoder->Decode(h->topic, protocol::AsBytes(h->bytes));
  if (decoded.ok()) Deliver(*decoded, h->ground_ns);
}

void Station::Impl::ExpireSuspects(protocol::TimestampNs now_ns) {
  expired.clear();
  accounting.Expire(now_ns, expired);
  for (const Expired& e : expired) {
    if (e.accepted) {
      Release(e.stream, e.seq);
    } else {
      SetAside(e.stream, e.seq);
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
    link_watch->OnEvent(endpoint, id, value, Clock::now());
    if (!keys) continue;  // the rest is about CURVE
    // Say which side refused: the rover refusing this station's key needs the rover's allow
    // list changed; a publisher without the rover's key is not the rover.
    std::string failure;
    switch (id) {
      case ZMQ_EVENT_CONNECTED:
        awaiting_handshake[endpoint] = true;
        break;
      case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        awaiting_handshake[endpoint] = false;
        if (!authenticated_once) {
          authenticated_once = true;
          log.Info("telemetry link to {} authenticated: the publisher holds the rover's key",
                   endpoint);
        } else {
          log.Info("telemetry link to {} authenticated again", endpoint);
        }
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        awaiting_handshake[endpoint] = false;
        failure = fmt::format(
            "the rover refused this station's key (ZAP status {}): add this station's public key "
            "to the rover's allowed keys (rover_emulator --allow-key); the station keeps trying",
            value);
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
      case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        awaiting_handshake[endpoint] = false;
        failure = fmt::format(
            "CURVE handshake failed (event 0x{:04X}, code 0x{:X}): the publisher does not prove "
            "it holds the rover's key (--rover-key); nothing from it is accepted",
            id, value);
        break;
      case ZMQ_EVENT_DISCONNECTED:
        if (awaiting_handshake[endpoint]) {
          failure =
              "the publisher hung up during the CURVE handshake (it does not speak CURVE, or "
              "refused this station's key without saying so)";
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
      log.Warn("authentication failure on the telemetry link to {}: {} ({} so far)", endpoint,
               failure, n);
    }
  }
}

void Station::Impl::WatchLink() {
  const auto now = Clock::now();
  for (const LinkWatch::Reconnect& r : link_watch->Poll(now)) {
    // Disconnecting an endpoint libzmq already gave up on may fail; connecting is what counts.
    try {
      socket->disconnect(r.endpoint);
    } catch (const zmq::error_t&) {
    }
    try {
      socket->connect(r.endpoint);
      log.Warn("telemetry link to {}: {}: reconnecting", r.endpoint, r.reason);
    } catch (const zmq::error_t& e) {
      log.Error("telemetry link to {}: {}; reconnecting failed: {}", r.endpoint, r.reason,
                e.what());
    }
  }
  const double silent_s = link_watch->SilentSeconds(now);
  if (link_watch->JustFellSilent()) {
    view_queue.Push(fmt::format("LINK  SILENT: no telemetry for {:.0f} s; reconnecting", silent_s));
    log.Warn("no telemetry for {:.0f} s from {}: loss of signal, or a link that went deaf",
             silent_s, fmt::join(options.connect, ", "));
  }
  if (link_watch->JustRecovered()) {
    view_queue.Push("LINK  telemetry is back");
    log.Info("telemetry is back on {}", fmt::join(options.connect, ", "));
  }
  if (alarm_sink) alarm_sink->EvaluateLink(LinkMetric::kSilenceS, silent_s, WallNowNs());
  if (now - last_link_watch_post >= kLinkWatchPublishInterval) {
    last_link_watch_post = now;
    // A lost snapshot is replaced by the next one.
    static_cast<void>(bridge.ToAsio([this, snapshot = link_watch->Snapshot(now)]() mutable {
      link_watch_snapshot = std::move(snapshot);
    }));
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
  // After every poll: work from the Asio thread, held packets, the link watch, then the sinks.
  const auto tick = [&](bool idle) {
    bridge.RunIngestWork();
    const protocol::TimestampNs now_ns = WallNowNs();
    ExpireSuspects(now_ns);
    WatchLink();
    pipeline.Tick(IngestTick{Clock::now(), now_ns, idle});
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
      bool idle = true;
      if (ready > 0 && (items[0].revents & ZMQ_POLLIN) && drain() > 0) {
        idle = false;
        received_any = true;
        last_activity = Clock::now();
        link_watch->OnMessage(last_activity);
      } else {
        // With gap fill still waiting for packets, idle means four times as long: the rover
        // may be gone for good, and a station must not wait for ever.
        const bool waiting = gap_fill_waiting;
        if (options.idle_exit_s && received_any && !idle_stop_posted &&
            Clock::now() - last_activity >=
                Seconds(*options.idle_exit_s * (waiting ? kIdleExitGapFillFactor : 1))) {
          // Refused only by a stuck Asio thread: tried again at the next poll.
          idle_stop_posted = bridge.ToAsio([this] { RequestStop(); });
          if (idle_stop_posted) {
            log.Info("no telemetry for {} s: stopping{}", *options.idle_exit_s,
                     waiting ? " with packets still missing" : "");
          }
        }
      }
      tick(idle);
    }
    drain();  // whatever arrived before the stop was requested
  } catch (const zmq::error_t& e) {
    ingest_error = fmt::format("telemetry receive failed: {}", e.what());
    if (!bridge.ToAsio([this] { RequestStop(); })) {
      log.Error("the Asio thread is not keeping up; stop the station");
    }
  }
  bridge.RunIngestWork();  // the last acknowledgements and command history
  // Held packets are decided now: a first packet nothing contradicted is accepted.
  ExpireSuspects(std::numeric_limits<protocol::TimestampNs>::max());
  if (Status s = pipeline.Stop(); !s.ok() && ingest_error.empty()) ingest_error = s.message();
}

void Station::Impl::DrainView() {
  std::vector<std::string> lines = view_queue.TakeAll();
  if (lines.empty()) return;
  std::string out;
  for (const std::string& line : lines) {
    // Every line may quote the link (event text, a rover's failure reason): one escape here,
    // where everything the station prints passes, so none of it reaches the terminal raw.
    out += text::EscapeForTerminal(line, 4096);
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
    const LatencySummary latency = accounting.Latency();
    const std::string latency_text = LatencyShown(latency)
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
    log.Error("cannot encode a retransmit request of {} ranges", request.ranges_size());
    gap_filler->OnSendFailed(request);
    return;
  }
  if (SendUplink(tc_buffer)) {
    gap_filler->OnSent(header.request_sequence, request);
  } else {
    if (gap_filler->stats().send_failures % 100 == 0) {
      log.Warn("uplink {} not connected: retransmit request held back (retried)",
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

void Station::Impl::Acknowledge(const std::string& id, const std::string& by,
                                const std::string& peer) {
  std::vector<std::string> acknowledged;
  const Status s = alarm_sink->Acknowledge(id, by, WallNowNs(), acknowledged);
  // Replies go out on the Asio thread, which owns the control socket (web acks have no peer:
  // the page reads /api/alarms).
  if (peer.empty()) return;
  nlohmann::json reply = s.ok() ? nlohmann::json{{"acknowledged", acknowledged}}
                                : nlohmann::json{{"error", s.message()}};
  static_cast<void>(bridge.ToAsio([this, peer, reply = std::move(reply)] { Reply(peer, reply); }));
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

void Station::Impl::ScheduleGapFill() {
  gap_timer->expires_after(Seconds(options.gap_fill.tick_s));
  gap_timer->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    for (const rover::v1::RetransmitRequest& request : gap_filler->Poll(accounting, Clock::now())) {
      SendRetransmit(request);
    }
    if (const bool busy = gap_filler->busy(); busy != gap_fill_busy) {
      // Refused only by a stuck ingest thread: told again at the next tick.
      if (bridge.ToIngest([this, busy] { gap_fill_waiting = busy; })) gap_fill_busy = busy;
    }
    ScheduleGapFill();
  });
}

void Station::Impl::RequestStop() {
  if (shutting_down) return;
  shutting_down = true;
  stop_ingest = true;
  if (ingest.joinable()) ingest.join();
  if (stats_timer) stats_timer->cancel();
  if (view_timer) view_timer->cancel();
  if (duration_timer) duration_timer->cancel();
  if (gap_timer) gap_timer->cancel();
  if (command_timer) command_timer->cancel();
  if (http) http->Stop();
  if (realtime) realtime->Stop();
  if (tracker && tracker->active() > 0) {
    log.Warn("stopping with {} command(s) still in flight: their outcome is not known here",
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
  const double seconds = std::chrono::duration<double>(Clock::now() - s.started_at).count();
  // The ingest thread has stopped: its parts are read directly.
  StationSummary summary(final_stats, s.accounting, seconds, s.view_queue.dropped());
  summary.link_watch = s.link_watch->Snapshot(Clock::now());
  summary.auth_failures = s.auth_failures.load();
  summary.prior = &s.prior;
  if (s.gap_filler) summary.gap_fill = s.gap_filler->stats();
  if (s.alarms) summary.alarms = StationSummary::Alarms{s.alarms->stats(), s.alarms->Current()};
  if (s.tracker) {
    summary.commands =
        StationSummary::Commands{s.tracker->stats(), s.tracker->active(), s.control_refused};
  }
  if (s.recorder) summary.recording = s.recorder->stats();
  fmt::print(s.human_out, "{}", SummaryText(summary));
  std::fflush(s.human_out);
  if (!s.options.summary_json_path.empty()) {
    OutputFile file;
    if (Status st = file.Open(s.options.summary_json_path, "summary file"); !st.ok()) return st;
    if (!file.Write(SummaryJson(summary).dump(2) + "\n") || !file.Flush()) {
      return Status::Error(fmt::format("writing summary '{}' failed", s.options.summary_json_path));
    }
  }
  if (!s.ingest_error.empty()) return Status::Error(s.ingest_error);
  return final_stats;
}

}  // namespace lgs::station
