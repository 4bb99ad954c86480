// Durations as people write them in scenario and schedule files and on command lines: "90",
// "90s", "250ms", "15m" or "15min", "2h", "1.5d" (spaces ignored). Shared by the rover emulator's
// scenarios and the station's link schedule. Thread-safe (a pure function).
#pragma once

#include <optional>
#include <string_view>

namespace lgs::protocol {

// Seconds; nullopt when the text is not a duration (no number, an unknown unit, not finite).
std::optional<double> ParseDurationSeconds(std::string_view text);

}  // namespace lgs::protocol
