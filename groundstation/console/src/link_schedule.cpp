#include "groundstation/link_schedule.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "protocol/duration.h"

namespace lgs::station {
namespace {

// A schedule longer than a century is a typo.
constexpr double kMaxMissionS = 100.0 * 366 * 86400;

struct ScheduleError {
  std::string message;
};

double Seconds(const YAML::Node& map, const std::string& key, const std::string& where,
               double min_s, bool required) {
  const YAML::Node n = map[key];
  if (!n) {
    if (required) throw ScheduleError{fmt::format("{}: '{}' is missing", where, key)};
    return 0;
  }
  const auto v = n.IsScalar() ? protocol::ParseDurationSeconds(n.Scalar()) : std::nullopt;
  if (!v) {
    throw ScheduleError{
        fmt::format("{}.{}: not a duration (seconds, or a number with s, m, h or d)", where, key)};
  }
  if (*v < min_s || *v > kMaxMissionS) {
    throw ScheduleError{
        fmt::format("{}.{}: {} s is outside {}..{} s", where, key, *v, min_s, kMaxMissionS)};
  }
  return *v;
}

void OnlyKeys(const YAML::Node& map, const std::set<std::string>& keys, const std::string& where) {
  for (const auto& entry : map) {
    const std::string key = entry.first.Scalar();
    if (!keys.count(key)) {
      std::string list;
      for (const std::string& k : keys) list += (list.empty() ? "" : ", ") + k;
      throw ScheduleError{
          fmt::format("{}.{}: unknown field (expected one of: {})", where, key, list)};
    }
  }
}

void Read(const YAML::Node& link, const std::string& where, LinkSchedule& s) {
  if (const YAML::Node outages = link["outages"]) {
    if (!outages.IsSequence())
      throw ScheduleError{fmt::format("{}.outages: must be a list", where)};
    for (size_t i = 0; i < outages.size(); ++i) {
      const std::string at = fmt::format("{}.outages[{}]", where, i);
      if (!outages[i].IsMap()) throw ScheduleError{fmt::format("{}: must be a mapping", at)};
      OnlyKeys(outages[i], {"start", "duration"}, at);
      s.outages.push_back({Seconds(outages[i], "start", at, 0, true),
                           Seconds(outages[i], "duration", at, 1, true)});
    }
  }
  if (const YAML::Node p = link["periodic_outage"]) {
    const std::string at = where + ".periodic_outage";
    if (!p.IsMap()) throw ScheduleError{fmt::format("{}: must be a mapping", at)};
    OnlyKeys(p, {"first", "every", "duration"}, at);
    s.periodic.every_s = Seconds(p, "every", at, 60, true);
    s.periodic.first_s = Seconds(p, "first", at, 0, false);
    s.periodic.duration_s = Seconds(p, "duration", at, 1, true);
    if (s.periodic.duration_s >= s.periodic.every_s) {
      throw ScheduleError{fmt::format("{}.duration: must be shorter than 'every'", at)};
    }
  }
}

}  // namespace

bool LinkSchedule::InOutage(double t) const {
  return protocol::InOutage(outages, periodic, t);
}

std::optional<double> LinkSchedule::NextLoss(double t) const {
  return protocol::NextOutageStart(outages, periodic, t);
}

std::optional<double> LinkSchedule::NextAcquisition(double t) const {
  if (InOutage(t)) return protocol::OutageEnd(outages, periodic, t);
  const auto loss = NextLoss(t);
  if (!loss) return std::nullopt;
  return protocol::OutageEnd(outages, periodic, *loss);
}

Result<LinkSchedule> ParseLinkSchedule(const std::string& text, const std::string& source) {
  try {
    const YAML::Node root = YAML::Load(text);
    if (!root.IsMap())
      return Status::Error(fmt::format("link schedule {}: expected a mapping", source));
    LinkSchedule s;
    s.source = source;
    if (const YAML::Node link = root["link"]) {
      // A rover-emulator scenario: only its link's outages are the schedule.
      if (!link.IsMap())
        return Status::Error(fmt::format("link schedule {}: link: must be a mapping", source));
      Read(link, "link", s);
    } else {
      OnlyKeys(root, {"name", "description", "outages", "periodic_outage"}, source);
      Read(root, source, s);
    }
    if (s.outages.empty() && s.periodic.every_s == 0) {
      return Status::Error(fmt::format(
          "link schedule {}: no outages and no periodic_outage: nothing to predict", source));
    }
    return s;
  } catch (const ScheduleError& e) {
    return Status::Error(fmt::format("link schedule {}: {}", source, e.message));
  } catch (const YAML::Exception& e) {
    return Status::Error(fmt::format("link schedule {}: {}", source, e.what()));
  }
}

namespace {

std::optional<std::string> ReadText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Result<LinkSchedule> LoadLinkSchedule(const std::string& path) {
  const auto text = ReadText(path);
  if (!text) return Status::Error(fmt::format("link schedule {}: cannot be read", path));
  return ParseLinkSchedule(*text, path);
}

bool SunSchedule::InShadow(double t) const {
  return t < until_s && protocol::InOutage(shadows, {}, t);
}

std::optional<double> SunSchedule::NextLoss(double t) const {
  const auto next = protocol::NextOutageStart(shadows, {}, t);
  if (!next || *next >= until_s) return std::nullopt;
  return next;
}

std::optional<double> SunSchedule::NextReturn(double t) const {
  const auto start = InShadow(t) ? std::optional<double>(t) : NextLoss(t);
  if (!start) return std::nullopt;
  const double end = protocol::OutageEnd(shadows, {}, *start);
  // A spell that runs to the plan's end: the plan does not say when it ends.
  if (end >= until_s) return std::nullopt;
  return end;
}

Result<SunSchedule> ParseSunSchedule(const std::string& text, const std::string& source) {
  try {
    const YAML::Node root = YAML::Load(text);
    if (!root.IsMap() || !root["sun"] || !root["sun"].IsMap()) {
      return Status::Error(fmt::format(
          "sun schedule {}: expected a 'sun:' mapping (rover_emulator --write-sun-plan)", source));
    }
    const YAML::Node sun = root["sun"];
    OnlyKeys(sun, {"site", "at_m", "step", "until", "shadows"}, "sun");
    SunSchedule s;
    s.source = source;
    s.until_s = Seconds(sun, "until", "sun", 1, true);
    const YAML::Node shadows = sun["shadows"];
    if (!shadows || !shadows.IsSequence()) {
      throw ScheduleError{"sun.shadows: must be a list (empty when the sun never sets)"};
    }
    for (size_t i = 0; i < shadows.size(); ++i) {
      const std::string at = fmt::format("sun.shadows[{}]", i);
      if (!shadows[i].IsMap()) throw ScheduleError{fmt::format("{}: must be a mapping", at)};
      OnlyKeys(shadows[i], {"start", "duration"}, at);
      s.shadows.push_back({Seconds(shadows[i], "start", at, 0, true),
                           Seconds(shadows[i], "duration", at, 0.001, true)});
    }
    return s;
  } catch (const ScheduleError& e) {
    return Status::Error(fmt::format("sun schedule {}: {}", source, e.message));
  } catch (const YAML::Exception& e) {
    return Status::Error(fmt::format("sun schedule {}: {}", source, e.what()));
  }
}

Result<SunSchedule> LoadSunSchedule(const std::string& path) {
  const auto text = ReadText(path);
  if (!text) return Status::Error(fmt::format("sun schedule {}: cannot be read", path));
  return ParseSunSchedule(*text, path);
}

}  // namespace lgs::station
