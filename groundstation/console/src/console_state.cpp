#include "groundstation/console_state.h"

#include <algorithm>
#include <cmath>

#include "groundstation/telemetry_format.h"
#include "rover/v1/camera.pb.h"
#include "rover/v1/event.pb.h"
#include "rover/v1/navigation.pb.h"

namespace lgs::station {

using protocol::StreamId;

namespace {
constexpr auto kPublishInterval = std::chrono::milliseconds(250);
// Only a periodic stream is called stale (the others speak when something happens), and not
// before this much silence, whatever its rate.
constexpr double kMinStaleSeconds = 5.0;
// The clock rate's reference points move on every 30 s of ground time; a rate is given once
// they are 2 s apart.
constexpr int64_t kRateReferenceStepNs = 30'000'000'000;
constexpr int64_t kRateMinSpanNs = 2'000'000'000;

double Seconds(int64_t ns) {
  return static_cast<double>(ns) / 1e9;
}
}  // namespace

std::optional<double> ConsoleState::ScetRate() const {
  const int64_t ground = latest_ground_ns - rate_ref_ground_ns;
  if (rate_ref_ground_ns == 0 || ground < kRateMinSpanNs) return std::nullopt;
  return static_cast<double>(latest_onboard_ns - rate_ref_onboard_ns) / static_cast<double>(ground);
}

void ConsoleStateSink::OnAccepted(const AcceptedPacket& a) {
  const protocol::DecodedPacket& p = a.packet;
  const int64_t onboard = static_cast<int64_t>(p.packet.onboard_time_ns);
  const int64_t ground = static_cast<int64_t>(a.ground_ns);
  StreamSeen& seen = state_.streams[static_cast<size_t>(p.stream->id)];
  ++seen.packets;
  seen.ground_ns = std::max(seen.ground_ns, ground);
  seen.onboard_ns = std::max(seen.onboard_ns, onboard);
  if (onboard >= state_.latest_onboard_ns) {
    state_.latest_onboard_ns = onboard;
    state_.latest_ground_ns = ground;
    if (state_.rate_next_ground_ns == 0) {
      state_.rate_ref_onboard_ns = state_.rate_next_onboard_ns = onboard;
      state_.rate_ref_ground_ns = state_.rate_next_ground_ns = ground;
    } else if (ground - state_.rate_next_ground_ns >= kRateReferenceStepNs) {
      state_.rate_ref_onboard_ns = state_.rate_next_onboard_ns;
      state_.rate_ref_ground_ns = state_.rate_next_ground_ns;
      state_.rate_next_onboard_ns = onboard;
      state_.rate_next_ground_ns = ground;
    }
  }
  if (state_.first_onboard_ns == 0 || onboard < state_.first_onboard_ns) {
    state_.first_onboard_ns = onboard;
  }
  changed_ = true;
  switch (p.stream->id) {
    case StreamId::kHousekeeping:
      Housekeeping(static_cast<const rover::v1::Housekeeping&>(*p.message), ground, onboard);
      break;
    case StreamId::kNavigationPose: {
      if (onboard < state_.pose_onboard_ns) break;
      const auto& pose = static_cast<const rover::v1::NavigationPose&>(*p.message);
      state_.have_pose = true;
      state_.pose_onboard_ns = onboard;
      state_.x_m = pose.x_m();
      state_.y_m = pose.y_m();
      state_.heading_deg = pose.heading_deg();
      state_.speed_m_per_h = pose.speed_m_per_h();
      state_.odometer_m = pose.odometer_m();
      // Moving again after the stop: the stop no longer holds.
      if (state_.hazard_stop && onboard > state_.hazard_stop_onboard_ns &&
          pose.speed_m_per_h() > 0) {
        state_.hazard_stop = false;
      }
      break;
    }
    case StreamId::kCameraFrame: {
      if (onboard < state_.sun_onboard_ns) break;
      const auto& frame = static_cast<const rover::v1::CameraFrame&>(*p.message);
      state_.have_sun = true;
      state_.sun_onboard_ns = onboard;
      state_.sun_elevation_deg = frame.sun_elevation_deg();
      state_.sun_azimuth_deg = frame.sun_azimuth_deg();
      break;
    }
    case StreamId::kEvent: {
      const auto& event = static_cast<const rover::v1::Event&>(*p.message);
      if (event.kind() == rover::v1::EVENT_KIND_HAZARD_STOP &&
          onboard >= state_.hazard_stop_onboard_ns) {
        state_.hazard_stop = true;
        state_.hazard_stop_onboard_ns = onboard;
        state_.hazard_stop_message = event.message();
      }
      if (const auto mode = ModeChangedTo(event); mode && onboard >= state_.mode_onboard_ns) {
        state_.mode = *mode;
        state_.mode_onboard_ns = onboard;
      }
      break;
    }
    default:
      break;
  }
}

void ConsoleStateSink::Housekeeping(const rover::v1::Housekeeping& hk, int64_t ground,
                                    int64_t onboard) {
  if (onboard < state_.housekeeping_onboard_ns) return;  // a late one: older than what is shown
  state_.have_housekeeping = true;
  state_.housekeeping_ground_ns = ground;
  state_.housekeeping_onboard_ns = onboard;
  state_.housekeeping.CopyFrom(hk);
  if (onboard >= state_.mode_onboard_ns) {
    state_.mode = hk.mode();
    state_.mode_onboard_ns = onboard;
  }
  soc_.emplace_back(onboard, hk.battery_soc_percent());
  while (!soc_.empty() && soc_.front().first < onboard - kSocTrendWindowNs) soc_.pop_front();
  const int64_t span = soc_.back().first - soc_.front().first;
  state_.have_soc_trend = span >= kSocTrendMinSpanNs;
  state_.soc_trend_percent_per_h =
      state_.have_soc_trend ? (soc_.back().second - soc_.front().second) / (Seconds(span) / 3600.0)
                            : 0.0;
}

void ConsoleStateSink::OnTick(const IngestTick& tick) {
  if (!changed_ || tick.now - last_published_ < kPublishInterval) return;
  last_published_ = tick.now;
  changed_ = false;
  publish_(state_);
}

nlohmann::json ConsoleStateJson(const ConsoleState& s, int64_t now_ns, double stale_after_periods) {
  using nlohmann::json;
  const auto age = [now_ns](int64_t ground_ns) {
    return ground_ns == 0 ? json(nullptr) : json(Seconds(now_ns - ground_ns));
  };
  json out;
  out["mode"] = s.mode == rover::v1::ROVER_MODE_UNSPECIFIED
                    ? json(nullptr)
                    : json(ShortEnum(rover::v1::RoverMode_Name(s.mode), "ROVER_MODE_"));
  out["safe"] = s.mode == rover::v1::ROVER_MODE_SAFE || s.mode == rover::v1::ROVER_MODE_HIBERNATE;
  if (s.have_housekeeping) {
    const auto& hk = s.housekeeping;
    out["housekeeping"] = {
        {"onboard_ns", s.housekeeping_onboard_ns},
        {"ground_ns", s.housekeeping_ground_ns},
        {"age_s", age(s.housekeeping_ground_ns)},
        {"mode", ShortEnum(rover::v1::RoverMode_Name(hk.mode()), "ROVER_MODE_")},
        {"battery_soc_percent", hk.battery_soc_percent()},
        {"soc_trend_percent_per_h", s.have_soc_trend ? json(s.soc_trend_percent_per_h) : json()},
        {"bus_voltage_v", hk.bus_voltage_v()},
        {"battery_current_a", hk.battery_current_a()},
        {"solar_power_w", hk.solar_power_w()},
        {"load_power_w", hk.load_power_w()},
        {"heater_power_w", hk.heater_power_w()},
        {"power_balance_w", hk.solar_power_w() - hk.load_power_w()},
        {"temp_battery_c", hk.temp_battery_c()},
        {"onboard_store_packets", hk.onboard_store_packets()},
        {"commands_executed", hk.commands_executed()},
    };
  } else {
    out["housekeeping"] = nullptr;
  }
  out["pose"] = s.have_pose ? json{{"x_m", s.x_m},
                                   {"y_m", s.y_m},
                                   {"heading_deg", s.heading_deg},
                                   {"speed_m_per_h", s.speed_m_per_h},
                                   {"odometer_m", s.odometer_m}}
                            : json();
  out["hazard_stop"] = {{"active", s.hazard_stop},
                        {"onboard_ns", s.hazard_stop_onboard_ns},
                        {"message", s.hazard_stop_message}};
  out["sun"] = s.have_sun ? json{{"elevation_deg", s.sun_elevation_deg},
                                 {"azimuth_deg", s.sun_azimuth_deg},
                                 {"onboard_ns", s.sun_onboard_ns}}
                          : json();
  out["scet_ns"] = s.latest_onboard_ns == 0 ? json() : json(s.latest_onboard_ns);
  out["scet_received_ns"] = s.latest_ground_ns == 0 ? json() : json(s.latest_ground_ns);
  out["first_scet_ns"] = s.first_onboard_ns == 0 ? json() : json(s.first_onboard_ns);
  json streams = json::object();
  for (const protocol::StreamInfo& info : protocol::AllStreams()) {
    const StreamSeen& seen = s.streams[static_cast<size_t>(info.id)];
    const double silent = Seconds(now_ns - seen.ground_ns);
    const bool stale =
        seen.ground_ns != 0 && info.periodic &&
        silent > std::max(kMinStaleSeconds, stale_after_periods / info.nominal_rate_hz);
    streams[std::string(info.name)] = {{"packets", seen.packets},
                                       {"age_s", age(seen.ground_ns)},
                                       {"nominal_rate_hz", info.nominal_rate_hz},
                                       {"stale", stale}};
  }
  out["streams"] = std::move(streams);
  return out;
}

}  // namespace lgs::station
