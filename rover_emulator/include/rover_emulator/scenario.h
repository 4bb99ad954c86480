// Scenario: everything that makes one mission differ from another — the site and its terrain,
// the sun, the rover's starting state, the traverse, scheduled events and the link profile —
// read from a YAML file. Same scenario + same seed => same mission, byte for byte.
//
// Built-in scenarios (nominal, spe-storm, lossy-link, relay-outage, night-fall) are compiled into
// the program from rover_emulator/scenarios/*.yaml; LoadScenario() takes one of their names or a
// path. Every field is optional and defaults to the nominal mission; an unknown field, a wrong
// type or an out-of-range value is an error naming the file, line and field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/duration.h"
#include "protocol/outage_plan.h"
#include "protocol/status.h"

namespace lgs::emulator {

struct TerrainSpec {
  double size_m = 256.0;              // square region centred on the landing point
  double cell_m = 0.5;                // resolution of the elevation grid
  double relief_m = 1.5;              // amplitude of the rolling terrain
  double regional_slope_deg = 2.0;    // tilt of the whole plateau
  double craters_per_hectare = 25.0;  // small fresh craters, size-frequency power law
  double rocks_per_m2 = 0.03;         // rocks of 3-30 cm; the tallest are hazards
  double far_horizon_max_deg = 2.2;   // highest massif on the distant horizon
};

struct SiteSpec {
  std::string name = "Leibnitz-Beta plateau";
  double latitude_deg = -89.45;  // Chang'e-8 site still uncertain; near-polar ridge
  double longitude_deg = 31.4;
  // Sub-solar latitude at mission start and its drift (the draconic year moves it ±1.54°).
  double sun_declination_deg = -0.9;
  double sun_declination_rate_deg_per_day = 0.0;
  double sun_azimuth_deg = 90.0;  // sun azimuth at mission start (0 = grid north, clockwise)
  TerrainSpec terrain;
};

struct RoverSpec {
  double drive_speed_m_per_h = 200.0;  // Yutu class
  double turn_rate_deg_per_s = 5.0;    // skid steering in place
  double battery_capacity_wh = 200.0;  // model choice
  double initial_soc_percent = 85.0;
  double solar_array_peak_w = 50.0;  // Pragyan class
  double shed_science_soc_percent = 30.0;
  double safe_mode_soc_percent = 15.0;
  double hibernate_soc_percent = 10.0;
  double wake_soc_percent = 20.0;
  double max_slope_deg = 20.0;
  double max_obstacle_m = 0.15;
  // Until commanding exists the emulator stands in for the ground's re-plan after a hazard stop;
  // 0 = wait for the ground forever.
  double hazard_replan_after_s = 600.0;
};

struct TraverseSpec {
  std::vector<std::pair<double, double>> waypoints;  // site frame (x east, y north), metres
  int random_waypoints = 8;                          // used when no waypoints are given
  double random_leg_min_m = 8.0, random_leg_max_m = 25.0;
  double science_stop_every_m = 5.0;
  double science_stop_duration_s = 300.0;
};

struct SolarParticleEventSpec {
  double onset_s = 0.0;               // mission seconds from start
  double rise_s = 1800.0;             // onset to peak
  double peak_factor = 30.0;          // total dose rate at the peak / GCR baseline (2-100)
  double decay_s = 6.0 * 3600.0;      // e-folding time after the peak
  double forbush_dip_percent = 12.0;  // GCR depression that follows (5-20%)
  double forbush_recovery_s = 2.0 * 86400.0;
};

using OutageSpec = protocol::OutageWindow;

struct LinkProfile {
  double light_time_s = 1.28;          // one way
  double bandwidth_bps = 285'000.0;    // downlink cap; 0 = unlimited
  double loss_probability = 1e-5;      // per packet, while locked
  double bit_error_rate = 0.0;         // per bit; any error breaks the CRC
  double duplicate_probability = 0.0;  // per packet
  double reorder_probability = 0.0;    // per packet: held back behind later ones
  int reorder_window = 8;              // at most this many packets overtake it
  std::vector<OutageSpec> outages;     // relay out of view
  double outage_every_s = 0.0;         // periodic outages as well (0 = none)
  double outage_first_s = 0.0, outage_duration_s = 0.0;
  uint64_t store_capacity_packets = 200'000;  // on-board store; oldest evicted first
  // Packets kept on board after generation for retransmission on request (oldest forgotten
  // first). A packet evicted from the outage store is gone from here too: it is one memory.
  uint64_t retransmit_store_packets = 100'000;
  double uplink_loss_probability = 0.0;  // per telecommand; the uplink is also down in outages
  uint32_t uplink_lose_first = 0;        // fault drill: the first N telecommands never arrive

  // The profile with every fault and delay off (--ideal-link).
  static LinkProfile Ideal();
  bool InOutage(double mission_s) const;
  // End of the outage containing mission_s (mission_s itself if none).
  double OutageEnd(double mission_s) const;
};

// One camera model (the left and right of a pair share it). Height is the optical centre above
// the ground; tilt is fixed for body-mounted cameras (hazcams), commanded for mast cameras.
struct CameraSpec {
  uint32_t width_px = 1024, height_px = 1024;
  double fov_deg = 46.0;  // horizontal
  double height_m = 1.5;
  double baseline_m = 0.27;     // between left and right
  double fixed_tilt_deg = 0.0;  // body-mounted: the tilt it has (mast cameras: unused)
  bool body_mounted = false;
  int jpeg_quality = 90;
};

struct CameraSpecs {
  CameraSpec navcam{1024, 1024, 46.0, 1.5, 0.27, 0.0, false, 90};
  CameraSpec pancam{2048, 1536, 20.0, 1.5, 0.27, 0.0, false, 92};
  CameraSpec hazcam{1024, 1024, 120.0, 0.6, 0.10, -45.0, true, 88};
};

// The on-board file store and its CFDP sending entity.
struct FileDeliverySpec {
  uint64_t store_capacity_bytes =
      64ull << 20;                // products waiting; lowest priority, then oldest, go first
  bool acknowledged = true;       // CFDP class 2; false = class 1
  uint32_t max_file_data = 1000;  // octets of file data per PDU
  double ack_interval_s = 0.0;    // EOF resent until ACKed; 0 = 2 x light time + 3 s
  int ack_limit = 10;
};

struct Scenario {
  std::string name = "nominal";
  std::string description;
  std::string source;  // file path or "built-in"
  uint64_t seed = 1;
  SiteSpec site;
  RoverSpec rover;
  TraverseSpec traverse;
  std::vector<SolarParticleEventSpec> solar_particle_events;
  LinkProfile link;
  CameraSpecs cameras;
  FileDeliverySpec files;
};

// A built-in name or a path to a YAML file.
[[nodiscard]] Result<Scenario> LoadScenario(std::string_view name_or_path);
// `source` names the text in error messages.
[[nodiscard]] Result<Scenario> ParseScenario(std::string_view yaml_text, std::string_view source);
std::vector<std::string> BuiltinScenarioNames();
// "90", "90s", "15m"/"15min", "2h", "1.5d" -> seconds; nullopt if not a duration.
using protocol::ParseDurationSeconds;

}  // namespace lgs::emulator
