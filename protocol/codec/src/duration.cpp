#include "protocol/duration.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>

namespace lgs::protocol {

std::optional<double> ParseDurationSeconds(std::string_view text) {
  std::string s(text);
  s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return c == ' '; }), s.end());
  if (s.empty()) return std::nullopt;
  size_t used = 0;
  double value = 0.0;
  try {
    value = std::stod(s, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const std::string unit = s.substr(used);
  static const std::map<std::string, double> kUnits = {{"", 1.0},     {"s", 1.0},    {"m", 60.0},
                                                       {"min", 60.0}, {"h", 3600.0}, {"d", 86400.0},
                                                       {"ms", 1e-3}};
  const auto it = kUnits.find(unit);
  if (it == kUnits.end() || !std::isfinite(value)) return std::nullopt;
  return value * it->second;
}

}  // namespace lgs::protocol
