// Cameras: images rendered from the emulator's terrain, as the rover's navigation, panoramic
// and hazard cameras would see the site — a pinhole camera at the pose the rover and mast give,
// the heightfield and rocks of the terrain model, the sun a degree or two above the horizon with
// the long shadows the terrain casts, the distant massifs, black sky. Grayscale, auto-exposed
// from the rendered radiance, with sensor noise; compressed with libjpeg-turbo, or libpng when
// lossless is asked for. Same terrain, pose, sun and seed => the same bytes.
//
// CameraRenderer keeps the shadow map of the last sun position (a panorama's frames share it).
// Not thread-safe: one owner.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/status.h"
#include "rover/v1/camera.pb.h"
#include "rover_emulator/scenario.h"
#include "rover_emulator/terrain.h"

namespace lgs::emulator {

struct CameraPose {
  double x_m = 0.0, y_m = 0.0;  // site frame: east, north
  double z_m = 0.0;             // optical centre, absolute elevation
  double azimuth_deg = 0.0;     // where it points: 0 = north, clockwise
  double tilt_deg = 0.0;        // up positive
};

struct RenderedImage {
  uint32_t width = 0, height = 0;
  std::vector<uint8_t> pixels;  // row-major, top row first, 8-bit (square-root companded DN)
  double exposure_ms = 0.0, gain_db = 0.0;
  double mean_dn = 0.0;  // mean of the 12-bit values before companding
};

class CameraRenderer {
 public:
  explicit CameraRenderer(const Terrain& terrain) : terrain_(terrain) {}

  // `noise_seed` draws the sensor noise (per frame: same frame, same noise).
  RenderedImage Render(const CameraSpec& spec, const CameraPose& pose, const SunPosition& sun,
                       uint64_t noise_seed);

 private:
  void UpdateShadows(const SunPosition& sun);
  double Lit(double x_m, double y_m) const;

  const Terrain& terrain_;
  // Sunlit (1) or shadowed (0) per shadow cell, for the sun position it was made for.
  std::vector<uint8_t> lit_;
  int shadow_cells_ = 0;
  double shadow_cell_m_ = 0.0;
  double shadow_az_ = -1e9, shadow_el_ = -1e9;
};

// 8-bit grayscale to a baseline JPEG (quality 1-100) or a PNG; the file's bytes.
[[nodiscard]] Result<std::string> EncodeJpeg(const RenderedImage& image, int quality);
[[nodiscard]] Result<std::string> EncodePng(const RenderedImage& image);

// The specification of a camera in the scenario's camera set.
const CameraSpec& SpecOf(const CameraSpecs& specs, rover::v1::Camera camera);

}  // namespace lgs::emulator
