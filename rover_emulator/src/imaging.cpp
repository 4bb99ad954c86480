// The rover model's imaging: commanded images rendered from the terrain (camera.h) on the
// imaging thread (imaging_worker.h) and queued as files for the downlink. Part of RoverModel, in
// its own file by subsystem.
#include <fmt/format.h>

#include <cmath>

#include "protocol/command_dictionary.h"
#include "rover_emulator/rover_model.h"

namespace lgs::emulator {
namespace {

constexpr double kDegPerRad = 180.0 / M_PI;
constexpr uint64_t kNoiseStream = 0xCA3E'0001;
// From the exposure to the file in the store: readout, compression and the file system on the
// rover's computer (the emulator renders meanwhile on its imaging thread).
constexpr protocol::TimestampNs kProcessingNs = 1'000'000'000;
// Hazcams sit at the front and rear of the body, this far from its centre.
constexpr double kHazcamOffsetM = 0.6;

bool IsLeft(rover::v1::Camera camera) {
  return camera == rover::v1::CAMERA_NAVCAM_LEFT || camera == rover::v1::CAMERA_PANCAM_LEFT;
}
bool IsRight(rover::v1::Camera camera) {
  return camera == rover::v1::CAMERA_NAVCAM_RIGHT || camera == rover::v1::CAMERA_PANCAM_RIGHT;
}

}  // namespace

void RoverModel::CaptureImage(rover::v1::Camera camera, double pan_deg, double tilt_deg,
                              rover::v1::ImageFormat format, uint32_t priority) {
  const CameraSpec& spec = SpecOf(options_.scenario.cameras, camera);
  CameraPose pose;
  pose.azimuth_deg = pan_deg;
  pose.tilt_deg = tilt_deg;
  double x = x_m_, y = y_m_;
  if (spec.body_mounted) {
    // Body-mounted: it looks where the body does (the rear one backwards), at its fixed tilt.
    const bool rear = camera == rover::v1::CAMERA_HAZCAM_REAR;
    pose.azimuth_deg = std::fmod(heading_deg_ + (rear ? 180.0 : 0.0) + 360.0, 360.0);
    pose.tilt_deg = spec.fixed_tilt_deg;
    const double a = pose.azimuth_deg / kDegPerRad;
    x += kHazcamOffsetM * std::sin(a);
    y += kHazcamOffsetM * std::cos(a);
  } else if (IsLeft(camera) || IsRight(camera)) {
    // The pair straddles the pan axis: left is half a baseline to the left of where it looks.
    const double side = (IsRight(camera) ? 0.5 : -0.5) * spec.baseline_m;
    const double a = pose.azimuth_deg / kDegPerRad;
    x += side * std::cos(a);
    y -= side * std::sin(a);
  }
  pose.x_m = x;
  pose.y_m = y;
  pose.z_m = terrain_.Elevation(x, y) + spec.height_m;

  ImagingJob job;
  job.spec = spec;
  job.pose = pose;
  job.sun = sun_;
  job.format = format;
  job.priority = priority;
  job.taken_ns = now_ns_;
  job.ready_ns = now_ns_ + kProcessingNs;
  const uint32_t frame_id = frame_id_++;
  job.noise_seed = options_.seed ^ kNoiseStream ^ (uint64_t{frame_id} << 20);
  rover::v1::CameraFrame& frame = job.frame;
  frame.set_camera(camera);
  frame.set_frame_id(frame_id);
  frame.set_pan_deg(pose.azimuth_deg);
  frame.set_tilt_deg(pose.tilt_deg);
  frame.set_sun_elevation_deg(sun_.elevation_deg);
  frame.set_sun_azimuth_deg(sun_.azimuth_deg);
  frame.set_format(format);
  frame.set_rover_x_m(x_m_);
  frame.set_rover_y_m(y_m_);
  frame.set_rover_heading_deg(heading_deg_);
  frame.set_camera_height_m(spec.height_m);
  frame.set_field_of_view_deg(spec.fov_deg);
  imaging_.Submit(std::move(job));
}

void RoverModel::CollectImages() {
  for (ImagingResult& r : imaging_.Ready(now_ns_)) {
    rover::v1::CameraFrame& frame = commanded_frames_.emplace_back(std::move(r.job.frame));
    frame.set_exposure_ms(r.exposure_ms);
    frame.set_gain_db(r.gain_db);
    frame.set_width_px(r.width);
    frame.set_height_px(r.height);
    frame.set_mean_brightness_dn(r.mean_dn);
    const rover::v1::Camera camera = frame.camera();
    if (!r.file.ok()) {
      Raise(rover::v1::EVENT_SEVERITY_WARNING, rover::v1::EVENT_KIND_IMAGE_TAKEN,
            fmt::format("image {} of {} not kept: {}", frame.frame_id(),
                        protocol::CameraName(camera), r.file.error().message()));
      continue;
    }
    const bool png = frame.format() == rover::v1::IMAGE_FORMAT_PNG;
    const std::string name = fmt::format("{}_{:06}.{}", protocol::CameraName(camera),
                                         frame.frame_id(), png ? "png" : "jpg");
    frame.set_image_size_bytes(r.file->size());
    frame.set_product_name(name);
    Raise(rover::v1::EVENT_SEVERITY_INFO, rover::v1::EVENT_KIND_IMAGE_TAKEN,
          fmt::format("image {} taken: {} octets", name, r.file->size()),
          static_cast<double>(r.file->size()));
    image_products_.push_back({frame, name, std::move(*r.file), r.job.priority, r.job.taken_ns});
  }
}

}  // namespace lgs::emulator
