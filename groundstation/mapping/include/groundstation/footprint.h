// Where an image looked: the ground a camera frame covers, for the traverse map and GeoJSON.
// The four corner rays of the frame (the emulator's pinhole model: horizontal field of view, the
// vertical from the aspect ratio, pointing at the recorded pan/tilt) meet the level ground the
// camera stands `camera_height_m` above; a ray that meets it beyond `max_range_m`, or never (at
// or above the horizon), is cut off there. The camera is taken at the rover's recorded position.
//
// Pure arithmetic; thread-safe.
#pragma once

#include <array>
#include <optional>

#include "rover/v1/camera.pb.h"

namespace lgs::station {

struct Footprint {
  // Site-frame metres (x east, y north): bottom-left, bottom-right, top-right, top-left corner of
  // the image as it lies on the ground.
  std::array<std::array<double, 2>, 4> corners{};
  bool clipped = false;  // a corner was cut off at max_range_m (or looked above the horizon)
};

// None for a frame without a field of view, size or height to place it with.
std::optional<Footprint> ImageFootprint(const rover::v1::CameraFrame& frame,
                                        double max_range_m = 30.0);

}  // namespace lgs::station
