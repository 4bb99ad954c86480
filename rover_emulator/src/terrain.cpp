#include "rover_emulator/terrain.h"

#include <algorithm>
#include <cmath>

#include "rover_emulator/random.h"

namespace lgs::emulator {
namespace {

constexpr double kDegPerRad = 180.0 / M_PI;
constexpr double kSynodicMonthS = 29.530589 * 86400.0;
constexpr double kSunDiscDeg = 0.53;
constexpr double kArrayHeightM = 1.0;  // horizon seen from the solar array / mast
constexpr double kRockBucketM = 1.0;
// Seeds of the independent draws, so adding rocks never moves a crater.
constexpr uint64_t kReliefStream = 0x7e11'0001, kCraterStream = 0x7e11'0002,
                   kRockStream = 0x7e11'0003, kHorizonStream = 0x7e11'0004;

double Smooth(double t) {
  return t * t * (3.0 - 2.0 * t);
}

}  // namespace

Terrain::Terrain(const TerrainSpec& spec, uint64_t seed) : spec_(spec) {
  cells_ = static_cast<int>(std::lround(spec.size_m / spec.cell_m)) + 1;
  half_size_m_ = spec.size_m / 2.0;
  height_.assign(static_cast<size_t>(cells_) * cells_, 0.0f);

  // Rolling relief: value noise, four octaves from 64 m down to 8 m.
  Random relief(seed ^ kReliefStream);
  const double slope_dir = relief.Uniform(0.0, 2.0 * M_PI);
  const double slope = std::tan(spec.regional_slope_deg / kDegPerRad);
  for (int octave = 0; octave < 4; ++octave) {
    const double spacing = 64.0 / (1 << octave);
    const double amplitude = spec.relief_m * std::pow(0.45, octave);
    const int lattice = static_cast<int>(std::ceil(spec.size_m / spacing)) + 2;
    std::vector<double> values(static_cast<size_t>(lattice) * lattice);
    for (double& v : values) v = relief.Uniform(-1.0, 1.0);
    for (int iy = 0; iy < cells_; ++iy) {
      for (int ix = 0; ix < cells_; ++ix) {
        const double gx = ix * spec.cell_m / spacing, gy = iy * spec.cell_m / spacing;
        const int x0 = static_cast<int>(gx), y0 = static_cast<int>(gy);
        const double fx = Smooth(gx - x0), fy = Smooth(gy - y0);
        const auto v = [&](int x, int y) { return values[static_cast<size_t>(y) * lattice + x]; };
        const double top = v(x0, y0) + (v(x0 + 1, y0) - v(x0, y0)) * fx;
        const double bottom = v(x0, y0 + 1) + (v(x0 + 1, y0 + 1) - v(x0, y0 + 1)) * fx;
        height_[static_cast<size_t>(iy) * cells_ + ix] +=
            static_cast<float>(amplitude * (top + (bottom - top) * fy));
      }
    }
  }
  for (int iy = 0; iy < cells_; ++iy) {
    for (int ix = 0; ix < cells_; ++ix) {
      const double x = ix * spec.cell_m - half_size_m_, y = iy * spec.cell_m - half_size_m_;
      height_[static_cast<size_t>(iy) * cells_ + ix] +=
          static_cast<float>(slope * (x * std::sin(slope_dir) + y * std::cos(slope_dir)));
    }
  }

  // Fresh craters: cumulative size-frequency N(>D) ~ D^-2 from 2 m to 40 m across, depth 0.2 D,
  // raised rims. The landing point itself (within 6 m) is kept clear.
  Random craters(seed ^ kCraterStream);
  const int crater_count =
      static_cast<int>(std::lround(spec.craters_per_hectare * spec.size_m * spec.size_m / 1e4));
  for (int i = 0; i < crater_count; ++i) {
    const double radius = std::min(20.0, 1.0 / std::sqrt(std::max(1e-6, craters.Uniform())));
    const double cx = craters.Uniform(-half_size_m_, half_size_m_);
    const double cy = craters.Uniform(-half_size_m_, half_size_m_);
    if (std::hypot(cx, cy) < radius * 1.5 + 6.0) continue;
    const double depth = 0.4 * radius;
    const double reach = radius * 1.6;
    const int x_lo = std::max(0, static_cast<int>((cx - reach + half_size_m_) / spec.cell_m));
    const int x_hi =
        std::min(cells_ - 1, static_cast<int>((cx + reach + half_size_m_) / spec.cell_m) + 1);
    const int y_lo = std::max(0, static_cast<int>((cy - reach + half_size_m_) / spec.cell_m));
    const int y_hi =
        std::min(cells_ - 1, static_cast<int>((cy + reach + half_size_m_) / spec.cell_m) + 1);
    for (int iy = y_lo; iy <= y_hi; ++iy) {
      for (int ix = x_lo; ix <= x_hi; ++ix) {
        const double r =
            std::hypot(ix * spec.cell_m - half_size_m_ - cx, iy * spec.cell_m - half_size_m_ - cy) /
            radius;
        double dz = 0.0;
        if (r < 1.0) {
          dz = -depth * (1.0 - r * r) + 0.08 * radius;  // bowl, floor meets the rim
        } else if (r < 1.6) {
          dz = 0.08 * radius * std::pow((1.6 - r) / 0.6, 2.0);  // ejecta rim
        }
        height_[static_cast<size_t>(iy) * cells_ + ix] += static_cast<float>(dz);
      }
    }
  }

  // Rocks: heights 3-30 cm with a steep power law; only a few exceed the 15 cm hazard limit.
  Random rocks(seed ^ kRockStream);
  buckets_ = static_cast<int>(std::ceil(spec.size_m / kRockBucketM)) + 1;
  rock_buckets_.resize(static_cast<size_t>(buckets_) * buckets_);
  const auto rock_total = static_cast<size_t>(spec.rocks_per_m2 * spec.size_m * spec.size_m);
  for (size_t i = 0; i < rock_total; ++i) {
    Rock rock{};
    rock.x = static_cast<float>(rocks.Uniform(-half_size_m_, half_size_m_));
    rock.y = static_cast<float>(rocks.Uniform(-half_size_m_, half_size_m_));
    rock.height = static_cast<float>(
        std::min(0.30, 0.03 * std::pow(std::max(1e-9, rocks.Uniform()), -1.0 / 2.5)));
    rock.radius = std::max(0.05f, rock.height);
    if (std::hypot(rock.x, rock.y) < 3.0) continue;  // the lander's deck cameras cleared it
    const int bx = static_cast<int>((rock.x + half_size_m_) / kRockBucketM);
    const int by = static_cast<int>((rock.y + half_size_m_) / kRockBucketM);
    rock_buckets_[static_cast<size_t>(by) * buckets_ + bx].push_back(rock);
    ++rock_count_;
  }

  // Slope at every grid node (central differences), so hazard checks and tile masks are a lookup.
  slope_deg_.assign(height_.size(), 0.0f);
  for (int iy = 0; iy < cells_; ++iy) {
    for (int ix = 0; ix < cells_; ++ix) {
      const double dzdx = (Cell(ix + 1, iy) - Cell(ix - 1, iy)) / (2 * spec.cell_m);
      const double dzdy = (Cell(ix, iy + 1) - Cell(ix, iy - 1)) / (2 * spec.cell_m);
      slope_deg_[static_cast<size_t>(iy) * cells_ + ix] =
          static_cast<float>(std::atan(std::hypot(dzdx, dzdy)) * kDegPerRad);
    }
  }

  max_elevation_m_ = *std::max_element(height_.begin(), height_.end()) + 0.30;  // tallest rock

  // Distant massifs around the plateau.
  Random horizon(seed ^ kHorizonStream);
  for (int i = 0; i < 7; ++i) {
    massifs_.push_back({horizon.Uniform(0.0, 360.0), horizon.Uniform(15.0, 50.0),
                        horizon.Uniform(0.35, 1.0) * spec.far_horizon_max_deg});
  }
}

double Terrain::Cell(int ix, int iy) const {
  ix = std::clamp(ix, 0, cells_ - 1);
  iy = std::clamp(iy, 0, cells_ - 1);
  return height_[static_cast<size_t>(iy) * cells_ + ix];
}

double Terrain::Interpolate(const std::vector<float>& grid, double x_m, double y_m) const {
  const double gx = (x_m + half_size_m_) / spec_.cell_m, gy = (y_m + half_size_m_) / spec_.cell_m;
  const int ix = static_cast<int>(std::floor(gx)), iy = static_cast<int>(std::floor(gy));
  const double fx = std::clamp(gx - ix, 0.0, 1.0), fy = std::clamp(gy - iy, 0.0, 1.0);
  const auto at = [&](int x, int y) {
    return grid[static_cast<size_t>(std::clamp(y, 0, cells_ - 1)) * cells_ +
                static_cast<size_t>(std::clamp(x, 0, cells_ - 1))];
  };
  const double top = at(ix, iy) + (at(ix + 1, iy) - at(ix, iy)) * fx;
  const double bottom = at(ix, iy + 1) + (at(ix + 1, iy + 1) - at(ix, iy + 1)) * fx;
  return top + (bottom - top) * fy;
}

double Terrain::Elevation(double x_m, double y_m) const {
  return Interpolate(height_, x_m, y_m);
}

double Terrain::RockHeight(double x_m, double y_m) const {
  const int bx = static_cast<int>(std::floor((x_m + half_size_m_) / kRockBucketM));
  const int by = static_cast<int>(std::floor((y_m + half_size_m_) / kRockBucketM));
  double best = 0.0;
  for (int y = by - 1; y <= by + 1; ++y) {
    if (y < 0 || y >= buckets_) continue;
    for (int x = bx - 1; x <= bx + 1; ++x) {
      if (x < 0 || x >= buckets_) continue;
      for (const Rock& r : rock_buckets_[static_cast<size_t>(y) * buckets_ + x]) {
        const double dx = x_m - r.x, dy = y_m - r.y, r2 = double{r.radius} * r.radius;
        const double d2 = dx * dx + dy * dy;
        if (d2 < r2) best = std::max(best, r.height * std::sqrt(1.0 - d2 / r2));
      }
    }
  }
  return best;
}

double Terrain::SlopeDeg(double x_m, double y_m) const {
  return Interpolate(slope_deg_, x_m, y_m);
}

double Terrain::FarHorizonDeg(double azimuth_deg) const {
  double best = 0.1;
  for (const Massif& m : massifs_) {
    double d = std::fmod(std::abs(azimuth_deg - m.azimuth_deg), 360.0);
    if (d > 180.0) d = 360.0 - d;
    best = std::max(best, m.height_deg * std::exp(-0.5 * (d / (m.width_deg / 2.0)) *
                                                  (d / (m.width_deg / 2.0))));
  }
  return best;
}

double Terrain::HorizonDeg(double x_m, double y_m, double azimuth_deg) const {
  const double a = azimuth_deg / kDegPerRad;
  const double dx = std::sin(a), dy = std::cos(a);
  const double eye = Elevation(x_m, y_m) + kArrayHeightM;
  double best = FarHorizonDeg(azimuth_deg);
  const double step = std::max(1.0, 2.0 * spec_.cell_m);
  for (double d = step; d < spec_.size_m; d += step) {
    const double px = x_m + dx * d, py = y_m + dy * d;
    if (std::abs(px) > half_size_m_ || std::abs(py) > half_size_m_) break;
    best = std::max(best, std::atan2(Elevation(px, py) - eye, d) * kDegPerRad);
    if (d > 32.0) d += step;  // coarser far away: the angle changes slowly there
  }
  return best;
}

double Terrain::SunlitFraction(double x_m, double y_m, const SunPosition& sun) const {
  const double above = sun.elevation_deg - HorizonDeg(x_m, y_m, sun.azimuth_deg);
  return std::clamp(above / kSunDiscDeg + 0.5, 0.0, 1.0);
}

SunPosition SunAt(const SiteSpec& site, double mission_s) {
  const double days = mission_s / 86400.0;
  const double declination =
      std::clamp(site.sun_declination_deg + site.sun_declination_rate_deg_per_day * days, -1.6,
                 1.6) /
      kDegPerRad;
  const double lat = site.latitude_deg / kDegPerRad;
  // Near the pole the sun circles the sky once per synodic month; its hour angle is its azimuth
  // measured from where it culminates.
  const double hour_angle = 2.0 * M_PI * mission_s / kSynodicMonthS;
  const double sin_el = std::sin(lat) * std::sin(declination) +
                        std::cos(lat) * std::cos(declination) * std::cos(hour_angle);
  SunPosition sun;
  sun.elevation_deg = std::asin(std::clamp(sin_el, -1.0, 1.0)) * kDegPerRad;
  sun.azimuth_deg = std::fmod(site.sun_azimuth_deg + hour_angle * kDegPerRad, 360.0);
  return sun;
}

}  // namespace lgs::emulator
