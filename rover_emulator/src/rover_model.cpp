#include "rover_emulator/rover_model.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

namespace lgs::emulator {
namespace {

constexpr double kNsPerS = 1e9;
constexpr double kDegPerRad = 180.0 / M_PI;
// Landing region: the Leibnitz-Beta plateau named for Chang'e-8 (site still uncertain).
constexpr double kSiteLatitudeDeg = -85.45;
constexpr double kSiteLongitudeDeg = 31.4;
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
    : options_(options), random_(options.seed), now_ns_(options.mission_start_ns) {
  // A traverse of waypoints around the landing site, different for every seed.
  double x = 0.0, y = 0.0;
  for (int i = 0; i < 8; ++i) {
    const double bearing = random_.Uniform(0.0, 2.0 * M_PI);
    const double leg_m = random_.Uniform(8.0, 25.0);
    x += leg_m * std::sin(bearing);
    y += leg_m * std::cos(bearing);
    waypoints_.emplace_back(x, y);
  }
  last_radiation_ns_ = now_ns_;
}

double RoverModel::MissionSeconds() const {
  return static_cast<double>(now_ns_ - options_.mission_start_ns) / kNsPerS;
}

double RoverModel::SunElevationDeg() const {
  // Near the pole the sun circles the horizon once per lunar day (29.53 d), within +-1.5 deg.
  constexpr double kSynodicDayS = 29.530589 * 86400.0;
  const double azimuth_phase = 2.0 * M_PI * MissionSeconds() / kSynodicDayS;
  return 0.6 + 0.9 * std::sin(azimuth_phase + options_.seed % 7);
}

double RoverModel::TerrainElevation(double x_m, double y_m) const {
  // Gentle undulation plus a few seeded craters; deterministic in (seed, x, y).
  double z =
      0.4 * std::sin(x_m / 17.0 + static_cast<double>(options_.seed % 13)) * std::cos(y_m / 23.0) +
      0.15 * std::sin(x_m / 3.1) * std::sin(y_m / 4.3);
  for (int i = 0; i < 4; ++i) {
    const double cx = 12.0 * std::cos(i * 1.7 + static_cast<double>(options_.seed % 5));
    const double cy = 12.0 * std::sin(i * 2.3 + static_cast<double>(options_.seed % 3));
    const double radius = 2.0 + i;
    const double r = std::hypot(x_m - cx, y_m - cy) / radius;
    if (r < 1.0)
      z -= 0.3 * radius * (1.0 - r * r);  // bowl
    else if (r < 1.4)
      z += 0.1 * radius * (1.4 - r);  // rim
  }
  return z;
}

void RoverModel::Raise(rover::v1::EventSeverity severity, rover::v1::EventKind kind,
                       std::string message, double value) {
  rover::v1::Event& event = events_.emplace_back();
  event.set_severity(severity);
  event.set_kind(kind);
  event.set_message(std::move(message));
  event.set_value(value);
}

void RoverModel::SetMode(rover::v1::RoverMode mode, const char* why) {
  if (mode == mode_) return;
  mode_ = mode;
  Raise(rover::v1::EVENT_SEVERITY_INFO, rover::v1::EVENT_KIND_MODE_CHANGE,
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
    Step(0.0);  // settle power and thermal readings before the first report
  }
  while (now_ns_ < mission_time_ns) {
    const double remaining_s = static_cast<double>(mission_time_ns - now_ns_) / kNsPerS;
    const double dt_s = std::min(remaining_s, kMaxStepS);
    Step(dt_s);
    now_ns_ = std::min(mission_time_ns, now_ns_ + static_cast<TimestampNs>(dt_s * kNsPerS));
  }
}

void RoverModel::Step(double dt_s) {
  // Mobility: drive toward the current waypoint, stop for science every few metres.
  if (mode_ == rover::v1::ROVER_MODE_DRIVE) {
    const auto [wx, wy] = waypoints_[waypoint_];
    const double dx = wx - x_m_, dy = wy - y_m_;
    const double distance = std::hypot(dx, dy);
    heading_deg_ = std::fmod(std::atan2(dx, dy) * kDegPerRad + 360.0, 360.0);
    slip_percent_ = std::clamp(random_.Normal(4.0, 1.5), 0.0, 20.0);
    const double step_m = std::min(distance, options_.drive_speed_m_per_h / 3600.0 * dt_s);
    x_m_ += step_m * std::sin(heading_deg_ / kDegPerRad);
    y_m_ += step_m * std::cos(heading_deg_ / kDegPerRad);
    const double wheel_m = step_m / (1.0 - slip_percent_ / 100.0);
    odometer_m_ += wheel_m;
    since_science_m_ += step_m;
    since_fix_m_ += step_m;
    uncertainty_m_ += 0.02 * step_m;  // odometry drift grows with distance
    if (since_fix_m_ > 2.0) {
      since_fix_m_ = 0.0;
      uncertainty_m_ = 0.05;
      visual_fix_pending_ = true;
    }
    if (distance - step_m < 0.01) {
      Raise(rover::v1::EVENT_SEVERITY_INFO, rover::v1::EVENT_KIND_WAYPOINT_REACHED,
            "waypoint " + std::to_string(waypoint_) + " reached", static_cast<double>(waypoint_));
      waypoint_ = (waypoint_ + 1) % waypoints_.size();
    }
    if (since_science_m_ >= options_.science_stop_every_m) {
      since_science_m_ = 0.0;
      science_remaining_s_ = options_.science_stop_duration_s;
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
  }

  // Power: a near-vertical array sees the low sun; loads depend on the mode.
  const double sun_deg = SunElevationDeg();
  const double lit = sun_deg > -0.5 ? 1.0 : 0.0;
  solar_w_ = lit * options_.solar_array_peak_w *
             (0.85 + 0.1 * std::cos(heading_deg_ / kDegPerRad)) *
             std::clamp(random_.Normal(1.0, 0.01), 0.9, 1.1);
  const double mode_load_w = mode_ == rover::v1::ROVER_MODE_DRIVE     ? 38.0
                             : mode_ == rover::v1::ROVER_MODE_SCIENCE ? 27.0
                                                                      : 15.0;
  heater_w_ = temp_battery_c_ < 0.0 ? 6.0 : 0.0;
  load_w_ = mode_load_w + heater_w_ + random_.Normal(0.0, 0.3);
  soc_percent_ += (solar_w_ - load_w_) * dt_s / 3600.0 / options_.battery_capacity_wh * 100.0;
  soc_percent_ = std::clamp(soc_percent_, 0.0, 100.0);
  if (soc_percent_ < 30.0 && mode_ == rover::v1::ROVER_MODE_SCIENCE) {
    Raise(rover::v1::EVENT_SEVERITY_WARNING, rover::v1::EVENT_KIND_LOW_BATTERY,
          "battery below 30%: shedding science", soc_percent_);
    SetMode(rover::v1::ROVER_MODE_STANDBY, "low battery");
  }

  // Thermal: first-order relaxation toward mode- and sun-dependent equilibria.
  const auto relax = [dt_s](double& t, double target, double tau_s) {
    t += (target - t) * std::min(1.0, dt_s / tau_s);
  };
  const bool driving = mode_ == rover::v1::ROVER_MODE_DRIVE;
  relax(temp_electronics_c_, 20.0 + 0.2 * load_w_, 900.0);
  relax(temp_battery_c_, 10.0 + 0.1 * (solar_w_ - 20.0), 1800.0);
  relax(temp_motors_c_, driving ? 25.0 : -20.0, 600.0);
  relax(temp_camera_c_, -15.0 + 10.0 * lit, 1200.0);
  relax(temp_panel_c_, lit ? 55.0 : -120.0, 1200.0);

  // Radiation: accumulate the GCR dose.
  accumulated_dose_ugy_ += kGcrDoseRateUgyPerH * dt_s / 3600.0;
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
  out.set_onboard_store_packets(0);
  out.set_commands_executed(commands_executed_);
}

void RoverModel::FillNavigationPose(TimestampNs t, rover::v1::NavigationPose& out) {
  AdvanceTo(t);
  const bool driving = mode_ == rover::v1::ROVER_MODE_DRIVE;
  out.set_x_m(x_m_);
  out.set_y_m(y_m_);
  out.set_z_m(TerrainElevation(x_m_, y_m_));
  out.set_latitude_deg(kSiteLatitudeDeg + y_m_ / kMoonRadiusM * kDegPerRad);
  out.set_longitude_deg(kSiteLongitudeDeg +
                        x_m_ / (kMoonRadiusM * std::cos(kSiteLatitudeDeg / kDegPerRad)) *
                            kDegPerRad);
  out.set_heading_deg(heading_deg_);
  // Attitude from the local terrain gradient along and across the heading.
  const double h = heading_deg_ / kDegPerRad;
  const double ahead = TerrainElevation(x_m_ + 0.5 * std::sin(h), y_m_ + 0.5 * std::cos(h)) -
                       TerrainElevation(x_m_ - 0.5 * std::sin(h), y_m_ - 0.5 * std::cos(h));
  const double side = TerrainElevation(x_m_ + 0.5 * std::cos(h), y_m_ - 0.5 * std::sin(h)) -
                      TerrainElevation(x_m_ - 0.5 * std::cos(h), y_m_ + 0.5 * std::sin(h));
  out.set_pitch_deg(std::atan2(ahead, 1.0) * kDegPerRad);
  out.set_roll_deg(std::atan2(side, 1.0) * kDegPerRad);
  out.set_speed_m_per_h(driving ? options_.drive_speed_m_per_h * (1.0 - slip_percent_ / 100.0)
                                : 0.0);
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
      double z = TerrainElevation(x, y);
      double rock = 0.0;
      if (random_.Chance(0.01)) rock = random_.Uniform(0.03, 0.25);
      z += rock;
      out.add_elevation_m(static_cast<float>(z));
      const double slope_deg =
          std::atan(std::hypot(TerrainElevation(x + kTileCellM, y) - TerrainElevation(x, y),
                               TerrainElevation(x, y + kTileCellM) - TerrainElevation(x, y)) /
                    kTileCellM) *
          kDegPerRad;
      max_slope = std::max(max_slope, slope_deg);
      max_rock = std::max(max_rock, rock);
      mask[row * kTileCells + col] = slope_deg > 20.0 ? 1 : rock > 0.15 ? 2 : 0;
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
  out.set_camera(left ? rover::v1::CAMERA_NAVCAM_LEFT : rover::v1::CAMERA_NAVCAM_RIGHT);
  out.set_frame_id(frame_id_++);
  const double sun = SunElevationDeg();
  out.set_exposure_ms(
      std::clamp(8.0 / std::max(0.05, std::sin((sun + 2.0) / kDegPerRad)), 1.0, 500.0));
  out.set_gain_db(sun > 0.0 ? 0.0 : 6.0);
  out.set_width_px(1024);
  out.set_height_px(1024);
  out.set_pan_deg(std::fmod(heading_deg_ + random_.Normal(0.0, 2.0) + 360.0, 360.0));
  out.set_tilt_deg(-20.0);
  out.set_sun_elevation_deg(sun);
  out.set_image_size_bytes(static_cast<uint64_t>(random_.Normal(420'000.0, 30'000.0)));
  out.set_mean_brightness_dn(
      std::clamp(random_.Normal(sun > 0.0 ? 1800.0 : 300.0, 80.0), 0.0, 4095.0));
}

void RoverModel::FillSoilMeasurement(TimestampNs t, rover::v1::SoilMeasurement& out) {
  AdvanceTo(t);
  const bool shadow = SunElevationDeg() < 0.0;
  out.set_measurement_id(measurement_id_);
  out.set_x_m(x_m_);
  out.set_y_m(y_m_);
  out.set_in_shadow(shadow);
  // The three instruments take turns; each reading is a product of its own integration.
  switch (measurement_id_++ % 3) {
    case 0: {
      out.set_instrument(rover::v1::SOIL_INSTRUMENT_NEUTRON);
      out.set_integration_s(60.0);
      auto* n = out.mutable_neutron();
      // Sunlit high latitudes: ~500-750 ppm OH; shadowed soil: 1.5 +- 0.8 wt% WEH.
      const double weh = shadow ? std::max(0.0, random_.Normal(1.5, 0.8))
                                : std::max(0.0, random_.Normal(0.06, 0.01));
      n->set_hydrogen_weh_wt_percent(weh);
      // Hydrogen moderates epithermal neutrons: fewer epithermal counts where there is more.
      n->set_epithermal_counts_per_s(random_.Poisson(60.0 * 18.0 / (1.0 + 0.5 * weh)) / 60.0);
      n->set_thermal_counts_per_s(random_.Poisson(60.0 * 25.0 * (1.0 + 0.1 * weh)) / 60.0);
      n->set_fast_counts_per_s(random_.Poisson(60.0 * 9.0) / 60.0);
      break;
    }
    case 1: {
      out.set_instrument(rover::v1::SOIL_INSTRUMENT_VNIS);
      out.set_integration_s(2.0);
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
      out.set_instrument(rover::v1::SOIL_INSTRUMENT_APXS);
      out.set_integration_s(1800.0);
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
  const double dose =
      std::max(0.0, random_.Normal(kGcrDoseRateUgyPerH, kGcrDoseRateUgyPerH * noise));
  const double neutral =
      std::max(0.0, random_.Normal(kNeutralDoseRateUgyPerH, kNeutralDoseRateUgyPerH * 2 * noise));
  out.set_dose_rate_ugy_per_h(dose);
  out.set_neutral_dose_rate_ugy_per_h(neutral);
  out.set_dose_equivalent_usv_per_h(dose * kMeanQualityFactor);
  out.set_accumulated_dose_ugy(accumulated_dose_ugy_);
  out.set_integration_s(static_cast<uint32_t>(std::lround(integration_s)));
  struct ChannelSpec {
    const char* name;
    double low_mev, high_mev, flux;
  };
  static constexpr std::array<ChannelSpec, 3> kChannels = {{
      {"gcr_protons", 9.0, 368.0, 2.1},
      {"albedo_protons", 64.7, 76.7, 0.045},
      {"ions", 10.0, 100.0, 0.22},
  }};
  for (const ChannelSpec& spec : kChannels) {
    auto* channel = out.add_channels();
    channel->set_name(spec.name);
    channel->set_energy_min_mev(spec.low_mev);
    channel->set_energy_max_mev(spec.high_mev);
    channel->set_flux_per_cm2_s_sr(std::max(0.0, random_.Normal(spec.flux, spec.flux * noise)));
  }
  out.set_let_min_kev_per_um(kLetMinKevPerUm);
  out.set_let_max_kev_per_um(kLetMaxKevPerUm);
  const double log_step = std::log10(kLetMaxKevPerUm / kLetMinKevPerUm) / kLetBins;
  for (int bin = 0; bin < kLetBins; ++bin) {
    const double let = kLetMinKevPerUm * std::pow(10.0, (bin + 0.5) * log_step);
    // Flat-ish below 10 keV/um, power law with slope -3 above (after LRO CRaTER).
    const double rate = let < 10.0 ? 40.0 * std::pow(let, -0.3)
                                   : 40.0 * std::pow(10.0, -0.3) * std::pow(let / 10.0, -3.0);
    out.add_let_counts(random_.Poisson(rate * integration_s));
  }
  out.set_solar_particle_event(false);
}

}  // namespace lgs::emulator
