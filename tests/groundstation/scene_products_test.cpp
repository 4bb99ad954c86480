#include "groundstation/scene_products.h"

#include <gtest/gtest.h>

#include <cmath>

#include "foxglove/FrameTransform.pb.h"
#include "foxglove/Log.pb.h"
#include "foxglove/SceneUpdate.pb.h"
#include "rover/v1/camera.pb.h"
#include "rover/v1/navigation.pb.h"
#include "rover/v1/terrain.pb.h"

namespace lgs::station {
namespace {

// v rotated by the unit quaternion q.
std::array<double, 3> Rotate(const foxglove::Quaternion& q, std::array<double, 3> v) {
  const double x = q.x(), y = q.y(), z = q.z(), w = q.w();
  const double tx = 2 * (y * v[2] - z * v[1]), ty = 2 * (z * v[0] - x * v[2]),
               tz = 2 * (x * v[1] - y * v[0]);
  return {v[0] + w * tx + (y * tz - z * ty), v[1] + w * ty + (z * tx - x * tz),
          v[2] + w * tz + (x * ty - y * tx)};
}

TEST(SceneProducts, TheRoverAndItsCamerasPointWhereTheTelemetrySays) {
  SceneProducts products("rover1");
  std::vector<SceneMessage> out;
  rover::v1::NavigationPose pose;
  pose.set_x_m(3);
  pose.set_y_m(-2);
  pose.set_heading_deg(90);  // east
  pose.set_pitch_deg(10);    // nose up
  products.OnTelemetry(protocol::StreamId::kNavigationPose, pose, 5, 6, out);
  ASSERT_EQ(out.size(), 3u);  // transform, pose, and the rover model the first time
  const auto& tf = static_cast<const foxglove::FrameTransform&>(*out[0].message);
  EXPECT_EQ(out[0].topic, "/rover1/tf");
  EXPECT_EQ(tf.parent_frame_id(), "site");
  EXPECT_EQ(tf.child_frame_id(), "rover");
  EXPECT_EQ(tf.translation().x(), 3);
  // The rover's forward axis points east and 10° up.
  const auto forward = Rotate(tf.rotation(), {1, 0, 0});
  EXPECT_NEAR(forward[0], std::cos(10 * M_PI / 180), 1e-12);
  EXPECT_NEAR(forward[1], 0, 1e-12);
  EXPECT_NEAR(forward[2], std::sin(10 * M_PI / 180), 1e-12);
  EXPECT_EQ(out[1].topic, "/rover1/pose");
  EXPECT_EQ(out[2].topic, "/rover1/scene");
  out.clear();
  products.OnTelemetry(protocol::StreamId::kNavigationPose, pose, 7, 8, out);
  EXPECT_EQ(out.size(), 0u);  // 2 ns after the last: within kPoseEveryNs
  products.OnTelemetry(protocol::StreamId::kNavigationPose, pose, 7,
                       6 + SceneProducts::kPoseEveryNs, out);
  EXPECT_EQ(out.size(), 2u);  // the model again only every kModelEveryNs

  // A camera panned to north-east (site azimuth 45°) on a rover heading east, tilted 20° down:
  // its optical axis (z) looks 45° left of the rover's forward, 20° down.
  rover::v1::CameraFrame frame;
  frame.set_camera(rover::v1::CAMERA_NAVCAM_LEFT);
  frame.set_pan_deg(45);
  frame.set_tilt_deg(-20);
  frame.set_rover_heading_deg(90);
  frame.set_camera_height_m(1.2);
  out.clear();
  products.OnTelemetry(protocol::StreamId::kCameraFrame, frame, 9, 10, out);
  ASSERT_EQ(out.size(), 1u);
  const auto& cam = static_cast<const foxglove::FrameTransform&>(*out[0].message);
  EXPECT_EQ(cam.parent_frame_id(), "rover");
  EXPECT_EQ(cam.child_frame_id(), "navcam_left");
  EXPECT_EQ(cam.translation().z(), 1.2);
  const auto view = Rotate(cam.rotation(), {0, 0, 1});
  const double c = std::cos(20 * M_PI / 180);
  EXPECT_NEAR(view[0], c * std::cos(M_PI / 4), 1e-12);
  EXPECT_NEAR(view[1], c * std::sin(M_PI / 4), 1e-12);  // left of forward
  EXPECT_NEAR(view[2], -std::sin(20 * M_PI / 180), 1e-12);
  const auto down = Rotate(cam.rotation(), {0, 1, 0});  // the image's y points down
  EXPECT_LT(down[2], 0);
}

TEST(SceneProducts, ATileResentUnchangedMakesNoUpdateAndABadTileNone) {
  SceneProducts products("rover1");
  rover::v1::TerrainTile t;
  t.set_width_cells(2);
  t.set_height_cells(2);
  t.set_cell_size_m(0.1);
  for (float z : {1.f, 2.f, 3.f, 4.f}) t.add_elevation_m(z);
  t.set_hazard_mask(std::string("\0\2\0\1", 4));
  std::vector<SceneMessage> out;
  products.OnTelemetry(protocol::StreamId::kTerrainTile, t, 1, 1, out);
  ASSERT_EQ(out.size(), 1u);
  const auto& u = static_cast<const foxglove::SceneUpdate&>(*out[0].message);
  ASSERT_EQ(u.entities_size(), 2);
  EXPECT_EQ(u.entities(0).id(), "terrain/0,0");
  EXPECT_EQ(u.entities(0).triangles(0).points_size(), 4);
  EXPECT_EQ(u.entities(0).triangles(0).indices_size(), 6);
  EXPECT_EQ(u.entities(1).cubes_size(), 2);
  products.OnTelemetry(protocol::StreamId::kTerrainTile, t, 2, 2, out);
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(products.tiles_unchanged(), 1u);
  t.set_elevation_m(0, 1.5f);
  products.OnTelemetry(protocol::StreamId::kTerrainTile, t, 3, 3, out);
  EXPECT_EQ(out.size(), 2u);
  t.set_width_cells(3);  // disagrees with its arrays
  products.OnTelemetry(protocol::StreamId::kTerrainTile, t, 4, 4, out);
  EXPECT_EQ(out.size(), 2u);
}

TEST(SceneProducts, AlarmsAndCommandStagesAreLogLinesAtTheirLevels) {
  SceneProducts products("rover1");
  std::vector<SceneMessage> out;
  ground::v1::GroundAlarm a;
  a.set_id("radiation.dose_rate");
  a.set_severity("critical");
  a.set_state("raised");
  a.set_text("dose rate 812 µGy/h above red_high 500");
  products.OnAlarm(a, 100, out);
  a.set_state("cleared");
  products.OnAlarm(a, 200, out);
  ground::v1::GroundCommand c;
  c.set_command_id(7);
  c.set_name("turn");
  c.set_arguments("angle_deg=90 deg");
  c.set_stage(ground::v1::COMMAND_STAGE_COMPLETED);
  products.OnCommand(c, 300, out);
  c.set_stage(ground::v1::COMMAND_STAGE_FAILED);
  c.set_detail("hazard");
  products.OnCommand(c, 400, out);
  ASSERT_EQ(out.size(), 4u);
  const auto log = [&](size_t i) { return static_cast<const foxglove::Log&>(*out[i].message); };
  EXPECT_EQ(log(0).level(), foxglove::Log::ERROR);
  EXPECT_EQ(log(0).message(),
            "critical radiation.dose_rate raised: dose rate 812 µGy/h above red_high 500");
  EXPECT_EQ(log(0).name(), "ground/alarms");
  EXPECT_EQ(log(1).level(), foxglove::Log::INFO);
  EXPECT_EQ(log(2).message(), "command #7 turn angle_deg=90 deg COMPLETED");
  EXPECT_EQ(log(2).level(), foxglove::Log::INFO);
  EXPECT_EQ(log(3).message(), "command #7 turn angle_deg=90 deg FAILED: hazard");
  EXPECT_EQ(log(3).level(), foxglove::Log::ERROR);
  EXPECT_EQ(log(3).timestamp().nanos(), 400);
  for (const SceneMessage& m : out) EXPECT_EQ(m.topic, "/rover1/log");
}

}  // namespace
}  // namespace lgs::station
