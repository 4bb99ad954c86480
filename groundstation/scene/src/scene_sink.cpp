#include "groundstation/scene_sink.h"

namespace lgs::station {

SceneSink::SceneSink(std::string rover_id, Write write)
    : products_(std::move(rover_id)), write_(std::move(write)) {}

void SceneSink::OnAccepted(const AcceptedPacket& accepted) {
  const protocol::DecodedPacket& p = accepted.packet;
  products_.OnTelemetry(p.stream->id, *p.message, p.packet.onboard_time_ns, accepted.ground_ns,
                        pending_);
  Flush();
}

void SceneSink::OnAlarm(const ground::v1::GroundAlarm& alarm, int64_t ground_ns) {
  products_.OnAlarm(alarm, ground_ns, pending_);
  Flush();
}

void SceneSink::OnCommand(const ground::v1::GroundCommand& command, int64_t ground_ns) {
  products_.OnCommand(command, ground_ns, pending_);
  Flush();
}

void SceneSink::Flush() {
  for (const SceneMessage& m : pending_) write_(m);
  written_ += pending_.size();
  pending_.clear();
}

}  // namespace lgs::station
