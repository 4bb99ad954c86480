#include "groundstation/link_schedule.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
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
    s.every_s = Seconds(p, "every", at, 60, true);
    s.first_s = Seconds(p, "first", at, 0, false);
    s.duration_s = Seconds(p, "duration", at, 1, true);
    if (s.duration_s >= s.every_s) {
      throw ScheduleError{fmt::format("{}.duration: must be shorter than 'every'", at)};
    }
  }
}

}  // namespace

bool LinkSchedule::InOutage(double t) const {
  for (const Window& w : outages) {
    if (t >= w.start_s && t < w.start_s + w.duration_s) return true;
  }
  return every_s > 0 && t >= first_s && std::fmod(t - first_s, every_s) < duration_s;
}

std::optional<double> LinkSchedule::NextLoss(double t) const {
  std::optional<double> best;
  const auto take = [&](double at) {
    if (at >= t && (!best || at < *best)) best = at;
  };
  for (const Window& w : outages) take(w.start_s);
  if (every_s > 0) {
    const double k = t <= first_s ? 0 : std::ceil((t - first_s) / every_s);
    take(first_s + k * every_s);
  }
  // Inside an outage, the loss that counts is the next one after it ends.
  if (best && InOutage(t)) {
    const auto end = NextAcquisition(t);
    if (end && *best < *end) return NextLoss(*end);
  }
  return best;
}

std::optional<double> LinkSchedule::NextAcquisition(double t) const {
  double at = t;
  if (!InOutage(at)) {
    const auto loss = NextLoss(t);
    if (!loss) return std::nullopt;
    at = *loss;
  }
  // Overlapping windows chain: the signal is back where none holds any more.
  for (int guard = 0; guard < 10'000 && InOutage(at); ++guard) {
    double end = at;
    for (const Window& w : outages) {
      if (at >= w.start_s && at < w.start_s + w.duration_s)
        end = std::max(end, w.start_s + w.duration_s);
    }
    if (every_s > 0 && at >= first_s) {
      const double phase = std::fmod(at - first_s, every_s);
      if (phase < duration_s) end = std::max(end, at - phase + duration_s);
    }
    if (end <= at) break;
    at = end;
  }
  return at;
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
    if (s.outages.empty() && s.every_s == 0) {
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

Result<LinkSchedule> LoadLinkSchedule(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Error(fmt::format("link schedule {}: cannot be read", path));
  std::stringstream text;
  text << in.rdbuf();
  return ParseLinkSchedule(text.str(), path);
}

}  // namespace lgs::station
