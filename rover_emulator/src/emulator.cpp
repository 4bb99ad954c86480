#include "rover_emulator/emulator.h"

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <zmq.hpp>

#include "protocol/clock.h"
#include "protocol/crc16.h"
#include "protocol/space_packet.h"
#include "protocol/stream_registry.h"
#include "protocol/telecommand.h"
#include "rover_emulator/command_handler.h"
#include "rover_emulator/file_downlink.h"
#include "rover_emulator/link_model.h"
#include "rover_emulator/scenario.h"
#include "rover_emulator/telemetry_generator.h"
#include "transport/curve_server.h"

namespace lgs::emulator {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kNsPerS = 1'000'000'000;
// How far the run may fall behind the wall clock before its mission clock slips: short beside
// the light time and the CFDP timers even at the speeds tests run at.
constexpr auto kMaxLag = std::chrono::milliseconds(250);

// Truth file: one JSON line per packet the link carried, for tests and audits.
class TruthWriter {
 public:
  Status Open(const std::string& path) {
    if (path.empty()) return Status::Ok();
    file_ = path == "-" ? stdout : std::fopen(path.c_str(), "w");
    if (file_ == nullptr) {
      return Status::Error(
          fmt::format("cannot write truth file '{}': {}", path, std::strerror(errno)));
    }
    owned_ = path != "-";
    return Status::Ok();
  }
  ~TruthWriter() {
    if (file_ != nullptr) {
      std::fflush(file_);
      if (owned_) std::fclose(file_);
    }
  }
  void Write(const LinkOutcome& o) {
    if (file_ == nullptr) return;
    const LinkPacket& p = o.packet;
    Emit(fmt::format(
        "{{\"stream\":\"{}\",\"apid\":{},\"seq\":{},\"size\":{},\"onboard_time_ns\":{},"
        "\"crc\":{},\"fate\":\"{}\",\"stored\":{},\"reordered\":{},\"retransmit\":{},"
        "\"sent_ns\":{},\"arrival_ns\":{}}}\n",
        p.stream->name, p.stream->apid, p.sequence, p.bytes.size(), p.onboard_time_ns, p.crc,
        NameOf(o.fate), o.from_store, o.reordered, o.retransmitted, o.sent_ns, o.arrival_ns));
  }
  // What became of a product of the on-board file store (stored, then one of evicted, delivered,
  // sent, failed or pending).
  void WriteFile(const FileReport& r, protocol::TimestampNs onboard_ns) {
    if (file_ == nullptr) return;
    Emit(fmt::format(
        "{{\"product\":\"{}\",\"event\":\"{}\",\"size\":{},\"sha256\":\"{}\",\"priority\":{},"
        "\"transaction\":{},\"detail\":\"{}\",\"onboard_ns\":{}}}\n",
        r.name, NameOf(r.kind), r.size, r.sha256, r.priority, r.transaction, r.detail, onboard_ns));
  }
  // A telecommand that reached the rover, and what the rover did with it.
  void WriteTelecommand(std::span<const uint8_t> packet, std::string_view outcome,
                        protocol::TimestampNs onboard_ns) {
    if (file_ == nullptr) return;
    auto tc = protocol::ParseTcPacket(packet);
    if (!tc.ok()) {
      Emit(fmt::format("{{\"telecommand\":true,\"outcome\":\"{}\",\"onboard_ns\":{}}}\n", outcome,
                       onboard_ns));
      return;
    }
    const protocol::CommandInfo* command =
        protocol::FindCommand(tc->header.service, tc->header.subtype);
    Emit(
        fmt::format("{{\"telecommand\":true,\"source\":{},\"request\":{},\"command\":\"{}\","
                    "\"outcome\":\"{}\",\"onboard_ns\":{}}}\n",
                    tc->header.source_id, tc->header.request_sequence,
                    command != nullptr ? command->name : "unknown", outcome, onboard_ns));
  }

 private:
  void Emit(std::string_view line) { std::fwrite(line.data(), 1, line.size(), file_); }

  std::FILE* file_ = nullptr;
  bool owned_ = false;
};

}  // namespace

Status EmulatorOptions::Validate() const {
  if (!protocol::IsValidRoverId(rover_id)) {
    return Status::Error(
        fmt::format("rover id '{}' must be 1-32 characters of a-z 0-9 _ -", rover_id));
  }
  if (!(speed >= 0.001 && speed <= 1e6)) {
    return Status::Error(fmt::format("speed {} is outside 0.001..1000000", speed));
  }
  if (duration_s && !(*duration_s > 0.0)) {
    return Status::Error(fmt::format("duration {} s must be positive", *duration_s));
  }
  if (wait_for_subscribers < 0) return Status::Error("wait-for-subscribers must be >= 0");
  if (light_time_s && !(*light_time_s >= 0.0 && *light_time_s <= 60.0)) {
    return Status::Error(fmt::format("light time {} s is outside 0..60", *light_time_s));
  }
  // At most a century of mission time: nanoseconds of more than that do not fit an int64.
  if (mission_duration_s &&
      !(*mission_duration_s > 0.0 && *mission_duration_s <= 100 * 365.25 * 86400)) {
    return Status::Error(fmt::format("mission duration {} s must be positive and at most 100 years",
                                     *mission_duration_s));
  }
  if (bind.empty()) return Status::Error("bind endpoint is empty");
  if (insecure && (!secret_key_path.empty() || !allowed_key_paths.empty())) {
    return Status::Error(
        "--insecure and --secret-key/--allow-key contradict each other: plain text would "
        "silently drop the keys; give the keys or --insecure, not both");
  }
  if (!insecure && (secret_key_path.empty() || allowed_key_paths.empty())) {
    return Status::Error(
        "CurveZMQ keys are needed: --secret-key FILE (the rover's key pair) and --allow-key FILE "
        "(each ground station allowed in; gsctl keygen makes them), or --insecure for plain "
        "text");
  }
  return Status::Ok();
}

Emulator::Emulator(EmulatorOptions options) : options_(std::move(options)) {}

void Emulator::Stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
}

Emulator::Wake Emulator::WaitForCommandOr(void* commands, Clock::time_point deadline) {
  if (commands == nullptr) return WaitFor(deadline) ? Wake::kDeadline : Wake::kStop;
  // Polls in short slices so that Stop() is seen promptly without a second wake-up channel.
  constexpr auto kSlice = std::chrono::milliseconds(20);
  while (!stop_) {
    const auto now = Clock::now();
    if (now >= deadline) return Wake::kDeadline;
    const auto wait = std::min<Clock::duration>(deadline - now, kSlice);
    zmq::pollitem_t item{commands, 0, ZMQ_POLLIN, 0};
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait);
    if (zmq::poll(&item, 1, ms) > 0) return Wake::kCommand;
  }
  return Wake::kStop;
}

bool Emulator::WaitFor(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_until(lock, deadline, [this] { return stop_.load(); });
}

Result<EmulatorSummary> Emulator::Run() {
  Logger& log_ = OrNull(options_.log);
  if (Status s = options_.Validate(); !s.ok()) return s;
  auto loaded = LoadScenario(options_.scenario);
  if (!loaded.ok()) return loaded.error();
  Scenario scenario = std::move(loaded.value());
  if (options_.ideal_link) scenario.link = LinkProfile::Ideal();
  if (options_.light_time_s) scenario.link.light_time_s = *options_.light_time_s;
  const uint64_t seed = options_.seed.value_or(scenario.seed);
  TruthWriter truth;
  if (Status s = truth.Open(options_.truth_path); !s.ok()) return s;

  zmq::context_t context(1);
  // Security first: the ZAP handler must exist before any server socket binds.
  std::unique_ptr<transport::CurveServer> curve;
  if (options_.insecure) {
    log_.Warn(
        "INSECURE: telemetry and telecommands travel in plain text; anyone who can reach "
        "{} can listen to and command this rover (--insecure)",
        options_.bind);
  } else {
    auto loaded_curve = transport::CurveServer::Load(context, options_.secret_key_path,
                                                     options_.allowed_key_paths, "rover", log_);
    if (!loaded_curve.ok()) return loaded_curve.error();
    curve = std::move(*loaded_curve);
  }
  const auto secure = [&](zmq::socket_t& socket) {
    if (curve) curve->Secure(socket);
  };
  zmq::socket_t publisher(context, zmq::socket_type::xpub);
  secure(publisher);
  publisher.set(zmq::sockopt::sndhwm, options_.send_hwm);
  publisher.set(zmq::sockopt::linger, options_.linger_ms);
  publisher.set(zmq::sockopt::xpub_verbose, 1);
  // At --max the publisher waits for slow subscribers instead of dropping: a benchmark source.
  if (options_.max) publisher.set(zmq::sockopt::xpub_nodrop, 1);
  try {
    publisher.bind(options_.bind);
  } catch (const zmq::error_t& e) {
    return Status::Error(
        fmt::format("cannot bind telemetry publisher to '{}': {}", options_.bind, e.what()));
  }
  log_.Info("rover '{}' scenario '{}' ({}), seed {}, publishing telemetry on {}", options_.rover_id,
            scenario.name, scenario.source, seed, publisher.get(zmq::sockopt::last_endpoint));
  const LinkProfile& link_profile = scenario.link;
  log_.Info(
      "link: light time {:.2f} s, bandwidth {}, loss {:g}, bit errors {:g}/bit, duplicates {:g}, "
      "reorder {:g}{}",
      link_profile.light_time_s,
      link_profile.bandwidth_bps > 0 ? fmt::format("{:.0f} bit/s", link_profile.bandwidth_bps)
                                     : std::string("unlimited"),
      link_profile.loss_probability, link_profile.bit_error_rate,
      link_profile.duplicate_probability, link_profile.reorder_probability,
      link_profile.outages.empty() && link_profile.outage_every_s == 0 ? ", no outages"
                                                                       : ", scheduled outages");

  // Subscriptions arrive as messages on the XPUB; count them to know who is listening.
  int subscribers = 0;
  const auto drain_subscriptions = [&](std::chrono::milliseconds timeout) {
    zmq::pollitem_t item{publisher.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) <= 0) return;
    zmq::message_t msg;
    while (publisher.recv(msg, zmq::recv_flags::dontwait)) {
      if (msg.size() > 0 && static_cast<const uint8_t*>(msg.data())[0] == 1) ++subscribers;
    }
  };
  if (options_.wait_for_subscribers > 0) {
    log_.Info("waiting for {} subscriber(s)", options_.wait_for_subscribers);
    const auto give_up =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(options_.subscriber_wait_timeout_s));
    while (subscribers < options_.wait_for_subscribers && !stop_) {
      if (Clock::now() > give_up) {
        return Status::Error(fmt::format("no subscriber after {} s on {}",
                                         options_.subscriber_wait_timeout_s, options_.bind));
      }
      drain_subscriptions(std::chrono::milliseconds(50));
    }
  }

  // The uplink: a ROUTER so each ground station is a separate peer (CurveZMQ keys later name
  // them); one frame per message, the TC packet.
  std::unique_ptr<zmq::socket_t> commands;
  if (!options_.command_bind.empty()) {
    commands = std::make_unique<zmq::socket_t>(context, zmq::socket_type::router);
    secure(*commands);
    commands->set(zmq::sockopt::linger, 0);
    commands->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(protocol::kMaxPacketSize));
    commands->set(zmq::sockopt::rcvhwm, 1000);
    try {
      commands->bind(options_.command_bind);
    } catch (const zmq::error_t& e) {
      return Status::Error(fmt::format("cannot bind the command endpoint to '{}': {}",
                                       options_.command_bind, e.what()));
    }
    log_.Info("accepting telecommands on {}", commands->get(zmq::sockopt::last_endpoint));
  }

  const protocol::TimestampNs mission_start =
      options_.mission_start_ns.value_or(protocol::WallNowNs());
  TelemetryGenerator generator(seed, options_.rover_id, mission_start, scenario);
  LinkModel link(scenario.link, seed, mission_start);
  CommandHandler handler(link, generator, log_);
  FileDownlink downlink(scenario.files, scenario.link.light_time_s, mission_start);
  handler.SetFileDownlink(&downlink);
  std::vector<GeneratedPacket> batch;
  std::vector<LinkOutcome> outcomes;
  std::vector<std::string> arrived_commands;
  std::vector<rover::v1::CommandVerification> reports;

  EmulatorSummary summary;
  const auto account = [&](const LinkOutcome& o) {
    truth.Write(o);
    switch (o.fate) {
      case LinkFate::kDropped:
        ++summary.dropped;
        return false;
      case LinkFate::kEvicted:
        ++summary.evicted;
        return false;
      case LinkFate::kPending:
        ++summary.pending;
        return false;
      case LinkFate::kCorrupted:
        ++summary.corrupted;
        return true;
      case LinkFate::kDuplicate:
        ++summary.duplicated;
        return true;
      case LinkFate::kDelivered:
        return true;
    }
    return false;
  };
  const auto publish = [&] {
    for (const LinkOutcome& o : outcomes) {
      if (!account(o)) continue;
      publisher.send(zmq::buffer(*o.packet.topic), zmq::send_flags::sndmore);
      publisher.send(zmq::buffer(o.packet.bytes), zmq::send_flags::none);
      ++summary.packets_sent;
      summary.bytes_sent += o.packet.bytes.size();
    }
    outcomes.clear();
  };
  // A generated packet as the link carries it, with the CRC it ends with (for the truth file).
  const auto to_link = [](GeneratedPacket& p) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(p.packet.data());
    const uint16_t crc =
        static_cast<uint16_t>((bytes[p.packet.size() - 2] << 8) | bytes[p.packet.size() - 1]);
    return LinkPacket{p.stream, p.topic, p.sequence, p.onboard_time_ns, crc, std::move(p.packet)};
  };
  const auto offer = [&](GeneratedPacket& p, protocol::TimestampNs t) {
    link.Offer(to_link(p), t);
    ++summary.packets_generated;
  };

  // What the file store did becomes truth lines and, where operators must know, events.
  std::vector<GeneratedPacket> file_batch(1);
  const auto file_reports = [&](protocol::TimestampNs t) -> Status {
    for (const FileReport& r : downlink.TakeReports()) {
      truth.WriteFile(r, t);
      rover::v1::Event event;
      switch (r.kind) {
        case FileReport::Kind::kEvicted:
          event.set_severity(rover::v1::EVENT_SEVERITY_WARNING);
          event.set_kind(rover::v1::EVENT_KIND_FILE_EVICTED);
          event.set_message(
              fmt::format("file {} evicted from the full store: lost ({} octets)", r.name, r.size));
          break;
        case FileReport::Kind::kDelivered:
          event.set_severity(rover::v1::EVENT_SEVERITY_INFO);
          event.set_kind(rover::v1::EVENT_KIND_FILE_DOWNLINKED);
          event.set_message(fmt::format("file {} downlinked ({} octets)", r.name, r.size));
          break;
        case FileReport::Kind::kFailed:
          event.set_severity(rover::v1::EVENT_SEVERITY_WARNING);
          event.set_kind(rover::v1::EVENT_KIND_FILE_EVICTED);
          event.set_message(
              fmt::format("file {} dropped after failed transfers: {}", r.name, r.detail));
          break;
        default:
          continue;
      }
      event.set_value(static_cast<double>(r.size));
      if (Status st = generator.EmitEvent(event, t, file_batch[0]); !st.ok()) return st;
      offer(file_batch[0], t);
    }
    return Status::Ok();
  };
  // The file downlink fills what the link leaves: a few PDUs queued at a time, so real time
  // keeps its priority and NAKed data goes out promptly.
  constexpr size_t kFileQueueDepth = 4;
  const auto feed_files = [&](protocol::TimestampNs t) -> Status {
    // Files go while the rover works and the relay is in view; CFDP's timers wait otherwise.
    downlink.SetLinkAvailable(
        !link.InOutage(t) && ModeEmits(generator.model().mode(), protocol::StreamId::kFileDelivery),
        t);
    if (t >= downlink.NextTimerNs()) downlink.Tick(t);
    while (link.file_queued() < kFileQueueDepth) {
      std::optional<std::string> pdu = downlink.NextPdu(t);
      if (!pdu) break;
      if (Status st = generator.EmitFilePdu(*pdu, t, file_batch[0]); !st.ok()) return st;
      link.OfferFile(to_link(file_batch[0]), t);
      ++summary.packets_generated;
    }
    return file_reports(t);
  };
  // When the link model or the file downlink next has something to do.
  const auto link_next = [&](protocol::TimestampNs now) {
    protocol::TimestampNs next = std::min(link.NextEventNs(), downlink.NextTimerNs());
    if (link.file_queued() == 0 && downlink.HasPdu(now)) {
      next = std::min(next, std::max(now, link.link_free_ns()));
    }
    return next;
  };

  const auto run_start = Clock::now();
  // The wall-clock instant of mission_start: it moves on when the run falls behind (below).
  Clock::time_point wall_start = run_start;
  const Clock::time_point wall_end =
      options_.duration_s ? run_start + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(*options_.duration_s))
                          : Clock::time_point::max();
  const protocol::TimestampNs mission_end =
      options_.mission_duration_s
          ? mission_start + static_cast<protocol::TimestampNs>(*options_.mission_duration_s * 1e9)
          : std::numeric_limits<protocol::TimestampNs>::max();
  constexpr protocol::TimestampNs kNever = std::numeric_limits<protocol::TimestampNs>::max();
  protocol::TimestampNs mission_now = mission_start;
  bool generating = true;
  // After the mission: serve until the link is idle and no telecommand came for this long.
  const auto serve_quiet = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(options_.serve_after_end_s));
  Clock::time_point last_uplink = Clock::now();
  // The mission time of a wall-clock instant (telecommands are stamped with it on arrival).
  const auto mission_at = [&](Clock::time_point wall) {
    if (options_.max) return mission_now;
    return mission_start +
           static_cast<protocol::TimestampNs>(
               std::chrono::duration<double>(wall - wall_start).count() * options_.speed * 1e9);
  };
  const auto receive_commands = [&] {
    if (!commands) return;
    zmq::message_t peer, packet;
    while (commands->recv(peer, zmq::recv_flags::dontwait)) {
      size_t frames = 0;
      bool more = peer.more();
      while (more) {
        static_cast<void>(commands->recv(packet));
        ++frames;
        more = packet.more();
      }
      if (frames != protocol::kTelecommandFrameCount) {
        ++summary.commands_rejected;
        log_.Warn("telecommand message with {} frame(s) ignored (expected one: the packet)",
                  frames);
        continue;
      }
      last_uplink = Clock::now();
      link.OfferUplink(packet.to_string(), std::max(mission_now, mission_at(last_uplink)));
    }
  };
  uint64_t iterations = 0;
  while (!stop_) {
    const protocol::TimestampNs gen_due = generating ? generator.next_due_ns() : kNever;
    const protocol::TimestampNs link_due = link_next(mission_now);
    if (generating && std::min(gen_due, link_due) > mission_end) {
      generating = false;
      if (options_.serve_after_end_s <= 0) break;
      last_uplink = std::max(last_uplink, Clock::now());
      log_.Info(
          "mission time is over: serving the link and uplink until the link is idle and "
          "no telecommand has come for {} s",
          options_.serve_after_end_s);
      continue;
    }
    Clock::time_point wall_limit = wall_end;
    // The file downlink's timers alone do not keep the run alive: the ground's PDUs do (uplink).
    if (!generating && link.NextEventNs() == kNever && !downlink.HasPdu(mission_now)) {
      const Clock::time_point quiet_end = last_uplink + serve_quiet;
      if (Clock::now() >= quiet_end) break;
      wall_limit = std::min(wall_limit, quiet_end);
    }
    if (Clock::now() >= wall_limit) break;
    const protocol::TimestampNs t = std::max(mission_now, std::min(gen_due, link_due));
    if (options_.max && t != kNever) {
      if ((++iterations & 0xFF) == 0) {
        drain_subscriptions(std::chrono::milliseconds(0));
        receive_commands();
      }
    } else {
      const auto wall_due =
          t == kNever ? wall_limit
                      : wall_start + std::chrono::nanoseconds(static_cast<int64_t>(
                                         static_cast<double>(t - mission_start) / options_.speed));
      const Clock::time_point wall_now = Clock::now();
      if (wall_now - wall_due > kMaxLag) {
        // Behind the wall clock (an image the machine rendered slower than the rover does, a
        // slow sanitizer build): the mission clock slips instead of racing through the time
        // lost, or the rover's CFDP timers would run out in a burst before the ground's
        // answers, which come in wall time, could reach it.
        wall_start += wall_now - wall_due;
        summary.slipped_s += std::chrono::duration<double>(wall_now - wall_due).count();
        if (summary.slips++ == 0) {
          log_.Warn(
              "the emulator fell {:.2f} s behind the wall clock at --speed {}: the mission clock "
              "slips (the summary says by how much in all)",
              std::chrono::duration<double>(wall_now - wall_due).count(), options_.speed);
        }
      } else if (wall_due > wall_now) {
        const Wake wake = WaitForCommandOr(commands ? commands->handle() : nullptr,
                                           std::min(wall_due, wall_limit));
        if (wake == Wake::kStop) break;
        drain_subscriptions(std::chrono::milliseconds(0));
        if (wake == Wake::kCommand) {
          receive_commands();
          continue;  // an uplink arrival may now come first
        }
        if (wall_due > wall_limit) continue;  // the loop head ends the run
      }
      if (t == kNever) continue;  // idle: nothing due, only the uplink could wake the link
    }
    mission_now = t;
    link.Advance(t, outcomes);
    arrived_commands.clear();
    link.TakeUplink(t, arrived_commands);
    for (const std::string& tc : arrived_commands) {
      reports.clear();
      const CommandStats before = handler.stats();
      handler.Handle(protocol::AsBytes(tc), t, reports);
      const CommandStats& after = handler.stats();
      truth.WriteTelecommand(protocol::AsBytes(tc),
                             after.executed > before.executed   ? "executed"
                             : after.repeated > before.repeated ? "repeated"
                                                                : "refused",
                             t);
      batch.resize(reports.size());
      for (size_t i = 0; i < reports.size(); ++i) {
        if (Status st = generator.EmitReport(reports[i], t, batch[i]); !st.ok()) return st;
        offer(batch[i], t);
      }
      link.Advance(t, outcomes);
    }
    if (gen_due <= t) {
      generator.model().SetOnboardStorePackets(link.stored_packets());
      if (Status st = generator.Next(batch); !st.ok()) return st;
      for (GeneratedPacket& p : batch) offer(p, t);
      for (ImageProduct& product : generator.model().TakeImageProducts()) {
        downlink.Store(std::move(product));
      }
      // Commanded activities progressed while the model advanced.
      reports.clear();
      handler.Collect(reports);
      batch.resize(reports.size());
      for (size_t i = 0; i < reports.size(); ++i) {
        if (Status st = generator.EmitReport(reports[i], t, batch[i]); !st.ok()) return st;
        offer(batch[i], t);
      }
      link.Advance(t, outcomes);
    }
    if (Status st = feed_files(t); !st.ok()) return st;
    link.Advance(t, outcomes);
    publish();
  }
  downlink.Drain();
  if (Status st = file_reports(mission_now); !st.ok()) return st;
  link.Drain(outcomes);
  for (const LinkOutcome& o : outcomes) account(o);
  outcomes.clear();
  summary.stored = link.stats().stored;
  summary.retransmitted = link.stats().retransmitted;
  summary.uplink_lost = link.stats().uplink_lost;
  summary.commands_received += handler.stats().received;
  summary.commands_executed = handler.stats().executed;
  summary.commands_rejected += handler.stats().rejected;
  summary.commands_repeated = handler.stats().repeated;
  summary.commands_completed = handler.stats().completed;
  summary.commands_failed = handler.stats().failed;

  summary.mission_seconds = static_cast<double>(mission_now - mission_start) / kNsPerS;
  summary.wall_seconds = std::chrono::duration<double>(Clock::now() - run_start).count();
  return summary;
}

}  // namespace lgs::emulator
