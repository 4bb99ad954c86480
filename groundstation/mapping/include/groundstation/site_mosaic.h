// SiteMosaic: the site map built from every terrain tile the rover sent — elevation and hazard
// class per cell at the tiles' resolution, the newest observation winning per cell, with the
// on-board time each cell was observed — and the layers derived from it (slope, hillshade).
//
// Cells live in blocks of kBlockCells² allocated where tiles fell, so memory follows the area
// observed (13 octets a cell), never what a tile claims: a tile is checked against its own arrays
// before a cell is touched. The grid is fixed by the first tile (its cell size; cell (0, 0) has
// its south-west corner at the site origin); a tile off that grid is refused with the reason.
//
// Copies are cheap snapshots: a copy shares the blocks, and the first write to a shared block
// copies that block only (64×64 cells), so a reader can render from a copy while the owner goes
// on adding tiles.
//
// Not thread-safe: one owner (the ingest thread's map sink, or a tool reading recordings). Copies
// may be made by another thread only while the owner is not adding (the map sink holds a lock
// for the copy); a copy is then its holder's alone.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "protocol/status.h"
#include "rover/v1/terrain.pb.h"

namespace lgs::station {

enum class MapLayer { kElevation, kSlope, kHazard, kHillshade, kObservedAt };
std::string_view NameOf(MapLayer layer);
std::optional<MapLayer> MapLayerNamed(std::string_view name);  // "elevation", "slope", ...
// The names, for help texts and errors: "elevation|slope|hazard|hillshade|observed_at".
std::string MapLayerNames();

// Hazard classes as the rover's tiles carry them, and the value of a cell nothing observed.
inline constexpr uint8_t kHazardSafe = 0, kHazardSlope = 1, kHazardRock = 2, kHazardUnknown = 3;
inline constexpr uint8_t kHazardNoData = 255;

// A rectangle of cells: columns [col0, col0 + width) east, rows [row0, row0 + height) north.
struct CellWindow {
  int64_t col0 = 0, row0 = 0;
  int64_t width = 0, height = 0;
  bool empty() const { return width <= 0 || height <= 0; }
};

// One layer over a window, north-up as image formats store it: values[r * width + c] is the cell
// (window.col0 + c, window.row0 + window.height - 1 - r). Cells nothing observed hold `nodata`.
struct MapRaster {
  MapLayer layer = MapLayer::kElevation;
  CellWindow window;
  double cell_size_m = 0.0;
  double nodata = 0.0;
  std::vector<double> values;
  size_t observed_cells = 0;
  // Site-frame metres of the window's west and north edges (a GIS geotransform's origin).
  double west_m() const { return static_cast<double>(window.col0) * cell_size_m; }
  double north_m() const { return static_cast<double>(window.row0 + window.height) * cell_size_m; }
};

struct MosaicStats {
  uint64_t tiles = 0;           // accepted
  uint64_t tiles_refused = 0;   // malformed or off the grid (Add said why)
  uint64_t cells_written = 0;   // cells a tile set (new or newer)
  uint64_t cells_stale = 0;     // cells a tile skipped because a newer observation was there
  uint64_t observed_cells = 0;  // distinct cells observed
  size_t blocks = 0;
  uint64_t blocks_copied = 0;  // copy-on-write: blocks a snapshot shared when a tile wrote them
};

class SiteMosaic {
 public:
  static constexpr int64_t kBlockCells = 64;
  // Largest tile side accepted: far beyond what a stereo pair maps, small enough that a refused
  // claim costs nothing.
  static constexpr uint32_t kMaxTileCells = 4096;

  // Adds a tile observed at `observed_ns` (its packet's on-board time). Cells already holding a
  // newer observation keep it. Fails, changing nothing, on a tile whose sizes disagree with its
  // arrays, whose cell size or origin is not a finite positive / on the mosaic's grid.
  [[nodiscard]] Status Add(const rover::v1::TerrainTile& tile, int64_t observed_ns);

  bool empty() const { return blocks_.empty(); }
  double cell_size_m() const { return cell_size_m_; }
  // The smallest window holding every observed cell (empty when nothing was).
  CellWindow Bounds() const;
  // The window of cells a site-frame rectangle [x0, x1) × [y0, y1) metres covers.
  CellWindow WindowOf(double x0_m, double y0_m, double x1_m, double y1_m) const;

  struct Cell {
    float elevation_m = std::numeric_limits<float>::quiet_NaN();
    uint8_t hazard = kHazardNoData;
    int64_t observed_ns = 0;
    bool observed() const { return hazard != kHazardNoData; }
  };
  Cell At(int64_t col, int64_t row) const;  // an unobserved cell when nothing was there

  // A layer over `window` (Bounds() when empty). Slope (degrees, Horn's 3×3 gradient) and
  // hillshade (0..255, sun from `sun_azimuth_deg` clockwise from north at `sun_elevation_deg`)
  // need a cell's eight neighbours observed; a cell without them is nodata there. Fails on a
  // window too large to hold (`max_cells`) or one with nothing observed.
  //
  // With `step` > 1 the layer is rendered on a coarser grid of step×step cells (a zoomed-out
  // view): the window grows to whole coarse cells and the raster's window and cell size are the
  // coarse grid's (so west_m/north_m stay exact). A coarse cell takes the elevation and time of
  // its centre cell, slope and hillshade from those, and the most severe hazard of all its cells.
  struct RenderOptions {
    CellWindow window;
    int64_t step = 1;
    double sun_azimuth_deg = 315.0;  // the cartographers' north-west light
    double sun_elevation_deg = 45.0;
    size_t max_cells = size_t{1} << 28;
  };
  [[nodiscard]] Result<MapRaster> Render(MapLayer layer, const RenderOptions& options) const;

  const MosaicStats& stats() const { return stats_; }

 private:
  struct Block {
    std::vector<float> elevation;
    std::vector<uint8_t> hazard;
    std::vector<int64_t> observed_ns;
  };
  struct KeyHash {
    size_t operator()(uint64_t k) const { return k * 0x9E3779B97F4A7C15ull >> 16; }
  };
  static uint64_t KeyOf(int64_t bx, int64_t by);
  Block& BlockAt(int64_t bx, int64_t by);
  const Block* FindBlock(int64_t bx, int64_t by) const;

  double cell_size_m_ = 0.0;
  std::unordered_map<uint64_t, std::shared_ptr<Block>, KeyHash> blocks_;
  int64_t min_col_ = 0, min_row_ = 0, max_col_ = -1, max_row_ = -1;
  MosaicStats stats_;
};

}  // namespace lgs::station
