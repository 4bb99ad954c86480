// RoverModel: the emulated rover's state and instruments, advanced in mission time.
//
// Given the same seed and the same sequence of calls it produces the same telemetry. Each
// Fill*() call advances the model to `mission_time_ns` (which must not go backwards) and writes
// the stream's current reading into the caller's message. Events raised while advancing are
// queued and taken with TakeEvents(). Not thread-safe.
//
// Figures follow a Yutu-class rover (rover_emulator/README.md, "Model"). The scenario sets the site
// (terrain, sun), the rover's starting state and thresholds, the traverse, solar particle events
// and the relay's visibility (for loss/acquisition-of-signal events).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/command_dictionary.h"
#include "protocol/cuc_time.h"
#include "protocol/status.h"
#include "protocol/stream_registry.h"
#include "rover/v1/camera.pb.h"
#include "rover/v1/command.pb.h"
#include "rover/v1/event.pb.h"
#include "rover/v1/housekeeping.pb.h"
#include "rover/v1/navigation.pb.h"
#include "rover/v1/radiation.pb.h"
#include "rover/v1/soil.pb.h"
#include "rover/v1/terrain.pb.h"
#include "rover_emulator/camera.h"
#include "rover_emulator/imaging_worker.h"
#include "rover_emulator/random.h"
#include "rover_emulator/scenario.h"
#include "rover_emulator/terrain.h"

namespace lgs::emulator {

using protocol::TimestampNs;

// How a commanded activity is going, for the command handler's PUS service 1 reports.
struct ActivityReport {
  enum class Kind { kProgress, kCompleted, kFailed };
  uint64_t tag = 0;  // the handler's name for the request
  Kind kind = Kind::kProgress;
  uint32_t step = 0;   // progress step, from 1
  std::string reason;  // failures: why
};

// An image a commanded capture made: its record (sent on camera_frame at once) and the file that
// waits in the on-board store for the downlink.
struct ImageProduct {
  rover::v1::CameraFrame frame;
  std::string name;  // frame.product_name()
  std::string bytes;
  uint32_t priority = 5;  // 0 first .. 9 last
  TimestampNs taken_ns = 0;
};

struct RoverModelOptions {
  uint64_t seed = 1;
  TimestampNs mission_start_ns = 0;
  Scenario scenario;  // defaults: the nominal mission
};

// What each mode sends on the periodic streams (events and command reports go in every mode).
// Hibernation keeps only the wake-up receiver and the survival heater: no telemetry but events.
// Safe mode keeps the health streams (housekeeping, pose, dose). Mapping (terrain tiles) needs
// the cameras awake; the periodic navigation frames are taken while driving; soil science needs
// the instruments, which work only where the model says (see RoverModel::FillSoilMeasurement).
//
//   stream           DRIVE  SCIENCE  STANDBY  SAFE  HIBERNATE
//   housekeeping       x       x        x       x
//   navigation_pose    x       x        x       x
//   terrain_tile       x       x        x
//   camera_frame       x
//   soil               x       x        x            (as instruments finish integrating)
//   radiation          x       x        x       x
//   file_delivery      x       x        x            (files in the store, as the link allows)
bool ModeEmits(rover::v1::RoverMode mode, protocol::StreamId stream);

class RoverModel {
 public:
  explicit RoverModel(const RoverModelOptions& options);

  // Advances the model (its mode may change) without producing anything.
  void Advance(TimestampNs mission_time_ns) { AdvanceTo(mission_time_ns); }

  void FillHousekeeping(TimestampNs mission_time_ns, rover::v1::Housekeeping& out);
  void FillNavigationPose(TimestampNs mission_time_ns, rover::v1::NavigationPose& out);
  void FillTerrainTile(TimestampNs mission_time_ns, rover::v1::TerrainTile& out);
  void FillCameraFrame(TimestampNs mission_time_ns, rover::v1::CameraFrame& out);
  // Background soil science: each instrument integrates for its own time and reports once it
  // has (at most one report per call): the neutron spectrometer while the rover is awake and
  // working (60 s), VNIS (2 s) and APXS (3 min) at a science stop only. A mode change that
  // takes an instrument out of its modes abandons its integration. False: nothing finished.
  bool FillSoilMeasurement(TimestampNs mission_time_ns, rover::v1::SoilMeasurement& out);
  void FillRadiation(TimestampNs mission_time_ns, rover::v1::Radiation& out);

  // Events raised since the last call, oldest first.
  std::vector<rover::v1::Event> TakeEvents();

  // The site's terrain model (ground truth for tests and for the hazard map).
  const Terrain& terrain() const { return terrain_; }
  // What the on-board store holds, reported in housekeeping (set by the link side).
  void SetOnboardStorePackets(uint64_t packets) { store_packets_ = packets; }
  rover::v1::RoverMode mode() const { return mode_; }

  // Starts a telecommand's activity at `mission_time_ns` (the model advances to it first). An
  // error is a start failure with its reason (wrong mode, busy, instrument off). Instant
  // commands complete at once; the others report progress and completion as the model runs.
  // Telemetry rates are the generator's, not the model's.
  Status StartActivity(uint64_t tag, const protocol::CommandInfo& command,
                       const google::protobuf::Message& args, TimestampNs mission_time_ns);
  std::vector<ActivityReport> TakeActivityReports();
  // Products of commanded activities, to be sent at once on their streams.
  std::vector<rover::v1::CameraFrame> TakeCommandedFrames();
  std::vector<rover::v1::SoilMeasurement> TakeCommandedSoil();
  // The files of commanded images (their records come with TakeCommandedFrames()).
  std::vector<ImageProduct> TakeImageProducts();
  bool ground_hold() const { return ground_hold_; }

 private:
  void AdvanceTo(TimestampNs mission_time_ns);
  void Step(double dt_s);
  void StepMobility(double dt_s);
  void StepPower(double dt_s);
  void StepThermal(double dt_s);
  void StepRadiation(double dt_s);
  void StepLink();
  void SetMode(rover::v1::RoverMode mode, const std::string& why);
  void StepActivity(double dt_s);
  enum class Move { kMoving, kArrived, kHazard };
  // One step of driving toward (wx, wy) with hazard checks, slip and odometry.
  Move MoveToward(double wx, double wy, double dt_s);
  std::string hazard_reason_;
  // Ends the activity in progress (a report for the handler) and holds for the ground.
  void EndActivity(bool success, std::string reason);
  void ActivityProgress(double fraction);
  void FillSoil(rover::v1::SoilInstrument instrument, double integration_s,
                rover::v1::SoilMeasurement& out);
  void FillFrame(rover::v1::Camera camera, double pan_deg, double tilt_deg,
                 rover::v1::CameraFrame& out);
  // A commanded image (imaging.cpp): rendered from the terrain, compressed, its record filled
  // from the pixels, the file queued for the downlink.
  void CaptureImage(rover::v1::Camera camera, double pan_deg, double tilt_deg,
                    rover::v1::ImageFormat format, uint32_t priority);
  // Images whose processing is done by now: their camera records, events and files.
  void CollectImages();
  void Raise(rover::v1::EventSeverity severity, rover::v1::EventKind kind, std::string message,
             double value = 0.0);
  double MissionSeconds() const;
  // Solar particle event: extra dose as a multiple of the GCR baseline, and the GCR factor
  // (below 1 during a Forbush decrease).
  double SpeExtraFactor() const;
  double GcrFactor() const;

  RoverModelOptions options_;
  const RoverSpec& rover_;
  Random random_;
  Terrain terrain_;
  ImagingWorker imaging_{terrain_};
  TimestampNs now_ns_;
  bool booted_ = false;

  // Mobility: true position, and what the rover believes (odometry, reset by visual fixes).
  rover::v1::RoverMode mode_ = rover::v1::ROVER_MODE_STANDBY;
  double x_m_ = 0.0, y_m_ = 0.0, heading_deg_ = 0.0;
  double est_x_m_ = 0.0, est_y_m_ = 0.0;
  double odometer_m_ = 0.0, since_science_m_ = 0.0, uncertainty_m_ = 0.05, slip_percent_ = 0.0;
  double ground_speed_m_per_h_ = 0.0;
  double science_remaining_s_ = 0.0;
  size_t waypoint_ = 0;
  std::vector<std::pair<double, double>> waypoints_;
  bool visual_fix_pending_ = false;
  double since_fix_m_ = 0.0;
  bool hazard_stopped_ = false;
  double hazard_wait_s_ = 0.0;
  bool low_battery_standby_ = false;

  // Sun and shadow (recomputed every few mission seconds or after moving).
  SunPosition sun_;
  double sunlit_ = 1.0;
  double sun_checked_s_ = -1e9, sun_checked_x_ = 1e9, sun_checked_y_ = 1e9;
  double dark_s_ = 0.0;  // continuous time without sun on the array

  // Power and thermal.
  double soc_percent_ = 85.0;
  double solar_w_ = 0.0, load_w_ = 0.0, heater_w_ = 0.0;
  double temp_electronics_c_ = 18.0, temp_battery_c_ = 12.0, temp_motors_c_ = -5.0;
  double temp_camera_c_ = -10.0, temp_panel_c_ = 35.0;
  bool thermal_alarm_ = false;
  uint32_t commands_executed_ = 0;

  // Radiation and events.
  double accumulated_dose_ugy_ = 0.0;
  bool spe_active_ = false;
  bool link_up_ = true;
  TimestampNs last_radiation_ns_ = 0;
  uint32_t frame_id_ = 0;
  uint32_t measurement_id_ = 0;
  uint32_t tile_index_ = 0;
  uint64_t store_packets_ = 0;

  std::vector<rover::v1::Event> events_;

  // Commanding. Once the ground has commanded motion the rover holds for it: the scenario's
  // autonomous traverse (which stands in for a day's uplinked plan) stops.
  struct Activity {
    uint64_t tag = 0;
    protocol::CommandId command = protocol::CommandId::kPing;
    rover::v1::RoverMode mode = rover::v1::ROVER_MODE_STANDBY;
    double target_x_m = 0.0, target_y_m = 0.0, total_m = 0.0;  // drive
    double turn_remaining_deg = 0.0, turn_total_deg = 0.0;     // drive (first) and turn
    double remaining_s = 0.0, total_s = 0.0;                   // soil, images
    rover::v1::SoilInstrument instrument = rover::v1::SOIL_INSTRUMENT_UNSPECIFIED;
    rover::v1::Camera camera = rover::v1::CAMERA_UNSPECIFIED;
    uint32_t frames = 0, frames_taken = 0;
    double pan_step_deg = 0.0, tilt_deg = 0.0;
    rover::v1::ImageFormat format = rover::v1::IMAGE_FORMAT_JPEG;
    uint32_t priority = 5;
    uint32_t progress_reported = 0;
  };
  std::optional<Activity> activity_;
  bool ground_hold_ = false;
  bool commanded_hibernation_ = false;
  std::array<rover::v1::InstrumentMode, 4> instrument_modes_{
      rover::v1::INSTRUMENT_MODE_UNSPECIFIED, rover::v1::INSTRUMENT_MODE_ON,
      rover::v1::INSTRUMENT_MODE_ON, rover::v1::INSTRUMENT_MODE_ON};
  std::vector<ActivityReport> activity_reports_;
  std::vector<rover::v1::CameraFrame> commanded_frames_;
  std::vector<rover::v1::SoilMeasurement> commanded_soil_;
  std::vector<ImageProduct> image_products_;
  // Background integrations: when each instrument started its current one (0 = not running).
  std::array<TimestampNs, 4> integrating_since_ns_{};
};

}  // namespace lgs::emulator
