#include "groundstation/telemetry_link.h"

#include <fmt/format.h>
#include <pthread.h>

#include <csignal>
#include <cstring>
#include <limits>
#include <zmq.hpp>

#include "protocol/bytes.h"
#include "protocol/clock.h"
#include "protocol/stream_registry.h"

namespace lgs::station {

namespace {

using Clock = std::chrono::steady_clock;
using protocol::StreamId;

constexpr auto kPoll = std::chrono::milliseconds(100);
// How often the link watch's state goes to the Asio thread.
constexpr auto kWatchPublishInterval = std::chrono::milliseconds(100);
// With gap fill still waiting for packets, idle exit waits this many times as long: the rover
// may be gone for good, and a station must not wait for ever.
constexpr double kIdleExitGapFillFactor = 4.0;

}  // namespace

Status LinkOptions::Validate() const {
  if (connect.empty()) return Status::Error("no endpoint to connect to");
  if (idle_exit_s && !(*idle_exit_s > 0.0)) return Status::Error("idle exit must be positive");
  if (receive_hwm < 0) return Status::Error("receive HWM must not be negative");
  if (max_message_bytes < static_cast<int64_t>(protocol::kMaxPacketSize)) {
    return Status::Error(
        fmt::format("max message size must be at least {} bytes", protocol::kMaxPacketSize));
  }
  if (!(auth_log_interval_s >= 0.0) || !std::isfinite(auth_log_interval_s)) {
    return Status::Error("intervals must be finite and not negative");
  }
  return watch.Validate();
}

TelemetryLink::TelemetryLink(LinkOptions options, std::string rover_id,
                             std::optional<transport::CurveClient> curve, zmq::context_t& context,
                             LinkAccounting& accounting, Pipeline& pipeline, ThreadBridge& bridge,
                             BoundedQueue<std::string>& view, Logger& log, Hooks hooks)
    : options_(std::move(options)),
      rover_id_(std::move(rover_id)),
      curve_(std::move(curve)),
      context_(context),
      accounting_(accounting),
      pipeline_(pipeline),
      bridge_(bridge),
      view_(view),
      log_(log),
      hooks_(std::move(hooks)),
      decoder_(rover_id_) {}

TelemetryLink::~TelemetryLink() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (monitor_) zmq_socket_monitor(socket_->handle(), nullptr, 0);
}

Status TelemetryLink::Open() {
  socket_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::sub);
  if (curve_) curve_->Apply(*socket_);
  socket_->set(zmq::sockopt::rcvhwm, options_.receive_hwm);
  socket_->set(zmq::sockopt::maxmsgsize, options_.max_message_bytes);
  socket_->set(zmq::sockopt::linger, 0);
  socket_->set(zmq::sockopt::subscribe, protocol::TelemetryTopicPrefix(rover_id_));
  // The monitor tells authentication failures apart and, above all, drops that libzmq will not
  // retry (LinkWatch), with or without keys.
  const std::string address = fmt::format("inproc://telemetry-monitor-{}", fmt::ptr(this));
  if (zmq_socket_monitor(socket_->handle(), address.c_str(),
                         ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_DELAYED |
                             ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_DISCONNECTED |
                             ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                             ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                             ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0) {
    return Status::Error(
        fmt::format("cannot monitor the telemetry socket: {}", zmq_strerror(zmq_errno())));
  }
  monitor_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::pair);
  monitor_->set(zmq::sockopt::linger, 0);
  monitor_->connect(address);
  watch_ = std::make_unique<LinkWatch>(options_.watch, options_.connect, curve_.has_value(),
                                       Clock::now());
  for (const std::string& endpoint : options_.connect) {
    try {
      socket_->connect(endpoint);
    } catch (const zmq::error_t& e) {
      return Status::Error(fmt::format("cannot connect to '{}': {}", endpoint, e.what()));
    }
  }
  log_.Info("station for rover '{}' listening to {}", rover_id_, fmt::join(options_.connect, ", "));
  return Status::Ok();
}

void TelemetryLink::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void TelemetryLink::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

LinkWatchSnapshot TelemetryLink::WatchSnapshot() const {
  return watch_ ? watch_->Snapshot(Clock::now()) : LinkWatchSnapshot{};
}

void TelemetryLink::Deliver(const protocol::DecodedPacket& p, protocol::TimestampNs ground_ns,
                            const Observation* latency) {
  pipeline_.Accepted(AcceptedPacket{p, ground_ns, latency});
}

void TelemetryLink::HandleMessage(std::string_view topic, std::span<const uint8_t> packet,
                                  size_t frames) {
  // One clock read per packet on the hot path; the steady clock only where a rate limit needs it.
  const protocol::TimestampNs ground_ns = protocol::WallNowNs();
  if (frames != protocol::kTelemetryFrameCount) {
    const std::string detail = fmt::format("{} frame(s), topic '{}'", frames,
                                           topic.substr(0, std::min<size_t>(topic.size(), 48)));
    accounting_.Reject(protocol::RejectReason::kWrongFrameCount);
    pipeline_.Rejected(RejectedMessage{protocol::RejectReason::kWrongFrameCount, detail, topic,
                                       packet, frames, ground_ns});
    return;
  }
  auto decoded = decoder_.Decode(topic, packet);
  if (!decoded) {
    const protocol::Rejection& rejection = decoded.error();
    accounting_.Reject(rejection.reason);
    pipeline_.Rejected(
        RejectedMessage{rejection.reason, rejection.detail, topic, packet, frames, ground_ns});
    return;
  }
  const protocol::DecodedPacket& p = decoded.value();
  const Observation o =
      accounting_.Observe(p.stream->id, p.packet.extended_sequence, p.packet.bytes.size(),
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
  auto again = decoder_.Decode(topic, packet);
  if (again.ok()) Deliver(*again, ground_ns, &o);
  log_.Info("{}: sequence {} confirmed by the packet after it; the stream goes on from there",
            protocol::Stream(stream).name, seq);
}

void TelemetryLink::Hold(const protocol::DecodedPacket& p, std::string_view topic,
                         protocol::TimestampNs ground_ns) {
  auto& held = suspects_[static_cast<size_t>(p.stream->id)];
  // The accounting holds at most kMaxSuspects and said which to drop first (SetAside).
  held.push_back(
      {std::string(topic),
       std::string(reinterpret_cast<const char*>(p.packet.bytes.data()), p.packet.bytes.size()),
       ground_ns, p.packet.extended_sequence});
}

std::optional<TelemetryLink::HeldPacket> TelemetryLink::TakeHeld(StreamId stream, uint32_t seq) {
  auto& held = suspects_[static_cast<size_t>(stream)];
  for (auto it = held.begin(); it != held.end(); ++it) {
    if (it->seq != seq) continue;
    HeldPacket h = std::move(*it);
    held.erase(it);
    return h;
  }
  return std::nullopt;
}

void TelemetryLink::SetAside(StreamId stream, uint32_t seq) {
  auto h = TakeHeld(stream, seq);
  if (!h) return;
  const LinkSnapshot snapshot = accounting_.Snapshot();
  const StreamStats& st = snapshot.streams[static_cast<size_t>(stream)];
  const std::string detail = fmt::format(
      "{} sequence {} (the stream is at {}..{}), and no packet after it confirmed the jump",
      protocol::Stream(stream).name, seq, st.first_seq, st.highest_seq);
  pipeline_.Rejected(RejectedMessage{protocol::RejectReason::kImplausibleSequence, detail, h->topic,
                                     protocol::AsBytes(h->bytes), protocol::kTelemetryFrameCount,
                                     h->ground_ns});
}

void TelemetryLink::Release(StreamId stream, uint32_t seq) {
  auto h = TakeHeld(stream, seq);
  if (!h) return;
  auto decoded = decoder_.Decode(h->topic, protocol::AsBytes(h->bytes));
  if (decoded.ok()) Deliver(*decoded, h->ground_ns);
}

void TelemetryLink::ExpireSuspects(protocol::TimestampNs now_ns) {
  expired_.clear();
  accounting_.Expire(now_ns, expired_);
  for (const Expired& e : expired_) {
    if (e.accepted) {
      Release(e.stream, e.seq);
    } else {
      SetAside(e.stream, e.seq);
    }
  }
}

void TelemetryLink::ReadMonitor() {
  zmq::message_t event, address;
  while (monitor_->recv(event, zmq::recv_flags::dontwait)) {
    if (!event.more() || !monitor_->recv(address) || event.size() < 6) continue;
    uint16_t id = 0;
    uint32_t value = 0;
    std::memcpy(&id, event.data(), sizeof id);
    std::memcpy(&value, static_cast<const uint8_t*>(event.data()) + 2, sizeof value);
    const std::string endpoint = address.to_string();
    watch_->OnEvent(endpoint, id, value, Clock::now());
    if (!curve_) continue;  // the rest is about CURVE
    // Say which side refused: the rover refusing this station's key needs the rover's allow
    // list changed; a publisher without the rover's key is not the rover.
    std::string failure;
    switch (id) {
      case ZMQ_EVENT_CONNECTED:
        awaiting_handshake_[endpoint] = true;
        break;
      case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        awaiting_handshake_[endpoint] = false;
        if (!authenticated_once_) {
          authenticated_once_ = true;
          log_.Info("telemetry link to {} authenticated: the publisher holds the rover's key",
                    endpoint);
        } else {
          log_.Info("telemetry link to {} authenticated again", endpoint);
        }
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        awaiting_handshake_[endpoint] = false;
        failure = fmt::format(
            "the rover refused this station's key (ZAP status {}): add this station's public key "
            "to the rover's allowed keys (rover_emulator --allow-key); the station keeps trying",
            value);
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
      case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        awaiting_handshake_[endpoint] = false;
        failure = fmt::format(
            "CURVE handshake failed (event 0x{:04X}, code 0x{:X}): the publisher does not prove "
            "it holds the rover's key (--rover-key); nothing from it is accepted",
            id, value);
        break;
      case ZMQ_EVENT_DISCONNECTED:
        if (awaiting_handshake_[endpoint]) {
          failure =
              "the publisher hung up during the CURVE handshake (it does not speak CURVE, or "
              "refused this station's key without saying so)";
        }
        awaiting_handshake_[endpoint] = false;
        break;
      default:
        break;
    }
    if (failure.empty()) continue;
    const uint64_t n = ++auth_failures_;
    const auto now = Clock::now();
    if (n == 1 || now - last_auth_log_ >= protocol::SteadySeconds(options_.auth_log_interval_s)) {
      last_auth_log_ = now;
      log_.Warn("authentication failure on the telemetry link to {}: {} ({} so far)", endpoint,
                failure, n);
    }
  }
}

double TelemetryLink::WatchLink() {
  const auto now = Clock::now();
  for (const LinkWatch::Reconnect& r : watch_->Poll(now)) {
    // Disconnecting an endpoint libzmq already gave up on may fail; connecting is what counts.
    try {
      socket_->disconnect(r.endpoint);
    } catch (const zmq::error_t&) {
    }
    try {
      socket_->connect(r.endpoint);
      log_.Warn("telemetry link to {}: {}: reconnecting", r.endpoint, r.reason);
    } catch (const zmq::error_t& e) {
      log_.Error("telemetry link to {}: {}; reconnecting failed: {}", r.endpoint, r.reason,
                 e.what());
    }
  }
  const double silent_s = watch_->SilentSeconds(now);
  if (watch_->JustFellSilent()) {
    view_.Push(fmt::format("LINK  SILENT: no telemetry for {:.0f} s; reconnecting", silent_s));
    log_.Warn("no telemetry for {:.0f} s from {}: loss of signal, or a link that went deaf",
              silent_s, fmt::join(options_.connect, ", "));
  }
  if (watch_->JustRecovered()) {
    view_.Push("LINK  telemetry is back");
    log_.Info("telemetry is back on {}", fmt::join(options_.connect, ", "));
  }
  if (hooks_.publish_watch && now - last_watch_post_ >= kWatchPublishInterval) {
    last_watch_post_ = now;
    hooks_.publish_watch(watch_->Snapshot(now));
  }
  return silent_s;
}

void TelemetryLink::Loop() {
  // SIGINT/SIGTERM belong to the program's signal thread; here they would only interrupt ZeroMQ.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  zmq::message_t topic, packet, extra;
  // Receives every message already queued; returns how many.
  const auto drain = [&]() -> size_t {
    size_t handled = 0;
    while (socket_->recv(topic, zmq::recv_flags::dontwait)) {
      size_t frames = 1;
      bool more = topic.more();
      if (more) {
        static_cast<void>(socket_->recv(packet));
        ++frames;
        more = packet.more();
      }
      while (more) {  // frames beyond [topic][packet] are read and discarded
        static_cast<void>(socket_->recv(extra));
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
    bridge_.RunIngestWork();
    const protocol::TimestampNs now_ns = protocol::WallNowNs();
    ExpireSuspects(now_ns);
    const double silent_s = WatchLink();
    pipeline_.Tick(IngestTick{Clock::now(), now_ns, idle, silent_s});
  };
  try {
    zmq::pollitem_t items[2] = {{socket_->handle(), 0, ZMQ_POLLIN, 0},
                                {monitor_->handle(), 0, ZMQ_POLLIN, 0}};
    bool received_any = false;
    Clock::time_point last_activity = Clock::now();
    bool idle_stop_posted = false;
    while (!stop_.load(std::memory_order_relaxed)) {
      const int ready = zmq::poll(items, 2, kPoll);
      if (ready > 0 && (items[1].revents & ZMQ_POLLIN)) ReadMonitor();
      bool idle = true;
      if (ready > 0 && (items[0].revents & ZMQ_POLLIN) && drain() > 0) {
        idle = false;
        received_any = true;
        last_activity = Clock::now();
        watch_->OnMessage(last_activity);
      } else if (options_.idle_exit_s && received_any && !idle_stop_posted &&
                 Clock::now() - last_activity >=
                     protocol::SteadySeconds(*options_.idle_exit_s *
                                             (gap_fill_waiting_ ? kIdleExitGapFillFactor : 1))) {
        idle_stop_posted = hooks_.request_stop();
        if (idle_stop_posted) {
          log_.Info("no telemetry for {} s: stopping{}", *options_.idle_exit_s,
                    gap_fill_waiting_ ? " with packets still missing" : "");
        }
      }
      tick(idle);
    }
    drain();  // whatever arrived before the stop was requested
  } catch (const zmq::error_t& e) {
    error_ = fmt::format("telemetry receive failed: {}", e.what());
    if (!hooks_.request_stop()) log_.Error("the Asio thread is not keeping up; stop the station");
  }
  bridge_.RunIngestWork();  // the last acknowledgements and command history
  // Held packets are decided now: a first packet nothing contradicted is accepted.
  ExpireSuspects(std::numeric_limits<protocol::TimestampNs>::max());
  if (Status s = pipeline_.Stop(); !s.ok() && error_.empty()) error_ = s.message();
}

}  // namespace lgs::station
