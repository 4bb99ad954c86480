#include "groundstation/footprint.h"

#include <cmath>

namespace lgs::station {
namespace {

constexpr double kDegPerRad = 180.0 / M_PI;

struct Vec {
  double x, y, z;
};
Vec operator+(Vec a, Vec b) {
  return {a.x + b.x, a.y + b.y, a.z + b.z};
}
Vec operator*(double k, Vec a) {
  return {k * a.x, k * a.y, k * a.z};
}

}  // namespace

std::optional<Footprint> ImageFootprint(const rover::v1::CameraFrame& frame, double max_range_m) {
  const double fov = frame.field_of_view_deg(), height = frame.camera_height_m();
  if (!(fov > 0.0 && fov < 180.0) || !(height > 0.0) || frame.width_px() == 0 ||
      frame.height_px() == 0 || !(max_range_m > 0.0)) {
    return std::nullopt;
  }
  // The emulator's camera frame (rover_emulator/camera.cpp): forward from azimuth and tilt,
  // right level, up completing them.
  const double az = frame.pan_deg() / kDegPerRad, tilt = frame.tilt_deg() / kDegPerRad;
  const Vec forward{std::sin(az) * std::cos(tilt), std::cos(az) * std::cos(tilt), std::sin(tilt)};
  const Vec right{std::cos(az), -std::sin(az), 0.0};
  const Vec up{right.y * forward.z - right.z * forward.y, right.z * forward.x - right.x * forward.z,
               right.x * forward.y - right.y * forward.x};
  const double tan_x = std::tan(fov / 2.0 / kDegPerRad);
  const double tan_y = tan_x * frame.height_px() / frame.width_px();
  const double sx[4] = {-1, 1, 1, -1}, sy[4] = {-1, -1, 1, 1};
  Footprint out;
  for (int i = 0; i < 4; ++i) {
    const Vec d = forward + (sx[i] * tan_x) * right + (sy[i] * tan_y) * up;
    const double level = std::hypot(d.x, d.y);
    double range = max_range_m;
    if (d.z < 0.0) {
      range = std::min(max_range_m, height / -d.z * level);
    }
    if (range >= max_range_m) out.clipped = true;
    const double ux = level > 0.0 ? d.x / level : 0.0, uy = level > 0.0 ? d.y / level : 0.0;
    out.corners[static_cast<size_t>(i)] = {frame.rover_x_m() + range * ux,
                                           frame.rover_y_m() + range * uy};
  }
  return out;
}

}  // namespace lgs::station
