#include "groundstation/site_mosaic.h"

#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogr_spatialref.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "groundstation/footprint.h"
#include "groundstation/map_export.h"
#include "groundstation/map_sink.h"
#include "rover/v1/navigation.pb.h"
#include "support/log_capture.h"
#include "support/process.h"

namespace lgs::station {
namespace {

using test::ScratchDir;

constexpr double kCell = 0.1;
constexpr uint32_t kSide = 32;

// A tile of the rover's kind at tile index (tx, ty), each cell's elevation from `z` of its centre
// and hazard from `hazard`.
template <typename Z>
rover::v1::TerrainTile MakeTile(int tx, int ty, Z z, uint8_t hazard = kHazardSafe) {
  rover::v1::TerrainTile t;
  t.set_tile_x(tx);
  t.set_tile_y(ty);
  t.set_origin_x_m(tx * static_cast<int>(kSide) * kCell);
  t.set_origin_y_m(ty * static_cast<int>(kSide) * kCell);
  t.set_cell_size_m(kCell);
  t.set_width_cells(kSide);
  t.set_height_cells(kSide);
  std::string mask(kSide * kSide, static_cast<char>(hazard));
  for (uint32_t r = 0; r < kSide; ++r) {
    for (uint32_t c = 0; c < kSide; ++c) {
      const double x = t.origin_x_m() + (c + 0.5) * kCell, y = t.origin_y_m() + (r + 0.5) * kCell;
      t.add_elevation_m(static_cast<float>(z(x, y)));
      if ((r * 7 + c) % 13 == 0) mask[r * kSide + c] = static_cast<char>(kHazardRock);
    }
  }
  t.set_hazard_mask(mask);
  return t;
}

double Bumps(double x, double y) {
  return 0.3 * std::sin(x * 0.7) + 0.2 * std::cos(y * 1.3) + 5.0;
}

TEST(SiteMosaic, EveryObservedCellOfEveryTileIsInTheMapAtItsSiteCoordinates) {
  SiteMosaic map;
  const std::vector<std::pair<int, int>> where = {{0, 0}, {1, 0}, {-1, 0}, {-2, -3}, {0, 1}};
  std::vector<rover::v1::TerrainTile> tiles;
  for (auto [tx, ty] : where) {
    tiles.push_back(MakeTile(tx, ty, Bumps));
    ASSERT_TRUE(map.Add(tiles.back(), 1'000).ok());
  }
  EXPECT_EQ(map.stats().tiles, where.size());
  EXPECT_EQ(map.stats().observed_cells, where.size() * kSide * kSide);
  const CellWindow b = map.Bounds();
  EXPECT_EQ(b.col0, -2 * int64_t{kSide});
  EXPECT_EQ(b.row0, -3 * int64_t{kSide});
  EXPECT_EQ(b.width, 4 * int64_t{kSide});
  EXPECT_EQ(b.height, 5 * int64_t{kSide});
  auto elevation = map.Render(MapLayer::kElevation, {});
  auto hazard = map.Render(MapLayer::kHazard, {});
  ASSERT_TRUE(elevation.ok()) << elevation.error().message();
  ASSERT_TRUE(hazard.ok());
  EXPECT_EQ(elevation->observed_cells, where.size() * kSide * kSide);
  for (const auto& t : tiles) {
    for (uint32_t r = 0; r < kSide; ++r) {
      for (uint32_t c = 0; c < kSide; ++c) {
        const int64_t col = t.tile_x() * int64_t{kSide} + c, row = t.tile_y() * int64_t{kSide} + r;
        // North-up rows: the raster's row 0 is the window's northernmost.
        const size_t i =
            static_cast<size_t>((b.row0 + b.height - 1 - row) * b.width + col - b.col0);
        ASSERT_EQ(elevation->values[i], t.elevation_m(static_cast<int>(r * kSide + c)));
        ASSERT_EQ(hazard->values[i], static_cast<uint8_t>(t.hazard_mask()[r * kSide + c]));
        EXPECT_EQ(map.At(col, row).observed_ns, 1'000);
      }
    }
  }
  // Where no tile fell, nothing is observed: tile (-1, -1), and the north-west corner.
  EXPECT_FALSE(map.At(-1, -1).observed());
  EXPECT_EQ(elevation->values[0], elevation->nodata);
  EXPECT_EQ(hazard->values[0], kHazardNoData);
}

TEST(SiteMosaic, TheNewestObservationOfACellWinsWhicheverCameFirst) {
  SiteMosaic map;
  const auto flat = [](double h) { return [h](double, double) { return h; }; };
  ASSERT_TRUE(map.Add(MakeTile(0, 0, flat(2.0)), 2'000).ok());
  ASSERT_TRUE(map.Add(MakeTile(0, 0, flat(1.0)), 1'000).ok());  // older, arrived later
  EXPECT_EQ(map.At(5, 5).elevation_m, 2.0f);
  EXPECT_EQ(map.At(5, 5).observed_ns, 2'000);
  EXPECT_EQ(map.stats().cells_stale, kSide * kSide);
  ASSERT_TRUE(map.Add(MakeTile(0, 0, flat(3.0)), 3'000).ok());
  EXPECT_EQ(map.At(5, 5).elevation_m, 3.0f);
  auto when = map.Render(MapLayer::kObservedAt, {});
  ASSERT_TRUE(when.ok());
  EXPECT_DOUBLE_EQ(when->values[0], 3e-6);  // Unix seconds
  EXPECT_EQ(map.stats().observed_cells, kSide * kSide);
}

TEST(SiteMosaic, ATileThatDisagreesWithItselfIsRefusedWithTheReasonAndCostsNothing) {
  SiteMosaic map;
  const auto good = MakeTile(0, 0, Bumps);
  struct Case {
    const char* what;
    std::function<void(rover::v1::TerrainTile&)> spoil;
    const char* says;
  };
  const std::vector<Case> cases = {
      {"claims a huge tile",
       [](auto& t) {
         t.set_width_cells(4000);
         t.set_height_cells(4000);
       },
       "4000×4000 cells but 1024 elevations"},  // checked against its arrays: nothing allocated
      {"claims beyond the limit", [](auto& t) { t.set_width_cells(1u << 30); }, "1..4096"},
      {"short elevations", [](auto& t) { t.mutable_elevation_m()->RemoveLast(); }, "1023 elev"},
      {"short mask", [](auto& t) { t.mutable_hazard_mask()->pop_back(); }, "mask of 1023"},
      {"no cell size", [](auto& t) { t.set_cell_size_m(0); }, "cell size 0 m"},
      {"off the grid", [](auto& t) { t.set_origin_x_m(0.05); }, "off the map's 0.1 m grid"},
      {"not a number", [](auto& t) { t.set_elevation_m(3, NAN); }, "not a number"},
      {"no origin", [](auto& t) { t.set_origin_y_m(INFINITY); }, "origin"},
  };
  for (const Case& c : cases) {
    rover::v1::TerrainTile t = good;
    c.spoil(t);
    const Status s = map.Add(t, 1);
    ASSERT_FALSE(s.ok()) << c.what;
    EXPECT_NE(s.message().find("terrain tile (0, 0) refused"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(c.says), std::string::npos) << s.message();
    EXPECT_EQ(map.stats().blocks, 0u) << c.what;
  }
  EXPECT_EQ(map.stats().tiles_refused, cases.size());
  ASSERT_TRUE(map.Add(good, 1).ok());
  rover::v1::TerrainTile finer = MakeTile(1, 0, Bumps);
  finer.set_cell_size_m(0.05);
  const Status s = map.Add(finer, 2);
  EXPECT_NE(s.message().find("cell size 0.05 m, the map's is 0.1 m"), std::string::npos)
      << s.message();
  // Asking for what is not there.
  EXPECT_EQ(SiteMosaic().Render(MapLayer::kElevation, {}).error().message(),
            "the map is empty: no terrain tile was observed");
  SiteMosaic::RenderOptions far;
  far.window = {10'000, 10'000, 10, 10};
  auto nothing = map.Render(MapLayer::kElevation, far);
  ASSERT_TRUE(nothing.ok());
  EXPECT_EQ(nothing->observed_cells, 0u);
  SiteMosaic::RenderOptions huge;
  huge.window = {0, 0, 1 << 20, 1 << 20};
  EXPECT_NE(map.Render(MapLayer::kElevation, huge).error().message().find("more than"),
            std::string::npos);
}

TEST(SiteMosaic, SlopeAndHillshadeOfAPlaneAreThePlanesOwnWhereTheNeighboursWereSeen) {
  SiteMosaic map;
  // Rising 0.2 m per metre to the east: slope atan(0.2); facing west, away from a sun in the east.
  const auto ramp = [](double x, double) { return 0.2 * x; };
  ASSERT_TRUE(map.Add(MakeTile(0, 0, ramp), 1).ok());
  auto slope = map.Render(MapLayer::kSlope, {});
  ASSERT_TRUE(slope.ok());
  EXPECT_EQ(slope->observed_cells, (kSide - 2) * (kSide - 2));  // the edge cells lack neighbours
  EXPECT_EQ(slope->values[0], slope->nodata);
  EXPECT_NEAR(slope->values[kSide + 1], std::atan(0.2) * 180 / M_PI, 1e-4);
  SiteMosaic::RenderOptions east;
  east.sun_azimuth_deg = 90;
  east.sun_elevation_deg = 30;
  auto shade = map.Render(MapLayer::kHillshade, east);
  ASSERT_TRUE(shade.ok());
  // n·l for the normal (-0.2, 0, 1)/|n| and the sun (cos 30°, 0, sin 30°).
  const double lit = (-0.2 * std::cos(M_PI / 6) + std::sin(M_PI / 6)) / std::sqrt(1.04);
  EXPECT_EQ(shade->values[kSide + 1], 1.0 + std::round(254.0 * lit));
  EXPECT_EQ(shade->values[0], 0.0);  // nodata
}

TEST(SiteMosaic, ASnapshotKeepsItsCellsWhileTheMosaicGoesOnAndCopiesOnlyTheBlocksWritten) {
  SiteMosaic map;
  const auto flat = [](double, double) { return 1.0; };
  const auto high = [](double, double) { return 9.0; };
  ASSERT_TRUE(map.Add(MakeTile(0, 0, flat), 1).ok());
  ASSERT_TRUE(map.Add(MakeTile(4, 4, flat), 1).ok());  // a block of its own
  const size_t blocks = map.stats().blocks;
  const SiteMosaic snapshot = map;
  ASSERT_TRUE(map.Add(MakeTile(0, 0, high), 2).ok());  // newer: overwrites block (0, 0)
  ASSERT_TRUE(map.Add(MakeTile(8, 8, high), 2).ok());  // new cells: a new block
  EXPECT_EQ(snapshot.At(5, 5).elevation_m, 1.0f);
  EXPECT_EQ(snapshot.At(5, 5).observed_ns, 1);
  EXPECT_FALSE(snapshot.At(8 * kSide, 8 * kSide).observed());
  EXPECT_EQ(snapshot.stats().tiles, 2u);
  EXPECT_EQ(map.At(5, 5).elevation_m, 9.0f);
  EXPECT_EQ(map.At(4 * kSide, 4 * kSide).elevation_m, 1.0f);  // the untouched block, shared
  EXPECT_EQ(map.stats().blocks_copied, 1u);
  EXPECT_EQ(map.stats().blocks, blocks + 1);
  // Without a snapshot holding it, a block is written in place.
  ASSERT_TRUE(map.Add(MakeTile(8, 8, high), 3).ok());
  EXPECT_EQ(map.stats().blocks_copied, 1u);
}

TEST(SiteMosaic, AZoomedOutRenderIsWholeCoarseCellsThatKeepEveryRock) {
  SiteMosaic map;
  // Two tiles, 64×32 cells; rocks where (r·7 + c) % 13 == 0 (MakeTile).
  ASSERT_TRUE(map.Add(MakeTile(0, 0, Bumps), 1).ok());
  ASSERT_TRUE(map.Add(MakeTile(1, 0, Bumps), 1).ok());
  SiteMosaic::RenderOptions o;
  o.step = 5;
  auto hazard = map.Render(MapLayer::kHazard, o);
  ASSERT_TRUE(hazard.ok()) << hazard.error().message();
  // 64 / 5 → 13 coarse columns (the last partly observed), 32 / 5 → 7 rows; edges on the grid.
  EXPECT_EQ(hazard->window.width, 13);
  EXPECT_EQ(hazard->window.height, 7);
  EXPECT_DOUBLE_EQ(hazard->cell_size_m, 0.5);
  EXPECT_DOUBLE_EQ(hazard->west_m(), 0.0);
  EXPECT_DOUBLE_EQ(hazard->north_m(), 3.5);
  for (int64_t r = 0; r < hazard->window.height; ++r) {
    for (int64_t c = 0; c < hazard->window.width; ++c) {
      // The coarse cell (c, row) from the south holds the fine cells [5c, 5c+5) × [5row, 5row+5).
      const int64_t row = hazard->window.height - 1 - r;
      bool rock = false, any = false;
      for (int64_t fr = row * 5; fr < row * 5 + 5; ++fr) {
        for (int64_t fc = c * 5; fc < c * 5 + 5; ++fc) {
          const SiteMosaic::Cell cell = map.At(fc, fr);
          any = any || cell.observed();
          rock = rock || cell.hazard == kHazardRock;
        }
      }
      const double v = hazard->values[static_cast<size_t>(r * hazard->window.width + c)];
      EXPECT_EQ(v, !any ? kHazardNoData : rock ? kHazardRock : kHazardSafe) << c << "," << row;
    }
  }
  // Elevation: the centre cell's.
  auto elevation = map.Render(MapLayer::kElevation, o);
  ASSERT_TRUE(elevation.ok());
  const size_t north_west = 0;  // coarse (0, 6): its centre is the fine cell (2, 32) - unobserved
  EXPECT_EQ(elevation->values[north_west], elevation->nodata);
  const size_t south_west = static_cast<size_t>(6 * elevation->window.width);
  EXPECT_EQ(elevation->values[south_west], map.At(2, 2).elevation_m);
  o.step = 0;
  EXPECT_FALSE(map.Render(MapLayer::kHazard, o).ok());
}

// The station's map sink: tiles from the link and from the recordings in one mosaic, the site
// from the poses, snapshots that stay as they were taken, refusals logged once per interval.
TEST(MapSink, TilesFromTheLinkAndTheRecordingsMeetInOneMapAndRefusalsAreLoggedOnce) {
  test::LogCapture log;
  MapSink sink(log, std::chrono::hours(1));
  std::string recorded;
  ASSERT_TRUE(MakeTile(0, 0, Bumps).SerializeToString(&recorded));
  sink.Replay(protocol::StreamId::kTerrainTile, recorded, 100);
  sink.Replay(protocol::StreamId::kTerrainTile, "\xff\xff garbage", 101);  // a damaged record
  rover::v1::NavigationPose pose;
  pose.set_site_latitude_deg(-85.3);
  pose.set_site_longitude_deg(31.2);
  std::string pose_bytes;
  ASSERT_TRUE(pose.SerializeToString(&pose_bytes));
  sink.Replay(protocol::StreamId::kNavigationPose, pose_bytes, 102);
  const MapSnapshot before = sink.Snapshot();
  EXPECT_EQ(before.replayed_tiles, 1u);
  ASSERT_TRUE(before.site.has_value());
  EXPECT_EQ(before.site->latitude_deg, -85.3);

  const auto live = [&](const rover::v1::TerrainTile& tile, protocol::TimestampNs onboard_ns) {
    protocol::DecodedPacket p;
    p.stream = &protocol::Stream(protocol::StreamId::kTerrainTile);
    p.packet.onboard_time_ns = onboard_ns;
    p.message = &tile;
    sink.OnAccepted(AcceptedPacket{p, onboard_ns, nullptr});
  };
  live(MakeTile(1, 0, Bumps), 200);
  rover::v1::TerrainTile bad = MakeTile(2, 0, Bumps);
  bad.set_width_cells(4000);
  for (int i = 0; i < 5; ++i) live(bad, 300 + i);
  const MapSnapshot after = sink.Snapshot();
  EXPECT_EQ(after.mosaic->stats().tiles, 2u);
  EXPECT_EQ(after.mosaic->stats().tiles_refused, 5u);
  EXPECT_EQ(after.replayed_tiles, 1u);
  EXPECT_GT(after.version, before.version);
  // The first snapshot is as it was.
  EXPECT_EQ(before.mosaic->stats().tiles, 1u);
  EXPECT_FALSE(before.mosaic->At(kSide, 0).observed());
  EXPECT_TRUE(after.mosaic->At(kSide, 0).observed());
  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("site map: terrain tile (2, 0) refused: 4000×32 cells"),
            std::string::npos)
      << lines[0];
}

// Reads back a file through GDAL's API.
struct ReadBack {
  int width = 0, height = 0;
  double transform[6] = {};
  bool has_nodata = false;
  double nodata = 0;
  std::vector<double> values;
  OGRSpatialReference srs;
  GDALDataType type = GDT_Unknown;
};
ReadBack Read(const std::string& path) {
  GDALAllRegister();
  ReadBack r;
  GDALDataset* ds = static_cast<GDALDataset*>(GDALOpen(path.c_str(), GA_ReadOnly));
  EXPECT_NE(ds, nullptr) << path;
  if (ds == nullptr) return r;
  r.width = ds->GetRasterXSize();
  r.height = ds->GetRasterYSize();
  EXPECT_EQ(ds->GetGeoTransform(r.transform), CE_None);
  if (const OGRSpatialReference* s = ds->GetSpatialRef()) r.srs = *s;
  GDALRasterBand* band = ds->GetRasterBand(1);
  int has = 0;
  r.nodata = band->GetNoDataValue(&has);
  r.has_nodata = has != 0;
  r.type = band->GetRasterDataType();
  r.values.resize(static_cast<size_t>(r.width) * r.height);
  EXPECT_EQ(band->RasterIO(GF_Read, 0, 0, r.width, r.height, r.values.data(), r.width, r.height,
                           GDT_Float64, 0, 0),
            CE_None);
  GDALClose(ds);
  return r;
}

TEST(MapExport, AGeoTiffHoldsEveryCellGeoreferencedOnTheMoonAroundTheSite) {
  ScratchDir dir;
  SiteMosaic map;
  const auto a = MakeTile(0, 0, Bumps), b = MakeTile(2, -1, Bumps);
  ASSERT_TRUE(map.Add(a, 1).ok());
  ASSERT_TRUE(map.Add(b, 1).ok());
  auto raster = map.Render(MapLayer::kElevation, {});
  ASSERT_TRUE(raster.ok());
  const SiteOrigin site{-89.45, 31.4, "Leibnitz-Beta plateau"};
  const std::string path = dir.File("elevation.tif");
  const Status written = WriteMapRaster(*raster, site, MapFormat::kGeoTiff, path);
  ASSERT_TRUE(written.ok()) << written.message();
  const ReadBack r = Read(path);
  EXPECT_EQ(r.type, GDT_Float32);
  EXPECT_EQ(r.width, 3 * int{kSide});
  EXPECT_EQ(r.height, 2 * int{kSide});
  EXPECT_DOUBLE_EQ(r.transform[0], 0.0);             // west edge: tile (0, 0)'s
  EXPECT_NEAR(r.transform[3], kSide * kCell, 1e-9);  // north edge: tile (0, 0)'s top
  EXPECT_DOUBLE_EQ(r.transform[1], kCell);
  EXPECT_DOUBLE_EQ(r.transform[5], -kCell);
  EXPECT_EQ(r.transform[2], 0.0);
  EXPECT_EQ(r.transform[4], 0.0);
  ASSERT_TRUE(r.has_nodata);
  EXPECT_EQ(r.nodata, -32768.0);
  // Every cell of both tiles where its site coordinates put it; the rest nodata.
  size_t observed = 0;
  for (int row = 0; row < r.height; ++row) {
    for (int col = 0; col < r.width; ++col) {
      const double v = r.values[static_cast<size_t>(row) * r.width + col];
      if (v == r.nodata) continue;
      ++observed;
      const double x = r.transform[0] + (col + 0.5) * kCell;
      const double y = r.transform[3] - (row + 0.5) * kCell;
      ASSERT_NEAR(v, static_cast<float>(Bumps(x, y)), 1e-6) << col << "," << row;
    }
  }
  EXPECT_EQ(observed, 2 * kSide * kSide);
  // The CRS: projected, on the Moon's IAU 2015 sphere, centred on the site.
  EXPECT_TRUE(r.srs.IsProjected());
  EXPECT_EQ(r.srs.GetSemiMajor(), 1'737'400.0);
  EXPECT_NE(std::string(r.srs.GetAttrValue("DATUM")).find("Moon"), std::string::npos);
  OGRSpatialReference geographic;
  geographic.CopyGeogCSFrom(&r.srs);
  geographic.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  OGRSpatialReference projected = r.srs;
  projected.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> to_lonlat(
      OGRCreateCoordinateTransformation(&projected, &geographic));
  ASSERT_NE(to_lonlat, nullptr);
  double x = 0, y = 0;
  ASSERT_TRUE(to_lonlat->Transform(1, &x, &y));
  EXPECT_NEAR(x, 31.4, 1e-9);
  EXPECT_NEAR(y, -89.45, 1e-9);
  // 100 m north of the site is 100 m of arc nearer the pole.
  x = 0;
  y = 100;
  ASSERT_TRUE(to_lonlat->Transform(1, &x, &y));
  EXPECT_NEAR(y, -89.45 + 100.0 / 1'737'400.0 * 180 / M_PI, 1e-9);
}

TEST(MapExport, HazardAndPngProductsCarryTheirClassesWorldFileAndCrs) {
  ScratchDir dir;
  SiteMosaic map;
  ASSERT_TRUE(map.Add(MakeTile(0, 0, Bumps, kHazardSlope), 1).ok());
  const SiteOrigin site{-89.45, 31.4, "site"};
  auto hazard = map.Render(MapLayer::kHazard, {});
  ASSERT_TRUE(hazard.ok());
  ASSERT_TRUE(WriteMapRaster(*hazard, site, MapFormat::kGeoTiff, dir.File("hazard.tif")).ok());
  const ReadBack h = Read(dir.File("hazard.tif"));
  EXPECT_EQ(h.type, GDT_Byte);
  EXPECT_EQ(h.nodata, 255.0);
  EXPECT_EQ(h.values, hazard->values);
  auto elevation = map.Render(MapLayer::kElevation, {});
  ASSERT_TRUE(elevation.ok());
  ASSERT_TRUE(WriteMapRaster(*elevation, site, MapFormat::kPng, dir.File("elevation.png")).ok());
  EXPECT_TRUE(std::filesystem::exists(dir.File("elevation.wld")));
  const ReadBack p = Read(dir.File("elevation.png"));
  EXPECT_EQ(p.type, GDT_Byte);
  EXPECT_EQ(p.width, int{kSide});
  EXPECT_DOUBLE_EQ(p.transform[1], kCell);
  EXPECT_TRUE(p.srs.IsProjected());  // from the .aux.xml beside it
  // Stretched: the lowest cell 1, the highest 255.
  EXPECT_EQ(*std::min_element(p.values.begin(), p.values.end()), 1.0);
  EXPECT_EQ(*std::max_element(p.values.begin(), p.values.end()), 255.0);
}

TEST(MapExport, AnUnwritablePathOrASiteOffTheGlobeIsAClearError) {
  SiteMosaic map;
  ASSERT_TRUE(map.Add(MakeTile(0, 0, Bumps), 1).ok());
  auto raster = map.Render(MapLayer::kElevation, {});
  ASSERT_TRUE(raster.ok());
  const Status s = WriteMapRaster(*raster, {-89.45, 31.4, "site"}, MapFormat::kGeoTiff,
                                  "/nonexistent-dir/elevation.tif");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot write '/nonexistent-dir/elevation.tif'"), std::string::npos)
      << s.message();
  const Status off = WriteMapRaster(*raster, {-95, 31.4, "site"}, MapFormat::kGeoTiff, "x.tif");
  EXPECT_EQ(off.message(), "site at latitude -95°, longitude 31.4° is not on a globe");
  EXPECT_FALSE(std::filesystem::exists("x.tif"));
  EXPECT_FALSE(MapFormatNamed("jpeg2000").has_value());
  EXPECT_EQ(MapLayerNamed("slope"), MapLayer::kSlope);
  EXPECT_FALSE(MapLayerNamed("albedo").has_value());
}

rover::v1::CameraFrame Frame(double pan, double tilt) {
  rover::v1::CameraFrame f;
  f.set_pan_deg(pan);
  f.set_tilt_deg(tilt);
  f.set_field_of_view_deg(46.0);
  f.set_width_px(1024);
  f.set_height_px(768);
  f.set_camera_height_m(1.5);
  f.set_rover_x_m(10.0);
  f.set_rover_y_m(20.0);
  return f;
}

TEST(ImageFootprint, EachCornerOnTheGroundProjectsBackToItsCornerOfTheImage) {
  const auto f = Frame(30.0, -50.0);
  const auto fp = ImageFootprint(f);
  ASSERT_TRUE(fp.has_value());
  EXPECT_FALSE(fp->clipped);
  // The camera's axes, built independently of the footprint: a pinhole looking at azimuth 30°
  // (clockwise from north), 50° down.
  const double az = 30.0 * M_PI / 180, el = -50.0 * M_PI / 180;
  const double fwd[3] = {std::sin(az) * std::cos(el), std::cos(az) * std::cos(el), std::sin(el)};
  const double right[3] = {std::cos(az), -std::sin(az), 0};
  const double up[3] = {-std::sin(az) * std::sin(el), -std::cos(az) * std::sin(el), std::cos(el)};
  const double tx = std::tan(23.0 * M_PI / 180), ty = tx * 768 / 1024;
  const double want[4][2] = {{-tx, -ty}, {tx, -ty}, {tx, ty}, {-tx, ty}};
  for (size_t i = 0; i < 4; ++i) {
    const double v[3] = {fp->corners[i][0] - 10.0, fp->corners[i][1] - 20.0, -1.5};
    const auto dot = [&](const double* a) { return a[0] * v[0] + a[1] * v[1] + a[2] * v[2]; };
    EXPECT_NEAR(dot(right) / dot(fwd), want[i][0], 1e-9) << i;
    EXPECT_NEAR(dot(up) / dot(fwd), want[i][1], 1e-9) << i;
  }
}

TEST(ImageFootprint, AViewToTheHorizonIsCutOffAtItsRangeAndTurnsWithThePan) {
  const auto north = ImageFootprint(Frame(0.0, 0.0), 30.0);
  const auto east = ImageFootprint(Frame(90.0, 0.0), 30.0);
  ASSERT_TRUE(north && east);
  EXPECT_TRUE(north->clipped);
  // The top corners look above the horizon: 30 m out, level.
  for (size_t i : {2u, 3u}) {
    EXPECT_NEAR(std::hypot(north->corners[i][0] - 10.0, north->corners[i][1] - 20.0), 30.0, 1e-9);
  }
  // Looking level, the bottom corners meet the ground where their depression says:
  // 1.5 m / tan(depression) along their azimuth.
  const double ty = std::tan(23.0 * M_PI / 180) * 768 / 1024, tx = std::tan(23.0 * M_PI / 180);
  EXPECT_NEAR(std::hypot(north->corners[0][0] - 10.0, north->corners[0][1] - 20.0),
              1.5 / ty * std::hypot(1.0, tx), 1e-9);
  EXPECT_NEAR(north->corners[0][0] - 10.0, -(north->corners[1][0] - 10.0), 1e-12);  // symmetric
  // Panned 90° clockwise: every corner turned about the rover by 90° clockwise.
  for (size_t i = 0; i < 4; ++i) {
    const double nx = north->corners[i][0] - 10.0, ny = north->corners[i][1] - 20.0;
    EXPECT_NEAR(east->corners[i][0] - 10.0, ny, 1e-9) << i;
    EXPECT_NEAR(east->corners[i][1] - 20.0, -nx, 1e-9) << i;
  }
  rover::v1::CameraFrame none = Frame(0, 0);
  none.set_field_of_view_deg(0);
  EXPECT_FALSE(ImageFootprint(none).has_value());
}

}  // namespace
}  // namespace lgs::station
