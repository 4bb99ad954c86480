#include "groundstation/scene_products.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "foxglove/FrameTransform.pb.h"
#include "foxglove/Log.pb.h"
#include "foxglove/PoseInFrame.pb.h"
#include "foxglove/SceneUpdate.pb.h"
#include "protocol/command_dictionary.h"
#include "rover/v1/camera.pb.h"
#include "rover/v1/event.pb.h"
#include "rover/v1/navigation.pb.h"
#include "rover/v1/soil.pb.h"
#include "rover/v1/terrain.pb.h"

namespace lgs::station {
namespace {

constexpr double kRadPerDeg = M_PI / 180.0;
constexpr const char* kSiteFrame = "site";
constexpr const char* kRoverFrame = "rover";

using Quat = std::array<double, 4>;  // x, y, z, w

Quat Mul(const Quat& a, const Quat& b) {
  return {a[3] * b[0] + a[0] * b[3] + a[1] * b[2] - a[2] * b[1],
          a[3] * b[1] - a[0] * b[2] + a[1] * b[3] + a[2] * b[0],
          a[3] * b[2] + a[0] * b[1] - a[1] * b[0] + a[2] * b[3],
          a[3] * b[3] - a[0] * b[0] - a[1] * b[1] - a[2] * b[2]};
}
Quat About(int axis, double angle_rad) {
  Quat q{0, 0, 0, std::cos(angle_rad / 2)};
  q[static_cast<size_t>(axis)] = std::sin(angle_rad / 2);
  return q;
}
// A camera's optical frame (x right, y down, z along the view) in a body frame looking along x
// (x forward, y left, z up): the rotation whose columns are (0,-1,0), (0,0,-1), (1,0,0).
constexpr Quat kOptical{-0.5, 0.5, -0.5, 0.5};

void SetTime(google::protobuf::Timestamp* t, int64_t ns) {
  t->set_seconds(ns / 1'000'000'000);
  t->set_nanos(static_cast<int32_t>(ns % 1'000'000'000));
}
void SetQuat(foxglove::Quaternion* q, const Quat& v) {
  q->set_x(v[0]);
  q->set_y(v[1]);
  q->set_z(v[2]);
  q->set_w(v[3]);
}
void SetColour(foxglove::Color* c, double r, double g, double b, double a = 1.0) {
  c->set_r(r);
  c->set_g(g);
  c->set_b(b);
  c->set_a(a);
}
// The rover's attitude in the site frame: heading clockwise from north is a yaw counter-clockwise
// from east of 90° − heading; nose-up pitch turns about the body's −y; roll about its x.
Quat Attitude(double heading_deg, double pitch_deg, double roll_deg) {
  return Mul(Mul(About(2, (90.0 - heading_deg) * kRadPerDeg), About(1, -pitch_deg * kRadPerDeg)),
             About(0, roll_deg * kRadPerDeg));
}
// Elevation colours: a blue-to-yellow ramp (cividis-like), t in 0..1.
void Ramp(foxglove::Color* c, double t) {
  t = std::clamp(t, 0.0, 1.0);
  SetColour(c, 0.0 + 0.99 * t, 0.13 + 0.78 * t, 0.30 + (0.22 - 0.30) * t);
}

SceneMessage Make(std::string topic, std::unique_ptr<google::protobuf::Message> m, int64_t log_ns,
                  int64_t publish_ns, const char* content) {
  return SceneMessage{std::move(topic), std::move(m), log_ns, publish_ns, content};
}

foxglove::Log::Level LevelOf(rover::v1::EventSeverity s) {
  switch (s) {
    case rover::v1::EVENT_SEVERITY_CRITICAL:
      return foxglove::Log::ERROR;
    case rover::v1::EVENT_SEVERITY_WARNING:
      return foxglove::Log::WARNING;
    default:
      return foxglove::Log::INFO;
  }
}

}  // namespace

SceneProducts::SceneProducts(std::string rover_id) : rover_id_(std::move(rover_id)) {}

void SceneProducts::OnTelemetry(protocol::StreamId stream, const google::protobuf::Message& message,
                                int64_t onboard_ns, int64_t ground_ns,
                                std::vector<SceneMessage>& out) {
  switch (stream) {
    case protocol::StreamId::kNavigationPose: {
      const auto& p = static_cast<const rover::v1::NavigationPose&>(message);
      last_z_m_ = p.z_m();
      if (pose_sent_ns_ >= 0 && ground_ns >= pose_sent_ns_ &&
          ground_ns - pose_sent_ns_ < kPoseEveryNs) {
        break;
      }
      pose_sent_ns_ = ground_ns;
      const Quat q = Attitude(p.heading_deg(), p.pitch_deg(), p.roll_deg());
      auto tf = std::make_unique<foxglove::FrameTransform>();
      SetTime(tf->mutable_timestamp(), onboard_ns);
      tf->set_parent_frame_id(kSiteFrame);
      tf->set_child_frame_id(kRoverFrame);
      tf->mutable_translation()->set_x(p.x_m());
      tf->mutable_translation()->set_y(p.y_m());
      tf->mutable_translation()->set_z(p.z_m());
      SetQuat(tf->mutable_rotation(), q);
      auto pose = std::make_unique<foxglove::PoseInFrame>();
      SetTime(pose->mutable_timestamp(), onboard_ns);
      pose->set_frame_id(kSiteFrame);
      pose->mutable_pose()->mutable_position()->CopyFrom(tf->translation());
      pose->mutable_pose()->mutable_orientation()->CopyFrom(tf->rotation());
      out.push_back(Make(tf_topic(), std::move(tf), ground_ns, onboard_ns,
                         "foxglove.FrameTransform: site → rover, site → rover → cameras"));
      out.push_back(Make(pose_topic(), std::move(pose), ground_ns, onboard_ns,
                         "foxglove.PoseInFrame: the rover in the site frame"));
      if (model_sent_ns_ < 0 || ground_ns - model_sent_ns_ >= kModelEveryNs) {
        model_sent_ns_ = ground_ns;
        // The rover as a model: a body on four wheels and a mast, in its own frame.
        auto update = std::make_unique<foxglove::SceneUpdate>();
        foxglove::SceneEntity* e = update->add_entities();
        SetTime(e->mutable_timestamp(), onboard_ns);
        e->set_frame_id(kRoverFrame);
        e->set_id("rover");
        e->set_frame_locked(true);
        foxglove::CubePrimitive* body = e->add_cubes();
        body->mutable_pose()->mutable_position()->set_z(0.45);
        body->mutable_pose()->mutable_orientation()->set_w(1);
        body->mutable_size()->set_x(1.0);
        body->mutable_size()->set_y(0.7);
        body->mutable_size()->set_z(0.3);
        SetColour(body->mutable_color(), 0.85, 0.85, 0.8);
        for (const auto& [x, y] : {std::pair{0.4, 0.4}, {0.4, -0.4}, {-0.4, 0.4}, {-0.4, -0.4}}) {
          foxglove::CylinderPrimitive* wheel = e->add_cylinders();
          wheel->mutable_pose()->mutable_position()->set_x(x);
          wheel->mutable_pose()->mutable_position()->set_y(y);
          wheel->mutable_pose()->mutable_position()->set_z(0.15);
          SetQuat(wheel->mutable_pose()->mutable_orientation(), About(0, M_PI / 2));  // axle on y
          wheel->mutable_size()->set_x(0.3);
          wheel->mutable_size()->set_y(0.3);
          wheel->mutable_size()->set_z(0.12);
          wheel->set_bottom_scale(1);
          wheel->set_top_scale(1);
          SetColour(wheel->mutable_color(), 0.2, 0.2, 0.2);
        }
        foxglove::CylinderPrimitive* mast = e->add_cylinders();
        mast->mutable_pose()->mutable_position()->set_x(0.3);
        mast->mutable_pose()->mutable_position()->set_z(0.9);
        mast->mutable_pose()->mutable_orientation()->set_w(1);
        mast->mutable_size()->set_x(0.08);
        mast->mutable_size()->set_y(0.08);
        mast->mutable_size()->set_z(0.6);
        mast->set_bottom_scale(1);
        mast->set_top_scale(1);
        SetColour(mast->mutable_color(), 0.6, 0.6, 0.6);
        out.push_back(Make(scene_topic(), std::move(update), ground_ns, onboard_ns,
                           "foxglove.SceneUpdate: terrain, hazards, soil sites, the rover"));
      }
      break;
    }
    case protocol::StreamId::kCameraFrame: {
      const auto& f = static_cast<const rover::v1::CameraFrame&>(message);
      // The emulator points cameras by site azimuth (pan, clockwise from north) and tilt: in
      // the rover's frame that is a yaw of heading − pan (the rover taken as level).
      const Quat look = Mul(Mul(About(2, (f.rover_heading_deg() - f.pan_deg()) * kRadPerDeg),
                                About(1, -f.tilt_deg() * kRadPerDeg)),
                            kOptical);
      auto tf = std::make_unique<foxglove::FrameTransform>();
      SetTime(tf->mutable_timestamp(), onboard_ns);
      tf->set_parent_frame_id(kRoverFrame);
      tf->set_child_frame_id(protocol::CameraName(f.camera()));
      tf->mutable_translation()->set_z(f.camera_height_m());
      SetQuat(tf->mutable_rotation(), look);
      out.push_back(Make(tf_topic(), std::move(tf), ground_ns, onboard_ns,
                         "foxglove.FrameTransform: site → rover, site → rover → cameras"));
      break;
    }
    case protocol::StreamId::kTerrainTile: {
      const auto& t = static_cast<const rover::v1::TerrainTile&>(message);
      const uint32_t w = t.width_cells(), h = t.height_cells();
      const uint64_t cells = uint64_t{w} * h;
      // A tile that disagrees with itself makes no mesh (the site map says why).
      if (w < 2 || h < 2 || w > 4096 || h > 4096 ||
          static_cast<uint64_t>(t.elevation_m_size()) != cells || t.hazard_mask().size() != cells ||
          !(t.cell_size_m() > 0)) {
        break;
      }
      {
        // FNV-1a over the cells and the placement: a resent tile makes no update.
        uint64_t hash = 1469598103934665603ull;
        const auto mix = [&](const void* data, size_t n) {
          const auto* b = static_cast<const uint8_t*>(data);
          for (size_t i = 0; i < n; ++i) hash = (hash ^ b[i]) * 1099511628211ull;
        };
        mix(t.elevation_m().data(), sizeof(float) * cells);
        mix(t.hazard_mask().data(), cells);
        const double place[3] = {t.origin_x_m(), t.origin_y_m(), t.cell_size_m()};
        mix(place, sizeof place);
        SentTile& sent = sent_tiles_[{t.tile_x(), t.tile_y()}];
        if (sent.hash == hash && ground_ns - sent.ground_ns < kTileAgainNs) {
          ++tiles_unchanged_;
          break;
        }
        sent = SentTile{hash, ground_ns};
      }
      if (!have_datum_) {
        double sum = 0;
        for (float z : t.elevation_m()) sum += z;
        datum_m_ = sum / static_cast<double>(cells);
        have_datum_ = true;
      }
      auto update = std::make_unique<foxglove::SceneUpdate>();
      const std::string key = fmt::format("{},{}", t.tile_x(), t.tile_y());
      // The terrain: a vertex at each cell's centre, two triangles between each four.
      foxglove::SceneEntity* terrain = update->add_entities();
      SetTime(terrain->mutable_timestamp(), onboard_ns);
      terrain->set_frame_id(kSiteFrame);
      terrain->set_id("terrain/" + key);
      foxglove::KeyValuePair* kv = terrain->add_metadata();
      kv->set_key("tile");
      kv->set_value(key);
      foxglove::TriangleListPrimitive* mesh = terrain->add_triangles();
      mesh->mutable_pose()->mutable_orientation()->set_w(1);
      const double s = t.cell_size_m();
      for (uint32_t r = 0; r < h; ++r) {
        for (uint32_t c = 0; c < w; ++c) {
          const double z = t.elevation_m(static_cast<int>(r * w + c));
          foxglove::Point3* p = mesh->add_points();
          p->set_x(t.origin_x_m() + (c + 0.5) * s);
          p->set_y(t.origin_y_m() + (r + 0.5) * s);
          p->set_z(z);
          Ramp(mesh->add_colors(), (z - datum_m_ + kColourSpanM) / (2 * kColourSpanM));
        }
      }
      for (uint32_t r = 0; r + 1 < h; ++r) {
        for (uint32_t c = 0; c + 1 < w; ++c) {
          const uint32_t a = r * w + c, b = a + 1, d = a + w, e = d + 1;
          for (uint32_t i : {a, b, e, a, e, d}) mesh->add_indices(i);
        }
      }
      // Hazard cells: a thin box on each cell the rover judged unsafe.
      foxglove::SceneEntity* hazards = update->add_entities();
      SetTime(hazards->mutable_timestamp(), onboard_ns);
      hazards->set_frame_id(kSiteFrame);
      hazards->set_id("hazard/" + key);
      for (uint64_t i = 0; i < cells; ++i) {
        const auto kind = static_cast<uint8_t>(t.hazard_mask()[i]);
        if (kind == 0) continue;
        foxglove::CubePrimitive* cube = hazards->add_cubes();
        const uint32_t c = static_cast<uint32_t>(i % w), r = static_cast<uint32_t>(i / w);
        cube->mutable_pose()->mutable_position()->set_x(t.origin_x_m() + (c + 0.5) * s);
        cube->mutable_pose()->mutable_position()->set_y(t.origin_y_m() + (r + 0.5) * s);
        cube->mutable_pose()->mutable_position()->set_z(t.elevation_m(static_cast<int>(i)) + 0.02);
        cube->mutable_pose()->mutable_orientation()->set_w(1);
        cube->mutable_size()->set_x(s);
        cube->mutable_size()->set_y(s);
        cube->mutable_size()->set_z(0.04);
        if (kind == 1) {
          SetColour(cube->mutable_color(), 0.9, 0.67, 0.16, 0.8);  // slope
        } else if (kind == 2) {
          SetColour(cube->mutable_color(), 0.86, 0.2, 0.16, 0.9);  // rock
        } else {
          SetColour(cube->mutable_color(), 0.5, 0.5, 0.5, 0.6);  // not judged
        }
      }
      out.push_back(Make(scene_topic(), std::move(update), ground_ns, onboard_ns,
                         "foxglove.SceneUpdate: terrain, hazards, soil sites, the rover"));
      break;
    }
    case protocol::StreamId::kSoilMeasurement: {
      const auto& m = static_cast<const rover::v1::SoilMeasurement&>(message);
      auto update = std::make_unique<foxglove::SceneUpdate>();
      foxglove::SceneEntity* e = update->add_entities();
      SetTime(e->mutable_timestamp(), onboard_ns);
      e->set_frame_id(kSiteFrame);
      e->set_id(fmt::format("soil/{}", m.measurement_id()));
      std::string what = "soil";
      double r = 0.8, g = 0.8, b = 0.8;
      if (m.has_vnis()) {
        what = fmt::format("VNIS BD 1 µm {:.3f}, 2 µm {:.3f}", m.vnis().band_depth_1um(),
                           m.vnis().band_depth_2um());
        r = 0.31, g = 0.76, b = 0.97;
      } else if (m.has_apxs()) {
        what = fmt::format("APXS FeO {:.2f} wt %", m.apxs().feo_wt_percent());
        r = 0.88, g = 0.25, b = 0.98;
      } else if (m.has_neutron()) {
        const double weh = m.neutron().hydrogen_weh_wt_percent();
        what = fmt::format("neutron WEH {:.3f} wt %", weh);
        const double k = std::clamp(weh / 1.5, 0.0, 1.0);
        r = 0.16 + 0.84 * k, g = 0.35 + 0.65 * k, b = 0.86 + 0.14 * k;
      }
      foxglove::KeyValuePair* kv = e->add_metadata();
      kv->set_key("result");
      kv->set_value(what);
      foxglove::SpherePrimitive* ball = e->add_spheres();
      ball->mutable_pose()->mutable_position()->set_x(m.x_m());
      ball->mutable_pose()->mutable_position()->set_y(m.y_m());
      ball->mutable_pose()->mutable_position()->set_z(last_z_m_ + 0.1);
      ball->mutable_pose()->mutable_orientation()->set_w(1);
      ball->mutable_size()->set_x(0.15);
      ball->mutable_size()->set_y(0.15);
      ball->mutable_size()->set_z(0.15);
      SetColour(ball->mutable_color(), r, g, b);
      foxglove::TextPrimitive* label = e->add_texts();
      label->mutable_pose()->CopyFrom(ball->pose());
      label->mutable_pose()->mutable_position()->set_z(last_z_m_ + 0.35);
      label->set_billboard(true);
      label->set_font_size(12);
      label->set_scale_invariant(true);
      SetColour(label->mutable_color(), 1, 1, 1);
      label->set_text(fmt::format("#{} {}", m.measurement_id(), what));
      out.push_back(Make(scene_topic(), std::move(update), ground_ns, onboard_ns,
                         "foxglove.SceneUpdate: terrain, hazards, soil sites, the rover"));
      break;
    }
    case protocol::StreamId::kEvent: {
      const auto& ev = static_cast<const rover::v1::Event&>(message);
      auto log = std::make_unique<foxglove::Log>();
      SetTime(log->mutable_timestamp(), onboard_ns);
      log->set_level(LevelOf(ev.severity()));
      log->set_message(ev.message());
      log->set_name(fmt::format("{}/event/{}", rover_id_, rover::v1::EventKind_Name(ev.kind())));
      out.push_back(Make(log_topic(), std::move(log), ground_ns, onboard_ns,
                         "foxglove.Log: rover events, alarms, command stages"));
      break;
    }
    default:
      break;
  }
}

void SceneProducts::OnAlarm(const ground::v1::GroundAlarm& a, int64_t ground_ns,
                            std::vector<SceneMessage>& out) {
  auto log = std::make_unique<foxglove::Log>();
  SetTime(log->mutable_timestamp(), ground_ns);
  const bool over = a.state() == "cleared" || a.state() == "acknowledged";
  log->set_level(over                         ? foxglove::Log::INFO
                 : a.severity() == "critical" ? foxglove::Log::ERROR
                                              : foxglove::Log::WARNING);
  log->set_message(fmt::format("{} {} {}: {}", a.severity(), a.id(), a.state(), a.text()));
  log->set_name("ground/alarms");
  out.push_back(Make(log_topic(), std::move(log), ground_ns, ground_ns,
                     "foxglove.Log: rover events, alarms, command stages"));
}

void SceneProducts::OnCommand(const ground::v1::GroundCommand& c, int64_t ground_ns,
                              std::vector<SceneMessage>& out) {
  auto log = std::make_unique<foxglove::Log>();
  SetTime(log->mutable_timestamp(), ground_ns);
  const bool bad = c.stage() == ground::v1::COMMAND_STAGE_FAILED ||
                   c.stage() == ground::v1::COMMAND_STAGE_REJECTED ||
                   c.stage() == ground::v1::COMMAND_STAGE_TIMED_OUT;
  log->set_level(bad ? foxglove::Log::ERROR : foxglove::Log::INFO);
  std::string stage = ground::v1::CommandStage_Name(c.stage());
  if (stage.starts_with("COMMAND_STAGE_")) stage = stage.substr(14);
  log->set_message(fmt::format("command #{} {}{}{} {}{}{}", c.command_id(), c.name(),
                               c.arguments().empty() ? "" : " ", c.arguments(), stage,
                               c.detail().empty() ? "" : ": ", c.detail()));
  log->set_name("ground/commands");
  out.push_back(Make(log_topic(), std::move(log), ground_ns, ground_ns,
                     "foxglove.Log: rover events, alarms, command stages"));
}

}  // namespace lgs::station
