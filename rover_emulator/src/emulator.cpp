#include "rover_emulator/emulator.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <zmq.hpp>

#include "protocol/crc16.h"
#include "protocol/space_packet.h"
#include "protocol/stream_registry.h"
#include "rover_emulator/link_model.h"
#include "rover_emulator/scenario.h"
#include "rover_emulator/telemetry_generator.h"

namespace lgs::emulator {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kNsPerS = 1'000'000'000;

protocol::TimestampNs WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

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
    fmt::print(file_,
               "{{\"stream\":\"{}\",\"apid\":{},\"seq\":{},\"size\":{},\"onboard_time_ns\":{},"
               "\"crc\":{},\"fate\":\"{}\",\"stored\":{},\"reordered\":{},\"sent_ns\":{},"
               "\"arrival_ns\":{}}}\n",
               p.stream->name, p.stream->apid, p.sequence, p.bytes.size(), p.onboard_time_ns, p.crc,
               NameOf(o.fate), o.from_store, o.reordered, o.sent_ns, o.arrival_ns);
  }

 private:
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
  if (mission_duration_s && !(*mission_duration_s > 0.0)) {
    return Status::Error("mission duration must be positive");
  }
  if (bind.empty()) return Status::Error("bind endpoint is empty");
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

bool Emulator::WaitFor(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_until(lock, deadline, [this] { return stop_.load(); });
}

Result<EmulatorSummary> Emulator::Run() {
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
  zmq::socket_t publisher(context, zmq::socket_type::xpub);
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
  spdlog::info("rover '{}' scenario '{}' ({}), seed {}, publishing telemetry on {}",
               options_.rover_id, scenario.name, scenario.source, seed,
               publisher.get(zmq::sockopt::last_endpoint));
  const LinkProfile& link_profile = scenario.link;
  spdlog::info(
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
    spdlog::info("waiting for {} subscriber(s)", options_.wait_for_subscribers);
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

  const protocol::TimestampNs mission_start = options_.mission_start_ns.value_or(WallNowNs());
  TelemetryGenerator generator(seed, options_.rover_id, mission_start, scenario);
  LinkModel link(scenario.link, seed, mission_start);
  std::vector<GeneratedPacket> batch;
  std::vector<LinkOutcome> outcomes;

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

  const auto wall_start = Clock::now();
  const Clock::time_point wall_end =
      options_.duration_s ? wall_start + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(*options_.duration_s))
                          : Clock::time_point::max();
  const protocol::TimestampNs mission_end =
      options_.mission_duration_s
          ? mission_start + static_cast<protocol::TimestampNs>(*options_.mission_duration_s * 1e9)
          : std::numeric_limits<protocol::TimestampNs>::max();
  protocol::TimestampNs mission_now = mission_start;
  uint64_t iterations = 0;
  while (!stop_) {
    const protocol::TimestampNs gen_due = generator.next_due_ns();
    const protocol::TimestampNs t = std::max(mission_now, std::min(gen_due, link.NextEventNs()));
    if (t > mission_end) break;
    if (options_.max) {
      if ((++iterations & 0xFF) == 0) {
        if (Clock::now() >= wall_end) break;
        drain_subscriptions(std::chrono::milliseconds(0));
      }
    } else {
      const auto wall_due =
          wall_start + std::chrono::nanoseconds(static_cast<int64_t>(
                           static_cast<double>(t - mission_start) / options_.speed));
      if (wall_due > wall_end) {
        WaitFor(wall_end);
        break;
      }
      if (wall_due > Clock::now() && !WaitFor(wall_due)) break;
      drain_subscriptions(std::chrono::milliseconds(0));
    }
    mission_now = t;
    link.Advance(t, outcomes);
    if (gen_due <= t) {
      generator.model().SetOnboardStorePackets(link.stored_packets());
      if (Status st = generator.Next(batch); !st.ok()) return st;
      for (GeneratedPacket& p : batch) {
        const auto* bytes = reinterpret_cast<const uint8_t*>(p.packet.data());
        const uint16_t crc =
            static_cast<uint16_t>((bytes[p.packet.size() - 2] << 8) | bytes[p.packet.size() - 1]);
        link.Offer(
            LinkPacket{p.stream, p.topic, p.sequence, p.onboard_time_ns, crc, std::move(p.packet)},
            t);
        ++summary.packets_generated;
      }
      link.Advance(t, outcomes);
    }
    publish();
  }
  link.Drain(outcomes);
  for (const LinkOutcome& o : outcomes) account(o);
  outcomes.clear();
  summary.stored = link.stats().stored;

  summary.mission_seconds = static_cast<double>(mission_now - mission_start) / kNsPerS;
  summary.wall_seconds = std::chrono::duration<double>(Clock::now() - wall_start).count();
  return summary;
}

}  // namespace lgs::emulator
