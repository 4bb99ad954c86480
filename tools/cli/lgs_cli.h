// Argument checks every program of the project applies to its command line (station, emulator,
// gsctl), so a value that parses but means nothing is an error in one line, not a silent
// misbehaviour: "nan" for a number of seconds (it passes every "< 0" range check and then turns
// off a rate limit), "-1" for an unsigned count (CLI11 wraps it to 18446744073709551615), a
// size too large to represent. Header-only, over CLI11. Not thread-safe (call before parsing).
#pragma once

#include <CLI/CLI.hpp>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>

namespace lgs::cli {

// Every number is finite.
inline const CLI::Validator kFinite(
    [](std::string& value) -> std::string {
      char* end = nullptr;
      const double v = std::strtod(value.c_str(), &end);
      if (end != value.c_str() && !std::isfinite(v))
        return "'" + value + "' is not a finite number";
      return {};
    },
    "", "FINITE");

// An unsigned count or size: no sign, and few enough digits to fit (units are allowed after).
inline const CLI::Validator kUnsigned(
    [](std::string& value) -> std::string {
      size_t i = 0;
      while (i < value.size() && std::isspace(static_cast<unsigned char>(value[i]))) ++i;
      if (i < value.size() && (value[i] == '-' || value[i] == '+')) {
        return "'" + value + "' must be a number without a sign";
      }
      size_t digits = 0;
      while (i + digits < value.size() &&
             std::isdigit(static_cast<unsigned char>(value[i + digits]))) {
        ++digits;
      }
      if (digits > 15) return "'" + value + "' is too large";
      return {};
    },
    "", "UNSIGNED");

// Adds the checks to every option of `app` and its subcommands by type: floating-point options
// must be finite, unsigned and size options unsigned and in range. Call once, after the options
// are declared and before parsing.
inline void CheckNumbers(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    const std::string type = option->get_type_name();
    if (type.find("FLOAT") != std::string::npos) option->check(kFinite);
    if (type.find("UINT") != std::string::npos || type.find("SIZE") != std::string::npos) {
      option->check(kUnsigned);
    }
  }
  for (CLI::App* sub : app.get_subcommands({})) CheckNumbers(*sub);
}

}  // namespace lgs::cli
