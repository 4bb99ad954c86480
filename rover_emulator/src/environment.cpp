// The rover model's power, thermal, radiation and the link as the rover sees them, and the
// housekeeping and radiation records. Part of RoverModel, in its own file by subsystem.
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
