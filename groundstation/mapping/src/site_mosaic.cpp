#include "groundstation/site_mosaic.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace lgs::station {
namespace {

constexpr double kDegPerRad = 180.0 / M_PI;
constexpr double kNoElevation = -32768.0;  // GIS convention for a DEM's nodata
constexpr double kNoSlope = -1.0;
constexpr double kNoShade = 0.0;  // shades are 1..255
constexpr double kNoTime = -1.0;
// How far a tile's origin may sit off the grid, in cells (float rounding of origin = index × size).
constexpr double kGridTolerance = 1e-3;

struct LayerName {
  MapLayer layer;
  std::string_view name;
};
constexpr LayerName kLayerNames[] = {{MapLayer::kElevation, "elevation"},
                                     {MapLayer::kSlope, "slope"},
                                     {MapLayer::kHazard, "hazard"},
                                     {MapLayer::kHillshade, "hillshade"},
                                     {MapLayer::kObservedAt, "observed_at"}};

int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

}  // namespace

std::string_view NameOf(MapLayer layer) {
  for (const LayerName& n : kLayerNames) {
    if (n.layer == layer) return n.name;
  }
  return "unknown";
}

std::optional<MapLayer> MapLayerNamed(std::string_view name) {
  for (const LayerName& n : kLayerNames) {
    if (n.name == name) return n.layer;
  }
  return std::nullopt;
}

std::string MapLayerNames() {
  std::string out;
  for (const LayerName& n : kLayerNames) {
    if (!out.empty()) out += '|';
    out += n.name;
  }
  return out;
}

uint64_t SiteMosaic::KeyOf(int64_t bx, int64_t by) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(bx)) << 32) | static_cast<uint32_t>(by);
}

SiteMosaic::Block& SiteMosaic::BlockAt(int64_t bx, int64_t by) {
  auto [it, inserted] = blocks_.try_emplace(KeyOf(bx, by));
  if (inserted) {
    auto block = std::make_shared<Block>();
    constexpr size_t n = kBlockCells * kBlockCells;
    block->elevation.assign(n, std::numeric_limits<float>::quiet_NaN());
    block->hazard.assign(n, kHazardNoData);
    block->observed_ns.assign(n, 0);
    it->second = std::move(block);
    stats_.blocks = blocks_.size();
  } else if (it->second.use_count() > 1) {
    // A snapshot shares this block: it keeps the old cells, this mosaic writes a copy. (A count
    // that drops to 1 meanwhile only costs a needless copy; none rises during an Add: copies
    // are made only while no tile is being added.)
    it->second = std::make_shared<Block>(*it->second);
    ++stats_.blocks_copied;
  }
  return *it->second;
}

const SiteMosaic::Block* SiteMosaic::FindBlock(int64_t bx, int64_t by) const {
  auto it = blocks_.find(KeyOf(bx, by));
  return it == blocks_.end() ? nullptr : it->second.get();
}

Status SiteMosaic::Add(const rover::v1::TerrainTile& tile, int64_t observed_ns) {
  const auto refuse = [&](std::string why) {
    ++stats_.tiles_refused;
    return Status::Error(
        fmt::format("terrain tile ({}, {}) refused: {}", tile.tile_x(), tile.tile_y(), why));
  };
  const uint32_t w = tile.width_cells(), h = tile.height_cells();
  if (w == 0 || h == 0 || w > kMaxTileCells || h > kMaxTileCells) {
    return refuse(fmt::format("{}×{} cells (1..{} a side)", w, h, kMaxTileCells));
  }
  const uint64_t cells = uint64_t{w} * h;
  if (static_cast<uint64_t>(tile.elevation_m_size()) != cells) {
    return refuse(fmt::format("{}×{} cells but {} elevations", w, h, tile.elevation_m_size()));
  }
  if (tile.hazard_mask().size() != cells) {
    return refuse(
        fmt::format("{}×{} cells but a hazard mask of {} octets", w, h, tile.hazard_mask().size()));
  }
  const double cell = tile.cell_size_m();
  if (!std::isfinite(cell) || cell <= 0.0) return refuse(fmt::format("cell size {} m", cell));
  if (cell_size_m_ == 0.0) {
    cell_size_m_ = cell;
  } else if (std::abs(cell - cell_size_m_) > 1e-9 * cell_size_m_) {
    return refuse(fmt::format("cell size {} m, the map's is {} m", cell, cell_size_m_));
  }
  const double fc = tile.origin_x_m() / cell_size_m_, fr = tile.origin_y_m() / cell_size_m_;
  if (!std::isfinite(fc) || !std::isfinite(fr) || std::abs(fc) > 1e9 || std::abs(fr) > 1e9) {
    return refuse(fmt::format("origin ({}, {}) m", tile.origin_x_m(), tile.origin_y_m()));
  }
  const double rc = std::round(fc), rr = std::round(fr);
  if (std::abs(fc - rc) > kGridTolerance || std::abs(fr - rr) > kGridTolerance) {
    return refuse(fmt::format("origin ({}, {}) m is off the map's {} m grid", tile.origin_x_m(),
                              tile.origin_y_m(), cell_size_m_));
  }
  for (float e : tile.elevation_m()) {
    if (!std::isfinite(e)) return refuse("an elevation that is not a number");
  }
  const int64_t col0 = static_cast<int64_t>(rc), row0 = static_cast<int64_t>(rr);
  const auto* mask = reinterpret_cast<const uint8_t*>(tile.hazard_mask().data());
  // Blocks are held by pointer: one stays valid while others are added.
  Block* block = nullptr;
  int64_t block_x = 0, block_y = 0;
  for (uint32_t r = 0; r < h; ++r) {
    const int64_t row = row0 + r, by = FloorDiv(row, kBlockCells);
    for (uint32_t c = 0; c < w; ++c) {
      const int64_t col = col0 + c, bx = FloorDiv(col, kBlockCells);
      if (block == nullptr || bx != block_x || by != block_y) {
        block = &BlockAt(bx, by);
        block_x = bx;
        block_y = by;
      }
      Block& b = *block;
      const size_t i =
          static_cast<size_t>((row - by * kBlockCells) * kBlockCells + (col - bx * kBlockCells));
      const bool was = b.hazard[i] != kHazardNoData;
      if (was && b.observed_ns[i] > observed_ns) {
        ++stats_.cells_stale;
        continue;
      }
      const size_t k = size_t{r} * w + c;
      b.elevation[i] = tile.elevation_m(static_cast<int>(k));
      // A class the rover does not define is one it could not judge.
      b.hazard[i] = mask[k] <= kHazardUnknown ? mask[k] : kHazardUnknown;
      b.observed_ns[i] = observed_ns;
      ++stats_.cells_written;
      if (!was) ++stats_.observed_cells;
    }
  }
  if (max_col_ < min_col_) {
    min_col_ = col0;
    min_row_ = row0;
    max_col_ = col0 + w - 1;
    max_row_ = row0 + h - 1;
  } else {
    min_col_ = std::min(min_col_, col0);
    min_row_ = std::min(min_row_, row0);
    max_col_ = std::max<int64_t>(max_col_, col0 + w - 1);
    max_row_ = std::max<int64_t>(max_row_, row0 + h - 1);
  }
  ++stats_.tiles;
  return Status::Ok();
}

CellWindow SiteMosaic::Bounds() const {
  if (max_col_ < min_col_) return {};
  return {min_col_, min_row_, max_col_ - min_col_ + 1, max_row_ - min_row_ + 1};
}

CellWindow SiteMosaic::WindowOf(double x0_m, double y0_m, double x1_m, double y1_m) const {
  if (cell_size_m_ <= 0.0 || !(x1_m > x0_m) || !(y1_m > y0_m)) return {};
  const auto lo = [&](double m) { return static_cast<int64_t>(std::floor(m / cell_size_m_)); };
  const auto hi = [&](double m) { return static_cast<int64_t>(std::ceil(m / cell_size_m_)); };
  return {lo(x0_m), lo(y0_m), hi(x1_m) - lo(x0_m), hi(y1_m) - lo(y0_m)};
}

SiteMosaic::Cell SiteMosaic::At(int64_t col, int64_t row) const {
  const int64_t bx = FloorDiv(col, kBlockCells), by = FloorDiv(row, kBlockCells);
  const Block* b = FindBlock(bx, by);
  if (b == nullptr) return {};
  const size_t i =
      static_cast<size_t>((row - by * kBlockCells) * kBlockCells + (col - bx * kBlockCells));
  return {b->elevation[i], b->hazard[i], b->observed_ns[i]};
}

namespace {

// Hazard classes by how much they matter on a map that shows one class for many cells: rock,
// then slope, then cells the rover could not judge, then safe.
int Severity(uint8_t hazard) {
  switch (hazard) {
    case kHazardRock:
      return 4;
    case kHazardSlope:
      return 3;
    case kHazardUnknown:
      return 2;
    case kHazardSafe:
      return 1;
    default:
      return 0;
  }
}

}  // namespace

Result<MapRaster> SiteMosaic::Render(MapLayer layer, const RenderOptions& options) const {
  CellWindow win = options.window.empty() ? Bounds() : options.window;
  if (win.empty()) return Status::Error("the map is empty: no terrain tile was observed");
  const int64_t step = options.step;
  if (step < 1 || step > 4096) {
    return Status::Error(fmt::format("a step of {} cells (1..4096)", step));
  }
  if (step > 1) {
    // The coarse grid: cell (c, r) covers the fine cells [c·step, (c+1)·step), so its edges lie
    // on the fine grid's and the geotransform stays exact.
    const int64_t c0 = FloorDiv(win.col0, step), r0 = FloorDiv(win.row0, step);
    const int64_t c1 = FloorDiv(win.col0 + win.width - 1, step) + 1;
    const int64_t r1 = FloorDiv(win.row0 + win.height - 1, step) + 1;
    win = CellWindow{c0, r0, c1 - c0, r1 - r0};
  }
  if (static_cast<uint64_t>(win.width) * static_cast<uint64_t>(win.height) > options.max_cells) {
    return Status::Error(fmt::format("a window of {}×{} cells is more than the {} allowed",
                                     win.width, win.height, options.max_cells));
  }
  // The window and a border of one (coarse) cell, the slope's neighbours, dense, south row
  // first: each block is looked up once, not each cell. NaN elevation marks a cell nothing
  // observed. A coarse cell takes the elevation (and time) of the fine cell at its centre, and
  // the most severe hazard of all its fine cells, so no rock disappears when zoomed out.
  const int64_t pw = win.width + 2, ph = win.height + 2;
  const int64_t pc0 = (win.col0 - 1) * step, pr0 = (win.row0 - 1) * step;  // fine cells
  const int64_t centre = step / 2;
  const bool derived = layer == MapLayer::kSlope || layer == MapLayer::kHillshade;
  std::vector<float> elevation;
  std::vector<uint8_t> hazard;
  std::vector<int64_t> observed;
  const size_t dense = static_cast<size_t>(pw * ph);
  elevation.assign(dense, std::numeric_limits<float>::quiet_NaN());
  if (layer == MapLayer::kHazard) hazard.assign(dense, kHazardNoData);
  if (layer == MapLayer::kObservedAt) observed.assign(dense, 0);
  const int64_t fine_w = pw * step, fine_h = ph * step;
  for (int64_t by = FloorDiv(pr0, kBlockCells); by <= FloorDiv(pr0 + fine_h - 1, kBlockCells);
       ++by) {
    for (int64_t bx = FloorDiv(pc0, kBlockCells); bx <= FloorDiv(pc0 + fine_w - 1, kBlockCells);
         ++bx) {
      const Block* b = FindBlock(bx, by);
      if (b == nullptr) continue;
      const int64_t r_lo = std::max(pr0, by * kBlockCells);
      const int64_t r_hi = std::min(pr0 + fine_h, (by + 1) * kBlockCells);
      const int64_t c_lo = std::max(pc0, bx * kBlockCells);
      const int64_t c_hi = std::min(pc0 + fine_w, (bx + 1) * kBlockCells);
      for (int64_t row = r_lo; row < r_hi; ++row) {
        const int64_t dr = (row - pr0) / step;
        const bool centre_row = (row - pr0) % step == centre;
        if (!centre_row && hazard.empty()) continue;
        const size_t fine_row = static_cast<size_t>((row - by * kBlockCells) * kBlockCells);
        if (step == 1) {  // the full-resolution export: no division per cell
          for (int64_t col = c_lo; col < c_hi; ++col) {
            const size_t i = fine_row + static_cast<size_t>(col - bx * kBlockCells);
            if (b->hazard[i] == kHazardNoData) continue;
            const size_t d = static_cast<size_t>(dr * pw + (col - pc0));
            elevation[d] = b->elevation[i];
            if (!hazard.empty()) hazard[d] = b->hazard[i];
            if (!observed.empty()) observed[d] = b->observed_ns[i];
          }
          continue;
        }
        for (int64_t col = c_lo; col < c_hi; ++col) {
          const size_t i = fine_row + static_cast<size_t>(col - bx * kBlockCells);
          const uint8_t h = b->hazard[i];
          if (h == kHazardNoData) continue;
          const size_t d = static_cast<size_t>(dr * pw + (col - pc0) / step);
          if (!hazard.empty() && Severity(h) > Severity(hazard[d])) hazard[d] = h;
          if (!centre_row || (col - pc0) % step != centre) continue;
          elevation[d] = b->elevation[i];
          if (!observed.empty()) observed[d] = b->observed_ns[i];
        }
      }
    }
  }
  // A coarse cell whose centre nothing observed but where some cell was: it has a hazard class,
  // so it is observed, with the elevation unknown (only the hazard layer reads it).
  if (!hazard.empty()) {
    for (size_t d = 0; d < dense; ++d) {
      if (hazard[d] != kHazardNoData && std::isnan(elevation[d])) elevation[d] = 0.0f;
    }
  }

  MapRaster out;
  out.layer = layer;
  out.window = win;
  out.cell_size_m = cell_size_m_ * static_cast<double>(step);
  switch (layer) {
    case MapLayer::kElevation:
      out.nodata = kNoElevation;
      break;
    case MapLayer::kSlope:
      out.nodata = kNoSlope;
      break;
    case MapLayer::kHazard:
      out.nodata = kHazardNoData;
      break;
    case MapLayer::kHillshade:
      out.nodata = kNoShade;
      break;
    case MapLayer::kObservedAt:
      out.nodata = kNoTime;
      break;
  }
  out.values.assign(static_cast<size_t>(win.width * win.height), out.nodata);
  const double s = out.cell_size_m;
  const double az = options.sun_azimuth_deg / kDegPerRad,
               el = options.sun_elevation_deg / kDegPerRad;
  const double lx = std::sin(az) * std::cos(el), ly = std::cos(az) * std::cos(el),
               lz = std::sin(el);
  for (int64_t r = 0; r < win.height; ++r) {
    const int64_t prow = win.height - r;  // north-up: the first output row is the north one
    for (int64_t c = 0; c < win.width; ++c) {
      const int64_t pcol = c + 1;
      const size_t d = static_cast<size_t>(prow * pw + pcol);
      if (std::isnan(elevation[d])) continue;  // unobserved (Add refuses NaN elevations)
      double& v = out.values[static_cast<size_t>(r * win.width + c)];
      if (!derived) {
        ++out.observed_cells;
        if (layer == MapLayer::kElevation) v = elevation[d];
        if (layer == MapLayer::kHazard) v = hazard[d];
        if (layer == MapLayer::kObservedAt) v = static_cast<double>(observed[d]) / 1e9;
        continue;
      }
      const auto z = [&](int64_t dc, int64_t dr) {
        return static_cast<double>(elevation[static_cast<size_t>((prow + dr) * pw + pcol + dc)]);
      };
      const double a = z(-1, 1), b = z(0, 1), cc = z(1, 1), dd = z(-1, 0), f = z(1, 0),
                   g = z(-1, -1), hh = z(0, -1), i = z(1, -1);
      const double dzdx = ((cc + 2 * f + i) - (a + 2 * dd + g)) / (8 * s);
      const double dzdy = ((a + 2 * b + cc) - (g + 2 * hh + i)) / (8 * s);
      if (!std::isfinite(dzdx) || !std::isfinite(dzdy)) continue;  // a neighbour unobserved
      ++out.observed_cells;
      if (layer == MapLayer::kSlope) {
        v = std::atan(std::hypot(dzdx, dzdy)) * kDegPerRad;
      } else {
        const double norm = std::sqrt(dzdx * dzdx + dzdy * dzdy + 1.0);
        const double lit = (-dzdx * lx - dzdy * ly + lz) / norm;
        v = 1.0 + std::round(254.0 * std::max(0.0, lit));
      }
    }
  }
  return out;
}

}  // namespace lgs::station
