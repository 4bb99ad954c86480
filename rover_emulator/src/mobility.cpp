// The rover model's driving: moving toward waypoints and drive targets, hazards, odometry, and the
// navigation pose and terrain tiles it reports. Part of RoverModel, in its own file by subsystem.
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

void RoverModel::FillNavigationPose(TimestampNs t, rover::v1::NavigationPose& out) {
  AdvanceTo(t);
  const bool driving = mode_ == rover::v1::ROVER_MODE_DRIVE;
  // What the rover believes: odometry since the last visual fix, on the site's elevation map.
  const SiteSpec& site = options_.scenario.site;
  out.set_x_m(est_x_m_);
  out.set_y_m(est_y_m_);
  out.set_z_m(terrain_.Elevation(est_x_m_, est_y_m_));
  // The site frame is the azimuthal equidistant projection centred on the landing site (the
  // inverse below, on the IAU 2015 sphere): a few kilometres from the pole a plain offset in
  // latitude and longitude would be off by metres within a few hundred.
  const double phi0 = site.latitude_deg / kDegPerRad;
  const double rho = std::hypot(est_x_m_, est_y_m_), c = rho / kMoonRadiusM;
  double lat = phi0, dlon = 0.0;
  if (rho > 0.0) {
    lat = std::asin(std::cos(c) * std::sin(phi0) + est_y_m_ * std::sin(c) * std::cos(phi0) / rho);
    dlon = std::atan2(est_x_m_ * std::sin(c),
                      rho * std::cos(phi0) * std::cos(c) - est_y_m_ * std::sin(phi0) * std::sin(c));
  }
  out.set_latitude_deg(lat * kDegPerRad);
  out.set_longitude_deg(std::remainder(site.longitude_deg + dlon * kDegPerRad, 360.0));
  out.set_site_latitude_deg(site.latitude_deg);
  out.set_site_longitude_deg(site.longitude_deg);
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

}  // namespace lgs::emulator
