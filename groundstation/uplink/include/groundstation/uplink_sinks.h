// The uplink's sinks (groundstation/sink.h): what commanding needs from the telemetry.
//
// VerificationSink hands every command verification report (PUS service 1) to `forward`, as a
// copy the receiver owns: the command tracker and gap fill read them on the Asio thread.
//
// RoverStateSink keeps what commands are checked against — the rover's mode (housekeeping, or
// the mode-change event of a hibernating rover that sends no housekeeping) and its position —
// and hands a copy to `publish` when the mode changes at once, otherwise at most every 50 ms
// while it changes.
//
// Not thread-safe: the ingest thread's, like every sink.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "groundstation/sink.h"
#include "protocol/command_dictionary.h"
#include "rover/v1/verification.pb.h"

namespace lgs::station {

class VerificationSink final : public Sink {
 public:
  using Forward = std::function<void(std::shared_ptr<const rover::v1::CommandVerification>)>;
  explicit VerificationSink(Forward forward) : forward_(std::move(forward)) {}
  void OnAccepted(const AcceptedPacket& packet) override;

 private:
  Forward forward_;
};

class RoverStateSink final : public Sink {
 public:
  using Publish = std::function<void(const protocol::RoverContext&)>;
  explicit RoverStateSink(Publish publish) : publish_(std::move(publish)) {}
  void OnAccepted(const AcceptedPacket& packet) override;
  void OnTick(const IngestTick& tick) override;

 private:
  void MaybePublish(std::chrono::steady_clock::time_point now, bool now_anyway);
  Publish publish_;
  protocol::RoverContext state_;
  bool changed_ = false;
  std::chrono::steady_clock::time_point last_published_{};
};

}  // namespace lgs::station
