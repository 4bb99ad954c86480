// Random: a seeded generator whose sequence is the same on every platform and standard library.
//
// std::normal_distribution and friends are implementation-defined, so a seed would not give the
// same mission everywhere; these draws are written out here. Not thread-safe.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

namespace lgs::emulator {

class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}

  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double Uniform(double low, double high) { return low + (high - low) * Uniform(); }

  // Normal via Box-Muller; one value per call so the sequence does not depend on call pairing.
  double Normal(double mean, double stddev) {
    double u1 = Uniform();
    while (u1 <= 0.0) u1 = Uniform();
    const double u2 = Uniform();
    return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }

  // Poisson counts: exact for small means, normal approximation above 50.
  uint32_t Poisson(double mean) {
    if (mean <= 0.0) return 0;
    if (mean > 50.0) {
      const double v = std::round(Normal(mean, std::sqrt(mean)));
      return v < 0.0 ? 0u : static_cast<uint32_t>(v);
    }
    const double limit = std::exp(-mean);
    uint32_t k = 0;
    double product = Uniform();
    while (product > limit) {
      ++k;
      product *= Uniform();
    }
    return k;
  }

  bool Chance(double probability) { return Uniform() < probability; }

 private:
  std::mt19937_64 engine_;  // its output sequence is fixed by the standard
};

}  // namespace lgs::emulator
