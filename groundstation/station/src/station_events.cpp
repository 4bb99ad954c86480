// The station at run time: what crosses between the Asio thread and the ingest thread once it
// runs (control requests, command and alarm transitions, acknowledgements, the CFDP receiving
// entity's answers and kept images). Part of Station::Impl (station_impl.h).
#include <fmt/format.h>

#include "station_impl.h"

namespace lgs::station {

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

// The console's banner and clock (Asio thread). The mission elapsed time is on-board time: the
// newest packet's SCET since the oldest one the station has seen, so an emulated rover run
// faster than real time keeps a consistent clock.
nlohmann::json Station::Impl::ConsoleState(int64_t now_ns) const {
  nlohmann::json out;
  out["rover"] = ConsoleStateJson(console_state, now_ns);
  const int64_t light_ns = static_cast<int64_t>(options.light_time_s * 1e9);
  nlohmann::json clock = {{"utc_ns", now_ns},
                          {"light_time_s", options.light_time_s},
                          {"command_arrives_ns", now_ns + light_ns}};
  const bool epoch_given = options.mission_epoch_ns != 0;
  clock["mission_epoch_source"] = epoch_given ? "--mission-epoch" : "first telemetry";
  nlohmann::json schedule = nullptr, sun = nullptr;
  if (console_state.latest_onboard_ns != 0) {
    const int64_t scet = console_state.latest_onboard_ns;
    const int64_t epoch = epoch_given ? options.mission_epoch_ns : console_state.first_onboard_ns;
    clock["scet_ns"] = scet;
    clock["scet_received_ns"] = console_state.latest_ground_ns;
    const std::optional<double> rate = console_state.ScetRate();
    clock["scet_rate"] = rate ? nlohmann::json(*rate) : nlohmann::json();
    clock["mission_epoch_ns"] = epoch;
    const double met_s = static_cast<double>(scet - epoch) / 1e9;
    clock["met_s"] = met_s;
    // Predicted at the newest on-board time: what the rover's clock will read at each.
    const auto at = [epoch](std::optional<double> mission_s) {
      return mission_s
                 ? nlohmann::json(epoch + static_cast<int64_t>(std::llround(*mission_s * 1e9)))
                 : nlohmann::json();
    };
    const auto in = [met_s](std::optional<double> mission_s) {
      return mission_s ? nlohmann::json(*mission_s - met_s) : nlohmann::json();
    };
    if (sun_schedule) {
      const auto loss = sun_schedule->NextLoss(met_s);
      const auto back = sun_schedule->NextReturn(met_s);
      sun = {{"source", sun_schedule->source},
             {"in_shadow", sun_schedule->InShadow(met_s)},
             {"covered", met_s < sun_schedule->until_s},
             {"until_scet_ns", at(sun_schedule->until_s)},
             {"next_loss_scet_ns", at(loss)},
             {"next_return_scet_ns", at(back)},
             {"loss_in_s", in(loss)},
             {"return_in_s", in(back)}};
    }
    if (link_schedule) {
      const auto los = link_schedule->NextLoss(met_s);
      const auto aos = link_schedule->NextAcquisition(met_s);
      schedule = {{"source", link_schedule->source},
                  {"in_outage", link_schedule->InOutage(met_s)},
                  {"next_los_scet_ns", at(los)},
                  {"next_aos_scet_ns", at(aos)},
                  {"los_in_s", in(los)},
                  {"aos_in_s", in(aos)}};
    }
  } else {
    clock["scet_ns"] = nullptr;
    clock["scet_rate"] = nullptr;
    clock["met_s"] = nullptr;
    clock["mission_epoch_ns"] =
        epoch_given ? nlohmann::json(options.mission_epoch_ns) : nlohmann::json();
  }
  clock["link_schedule"] = link_schedule ? schedule : nlohmann::json();
  clock["link_schedule_configured"] = link_schedule.has_value();
  clock["sun_schedule"] = sun_schedule ? sun : nlohmann::json();
  clock["sun_schedule_configured"] = sun_schedule.has_value();
  out["clock"] = std::move(clock);
  out["link"] = LinkWatchJson(link_watch_snapshot);
  return out;
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
  for (const ground::v1::GroundCommand& t : transitions) {
    view_queue.Push(TerminalLine(now_ns, Commanding::Line(t)));
  }
  if (recorder) {
    const bool sent = bridge.ToIngest([this, transitions, now_ns] {
      for (const ground::v1::GroundCommand& t : transitions) {
        recorder_sink->recorder().RecordCommand(t, now_ns);
        if (scene_sink) scene_sink->OnCommand(t, now_ns);
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
    if (scene_sink) scene_sink->OnAlarm(a, ground_ns);
    std::string severity = a.severity();
    for (char& ch : severity) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    view_queue.Push(TerminalLine(
        ground_ns, fmt::format("ALARM {:<8} {} {}: {}", severity, a.id(), a.state(), a.text())));
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

}  // namespace lgs::station
