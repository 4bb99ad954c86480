// Emulator: runs the rover model of a scenario on a mission clock, passes its telemetry through
// the link model (light time, bandwidth, faults, outages, on-board store) and publishes what
// reaches the ground as CCSDS space packets on a ZeroMQ publisher.
//
// Run() blocks until the duration has passed or Stop() is called (from any thread). The
// publisher is an XPUB so the emulator can wait for ground stations to subscribe before the
// mission clock starts, which lets tests see every packet from sequence 0.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "protocol/cuc_time.h"
#include "protocol/logger.h"
#include "protocol/status.h"

namespace lgs::emulator {

struct EmulatorOptions {
  Logger* log = nullptr;  // not owned; must outlive Run(); null = nothing logged
  std::string bind = "tcp://127.0.0.1:5555";  // ZeroMQ endpoint of the telemetry publisher
  // ZeroMQ endpoint (ROUTER) where telecommands arrive from the ground; "" = no uplink.
  std::string command_bind = "tcp://127.0.0.1:5556";
  std::string rover_id = "rover1";  // appears in every topic
  // CurveZMQ: the rover's key pair and the ground keys allowed to subscribe and command.
  // Plain text only with `insecure` (which warns on every start).
  std::string secret_key_path;
  std::vector<std::string> allowed_key_paths;
  bool insecure = false;
  std::string scenario = "nominal";          // built-in name or YAML file
  std::optional<uint64_t> seed;              // unset = the scenario's seed
  double speed = 1.0;                        // mission seconds per wall second
  bool max = false;                          // as fast as possible (lossless publisher)
  bool ideal_link = false;                   // no light time, bandwidth cap, faults or outages
  std::optional<double> light_time_s;        // overrides the scenario's one-way light time
  std::optional<double> duration_s;          // wall seconds; unset = until stopped
  std::optional<double> mission_duration_s;  // stop generating after this much mission time
  // After the mission time is over, keep the link and the uplink running (store playback,
  // retransmissions) until the link is idle and no telecommand has come for this many wall
  // seconds.
  double serve_after_end_s = 0.0;
  std::string truth_path;                   // JSON lines of every packet sent; "" = none
  int wait_for_subscribers = 0;             // hold the mission clock until this many join
  double subscriber_wait_timeout_s = 30.0;  // give up waiting after this long
  // Mission clock origin; unset = the wall clock when the run starts.
  std::optional<protocol::TimestampNs> mission_start_ns;
  int send_hwm = 100'000;  // queued packets per subscriber before PUB drops
  int linger_ms = 2'000;   // time to deliver queued packets at shutdown

  Status Validate() const;
};

struct EmulatorSummary {
  uint64_t packets_generated = 0;
  uint64_t packets_sent = 0;  // published on the wire, copies and corrupted ones included
  uint64_t bytes_sent = 0;
  uint64_t dropped = 0, corrupted = 0, duplicated = 0, evicted = 0, stored = 0, pending = 0;
  uint64_t retransmitted = 0;  // packets sent again on the ground's request
  uint64_t commands_received = 0, commands_executed = 0, commands_rejected = 0;
  uint64_t commands_repeated = 0, uplink_lost = 0;
  uint64_t commands_completed = 0, commands_failed = 0;
  double mission_seconds = 0.0;
  double wall_seconds = 0.0;
  // Times the run fell behind the wall clock and its mission clock slipped, and by how much.
  uint64_t slips = 0;
  double slipped_s = 0.0;
};

class Emulator {
 public:
  explicit Emulator(EmulatorOptions options);

  // Binds, optionally waits for subscribers, then publishes until done. Fails with a reason when
  // the endpoint cannot be bound or the truth file cannot be written.
  Result<EmulatorSummary> Run();

  // Ends Run() at the next packet boundary. Safe from any thread and from signal handlers'
  // deferred callbacks.
  void Stop();

 private:
  bool WaitFor(std::chrono::steady_clock::time_point deadline);
  enum class Wake { kDeadline, kCommand, kStop };
  // Sleeps until `deadline`, waking early when a telecommand is waiting on `commands`.
  Wake WaitForCommandOr(void* commands, std::chrono::steady_clock::time_point deadline);

  EmulatorOptions options_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
};

}  // namespace lgs::emulator
