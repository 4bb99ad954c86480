// The rover model's commanded activities: starting them against the dictionary, their steps,
// progress and end, and what they produced. Part of RoverModel, in its own file by subsystem.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "protocol/command_dictionary.h"
#include "rover_emulator/rover_model.h"
#include "rover_model_constants.h"

namespace lgs::emulator {

using namespace model;  // NOLINT: the model's constants, shared by its files

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

}  // namespace lgs::emulator
