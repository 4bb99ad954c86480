#include "rover_emulator/rover_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

namespace lgs::emulator {
namespace {

constexpr double kNsPerS = 1e9;
constexpr double kDegPerRad = 180.0 / M_PI;
constexpr double kMoonRadiusM = 1'737'400.0;
// Model steps in at most this much mission time so fast replays stay stable.
constexpr double kMaxStepS = 1.0;

// GCR at solar minimum, Chang'e-4 LND (Zhang et al. 2020).
constexpr double kGcrDoseRateUgyPerH = 13.2;
constexpr double kNeutralDoseRateUgyPerH = 3.1;
constexpr double kMeanQualityFactor = 4.3;

// Apollo 16 highland soil means (Lunar Sourcebook table 7.15), MgO raised for the south pole.
constexpr std::array<double, 10> kHighlandOxides = {45.0, 27.3, 15.7, 5.1,  7.0,
                                                    0.54, 0.46, 0.17, 0.33, 0.3};

constexpr double kVnisStartUm = 0.45;
constexpr double kVnisEndUm = 2.40;
constexpr double kVnisStepUm = 0.01;

constexpr int kLetBins = 30;
constexpr double kLetMinKevPerUm = 0.1;
constexpr double kLetMaxKevPerUm = 1000.0;

constexpr uint32_t kTileCells = 32;
constexpr double kTileCellM = 0.1;

double Gaussian(double x, double centre, double width) {
  const double d = (x - centre) / width;
  return std::exp(-0.5 * d * d);
}

}  // namespace

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

double RoverModel::SpeExtraFactor() const {
  const double t = MissionSeconds();
  double extra = 0.0;
  for (const SolarParticleEventSpec& e : options_.scenario.solar_particle_events) {
    if (t < e.onset_s) continue;
    const double since = t - e.onset_s;
    if (since < e.rise_s) {
      // Smooth rise from onset to peak.
      const double f = since / e.rise_s;
      extra += (e.peak_factor - 1.0) * f * f * (3.0 - 2.0 * f);
    } else {
      extra += (e.peak_factor - 1.0) * std::exp(-(since - e.rise_s) / e.decay_s);
    }
  }
  return extra;
}

double RoverModel::GcrFactor() const {
  const double t = MissionSeconds();
  double dip = 0.0;
  for (const SolarParticleEventSpec& e : options_.scenario.solar_particle_events) {
    // The interplanetary shock arrives near the proton peak; the GCR drop recovers over days.
    const double since = t - (e.onset_s + e.rise_s);
    if (since < 0.0) continue;
    const double onset = std::min(1.0, since / 1800.0);
    dip = std::max(dip,
                   e.forbush_dip_percent / 100.0 * onset * std::exp(-since / e.forbush_recovery_s));
  }
  return 1.0 - dip;
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

RoverModel::Move RoverModel::MoveToward(double wx, double wy, double dt_s) {
  const double dx = wx - x_m_, dy = wy - y_m_;
  const double distance = std::hypot(dx, dy);
  if (distance < 0.01) return Move::kArrived;
  heading_deg_ = std::fmod(std::atan2(dx, dy) * kDegPerRad + 360.0, 360.0);
  const double h = heading_deg_ / kDegPerRad;
  // Hazard check half a metre ahead: slope or rock beyond the rover's limits.
  const double ax = x_m_ + 0.5 * std::sin(h), ay = y_m_ + 0.5 * std::cos(h);
  const double slope = terrain_.SlopeDeg(ax, ay);
  const double rock = terrain_.RockHeight(ax, ay);
  if (slope > rover_.max_slope_deg || rock > rover_.max_obstacle_m) {
    const bool steep = slope > rover_.max_slope_deg;
    hazard_reason_ = steep ? fmt::format("hazard stop: slope {:.1f} deg ahead at ({:.1f}, {:.1f})",
                                         slope, ax, ay)
                           : fmt::format("hazard stop: {:.0f} cm rock ahead at ({:.1f}, {:.1f})",
                                         rock * 100.0, ax, ay);
    Raise(rover::v1::EVENT_SEVERITY_WARNING, rover::v1::EVENT_KIND_HAZARD_STOP, hazard_reason_,
          steep ? slope : rock);
    return Move::kHazard;
  }
  // Slip grows with the uphill grade.
  const double uphill_deg =
      std::atan2(terrain_.Elevation(ax, ay) - terrain_.Elevation(x_m_, y_m_), 0.5) * kDegPerRad;
  slip_percent_ = std::clamp(random_.Normal(4.0 + 1.5 * std::max(0.0, uphill_deg), 1.5), 0.0, 40.0);
  const double ground_speed = rover_.drive_speed_m_per_h * (1.0 - slip_percent_ / 100.0);
  const double step_m = std::min(distance, ground_speed / 3600.0 * dt_s);
  ground_speed_m_per_h_ = step_m / dt_s * 3600.0;
  x_m_ += step_m * std::sin(h);
  y_m_ += step_m * std::cos(h);
  // Odometry counts wheel turns: slip makes it overestimate, and heading drifts a little.
  const double wheel_m = step_m / (1.0 - slip_percent_ / 100.0);
  const double drift = random_.Normal(0.0, 0.01);
  est_x_m_ += wheel_m * std::sin(h + drift);
  est_y_m_ += wheel_m * std::cos(h + drift);
  odometer_m_ += wheel_m;
  since_science_m_ += step_m;
  since_fix_m_ += step_m;
  uncertainty_m_ += 0.02 * wheel_m;
  if (since_fix_m_ > 2.0) {
    // Visual localisation from the navigation cameras pulls the estimate back.
    since_fix_m_ = 0.0;
    est_x_m_ = x_m_ + random_.Normal(0.0, 0.02);
    est_y_m_ = y_m_ + random_.Normal(0.0, 0.02);
    uncertainty_m_ = 0.05;
    visual_fix_pending_ = true;
  }
  return distance - step_m < 0.01 ? Move::kArrived : Move::kMoving;
}

void RoverModel::StepMobility(double dt_s) {
  ground_speed_m_per_h_ = 0.0;
  if (activity_) {
    StepActivity(dt_s);
    return;
  }
  if (ground_hold_) {
    slip_percent_ = 0.0;
    return;
  }
  if (hazard_stopped_) {
    hazard_wait_s_ += dt_s;
    if (rover_.hazard_replan_after_s > 0 && hazard_wait_s_ >= rover_.hazard_replan_after_s &&
        mode_ == rover::v1::ROVER_MODE_STANDBY) {
      // Stand-in for the ground's re-plan: a detour waypoint 2 m to the gentler side.
      const double h = heading_deg_ / kDegPerRad;
      const double lx = x_m_ - 2.0 * std::cos(h), ly = y_m_ + 2.0 * std::sin(h);
      const double rx = x_m_ + 2.0 * std::cos(h), ry = y_m_ - 2.0 * std::sin(h);
      const bool left = terrain_.SlopeDeg(lx, ly) + 100.0 * terrain_.RockHeight(lx, ly) <
                        terrain_.SlopeDeg(rx, ry) + 100.0 * terrain_.RockHeight(rx, ry);
      waypoints_.insert(waypoints_.begin() + static_cast<std::ptrdiff_t>(waypoint_),
                        left ? std::pair{lx, ly} : std::pair{rx, ry});
      hazard_stopped_ = false;
      hazard_wait_s_ = 0.0;
      SetMode(rover::v1::ROVER_MODE_DRIVE, "detour around the hazard");
    }
    return;
  }
  if (mode_ == rover::v1::ROVER_MODE_DRIVE && dt_s > 0.0) {
    const auto [wx, wy] = waypoints_[waypoint_];
    const Move move = MoveToward(wx, wy, dt_s);
    if (move == Move::kHazard) {
      hazard_stopped_ = true;
      hazard_wait_s_ = 0.0;
      SetMode(rover::v1::ROVER_MODE_STANDBY, "hazard stop, waiting for the ground");
      return;
    }
    if (move == Move::kArrived) {
      Raise(rover::v1::EVENT_SEVERITY_INFO, rover::v1::EVENT_KIND_WAYPOINT_REACHED,
            "waypoint " + std::to_string(waypoint_) + " reached", static_cast<double>(waypoint_));
      waypoint_ = (waypoint_ + 1) % waypoints_.size();
    }
    if (since_science_m_ >= options_.scenario.traverse.science_stop_every_m) {
      since_science_m_ = 0.0;
      science_remaining_s_ = options_.scenario.traverse.science_stop_duration_s;
      SetMode(rover::v1::ROVER_MODE_SCIENCE, "soil science stop");
    }
  } else if (mode_ == rover::v1::ROVER_MODE_SCIENCE) {
    slip_percent_ = 0.0;
    science_remaining_s_ -= dt_s;
    if (science_remaining_s_ <= 0.0) {
      Raise(rover::v1::EVENT_SEVERITY_INFO, rover::v1::EVENT_KIND_MEASUREMENT_DONE,
            "soil science stop complete");
      SetMode(rover::v1::ROVER_MODE_DRIVE, "resume traverse");
    }
  } else {
    slip_percent_ = 0.0;
  }
}

void RoverModel::ActivityProgress(double fraction) {
  // Progress reports at each quarter of the way.
  Activity& a = *activity_;
  const auto quarter = static_cast<uint32_t>(std::floor(std::clamp(fraction, 0.0, 1.0) * 4.0));
  while (a.progress_reported + 1 <= quarter && a.progress_reported + 1 < 4) {
    ++a.progress_reported;
    activity_reports_.push_back(
        {a.tag, ActivityReport::Kind::kProgress, a.progress_reported, std::string()});
  }
}

void RoverModel::EndActivity(bool success, std::string reason) {
  if (!activity_) return;
  activity_reports_.push_back(
      {activity_->tag, success ? ActivityReport::Kind::kCompleted : ActivityReport::Kind::kFailed,
       0, std::move(reason)});
  activity_.reset();
  ground_hold_ = true;
  if (mode_ == rover::v1::ROVER_MODE_DRIVE || mode_ == rover::v1::ROVER_MODE_SCIENCE) {
    SetMode(rover::v1::ROVER_MODE_STANDBY, success ? "command complete, holding for the ground"
                                                   : "command failed, holding for the ground");
  }
}

void RoverModel::StepActivity(double dt_s) {
  Activity& a = *activity_;
  slip_percent_ = 0.0;
  if (dt_s <= 0.0) return;
  switch (a.command) {
    case protocol::CommandId::kDrive:
    case protocol::CommandId::kTurn: {
      if (a.turn_remaining_deg != 0.0) {
        const double step = std::copysign(
            std::min(std::abs(a.turn_remaining_deg), rover_.turn_rate_deg_per_s * dt_s),
            a.turn_remaining_deg);
        heading_deg_ = std::fmod(heading_deg_ + step + 360.0, 360.0);
        a.turn_remaining_deg -= step;
        if (std::abs(a.turn_remaining_deg) < 1e-9) a.turn_remaining_deg = 0.0;
        if (a.command == protocol::CommandId::kTurn) {
          ActivityProgress(1.0 - std::abs(a.turn_remaining_deg) / a.turn_total_deg);
          if (a.turn_remaining_deg == 0.0) EndActivity(true, "");
        }
        return;
      }
      const Move move = MoveToward(a.target_x_m, a.target_y_m, dt_s);
      if (move == Move::kHazard) {
        EndActivity(false, hazard_reason_);
        return;
      }
      const double left = std::hypot(a.target_x_m - x_m_, a.target_y_m - y_m_);
      ActivityProgress(a.total_m > 0 ? 1.0 - left / a.total_m : 1.0);
      if (move == Move::kArrived) {
        Raise(rover::v1::EVENT_SEVERITY_INFO, rover::v1::EVENT_KIND_WAYPOINT_REACHED,
              fmt::format("commanded drive complete at ({:.2f}, {:.2f})", x_m_, y_m_));
        EndActivity(true, "");
      }
      return;
    }
    case protocol::CommandId::kSoilMeasure: {
      a.remaining_s -= dt_s;
      ActivityProgress(1.0 - a.remaining_s / a.total_s);
      if (a.remaining_s <= 0.0) {
        FillSoil(a.instrument, a.total_s, commanded_soil_.emplace_back());
        Raise(rover::v1::EVENT_SEVERITY_INFO, rover::v1::EVENT_KIND_MEASUREMENT_DONE,
              fmt::format("commanded {} measurement complete",
                          rover::v1::SoilInstrument_Name(a.instrument)));
        EndActivity(true, "");
      }
      return;
    }
    case protocol::CommandId::kCaptureImage: {
      a.remaining_s -= dt_s;
      while (a.frames_taken < a.frames &&
             a.total_s - a.remaining_s >=
                 (a.frames_taken + 1) * protocol::kDictionaryFrameSeconds) {
        const double pan = heading_deg_ + a.frames_taken * a.pan_step_deg;
        CaptureImage(a.camera, std::fmod(pan + 360.0, 360.0), a.tilt_deg, a.format, a.priority);
        ++a.frames_taken;
        if (a.frames > 1 && a.frames_taken < a.frames) {
          activity_reports_.push_back(
              {a.tag, ActivityReport::Kind::kProgress, a.frames_taken, std::string()});
        }
      }
      // Complete once the last image is processed and stored (the camera does one at a time).
      if (a.frames_taken == a.frames && imaging_.pending() == 0) EndActivity(true, "");
      return;
    }
    default:
      EndActivity(false, "no such activity");
  }
}

Status RoverModel::StartActivity(uint64_t tag, const protocol::CommandInfo& command,
                                 const google::protobuf::Message& args,
                                 TimestampNs mission_time_ns) {
  AdvanceTo(mission_time_ns);
  if (Status s = protocol::CheckMode(command, mode_); !s.ok()) return s;
  const auto complete = [&] {
    activity_reports_.push_back({tag, ActivityReport::Kind::kCompleted, 0, std::string()});
    return Status::Ok();
  };
  using protocol::CommandId;
  switch (command.id) {
    case CommandId::kPing:
      return complete();
    case CommandId::kStop:
      EndActivity(false, "stopped by a stop command");
      ground_hold_ = true;
      hazard_stopped_ = false;
      if (mode_ == rover::v1::ROVER_MODE_DRIVE || mode_ == rover::v1::ROVER_MODE_SCIENCE) {
        SetMode(rover::v1::ROVER_MODE_STANDBY, "stopped by the ground");
      }
      return complete();
    case CommandId::kHibernate:
      EndActivity(false, "the rover is going into hibernation");
      ground_hold_ = true;
      commanded_hibernation_ = true;
      SetMode(rover::v1::ROVER_MODE_HIBERNATE, "commanded by the ground");
      return complete();
    case CommandId::kWake:
      commanded_hibernation_ = false;
      if (mode_ == rover::v1::ROVER_MODE_HIBERNATE) {
        SetMode(rover::v1::ROVER_MODE_STANDBY, "woken by the ground");
      }
      return complete();
    case CommandId::kSetInstrumentMode: {
      const auto& m = static_cast<const rover::v1::SetInstrumentMode&>(args);
      instrument_modes_[static_cast<size_t>(m.instrument())] = m.mode();
      if (activity_ && activity_->command == CommandId::kSoilMeasure &&
          activity_->instrument == m.instrument() && m.mode() != rover::v1::INSTRUMENT_MODE_ON) {
        EndActivity(false, fmt::format("{} switched off during the measurement",
                                       rover::v1::SoilInstrument_Name(m.instrument())));
      }
      return complete();
    }
    case CommandId::kDrive:
    case CommandId::kTurn:
    case CommandId::kSoilMeasure:
    case CommandId::kCaptureImage:
      break;
    default:
      return Status::Error(fmt::format("{} is not a rover activity", command.name));
  }
  if (activity_) {
    return Status::Error(
        fmt::format("busy: {} still in progress", protocol::Command(activity_->command).name));
  }
  Activity a;
  a.tag = tag;
  a.command = command.id;
  switch (command.id) {
    case CommandId::kDrive: {
      const auto& d = static_cast<const rover::v1::Drive&>(args);
      if (d.has_distance_heading()) {
        const double h = d.distance_heading().heading_deg() / kDegPerRad;
        a.target_x_m = x_m_ + d.distance_heading().distance_m() * std::sin(h);
        a.target_y_m = y_m_ + d.distance_heading().distance_m() * std::cos(h);
      } else {
        a.target_x_m = d.waypoint().x_m();
        a.target_y_m = d.waypoint().y_m();
      }
      const double limit = terrain_.half_size_m();
      if (std::abs(a.target_x_m) > limit || std::abs(a.target_y_m) > limit) {
        return Status::Error(fmt::format("target ({:.1f}, {:.1f}) is outside the mapped site",
                                         a.target_x_m, a.target_y_m));
      }
      a.total_m = std::hypot(a.target_x_m - x_m_, a.target_y_m - y_m_);
      const double bearing = std::atan2(a.target_x_m - x_m_, a.target_y_m - y_m_) * kDegPerRad;
      a.turn_remaining_deg = std::remainder(bearing - heading_deg_, 360.0);
      a.turn_total_deg = std::abs(a.turn_remaining_deg);
      a.mode = rover::v1::ROVER_MODE_DRIVE;
      break;
    }
    case CommandId::kTurn: {
      const double angle = static_cast<const rover::v1::Turn&>(args).angle_deg();
      if (angle == 0.0) return complete();
      a.turn_remaining_deg = angle;
      a.turn_total_deg = std::abs(angle);
      a.mode = rover::v1::ROVER_MODE_DRIVE;
      break;
    }
    case CommandId::kSoilMeasure: {
      const auto& m = static_cast<const rover::v1::SoilMeasure&>(args);
      if (instrument_modes_[static_cast<size_t>(m.instrument())] != rover::v1::INSTRUMENT_MODE_ON) {
        return Status::Error(
            fmt::format("{} is not switched on", rover::v1::SoilInstrument_Name(m.instrument())));
      }
      a.instrument = m.instrument();
      a.remaining_s = a.total_s = m.duration_s();
      a.mode = rover::v1::ROVER_MODE_SCIENCE;
      break;
    }
    case CommandId::kCaptureImage: {
      const auto& c = static_cast<const rover::v1::CaptureImage&>(args);
      a.camera = c.camera();
      a.frames = c.frames();
      a.pan_step_deg = c.pan_step_deg();
      a.tilt_deg = c.tilt_deg();
      a.format = c.format() == rover::v1::IMAGE_FORMAT_UNSPECIFIED ? rover::v1::IMAGE_FORMAT_JPEG
                                                                   : c.format();
      a.priority = c.priority();
      a.remaining_s = a.total_s = a.frames * protocol::kDictionaryFrameSeconds;
      a.mode = mode_ == rover::v1::ROVER_MODE_SAFE ? mode_ : rover::v1::ROVER_MODE_STANDBY;
      break;
    }
    default:
      break;
  }
  ground_hold_ = true;
  hazard_stopped_ = false;
  science_remaining_s_ = 0.0;
  low_battery_standby_ = false;
  SetMode(a.mode, fmt::format("commanded {}", command.name));
  activity_ = a;
  return Status::Ok();
}

std::vector<ActivityReport> RoverModel::TakeActivityReports() {
  std::vector<ActivityReport> taken;
  taken.swap(activity_reports_);
  return taken;
}

std::vector<rover::v1::CameraFrame> RoverModel::TakeCommandedFrames() {
  std::vector<rover::v1::CameraFrame> taken;
  taken.swap(commanded_frames_);
  return taken;
}

std::vector<ImageProduct> RoverModel::TakeImageProducts() {
  std::vector<ImageProduct> taken;
  taken.swap(image_products_);
  return taken;
}

std::vector<rover::v1::SoilMeasurement> RoverModel::TakeCommandedSoil() {
  std::vector<rover::v1::SoilMeasurement> taken;
  taken.swap(commanded_soil_);
  return taken;
}

void RoverModel::StepPower(double dt_s) {
  // A sun-tracking array sees the low sun; the part of the disc above the horizon counts.
  solar_w_ = sunlit_ * rover_.solar_array_peak_w *
             std::cos(std::max(0.0, sun_.elevation_deg) / kDegPerRad) *
             std::clamp(random_.Normal(0.95, 0.01), 0.85, 1.0);
  if (mode_ == rover::v1::ROVER_MODE_HIBERNATE) solar_w_ *= 0.8;  // array not tracking
  double mode_load_w = 15.0;
  switch (mode_) {
    case rover::v1::ROVER_MODE_DRIVE:
      mode_load_w = 38.0;
      break;
    case rover::v1::ROVER_MODE_SCIENCE:
      mode_load_w = 27.0;
      break;
    case rover::v1::ROVER_MODE_SAFE:
      mode_load_w = 9.0;
      break;
    case rover::v1::ROVER_MODE_HIBERNATE:
      mode_load_w = 1.5;  // wake-up timer and the battery's survival heater only
      break;
    default:
      break;
  }
  const bool hibernating = mode_ == rover::v1::ROVER_MODE_HIBERNATE;
  heater_w_ = !hibernating && temp_battery_c_ < 0.0 ? 6.0 : 0.0;
  load_w_ = mode_load_w + heater_w_ + (hibernating ? 0.0 : random_.Normal(0.0, 0.3));
  soc_percent_ += (solar_w_ - load_w_) * dt_s / 3600.0 / rover_.battery_capacity_wh * 100.0;
  soc_percent_ = std::clamp(soc_percent_, 0.0, 100.0);

  const bool working =
      mode_ == rover::v1::ROVER_MODE_DRIVE || mode_ == rover::v1::ROVER_MODE_SCIENCE;
  if (working && soc_percent_ < rover_.shed_science_soc_percent) {
    Raise(rover::v1::EVENT_SEVERITY_WARNING, rover::v1::EVENT_KIND_LOW_BATTERY,
          fmt::format("battery below {:.0f}%: shedding science", rover_.shed_science_soc_percent),
          soc_percent_);
    low_battery_standby_ = true;
    SetMode(rover::v1::ROVER_MODE_STANDBY, "low battery");
  } else if (mode_ == rover::v1::ROVER_MODE_STANDBY &&
             soc_percent_ < rover_.safe_mode_soc_percent) {
    Raise(rover::v1::EVENT_SEVERITY_CRITICAL, rover::v1::EVENT_KIND_LOW_BATTERY,
          fmt::format("battery below {:.0f}%: safe mode", rover_.safe_mode_soc_percent),
          soc_percent_);
    SetMode(rover::v1::ROVER_MODE_SAFE, "battery low");
  } else if (mode_ == rover::v1::ROVER_MODE_SAFE && (soc_percent_ < rover_.hibernate_soc_percent ||
                                                     (dark_s_ > 6 * 3600.0 && solar_w_ <= 0.0))) {
    SetMode(rover::v1::ROVER_MODE_HIBERNATE, soc_percent_ < rover_.hibernate_soc_percent
                                                 ? "battery nearly empty and no sun"
                                                 : "sun below the horizon for 6 h");
  } else if (mode_ == rover::v1::ROVER_MODE_HIBERNATE && !commanded_hibernation_ && sunlit_ > 0.5 &&
             soc_percent_ >= rover_.wake_soc_percent) {
    SetMode(rover::v1::ROVER_MODE_STANDBY, "sun back on the array: woke up");
  } else if (mode_ == rover::v1::ROVER_MODE_SAFE &&
             soc_percent_ >= rover_.safe_mode_soc_percent + 5.0) {
    SetMode(rover::v1::ROVER_MODE_STANDBY, "battery recovered");
  } else if (mode_ == rover::v1::ROVER_MODE_STANDBY && low_battery_standby_ && !hazard_stopped_ &&
             !ground_hold_ && soc_percent_ >= rover_.shed_science_soc_percent + 10.0) {
    low_battery_standby_ = false;
    SetMode(rover::v1::ROVER_MODE_DRIVE, "battery recovered: resume traverse");
  }
}

void RoverModel::StepThermal(double dt_s) {
  // First-order relaxation toward mode- and sun-dependent equilibria.
  const auto relax = [dt_s](double& temp, double target, double tau_s) {
    temp += (target - temp) * std::min(1.0, dt_s / tau_s);
  };
  const bool driving = mode_ == rover::v1::ROVER_MODE_DRIVE;
  const bool hibernating = mode_ == rover::v1::ROVER_MODE_HIBERNATE;
  const double lit = sunlit_;
  relax(temp_electronics_c_, hibernating ? -60.0 + 40.0 * lit : 20.0 + 0.2 * load_w_, 900.0);
  relax(temp_battery_c_,
        hibernating ? -30.0 + 30.0 * lit : 10.0 + 0.1 * (solar_w_ - 20.0) + 2.0 * heater_w_,
        1800.0);
  relax(temp_motors_c_, driving ? 25.0 : -20.0 - 60.0 * (1.0 - lit), 600.0);
  relax(temp_camera_c_, -15.0 + 10.0 * lit - (hibernating ? 50.0 : 0.0), 1200.0);
  relax(temp_panel_c_, -120.0 + 175.0 * lit, 1200.0);
  const bool out_of_limits = temp_electronics_c_ < -40.0 || temp_electronics_c_ > 60.0 ||
                             temp_battery_c_ < -20.0 || temp_battery_c_ > 45.0;
  if (out_of_limits && !thermal_alarm_) {
    Raise(rover::v1::EVENT_SEVERITY_WARNING, rover::v1::EVENT_KIND_THERMAL_LIMIT,
          fmt::format("temperature limit: electronics {:.0f} C, battery {:.0f} C",
                      temp_electronics_c_, temp_battery_c_),
          temp_electronics_c_);
  }
  thermal_alarm_ = out_of_limits;
}

void RoverModel::StepRadiation(double dt_s) {
  const double extra = SpeExtraFactor();
  const double rate = kGcrDoseRateUgyPerH * (GcrFactor() + extra);
  accumulated_dose_ugy_ += rate * dt_s / 3600.0;
  if (!spe_active_ && extra >= 1.0) {
    spe_active_ = true;
    Raise(rover::v1::EVENT_SEVERITY_WARNING, rover::v1::EVENT_KIND_SPE_ONSET,
          fmt::format("solar particle event: dose rate {:.0f} uGy/h, twice the background", rate),
          rate);
  } else if (spe_active_ && extra < 0.1) {
    spe_active_ = false;
    Raise(rover::v1::EVENT_SEVERITY_INFO, rover::v1::EVENT_KIND_SPE_END,
          fmt::format("solar particle event over: dose rate {:.1f} uGy/h", rate), rate);
  }
}

void RoverModel::StepLink() {
  const bool up = !options_.scenario.link.InOutage(MissionSeconds());
  if (up == link_up_) return;
  link_up_ = up;
  if (up) {
    Raise(rover::v1::EVENT_SEVERITY_INFO, rover::v1::EVENT_KIND_ACQUISITION_OF_SIGNAL,
          fmt::format("relay acquired: playing back {} stored packets", store_packets_),
          static_cast<double>(store_packets_));
  } else {
    Raise(rover::v1::EVENT_SEVERITY_WARNING, rover::v1::EVENT_KIND_LOSS_OF_SIGNAL,
          "relay out of view: storing telemetry on board");
  }
}

void RoverModel::FillHousekeeping(TimestampNs t, rover::v1::Housekeeping& out) {
  AdvanceTo(t);
  out.set_mode(mode_);
  out.set_battery_soc_percent(soc_percent_);
  // Li-ion pack of 8 cells: 3.3 V empty .. 4.1 V full per cell, sag under load.
  const double cell_v = 3.3 + 0.8 * soc_percent_ / 100.0;
  const double current_a = (solar_w_ - load_w_) / (8.0 * cell_v);
  out.set_bus_voltage_v(8.0 * cell_v + 0.05 * current_a + random_.Normal(0.0, 0.02));
  out.set_battery_current_a(current_a);
  out.set_solar_power_w(solar_w_);
  out.set_load_power_w(load_w_);
  out.set_temp_electronics_c(temp_electronics_c_ + random_.Normal(0.0, 0.1));
  out.set_temp_battery_c(temp_battery_c_ + random_.Normal(0.0, 0.1));
  out.set_temp_motors_c(temp_motors_c_ + random_.Normal(0.0, 0.2));
  out.set_temp_camera_c(temp_camera_c_ + random_.Normal(0.0, 0.1));
  out.set_temp_solar_panel_c(temp_panel_c_ + random_.Normal(0.0, 0.3));
  out.set_heater_power_w(heater_w_);
  out.set_cpu_load_percent(std::clamp(
      random_.Normal(mode_ == rover::v1::ROVER_MODE_DRIVE ? 45.0 : 20.0, 5.0), 0.0, 100.0));
  out.set_uptime_s(static_cast<uint64_t>(MissionSeconds()));
  out.set_onboard_store_packets(
      static_cast<uint32_t>(std::min<uint64_t>(store_packets_, UINT32_MAX)));
  out.set_commands_executed(commands_executed_);
}

void RoverModel::FillNavigationPose(TimestampNs t, rover::v1::NavigationPose& out) {
  AdvanceTo(t);
  const bool driving = mode_ == rover::v1::ROVER_MODE_DRIVE;
  // What the rover believes: odometry since the last visual fix, on the site's elevation map.
  const SiteSpec& site = options_.scenario.site;
  out.set_x_m(est_x_m_);
  out.set_y_m(est_y_m_);
  out.set_z_m(terrain_.Elevation(est_x_m_, est_y_m_));
  out.set_latitude_deg(site.latitude_deg + est_y_m_ / kMoonRadiusM * kDegPerRad);
  out.set_longitude_deg(site.longitude_deg +
                        est_x_m_ / (kMoonRadiusM * std::cos(site.latitude_deg / kDegPerRad)) *
                            kDegPerRad);
  out.set_heading_deg(heading_deg_);
  // Attitude from the local terrain gradient along and across the heading.
  const double h = heading_deg_ / kDegPerRad;
  const auto z = [this](double x, double y) { return terrain_.Elevation(x, y); };
  const double ahead = z(x_m_ + 0.5 * std::sin(h), y_m_ + 0.5 * std::cos(h)) -
                       z(x_m_ - 0.5 * std::sin(h), y_m_ - 0.5 * std::cos(h));
  const double side = z(x_m_ + 0.5 * std::cos(h), y_m_ - 0.5 * std::sin(h)) -
                      z(x_m_ - 0.5 * std::cos(h), y_m_ + 0.5 * std::sin(h));
  out.set_pitch_deg(std::atan2(ahead, 1.0) * kDegPerRad);
  out.set_roll_deg(std::atan2(side, 1.0) * kDegPerRad);
  out.set_speed_m_per_h(ground_speed_m_per_h_);
  out.set_odometer_m(odometer_m_);
  out.set_slip_percent(slip_percent_);
  out.set_position_uncertainty_m(uncertainty_m_);
  for (int wheel = 0; wheel < 6; ++wheel) {
    out.add_wheel_current_a(driving ? std::max(0.0, random_.Normal(0.45, 0.05)) : 0.0);
  }
  out.set_visual_fix(visual_fix_pending_);
  visual_fix_pending_ = false;
}

void RoverModel::FillTerrainTile(TimestampNs t, rover::v1::TerrainTile& out) {
  AdvanceTo(t);
  // The tile ahead of the rover, as the navigation cameras would map it.
  const double h = heading_deg_ / kDegPerRad;
  const double tile_m = kTileCells * kTileCellM;
  const double ax = x_m_ + 2.0 * std::sin(h), ay = y_m_ + 2.0 * std::cos(h);
  const int tx = static_cast<int>(std::floor(ax / tile_m));
  const int ty = static_cast<int>(std::floor(ay / tile_m));
  out.set_tile_x(tx);
  out.set_tile_y(ty);
  out.set_origin_x_m(tx * tile_m);
  out.set_origin_y_m(ty * tile_m);
  out.set_cell_size_m(kTileCellM);
  out.set_width_cells(kTileCells);
  out.set_height_cells(kTileCells);
  std::string mask(kTileCells * kTileCells, '\0');
  double max_slope = 0.0, max_rock = 0.0;
  for (uint32_t row = 0; row < kTileCells; ++row) {
    for (uint32_t col = 0; col < kTileCells; ++col) {
      const double x = tx * tile_m + (col + 0.5) * kTileCellM;
      const double y = ty * tile_m + (row + 0.5) * kTileCellM;
      const double rock = terrain_.RockHeight(x, y);
      out.add_elevation_m(static_cast<float>(terrain_.Elevation(x, y) + rock));
      const double slope_deg = terrain_.SlopeDeg(x, y);
      max_slope = std::max(max_slope, slope_deg);
      max_rock = std::max(max_rock, rock);
      mask[row * kTileCells + col] = slope_deg > rover_.max_slope_deg ? 1
                                     : rock > rover_.max_obstacle_m   ? 2
                                                                      : 0;
    }
  }
  out.set_hazard_mask(std::move(mask));
  out.set_max_slope_deg(max_slope);
  out.set_max_rock_height_m(max_rock);
  ++tile_index_;
}

void RoverModel::FillCameraFrame(TimestampNs t, rover::v1::CameraFrame& out) {
  AdvanceTo(t);
  const bool left = frame_id_ % 2 == 0;
  const double pan = std::fmod(heading_deg_ + random_.Normal(0.0, 2.0) + 360.0, 360.0);
  FillFrame(left ? rover::v1::CAMERA_NAVCAM_LEFT : rover::v1::CAMERA_NAVCAM_RIGHT, pan, -20.0, out);
}

// Periodic navigation frames feed the rover's own visual localisation: they are neither
// rendered nor kept (image_size_bytes 0), and their exposure follows the sun.
void RoverModel::FillFrame(rover::v1::Camera camera, double pan_deg, double tilt_deg,
                           rover::v1::CameraFrame& out) {
  out.set_camera(camera);
  out.set_frame_id(frame_id_++);
  const double sun = sun_.elevation_deg;
  out.set_exposure_ms(
      std::clamp(8.0 / std::max(0.05, std::sin((sun + 2.0) / kDegPerRad)), 1.0, 500.0));
  out.set_gain_db(sunlit_ > 0.5 ? 0.0 : 6.0);
  out.set_width_px(1024);
  out.set_height_px(1024);
  out.set_pan_deg(pan_deg);
  out.set_tilt_deg(tilt_deg);
  out.set_sun_elevation_deg(sun);
  out.set_image_size_bytes(0);
  // The draw that once sized a placeholder image stays, so every seed flies the mission it
  // always did.
  static_cast<void>(random_.Normal(420'000.0, 30'000.0));
  out.set_sun_azimuth_deg(sun_.azimuth_deg);
  out.set_rover_x_m(x_m_);
  out.set_rover_y_m(y_m_);
  out.set_rover_heading_deg(heading_deg_);
  out.set_camera_height_m(SpecOf(options_.scenario.cameras, camera).height_m);
  out.set_field_of_view_deg(SpecOf(options_.scenario.cameras, camera).fov_deg);
  out.set_mean_brightness_dn(
      std::clamp(random_.Normal(300.0 + 1500.0 * sunlit_, 80.0), 0.0, 4095.0));
}

bool ModeEmits(rover::v1::RoverMode mode, protocol::StreamId stream) {
  using protocol::StreamId;
  const bool working = mode == rover::v1::ROVER_MODE_DRIVE ||
                       mode == rover::v1::ROVER_MODE_SCIENCE ||
                       mode == rover::v1::ROVER_MODE_STANDBY;
  switch (stream) {
    case StreamId::kHousekeeping:
    case StreamId::kNavigationPose:
    case StreamId::kRadiation:
      return working || mode == rover::v1::ROVER_MODE_SAFE;
    case StreamId::kTerrainTile:
    case StreamId::kSoilMeasurement:
      return working;
    case StreamId::kCameraFrame:
      return mode == rover::v1::ROVER_MODE_DRIVE;
    case StreamId::kFileDelivery:  // not periodic: the file downlink sends while working
      return working;
    case StreamId::kEvent:
    case StreamId::kCommandVerification:
      return true;
  }
  return false;
}

bool RoverModel::FillSoilMeasurement(TimestampNs t, rover::v1::SoilMeasurement& out) {
  AdvanceTo(t);
  // Each instrument's integration, and the modes it can integrate in (a commanded measurement
  // is an activity of its own and produces its own report).
  struct Instrument {
    rover::v1::SoilInstrument id;
    double integration_s;
    bool science_stop_only;  // needs the arm placed and the rover still
  };
  static constexpr std::array<Instrument, 3> kInstruments = {{
      {rover::v1::SOIL_INSTRUMENT_NEUTRON, 60.0, false},
      {rover::v1::SOIL_INSTRUMENT_VNIS, 2.0, true},
      {rover::v1::SOIL_INSTRUMENT_APXS, 180.0, true},
  }};
  const bool working = ModeEmits(mode_, protocol::StreamId::kSoilMeasurement) && !activity_;
  const Instrument* report = nullptr;
  double most_overdue_s = -1.0;
  for (const Instrument& i : kInstruments) {
    TimestampNs& since = integrating_since_ns_[static_cast<size_t>(i.id)];
    const bool can =
        working && instrument_modes_[static_cast<size_t>(i.id)] == rover::v1::INSTRUMENT_MODE_ON &&
        (!i.science_stop_only || mode_ == rover::v1::ROVER_MODE_SCIENCE);
    if (!can) {
      since = 0;  // interrupted: that integration is lost
      continue;
    }
    if (since == 0) {
      since = t;
      continue;
    }
    // One report per call: the instrument that finished longest ago goes first (a fast one
    // must not starve a slow one), the others wait, still holding their finished integration.
    const double overdue_s = static_cast<double>(t - since) / kNsPerS - i.integration_s;
    if (overdue_s >= 0 && overdue_s > most_overdue_s) {
      most_overdue_s = overdue_s;
      report = &i;
    }
  }
  if (report == nullptr) return false;
  integrating_since_ns_[static_cast<size_t>(report->id)] = t;
  FillSoil(report->id, report->integration_s, out);
  return true;
}

void RoverModel::FillSoil(rover::v1::SoilInstrument instrument, double integration_s,
                          rover::v1::SoilMeasurement& out) {
  const bool shadow = sunlit_ <= 0.0;
  out.set_measurement_id(measurement_id_);
  out.set_x_m(x_m_);
  out.set_y_m(y_m_);
  out.set_in_shadow(shadow);
  ++measurement_id_;
  out.set_instrument(instrument);
  out.set_integration_s(integration_s);
  switch (instrument) {
    case rover::v1::SOIL_INSTRUMENT_NEUTRON: {
      auto* n = out.mutable_neutron();
      // Sunlit high latitudes: ~500-750 ppm OH; shadowed soil: 1.5 +- 0.8 wt% WEH.
      const double weh = shadow ? std::max(0.0, random_.Normal(1.5, 0.8))
                                : std::max(0.0, random_.Normal(0.06, 0.01));
      n->set_hydrogen_weh_wt_percent(weh);
      // Hydrogen moderates epithermal neutrons: fewer epithermal counts where there is more.
      const double t = integration_s;
      n->set_epithermal_counts_per_s(random_.Poisson(t * 18.0 / (1.0 + 0.5 * weh)) / t);
      n->set_thermal_counts_per_s(random_.Poisson(t * 25.0 * (1.0 + 0.1 * weh)) / t);
      n->set_fast_counts_per_s(random_.Poisson(t * 9.0) / t);
      break;
    }
    case rover::v1::SOIL_INSTRUMENT_VNIS: {
      auto* v = out.mutable_vnis();
      v->set_start_wavelength_um(kVnisStartUm);
      v->set_step_um(kVnisStepUm);
      const double band1 = random_.Uniform(0.04, 0.08), band2 = random_.Uniform(0.03, 0.06);
      const double ice = shadow ? random_.Uniform(0.05, 0.15) : 0.0;
      const int samples =
          static_cast<int>(std::lround((kVnisEndUm - kVnisStartUm) / kVnisStepUm)) + 1;
      for (int i = 0; i < samples; ++i) {
        const double um = kVnisStartUm + i * kVnisStepUm;
        double r = 0.12 + 0.06 * (um - kVnisStartUm);  // red-sloped continuum of mature soil
        r *= 1.0 - band1 * Gaussian(um, 0.95, 0.08) - band2 * Gaussian(um, 2.0, 0.2);
        r *= 1.0 -
             ice * (Gaussian(um, 1.29, 0.03) + Gaussian(um, 1.52, 0.04) + Gaussian(um, 2.02, 0.06));
        v->add_reflectance(static_cast<float>(r + random_.Normal(0.0, 0.0015)));
      }
      v->set_band_depth_1um(band1);
      v->set_band_depth_2um(band2);
      v->set_ice_band_depth_1_5um(ice);
      break;
    }
    default: {
      std::array<double, 10> wt{};
      double total = 0.0;
      for (size_t i = 0; i < wt.size(); ++i) {
        const double jitter = std::min(1.0, kHighlandOxides[i] * 0.1);
        wt[i] = std::max(0.01, random_.Normal(kHighlandOxides[i], jitter));
        total += wt[i];
      }
      const double scale = random_.Normal(99.5, 0.4) / total;  // renormalise near 100%
      auto* a = out.mutable_apxs();
      a->set_sio2_wt_percent(wt[0] * scale);
      a->set_al2o3_wt_percent(wt[1] * scale);
      a->set_cao_wt_percent(wt[2] * scale);
      a->set_feo_wt_percent(wt[3] * scale);
      a->set_mgo_wt_percent(wt[4] * scale);
      a->set_tio2_wt_percent(wt[5] * scale);
      a->set_na2o_wt_percent(wt[6] * scale);
      a->set_k2o_wt_percent(wt[7] * scale);
      a->set_cr2o3_wt_percent(wt[8] * scale);
      a->set_mno_wt_percent(wt[9] * scale);
      a->set_total_wt_percent(total * scale);
      break;
    }
  }
}

void RoverModel::FillRadiation(TimestampNs t, rover::v1::Radiation& out) {
  AdvanceTo(t);
  const double integration_s = std::max(1.0, static_cast<double>(t - last_radiation_ns_) / kNsPerS);
  last_radiation_ns_ = t;
  // Counting noise shrinks with integration time; ~5% at 1 s.
  const double noise = 0.05 / std::sqrt(integration_s);
  // GCR (depressed during a Forbush decrease) plus solar energetic particles during an SPE.
  const double gcr = GcrFactor(), spe = SpeExtraFactor();
  const double mean_dose = kGcrDoseRateUgyPerH * (gcr + spe);
  const double mean_neutral = kNeutralDoseRateUgyPerH * (gcr + 0.1 * spe);
  const double dose = std::max(0.01 * mean_dose, random_.Normal(mean_dose, mean_dose * noise));
  const double neutral =
      std::max(0.01 * mean_neutral, random_.Normal(mean_neutral, mean_neutral * 2 * noise));
  out.set_dose_rate_ugy_per_h(dose);
  out.set_neutral_dose_rate_ugy_per_h(neutral);
  // SEP protons are low-LET: their quality factor is near 1, the GCR mix's about 4.3.
  out.set_dose_equivalent_usv_per_h(dose * (kMeanQualityFactor * gcr + 1.2 * spe) / (gcr + spe));
  out.set_accumulated_dose_ugy(accumulated_dose_ugy_);
  out.set_integration_s(static_cast<uint32_t>(std::lround(integration_s)));
  struct ChannelSpec {
    const char* name;
    double low_mev, high_mev, flux;
    double spe_gain;  // flux added per unit of SPE dose factor
  };
  static constexpr std::array<ChannelSpec, 3> kChannels = {{
      {"gcr_protons", 9.0, 368.0, 2.1, 2.5},
      {"albedo_protons", 64.7, 76.7, 0.045, 0.02},
      {"ions", 10.0, 100.0, 0.22, 0.01},
  }};
  for (const ChannelSpec& spec : kChannels) {
    auto* channel = out.add_channels();
    channel->set_name(spec.name);
    channel->set_energy_min_mev(spec.low_mev);
    channel->set_energy_max_mev(spec.high_mev);
    const double flux = spec.flux * gcr + spec.spe_gain * spe;
    channel->set_flux_per_cm2_s_sr(std::max(0.0, random_.Normal(flux, flux * noise)));
  }
  out.set_let_min_kev_per_um(kLetMinKevPerUm);
  out.set_let_max_kev_per_um(kLetMaxKevPerUm);
  // Count rates per bin for the GCR and per unit of SPE factor: the spectrum's shape is fixed.
  static const auto kLetRates = [] {
    std::array<std::pair<double, double>, kLetBins> rates{};
    const double log_step = std::log10(kLetMaxKevPerUm / kLetMinKevPerUm) / kLetBins;
    for (int bin = 0; bin < kLetBins; ++bin) {
      const double let = kLetMinKevPerUm * std::pow(10.0, (bin + 0.5) * log_step);
      // Flat-ish below 10 keV/um, power law with slope -3 above (after LRO CRaTER).
      const double gcr_rate = let < 10.0 ? 40.0 * std::pow(let, -0.3)
                                         : 40.0 * std::pow(10.0, -0.3) * std::pow(let / 10.0, -3.0);
      // SEP protons add counts at low LET only (steep spectrum above 1 keV/um).
      const double spe_rate = 30.0 * (let < 1.0 ? 1.0 : std::pow(let, -4.0));
      rates[static_cast<size_t>(bin)] = {gcr_rate, spe_rate};
    }
    return rates;
  }();
  for (const auto& [gcr_rate, spe_rate] : kLetRates) {
    out.add_let_counts(random_.Poisson((gcr_rate * gcr + spe_rate * spe) * integration_s));
  }
  out.set_solar_particle_event(spe_active_);
}

}  // namespace lgs::emulator
