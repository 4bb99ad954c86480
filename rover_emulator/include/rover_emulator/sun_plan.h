// SunPlan: the scenario's predicted sunlight at one point of the site over a span of mission
// time — the spells when the whole sun is behind the horizon (the terrain of the region and the
// massifs beyond it) — written as the station's illumination plan (`rover_emulator
// --write-sun-plan FILE`, read by `groundstation --sun-schedule FILE`). A real mission computes
// the same from an orbital elevation model and the sun's ephemeris; here the emulator's own
// terrain and sun are that model, so the plan is what the rover will see if it stays at the point.
// A rover that drives away sees its own near horizon, which the plan does not know.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/outage_plan.h"
#include "rover_emulator/scenario.h"

namespace lgs::emulator {

struct SunPlanOptions {
  double x_m = 0.0, y_m = 0.0;    // site frame (x east, y north); 0, 0 is the landing point
  double until_s = 30.0 * 86400;  // mission time the plan covers, from 0
  double step_s = 10.0;           // the rover looks at the sun as often
};

struct SunPlan {
  // Mission seconds when no part of the sun is above the horizon; a spell still dark at the
  // plan's end ends there.
  std::vector<protocol::OutageWindow> shadows;
};

SunPlan PlanSunlight(const Scenario& scenario, uint64_t seed, const SunPlanOptions& options);
// The plan as YAML: a `sun:` section with `until`, `at_m` and `shadows` (start and duration in
// seconds of mission time), with the scenario, seed and site named in comments.
std::string SunPlanYaml(const Scenario& scenario, uint64_t seed, const SunPlanOptions& options,
                        const SunPlan& plan);

}  // namespace lgs::emulator
