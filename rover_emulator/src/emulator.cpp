#include "rover_emulator/emulator.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <zmq.hpp>

#include "protocol/crc16.h"
#include "protocol/space_packet.h"
#include "protocol/stream_registry.h"
#include "rover_emulator/telemetry_generator.h"

namespace lgs::emulator {
namespace {

using protocol::StreamId;
using protocol::StreamInfo;
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
  void Write(const StreamInfo& stream, uint32_t seq, const std::string& packet,
             protocol::TimestampNs onboard_ns) {
    if (file_ == nullptr) return;
    const uint16_t crc =
        static_cast<uint16_t>((static_cast<uint8_t>(packet[packet.size() - 2]) << 8) |
                              static_cast<uint8_t>(packet[packet.size() - 1]));
    fmt::print(file_,
               "{{\"stream\":\"{}\",\"apid\":{},\"seq\":{},\"size\":{},\"onboard_time_ns\":{},"
               "\"crc\":{}}}\n",
               stream.name, stream.apid, seq, packet.size(), onboard_ns, crc);
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
  TruthWriter truth;
  if (Status s = truth.Open(options_.truth_path); !s.ok()) return s;

  zmq::context_t context(1);
  zmq::socket_t publisher(context, zmq::socket_type::xpub);
  publisher.set(zmq::sockopt::sndhwm, options_.send_hwm);
  publisher.set(zmq::sockopt::linger, options_.linger_ms);
  publisher.set(zmq::sockopt::xpub_verbose, 1);
  try {
    publisher.bind(options_.bind);
  } catch (const zmq::error_t& e) {
    return Status::Error(
        fmt::format("cannot bind telemetry publisher to '{}': {}", options_.bind, e.what()));
  }
  spdlog::info("rover '{}' publishing telemetry on {}", options_.rover_id,
               publisher.get(zmq::sockopt::last_endpoint));

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
  TelemetryGenerator generator(options_.seed, options_.rover_id, mission_start);
  std::vector<GeneratedPacket> batch;

  EmulatorSummary summary;
  const auto wall_start = Clock::now();
  const Clock::time_point wall_end =
      options_.duration_s ? wall_start + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(*options_.duration_s))
                          : Clock::time_point::max();
  protocol::TimestampNs mission_now = mission_start;
  while (!stop_) {
    const auto wall_due =
        wall_start +
        std::chrono::nanoseconds(static_cast<int64_t>(
            static_cast<double>(generator.next_due_ns() - mission_start) / options_.speed));
    if (wall_due > wall_end) {
      WaitFor(wall_end);
      break;
    }
    if (wall_due > Clock::now() && !WaitFor(wall_due)) break;
    drain_subscriptions(std::chrono::milliseconds(0));

    mission_now = generator.next_due_ns();
    if (Status st = generator.Next(batch); !st.ok()) return st;
    for (const GeneratedPacket& p : batch) {
      publisher.send(zmq::buffer(*p.topic), zmq::send_flags::sndmore);
      publisher.send(zmq::buffer(p.packet), zmq::send_flags::none);
      truth.Write(*p.stream, p.sequence, p.packet, p.onboard_time_ns);
      ++summary.packets_sent;
      summary.bytes_sent += p.packet.size();
    }
  }

  summary.mission_seconds = static_cast<double>(mission_now - mission_start) / kNsPerS;
  summary.wall_seconds = std::chrono::duration<double>(Clock::now() - wall_start).count();
  return summary;
}

}  // namespace lgs::emulator
