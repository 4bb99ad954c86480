#include "rover_emulator/scenario.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "builtin_scenarios.h"

namespace lgs::emulator {
namespace {

// Thrown inside the parser only; LoadScenario/ParseScenario turn it into a Status.
struct ScenarioError {
  std::string message;
};

class Context {
 public:
  explicit Context(std::string_view source) : source_(source) {}
  [[noreturn]] void Fail(const YAML::Node& node, std::string_view field,
                         std::string_view problem) const {
    const YAML::Mark mark = node.Mark();
    const std::string where =
        mark.is_null() ? source_ : fmt::format("{}:{}:{}", source_, mark.line + 1, mark.column + 1);
    throw ScenarioError{fmt::format("scenario {}: field '{}': {}", where, field, problem)};
  }

 private:
  std::string source_;
};

// One YAML mapping: typed fields, ranges checked, unknown keys rejected (typos are not silent).
class Fields {
 public:
  Fields(const Context& ctx, const YAML::Node& node, std::string path)
      : ctx_(ctx), node_(node), path_(std::move(path)) {
    if (node_ && !node_.IsNull() && !node_.IsMap()) {
      ctx_.Fail(node_, path_.empty() ? "(top level)" : path_, "must be a mapping of fields");
    }
  }

  std::string PathOf(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }

  YAML::Node Take(std::string_view key) {
    known_.insert(std::string(key));
    if (!node_ || !node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node n = node_[std::string(key)];
    // "key:" with nothing after it means the default, like leaving the key out.
    return n && n.IsNull() ? YAML::Node(YAML::NodeType::Undefined) : n;
  }

  void Number(std::string_view key, double& out, double min, double max) {
    const YAML::Node n = Take(key);
    if (!n) return;
    double v = 0.0;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !std::isfinite(v)) {
      ctx_.Fail(n, PathOf(key), fmt::format("'{}' is not a number", Text(n)));
    }
    CheckRange(n, key, v, min, max);
    out = v;
  }

  template <typename Int>
  void Integer(std::string_view key, Int& out, double min, double max) {
    double v = static_cast<double>(out);
    Number(key, v, min, max);
    if (v != std::floor(v)) ctx_.Fail(Take(key), PathOf(key), "must be a whole number");
    out = static_cast<Int>(v);
  }

  void Duration(std::string_view key, double& out_s, double min_s, double max_s) {
    const YAML::Node n = Take(key);
    if (!n) return;
    std::optional<double> v = n.IsScalar() ? ParseDurationSeconds(n.Scalar()) : std::nullopt;
    if (!v) {
      ctx_.Fail(
          n, PathOf(key),
          fmt::format("'{}' is not a duration (seconds, or a number with s, m, h or d)", Text(n)));
    }
    CheckRange(n, key, *v, min_s, max_s);
    out_s = *v;
  }

  void String(std::string_view key, std::string& out) {
    const YAML::Node n = Take(key);
    if (!n) return;
    if (!n.IsScalar()) ctx_.Fail(n, PathOf(key), "must be text");
    out = n.Scalar();
  }

  // Every key of the mapping must have been asked for.
  void Finish() const {
    if (!node_ || !node_.IsMap()) return;
    for (const auto& entry : node_) {
      const std::string key = entry.first.Scalar();
      if (known_.count(key) == 0) {
        std::string list;
        for (const std::string& k : known_) list += (list.empty() ? "" : ", ") + k;
        ctx_.Fail(entry.first, PathOf(key),
                  fmt::format("unknown field (expected one of: {})", list));
      }
    }
  }

  const Context& ctx() const { return ctx_; }

 private:
  static std::string Text(const YAML::Node& n) {
    if (n.IsScalar()) return n.Scalar();
    return n.IsSequence() ? "a list" : "a mapping";
  }
  void CheckRange(const YAML::Node& n, std::string_view key, double v, double min, double max) {
    if (v < min || v > max) {
      ctx_.Fail(n, PathOf(key), fmt::format("{} is outside {}..{}", v, min, max));
    }
  }

  const Context& ctx_;
  YAML::Node node_;
  std::string path_;
  std::set<std::string> known_;
};

constexpr double kDay = 86400.0;
constexpr double kMaxMission = 400.0 * kDay;

void ReadTerrain(Fields f, TerrainSpec& t) {
  f.Number("size_m", t.size_m, 32.0, 2048.0);
  f.Number("cell_m", t.cell_m, 0.1, 4.0);
  f.Number("relief_m", t.relief_m, 0.0, 50.0);
  f.Number("regional_slope_deg", t.regional_slope_deg, 0.0, 30.0);
  f.Number("craters_per_hectare", t.craters_per_hectare, 0.0, 500.0);
  f.Number("rocks_per_m2", t.rocks_per_m2, 0.0, 2.0);
  f.Number("far_horizon_max_deg", t.far_horizon_max_deg, 0.0, 10.0);
  f.Finish();
  if (t.size_m / t.cell_m > 4096.0) {
    throw ScenarioError{"scenario: terrain.size_m / terrain.cell_m must not exceed 4096 cells"};
  }
}

void ReadSite(Fields f, SiteSpec& s) {
  f.String("name", s.name);
  f.Number("latitude_deg", s.latitude_deg, -90.0, -60.0);
  f.Number("longitude_deg", s.longitude_deg, -180.0, 360.0);
  f.Number("sun_declination_deg", s.sun_declination_deg, -1.6, 1.6);
  f.Number("sun_declination_rate_deg_per_day", s.sun_declination_rate_deg_per_day, -1.0, 1.0);
  f.Number("sun_azimuth_deg", s.sun_azimuth_deg, 0.0, 360.0);
  ReadTerrain(Fields(f.ctx(), f.Take("terrain"), f.PathOf("terrain")), s.terrain);
  f.Finish();
}

void ReadRover(Fields f, RoverSpec& r) {
  f.Number("drive_speed_m_per_h", r.drive_speed_m_per_h, 1.0, 200.0);
  f.Number("battery_capacity_wh", r.battery_capacity_wh, 10.0, 5000.0);
  f.Number("initial_soc_percent", r.initial_soc_percent, 0.0, 100.0);
  f.Number("solar_array_peak_w", r.solar_array_peak_w, 0.0, 1000.0);
  f.Number("shed_science_soc_percent", r.shed_science_soc_percent, 0.0, 100.0);
  f.Number("safe_mode_soc_percent", r.safe_mode_soc_percent, 0.0, 100.0);
  f.Number("hibernate_soc_percent", r.hibernate_soc_percent, 0.0, 100.0);
  f.Number("wake_soc_percent", r.wake_soc_percent, 0.0, 100.0);
  f.Number("max_slope_deg", r.max_slope_deg, 1.0, 45.0);
  f.Number("max_obstacle_m", r.max_obstacle_m, 0.01, 1.0);
  f.Duration("hazard_replan_after", r.hazard_replan_after_s, 0.0, kMaxMission);
  f.Finish();
  if (!(r.hibernate_soc_percent <= r.safe_mode_soc_percent &&
        r.safe_mode_soc_percent <= r.shed_science_soc_percent &&
        r.hibernate_soc_percent < r.wake_soc_percent)) {
    throw ScenarioError{
        "scenario: rover thresholds must satisfy hibernate <= safe_mode <= shed_science and "
        "hibernate < wake"};
  }
}

void ReadTraverse(Fields f, TraverseSpec& t) {
  const YAML::Node points = f.Take("waypoints");
  if (points) {
    if (!points.IsSequence()) f.ctx().Fail(points, f.PathOf("waypoints"), "must be a list");
    t.waypoints.clear();
    for (size_t i = 0; i < points.size(); ++i) {
      const YAML::Node p = points[i];
      const std::string field = fmt::format("{}[{}]", f.PathOf("waypoints"), i);
      double x = 0, y = 0;
      if (!p.IsSequence() || p.size() != 2 || !YAML::convert<double>::decode(p[0], x) ||
          !YAML::convert<double>::decode(p[1], y) || std::abs(x) > 1000 || std::abs(y) > 1000) {
        f.ctx().Fail(p, field, "must be [x_m, y_m] within ±1000 m of the landing point");
      }
      t.waypoints.emplace_back(x, y);
    }
    if (t.waypoints.empty()) f.ctx().Fail(points, f.PathOf("waypoints"), "must not be empty");
  }
  f.Integer("random_waypoints", t.random_waypoints, 1, 1000);
  f.Number("random_leg_min_m", t.random_leg_min_m, 0.5, 500.0);
  f.Number("random_leg_max_m", t.random_leg_max_m, 0.5, 500.0);
  f.Number("science_stop_every_m", t.science_stop_every_m, 0.1, 10'000.0);
  f.Duration("science_stop_duration", t.science_stop_duration_s, 0.0, kDay);
  f.Finish();
  if (t.random_leg_min_m > t.random_leg_max_m) {
    throw ScenarioError{"scenario: traverse.random_leg_min_m exceeds random_leg_max_m"};
  }
}

void ReadLink(Fields f, LinkProfile& l) {
  f.Number("light_time_s", l.light_time_s, 0.0, 60.0);
  f.Number("bandwidth_bps", l.bandwidth_bps, 0.0, 1e10);
  if (l.bandwidth_bps > 0 && l.bandwidth_bps < 500.0) {
    f.ctx().Fail(f.Take("bandwidth_bps"), f.PathOf("bandwidth_bps"),
                 "must be 0 (unlimited) or at least 500 bit/s");
  }
  f.Number("loss_probability", l.loss_probability, 0.0, 1.0);
  f.Number("bit_error_rate", l.bit_error_rate, 0.0, 1e-2);
  f.Number("duplicate_probability", l.duplicate_probability, 0.0, 1.0);
  f.Number("reorder_probability", l.reorder_probability, 0.0, 1.0);
  f.Integer("reorder_window", l.reorder_window, 1, 10'000);
  f.Integer("store_capacity_packets", l.store_capacity_packets, 0, 1e9);
  f.Integer("retransmit_store_packets", l.retransmit_store_packets, 0, 1e8);
  f.Number("uplink_loss_probability", l.uplink_loss_probability, 0.0, 1.0);
  f.Integer("uplink_lose_first", l.uplink_lose_first, 0, 1e6);
  const YAML::Node outages = f.Take("outages");
  if (outages) {
    if (!outages.IsSequence()) f.ctx().Fail(outages, f.PathOf("outages"), "must be a list");
    for (size_t i = 0; i < outages.size(); ++i) {
      Fields o(f.ctx(), outages[i], fmt::format("{}[{}]", f.PathOf("outages"), i));
      OutageSpec spec;
      o.Duration("start", spec.start_s, 0.0, kMaxMission);
      o.Duration("duration", spec.duration_s, 1.0, kMaxMission);
      o.Finish();
      l.outages.push_back(spec);
    }
  }
  const YAML::Node periodic = f.Take("periodic_outage");
  if (periodic) {
    Fields p(f.ctx(), periodic, f.PathOf("periodic_outage"));
    p.Duration("every", l.outage_every_s, 60.0, kMaxMission);
    p.Duration("first", l.outage_first_s, 0.0, kMaxMission);
    p.Duration("duration", l.outage_duration_s, 1.0, kMaxMission);
    p.Finish();
    if (l.outage_duration_s >= l.outage_every_s) {
      f.ctx().Fail(periodic, f.PathOf("periodic_outage.duration"),
                   "must be shorter than 'every' (the relay must come back into view)");
    }
  }
  f.Finish();
}

void ReadCamera(Fields f, CameraSpec& c) {
  f.Integer("width_px", c.width_px, 16, 8192);
  f.Integer("height_px", c.height_px, 16, 8192);
  f.Number("fov_deg", c.fov_deg, 5.0, 150.0);
  f.Number("height_m", c.height_m, 0.1, 5.0);
  f.Number("baseline_m", c.baseline_m, 0.0, 2.0);
  f.Number("fixed_tilt_deg", c.fixed_tilt_deg, -90.0, 45.0);
  f.Integer("jpeg_quality", c.jpeg_quality, 10, 100);
  f.Finish();
}

void ReadCameras(Fields f, CameraSpecs& c) {
  ReadCamera(Fields(f.ctx(), f.Take("navcam"), f.PathOf("navcam")), c.navcam);
  ReadCamera(Fields(f.ctx(), f.Take("pancam"), f.PathOf("pancam")), c.pancam);
  ReadCamera(Fields(f.ctx(), f.Take("hazcam"), f.PathOf("hazcam")), c.hazcam);
  f.Finish();
}

void ReadFiles(Fields f, FileDeliverySpec& d) {
  f.Integer("store_capacity_bytes", d.store_capacity_bytes, 1 << 16, 1ull << 36);
  std::string mode = d.acknowledged ? "acknowledged" : "unacknowledged";
  f.String("cfdp_class", mode);
  if (mode != "acknowledged" && mode != "unacknowledged" && mode != "1" && mode != "2") {
    f.ctx().Fail(f.Take("cfdp_class"), f.PathOf("cfdp_class"),
                 "must be acknowledged (class 2) or unacknowledged (class 1)");
  }
  d.acknowledged = mode == "acknowledged" || mode == "2";
  f.Integer("max_file_data", d.max_file_data, 64, 1500);
  f.Number("ack_interval_s", d.ack_interval_s, 0.0, 3600.0);
  f.Integer("ack_limit", d.ack_limit, 1, 1000);
  f.Finish();
}

void ReadEvents(const Context& ctx, const YAML::Node& list, Scenario& s) {
  if (!list) return;
  if (!list.IsSequence()) ctx.Fail(list, "events", "must be a list");
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string path = fmt::format("events[{}]", i);
    Fields e(ctx, list[i], path);
    std::string kind;
    e.String("kind", kind);
    if (kind == "solar_particle_event") {
      SolarParticleEventSpec spe;
      e.Duration("at", spe.onset_s, 0.0, kMaxMission);
      e.Duration("rise", spe.rise_s, 60.0, 2 * kDay);
      e.Number("peak_factor", spe.peak_factor, 2.0, 100.0);
      e.Duration("decay", spe.decay_s, 600.0, 10 * kDay);
      e.Number("forbush_dip_percent", spe.forbush_dip_percent, 0.0, 30.0);
      e.Duration("forbush_recovery", spe.forbush_recovery_s, 3600.0, 30 * kDay);
      e.Finish();
      s.solar_particle_events.push_back(spe);
    } else {
      ctx.Fail(list[i]["kind"] ? list[i]["kind"] : list[i], path + ".kind",
               fmt::format("unknown event kind '{}' (expected: solar_particle_event)", kind));
    }
  }
}

Scenario Parse(std::string_view text, std::string_view source) {
  Context ctx(source);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    throw ScenarioError{fmt::format("scenario {}:{}:{}: not valid YAML: {}", source,
                                    e.mark.line + 1, e.mark.column + 1, e.msg)};
  }
  Scenario s;
  s.source = std::string(source);
  Fields top(ctx, root, "");
  top.String("name", s.name);
  top.String("description", s.description);
  top.Integer("seed", s.seed, 0, 9.007e15);
  ReadSite(Fields(ctx, top.Take("site"), "site"), s.site);
  ReadRover(Fields(ctx, top.Take("rover"), "rover"), s.rover);
  ReadTraverse(Fields(ctx, top.Take("traverse"), "traverse"), s.traverse);
  ReadEvents(ctx, top.Take("events"), s);
  ReadLink(Fields(ctx, top.Take("link"), "link"), s.link);
  ReadCameras(Fields(ctx, top.Take("cameras"), "cameras"), s.cameras);
  ReadFiles(Fields(ctx, top.Take("files"), "files"), s.files);
  top.Finish();
  return s;
}

}  // namespace

LinkProfile LinkProfile::Ideal() {
  LinkProfile l;
  l.light_time_s = 0.0;
  l.bandwidth_bps = 0.0;
  l.loss_probability = 0.0;
  l.bit_error_rate = 0.0;
  l.duplicate_probability = 0.0;
  l.reorder_probability = 0.0;
  l.uplink_loss_probability = 0.0;
  l.outages.clear();
  l.outage_every_s = 0.0;
  return l;
}

bool LinkProfile::InOutage(double t) const {
  return protocol::InOutage(outages, {outage_first_s, outage_every_s, outage_duration_s}, t);
}

double LinkProfile::OutageEnd(double t) const {
  return protocol::OutageEnd(outages, {outage_first_s, outage_every_s, outage_duration_s}, t);
}

std::vector<std::string> BuiltinScenarioNames() {
  std::vector<std::string> names;
  for (const BuiltinScenario& b : kBuiltinScenarios) names.emplace_back(b.name);
  return names;
}

Result<Scenario> ParseScenario(std::string_view text, std::string_view source) {
  try {
    return Parse(text, source);
  } catch (const ScenarioError& e) {
    return Status::Error(e.message);
  } catch (const YAML::Exception& e) {
    return Status::Error(fmt::format("scenario {}: {}", source, e.what()));
  }
}

Result<Scenario> LoadScenario(std::string_view name_or_path) {
  for (const BuiltinScenario& b : kBuiltinScenarios) {
    if (b.name == name_or_path) {
      auto s = ParseScenario(b.yaml, fmt::format("built-in '{}'", b.name));
      if (s.ok()) s->source = "built-in";
      return s;
    }
  }
  std::ifstream in{std::string(name_or_path)};
  if (!in) {
    std::string names;
    for (const std::string& n : BuiltinScenarioNames()) names += (names.empty() ? "" : ", ") + n;
    return Status::Error(
        fmt::format("scenario '{}' is neither a built-in scenario ({}) nor a readable file",
                    name_or_path, names));
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseScenario(text.str(), name_or_path);
}

}  // namespace lgs::emulator
