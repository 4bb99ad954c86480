// The rover model's constants, shared by the files it is split into by subsystem
// (rover_model.cpp, mobility.cpp, activities.cpp, environment.cpp, instruments.cpp, imaging.cpp).
// Private to rover_emulator/src.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

namespace lgs::emulator::model {

inline constexpr double kNsPerS = 1e9;
inline constexpr double kDegPerRad = 180.0 / M_PI;
inline constexpr double kMoonRadiusM = 1'737'400.0;
// Model steps in at most this much mission time so fast replays stay stable.
inline constexpr double kMaxStepS = 1.0;

// GCR at solar minimum, Chang'e-4 LND (Zhang et al. 2020).
inline constexpr double kGcrDoseRateUgyPerH = 13.2;
inline constexpr double kNeutralDoseRateUgyPerH = 3.1;
inline constexpr double kMeanQualityFactor = 4.3;

// Apollo 16 highland soil means (Lunar Sourcebook table 7.15), MgO raised for the south pole.
inline constexpr std::array<double, 10> kHighlandOxides = {45.0, 27.3, 15.7, 5.1,  7.0,
                                                           0.54, 0.46, 0.17, 0.33, 0.3};

inline constexpr double kVnisStartUm = 0.45;
inline constexpr double kVnisEndUm = 2.40;
inline constexpr double kVnisStepUm = 0.01;

inline constexpr int kLetBins = 30;
inline constexpr double kLetMinKevPerUm = 0.1;
inline constexpr double kLetMaxKevPerUm = 1000.0;

inline constexpr uint32_t kTileCells = 32;
inline constexpr double kTileCellM = 0.1;

inline double Gaussian(double x, double centre, double width) {
  const double d = (x - centre) / width;
  return std::exp(-0.5 * d * d);
}

}  // namespace lgs::emulator::model
