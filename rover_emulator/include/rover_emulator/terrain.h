// Terrain: the seeded elevation model of the landing region — rolling relief, a regional slope,
// fresh craters with rims, rocks, and a distant horizon of massifs — plus the sun's position and
// the shadows the terrain casts, so dark spells happen where the terrain says.
//
// Built once per mission (about 10 ms for the default 256 m region); every query is cheap and
// const, so the model can ask per wheel step and per tile cell. Same spec + seed => same terrain.
#pragma once

#include <cstdint>
#include <vector>

#include "rover_emulator/scenario.h"

namespace lgs::emulator {

struct SunPosition {
  double elevation_deg = 0.0;
  double azimuth_deg = 0.0;  // 0 = grid north (+y), clockwise
};

class Terrain {
 public:
  Terrain(const TerrainSpec& spec, uint64_t seed);

  // Ground elevation without rocks (metres); outside the region the edge value continues.
  double Elevation(double x_m, double y_m) const;
  // Height of a rock standing at this point (0 where there is none).
  double RockHeight(double x_m, double y_m) const;
  // Steepest slope of the ground at this point (degrees): central differences over one grid cell
  // at the nodes, interpolated between them.
  double SlopeDeg(double x_m, double y_m) const;
  // Elevation angle of the horizon seen from 1 m above the ground here, towards an azimuth:
  // nearby terrain within the region, and the distant massifs beyond it.
  double HorizonDeg(double x_m, double y_m, double azimuth_deg) const;
  // Fraction of the sun's disc above that horizon (0 = in shadow, 1 = fully lit).
  double SunlitFraction(double x_m, double y_m, const SunPosition& sun) const;

  // Elevation angle of the distant massifs beyond the region, towards an azimuth.
  double FarHorizonDeg(double azimuth_deg) const;
  // Highest ground of the region (metres), so a ray above it can stop looking.
  double max_elevation_m() const { return max_elevation_m_; }

  double half_size_m() const { return half_size_m_; }
  size_t rock_count() const { return rock_count_; }

 private:
  struct Rock {
    float x, y, height, radius;
  };
  double Cell(int ix, int iy) const;
  double Interpolate(const std::vector<float>& grid, double x_m, double y_m) const;

  TerrainSpec spec_;
  int cells_ = 0;
  double half_size_m_ = 0.0;
  double max_elevation_m_ = 0.0;  // ground and rocks
  std::vector<float> height_;     // cells_ x cells_, row-major from (-half, -half)
  std::vector<float> slope_deg_;  // same grid: steepest slope at each node
  // Rocks bucketed by 1 m cells for lookup.
  int buckets_ = 0;
  std::vector<std::vector<Rock>> rock_buckets_;
  size_t rock_count_ = 0;
  struct Massif {
    double azimuth_deg, width_deg, height_deg;
  };
  std::vector<Massif> massifs_;
};

// Sun seen from the site at a mission time (seconds since mission start).
SunPosition SunAt(const SiteSpec& site, double mission_s);

}  // namespace lgs::emulator
