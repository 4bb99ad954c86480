// Emulator: runs the rover model on a mission clock and publishes its telemetry as CCSDS space
// packets on a ZeroMQ publisher, exactly as the real rover's link would deliver them.
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

#include "protocol/cuc_time.h"
#include "protocol/status.h"

namespace lgs::emulator {

struct EmulatorOptions {
  std::string bind = "tcp://127.0.0.1:5555";  // ZeroMQ endpoint of the telemetry publisher
  std::string rover_id = "rover1";            // appears in every topic
  uint64_t seed = 1;                          // same seed, same mission
  double speed = 1.0;                         // mission seconds per wall second
  std::optional<double> duration_s;           // wall seconds; unset = until stopped
  std::string truth_path;                     // JSON lines of every packet sent; "" = none
  int wait_for_subscribers = 0;               // hold the mission clock until this many join
  double subscriber_wait_timeout_s = 30.0;    // give up waiting after this long
  // Mission clock origin; unset = the wall clock when the run starts.
  std::optional<protocol::TimestampNs> mission_start_ns;
  int send_hwm = 100'000;  // queued packets per subscriber before PUB drops
  int linger_ms = 2'000;   // time to deliver queued packets at shutdown

  Status Validate() const;
};

struct EmulatorSummary {
  uint64_t packets_sent = 0;
  uint64_t bytes_sent = 0;
  double mission_seconds = 0.0;
  double wall_seconds = 0.0;
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

  EmulatorOptions options_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
};

}  // namespace lgs::emulator
