#include "rover_emulator/rover_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "rover_model_constants.h"

namespace lgs::emulator {
using namespace model;  // NOLINT: the model's constants, shared by its files

RoverModel::RoverModel(const RoverModelOptions& options)
    : options_(options),
      rover_(options_.scenario.rover),
      random_(options.seed),
      terrain_(options_.scenario.site.terrain, options.seed),
      now_ns_(options.mission_start_ns) {
  const TraverseSpec& traverse = options_.scenario.traverse;
  if (!traverse.waypoints.empty()) {
    waypoints_ = traverse.waypoints;
  } else {
    // A traverse of waypoints around the landing site, different for every seed, kept inside the
    // mapped region.
    double x = 0.0, y = 0.0;
    const double limit = terrain_.half_size_m() - 5.0;
    for (int i = 0; i < traverse.random_waypoints; ++i) {
      const double bearing = random_.Uniform(0.0, 2.0 * M_PI);
      const double leg_m = random_.Uniform(traverse.random_leg_min_m, traverse.random_leg_max_m);
      x = std::clamp(x + leg_m * std::sin(bearing), -limit, limit);
      y = std::clamp(y + leg_m * std::cos(bearing), -limit, limit);
      waypoints_.emplace_back(x, y);
    }
  }
  soc_percent_ = rover_.initial_soc_percent;
  last_radiation_ns_ = now_ns_;
}

double RoverModel::MissionSeconds() const {
  return static_cast<double>(now_ns_ - options_.mission_start_ns) / kNsPerS;
}

void RoverModel::Raise(rover::v1::EventSeverity severity, rover::v1::EventKind kind,
                       std::string message, double value) {
  rover::v1::Event& event = events_.emplace_back();
  event.set_severity(severity);
  event.set_kind(kind);
  event.set_message(std::move(message));
  event.set_value(value);
}

void RoverModel::SetMode(rover::v1::RoverMode mode, const std::string& why) {
  if (mode == mode_) return;
  mode_ = mode;
  Raise(mode == rover::v1::ROVER_MODE_SAFE || mode == rover::v1::ROVER_MODE_HIBERNATE
            ? rover::v1::EVENT_SEVERITY_WARNING
            : rover::v1::EVENT_SEVERITY_INFO,
        rover::v1::EVENT_KIND_MODE_CHANGE,
        "mode " + rover::v1::RoverMode_Name(mode).substr(sizeof("ROVER_MODE_") - 1) + ": " + why,
        static_cast<double>(mode));
}

std::vector<rover::v1::Event> RoverModel::TakeEvents() {
  std::vector<rover::v1::Event> taken;
  taken.swap(events_);
  return taken;
}

void RoverModel::AdvanceTo(TimestampNs mission_time_ns) {
  if (!booted_) {
    booted_ = true;
    Raise(rover::v1::EVENT_SEVERITY_INFO, rover::v1::EVENT_KIND_BOOT, "rover software started");
    SetMode(rover::v1::ROVER_MODE_DRIVE, "traverse to first waypoint");
    link_up_ = !options_.scenario.link.InOutage(0.0);
    Step(0.0);  // settle power and thermal readings before the first report
  }
  while (now_ns_ < mission_time_ns) {
    const double remaining_s = static_cast<double>(mission_time_ns - now_ns_) / kNsPerS;
    const double dt_s = std::min(remaining_s, kMaxStepS);
    now_ns_ = std::min(mission_time_ns, now_ns_ + static_cast<TimestampNs>(dt_s * kNsPerS));
    CollectImages();
    Step(dt_s);
  }
}

void RoverModel::Step(double dt_s) {
  const double t = MissionSeconds();
  // Sun and terrain shadow: recompute after moving half a metre or every 10 s.
  if (t - sun_checked_s_ >= 10.0 ||
      std::hypot(x_m_ - sun_checked_x_, y_m_ - sun_checked_y_) > 0.5) {
    sun_ = SunAt(options_.scenario.site, t);
    sunlit_ = terrain_.SunlitFraction(x_m_, y_m_, sun_);
    sun_checked_s_ = t;
    sun_checked_x_ = x_m_;
    sun_checked_y_ = y_m_;
  }
  dark_s_ = sunlit_ > 0.0 ? 0.0 : dark_s_ + dt_s;
  StepMobility(dt_s);
  StepPower(dt_s);
  // On-board autonomy (low battery, safe mode) ends a commanded activity.
  if (activity_ && mode_ != activity_->mode) {
    EndActivity(false,
                fmt::format("interrupted: the rover went into {} mode", protocol::ModeName(mode_)));
  }
  StepThermal(dt_s);
  StepRadiation(dt_s);
  StepLink();
}

}  // namespace lgs::emulator
