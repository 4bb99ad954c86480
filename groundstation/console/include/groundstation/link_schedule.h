// LinkSchedule: when the relay is expected out of view (a pass plan), so the console can say
// when the next loss and acquisition of signal come. Outages are in mission time: seconds of
// on-board time since the mission epoch. Read from a YAML file that is either a schedule of its
// own or a rover-emulator scenario (its `link:` section), with the same two keys:
//
//   outages:                      # one-off windows
//     - {start: 2h, duration: 45m}
//   periodic_outage: {first: 10m, every: 4h, duration: 30m}
//
// A plain value; thread-safe to read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/outage_plan.h"
#include "protocol/status.h"

namespace lgs::station {

struct LinkSchedule {
  std::vector<protocol::OutageWindow> outages;
  protocol::PeriodicOutage periodic;  // every_s 0: none
  std::string source;                 // the file it came from

  bool InOutage(double mission_s) const;
  // The next loss of signal at or after `mission_s` (none when nothing is scheduled), and the end
  // of the outage holding or following `mission_s`.
  std::optional<double> NextLoss(double mission_s) const;
  std::optional<double> NextAcquisition(double mission_s) const;
};

// Reads the schedule; a clear error names the file, the key and what was wrong.
[[nodiscard]] Result<LinkSchedule> LoadLinkSchedule(const std::string& path);
[[nodiscard]] Result<LinkSchedule> ParseLinkSchedule(const std::string& yaml_text,
                                                     const std::string& source);

// SunSchedule: an illumination plan — when the rover's site is predicted to have the whole sun
// behind its horizon, over a span of mission time — so the console can say when the next loss
// of sun comes and when the sun returns. Real missions compute it from an orbital elevation
// model and the sun's ephemeris; `rover_emulator --write-sun-plan` writes the emulator's:
//
//   sun:
//     until: 30d                  # what the plan covers, from mission time 0 (required)
//     shadows:                    # may be empty: sunlit throughout
//       - {start: 5h12m, duration: 40m}
//     site: "…"; at_m: [x, y]; step: 10    # what it was computed for (optional)
//
// A plain value; thread-safe to read.
struct SunSchedule {
  std::vector<protocol::OutageWindow> shadows;
  double until_s = 0;  // beyond it the plan says nothing
  std::string source;

  bool InShadow(double mission_s) const;
  // The next loss of sun after `mission_s` (none: not before the plan's end), and the return of
  // the sun that ends the spell holding or following `mission_s` (none: not within the plan).
  std::optional<double> NextLoss(double mission_s) const;
  std::optional<double> NextReturn(double mission_s) const;
};

[[nodiscard]] Result<SunSchedule> LoadSunSchedule(const std::string& path);
[[nodiscard]] Result<SunSchedule> ParseSunSchedule(const std::string& yaml_text,
                                                   const std::string& source);

}  // namespace lgs::station
