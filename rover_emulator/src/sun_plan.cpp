#include "rover_emulator/sun_plan.h"

#include <fmt/format.h>

#include <cmath>

#include "rover_emulator/terrain.h"

namespace lgs::emulator {

SunPlan PlanSunlight(const Scenario& scenario, uint64_t seed, const SunPlanOptions& options) {
  const Terrain terrain(scenario.site.terrain, seed);
  SunPlan plan;
  // The rover's own test (rover_model.cpp): in shadow when no part of the disc is lit.
  const auto dark = [&](double t) {
    return terrain.SunlitFraction(options.x_m, options.y_m, SunAt(scenario.site, t)) <= 0.0;
  };
  const auto steps = static_cast<int64_t>(std::ceil(options.until_s / options.step_s));
  double spell_start = -1.0;
  for (int64_t i = 0; i <= steps; ++i) {
    const double t = std::min(options.until_s, static_cast<double>(i) * options.step_s);
    const bool in_shadow = dark(t);
    if (in_shadow && spell_start < 0) spell_start = t;
    if (!in_shadow && spell_start >= 0) {
      plan.shadows.push_back({spell_start, t - spell_start});
      spell_start = -1.0;
    }
  }
  if (spell_start >= 0) plan.shadows.push_back({spell_start, options.until_s - spell_start});
  return plan;
}

std::string SunPlanYaml(const Scenario& scenario, uint64_t seed, const SunPlanOptions& options,
                        const SunPlan& plan) {
  // The site's name as a YAML double-quoted scalar.
  std::string quoted;
  for (const char c : scenario.site.name) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  std::string out = fmt::format(
      "# Predicted sunlight at {} (scenario '{}', seed {}), from the emulator's terrain and sun:\n"
      "# the spells when the whole sun is behind the horizon, in seconds of mission time.\n"
      "# Written by rover_emulator --write-sun-plan; read by groundstation --sun-schedule.\n"
      "sun:\n"
      "  site: \"{}\"\n"
      "  at_m: [{}, {}]\n"
      "  step: {}\n"
      "  until: {}\n",
      scenario.site.name, scenario.name, seed, quoted, options.x_m, options.y_m, options.step_s,
      options.until_s);
  if (plan.shadows.empty()) return out + "  shadows: []\n";
  out += "  shadows:\n";
  for (const auto& s : plan.shadows) {
    out += fmt::format("    - {{start: {}, duration: {}}}\n", s.start_s, s.duration_s);
  }
  return out;
}

}  // namespace lgs::emulator
