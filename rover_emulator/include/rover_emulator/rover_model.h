// RoverModel: the emulated rover's state and instruments, advanced in mission time.
//
// Given the same seed and the same sequence of calls it produces the same telemetry. Each
// Fill*() call advances the model to `mission_time_ns` (which must not go backwards) and writes
// the stream's current reading into the caller's message. Events raised while advancing are
// queued and taken with TakeEvents(). Not thread-safe.
//
// Figures follow ../shared/reference/rover-models.md; this is the foundation model (drive along
// waypoints, power, thermal, instruments with plausible noise), not yet the full-fidelity one.
#pragma once

#include <cstdint>
#include <vector>

#include "protocol/cuc_time.h"
#include "rover/v1/camera.pb.h"
#include "rover/v1/event.pb.h"
#include "rover/v1/housekeeping.pb.h"
#include "rover/v1/navigation.pb.h"
#include "rover/v1/radiation.pb.h"
#include "rover/v1/soil.pb.h"
#include "rover/v1/terrain.pb.h"
#include "rover_emulator/random.h"

namespace lgs::emulator {

using protocol::TimestampNs;

struct RoverModelOptions {
  uint64_t seed = 1;
  TimestampNs mission_start_ns = 0;
  double drive_speed_m_per_h = 200.0;  // Yutu class
  double battery_capacity_wh = 200.0;  // model choice
  double solar_array_peak_w = 50.0;    // Pragyan class
  double science_stop_every_m = 5.0;   // drive this far, then stop for soil science
  double science_stop_duration_s = 300.0;
};

class RoverModel {
 public:
  explicit RoverModel(const RoverModelOptions& options);

  void FillHousekeeping(TimestampNs mission_time_ns, rover::v1::Housekeeping& out);
  void FillNavigationPose(TimestampNs mission_time_ns, rover::v1::NavigationPose& out);
  void FillTerrainTile(TimestampNs mission_time_ns, rover::v1::TerrainTile& out);
  void FillCameraFrame(TimestampNs mission_time_ns, rover::v1::CameraFrame& out);
  void FillSoilMeasurement(TimestampNs mission_time_ns, rover::v1::SoilMeasurement& out);
  void FillRadiation(TimestampNs mission_time_ns, rover::v1::Radiation& out);

  // Events raised since the last call, oldest first.
  std::vector<rover::v1::Event> TakeEvents();

  // Elevation of the site's terrain model at a point of the site frame (metres).
  double TerrainElevation(double x_m, double y_m) const;

 private:
  void AdvanceTo(TimestampNs mission_time_ns);
  void Step(double dt_s);
  void SetMode(rover::v1::RoverMode mode, const char* why);
  void Raise(rover::v1::EventSeverity severity, rover::v1::EventKind kind, std::string message,
             double value = 0.0);
  double SunElevationDeg() const;
  double MissionSeconds() const;

  RoverModelOptions options_;
  Random random_;
  TimestampNs now_ns_;
  bool booted_ = false;

  // Mobility.
  rover::v1::RoverMode mode_ = rover::v1::ROVER_MODE_STANDBY;
  double x_m_ = 0.0, y_m_ = 0.0, heading_deg_ = 0.0;
  double odometer_m_ = 0.0, since_science_m_ = 0.0, uncertainty_m_ = 0.05, slip_percent_ = 0.0;
  double science_remaining_s_ = 0.0;
  size_t waypoint_ = 0;
  std::vector<std::pair<double, double>> waypoints_;
  bool visual_fix_pending_ = false;
  double since_fix_m_ = 0.0;

  // Power and thermal.
  double soc_percent_ = 85.0;
  double solar_w_ = 0.0, load_w_ = 0.0, heater_w_ = 0.0;
  double temp_electronics_c_ = 18.0, temp_battery_c_ = 12.0, temp_motors_c_ = -5.0;
  double temp_camera_c_ = -10.0, temp_panel_c_ = 35.0;
  uint32_t commands_executed_ = 0;

  // Instruments.
  double accumulated_dose_ugy_ = 0.0;
  TimestampNs last_radiation_ns_ = 0;
  uint32_t frame_id_ = 0;
  uint32_t measurement_id_ = 0;
  uint32_t tile_index_ = 0;

  std::vector<rover::v1::Event> events_;
};

}  // namespace lgs::emulator
