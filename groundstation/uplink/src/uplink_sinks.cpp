#include "groundstation/uplink_sinks.h"

#include "groundstation/telemetry_format.h"
#include "rover/v1/event.pb.h"
#include "rover/v1/housekeeping.pb.h"
#include "rover/v1/navigation.pb.h"

namespace lgs::station {

using protocol::StreamId;

namespace {
constexpr auto kRoverStateInterval = std::chrono::milliseconds(50);
}  // namespace

void VerificationSink::OnAccepted(const AcceptedPacket& a) {
  if (a.packet.stream->id != StreamId::kCommandVerification) return;
  auto report = std::make_shared<rover::v1::CommandVerification>();
  report->CopyFrom(*a.packet.message);
  forward_(std::move(report));
}

void RoverStateSink::OnAccepted(const AcceptedPacket& a) {
  const protocol::DecodedPacket& p = a.packet;
  bool mode_changed = false;
  if (p.stream->id == StreamId::kHousekeeping) {
    const auto mode = static_cast<const rover::v1::Housekeeping&>(*p.message).mode();
    mode_changed = mode != state_.mode;
    state_.mode = mode;
  } else if (p.stream->id == StreamId::kEvent) {
    const auto mode = ModeChangedTo(static_cast<const rover::v1::Event&>(*p.message));
    if (!mode) return;
    mode_changed = *mode != state_.mode;
    state_.mode = *mode;
  } else if (p.stream->id == StreamId::kNavigationPose) {
    const auto& pose = static_cast<const rover::v1::NavigationPose&>(*p.message);
    state_.x_m = pose.x_m();
    state_.y_m = pose.y_m();
    state_.position_known = true;
  } else {
    return;
  }
  changed_ = true;
  MaybePublish(std::chrono::steady_clock::now(), mode_changed);
}

void RoverStateSink::OnTick(const IngestTick& tick) {
  if (changed_) MaybePublish(tick.now, false);
}

void RoverStateSink::MaybePublish(std::chrono::steady_clock::time_point now, bool now_anyway) {
  if (!now_anyway && now - last_published_ < kRoverStateInterval) return;
  last_published_ = now;
  changed_ = false;
  publish_(state_);
}

}  // namespace lgs::station
