// The rover model's the camera records of navigation frames and the soil instruments (APXS, VNIS,
// neutron spectrometer). Part of RoverModel, in its own file by subsystem.
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

}  // namespace lgs::emulator
