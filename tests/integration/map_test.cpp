// The site map from a real mission: emulator -> station (recording) -> gsctl map. What the
// GeoTIFF holds is checked, through GDAL's API, against the terrain tiles the recording holds;
// the GeoJSON traverse against the recorded poses, and the CRS against the rover's own
// selenographic positions.
#include <cpl_vsi.h>
#include <fmt/format.h>
#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>
#include <signal.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "protocol/recording_profile.h"
#include "rover/v1/event.pb.h"
#include "rover/v1/navigation.pb.h"
#include "rover/v1/soil.pb.h"
#include "rover/v1/terrain.pb.h"
#include "support/gsctl.h"
#include "support/http.h"
#include "support/process.h"
#include "support/programs.h"
#include "support/recording.h"

namespace lgs::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// A short drive, recorded: `mission` of mission time at 200x.
std::vector<std::string> RecordADrive(const ScratchDir& dir, const std::string& mission) {
  const std::string tm = dir.IpcEndpoint("tm");
  ChildProcess station(LGS_STATION_BIN,
                       StationArgs()
                           .Connect(tm)
                           .Record(dir.File("rec"))
                           .Jsonl(dir.File("station.jsonl"))
                           .Quiet()
                           .NoHttp()
                           .Args(),
                       dir.path(), "station");
  ChildProcess emulator(LGS_EMULATOR_BIN,
                        EmulatorArgs()
                            .IdealLink()
                            .Bind(tm)
                            .WaitForSubscribers()
                            .Speed(200)
                            .Until(mission)
                            .Truth(dir.File("truth.jsonl"))
                            .Args(),
                        dir.path(), "emulator");
  EXPECT_EQ(emulator.Wait(60s), 0) << emulator.Stderr();
  const size_t sent = ReadLines(dir.File("truth.jsonl")).size();
  EXPECT_TRUE(WaitUntil([&] { return ReadLines(dir.File("station.jsonl")).size() >= sent; }, 20s));
  station.Signal(SIGINT);
  EXPECT_EQ(station.Wait(30s), 0) << station.Stderr();
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir.File("rec"))) {
    if (e.path().extension() == ".mcap") files.push_back(e.path().string());
  }
  return files;
}

// A recorded drive, read back and parsed: the rover's own ground truth for the tests below.
struct Drive {
  std::vector<std::string> files;
  Recording recording;
  std::vector<rover::v1::TerrainTile> tiles;
  std::vector<rover::v1::NavigationPose> poses;
  std::vector<rover::v1::SoilMeasurement> soil;
  std::vector<rover::v1::Event> events;
  size_t camera_frames = 0;
  size_t unparsed = 0;  // messages of those streams that did not parse (0 in a sound file)
};
Drive ReadDrive(std::vector<std::string> files) {
  Drive d;
  d.files = std::move(files);
  d.recording = ReadRecordingFiles(d.files);
  for (const RecordedMessage& m : d.recording.messages) {
    bool ok = true;
    if (m.topic == "/rover1/terrain_tile") ok = m.ParseAs(d.tiles.emplace_back());
    if (m.topic == "/rover1/navigation_pose") ok = m.ParseAs(d.poses.emplace_back());
    if (m.topic == "/rover1/soil") ok = m.ParseAs(d.soil.emplace_back());
    if (m.topic == "/rover1/event") ok = m.ParseAs(d.events.emplace_back());
    if (m.topic == "/rover1/camera_frame") ++d.camera_frames;
    d.unparsed += !ok;
  }
  return d;
}

TEST(SiteMap, TheGeoTiffHoldsEveryRecordedTileCellWhereTheRoverSaysItIs) {
  ScratchDir dir;
  const Drive drive = ReadDrive(RecordADrive(dir, "10m"));
  ASSERT_FALSE(drive.files.empty());
  ASSERT_EQ(drive.unparsed, 0u);
  const auto& [files, recording, tiles, poses, soil, events, frames, unparsed] = drive;
  ASSERT_GE(tiles.size(), 40u);
  ASSERT_GE(poses.size(), 100u);

  std::vector<std::string> args = {"map"};
  args.insert(args.end(), files.begin(), files.end());
  for (const char* a : {"--layer", "elevation", "--out"}) args.push_back(a);
  args.push_back(dir.File("elevation.tif"));
  args.push_back("--traverse");
  args.push_back(dir.File("traverse.geojson"));
  args.push_back("--json");
  const GsctlResult map = Gsctl(dir, args);
  ASSERT_EQ(map.code, 0) << map.err;
  std::printf("[ measured ] %s", map.err.c_str());
  const json summary = json::parse(map.out, nullptr, false);
  ASSERT_TRUE(summary.is_object()) << map.out;
  EXPECT_EQ(summary["tiles"], tiles.size());

  GDALAllRegister();
  GDALDataset* ds =
      static_cast<GDALDataset*>(GDALOpen(dir.File("elevation.tif").c_str(), GA_ReadOnly));
  ASSERT_NE(ds, nullptr);
  double gt[6];
  ASSERT_EQ(ds->GetGeoTransform(gt), CE_None);
  const int w = ds->GetRasterXSize(), h = ds->GetRasterYSize();
  std::vector<float> values(static_cast<size_t>(w) * h);
  GDALRasterBand* band = ds->GetRasterBand(1);
  ASSERT_EQ(band->RasterIO(GF_Read, 0, 0, w, h, values.data(), w, h, GDT_Float32, 0, 0), CE_None);
  int has_nodata = 0;
  const double nodata = band->GetNoDataValue(&has_nodata);
  ASSERT_TRUE(has_nodata);
  OGRSpatialReference srs = *ds->GetSpatialRef();
  GDALClose(ds);
  EXPECT_EQ(gt[1], 0.1);
  EXPECT_EQ(gt[5], -0.1);

  // Every cell of every tile at its site coordinates (the terrain does not change, so repeated
  // tiles agree and the newest is any of them).
  std::map<std::pair<int64_t, int64_t>, float> truth;
  for (const auto& t : tiles) {
    for (uint32_t r = 0; r < t.height_cells(); ++r) {
      for (uint32_t c = 0; c < t.width_cells(); ++c) {
        const int64_t col = std::llround(t.origin_x_m() / 0.1) + c;
        const int64_t row = std::llround(t.origin_y_m() / 0.1) + r;
        truth[{col, row}] = t.elevation_m(static_cast<int>(r * t.width_cells() + c));
      }
    }
  }
  const int64_t west = std::llround(gt[0] / 0.1), north = std::llround(gt[3] / 0.1);
  size_t with_data = 0;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const float v = values[static_cast<size_t>(y) * w + x];
      const auto it = truth.find({west + x, north - 1 - y});
      if (it == truth.end()) {
        ASSERT_EQ(v, nodata) << x << "," << y;
        continue;
      }
      ASSERT_EQ(v, it->second) << x << "," << y;
      ++with_data;
    }
  }
  EXPECT_EQ(with_data, truth.size());
  EXPECT_EQ(summary["observed_cells"], truth.size());

  // The traverse is the recorded poses, and the CRS puts each where the rover's own latitude and
  // longitude say it is.
  const json geo = json::parse(ReadFile(dir.File("traverse.geojson")));
  ASSERT_EQ(geo["type"], "FeatureCollection");
  const json& line = geo["features"][0];
  ASSERT_EQ(line["geometry"]["type"], "LineString");
  const json& coords = line["geometry"]["coordinates"];
  ASSERT_EQ(coords.size(), poses.size());
  OGRSpatialReference projected = srs, geographic;
  geographic.CopyGeogCSFrom(&srs);
  projected.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  geographic.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> to_lonlat(
      OGRCreateCoordinateTransformation(&projected, &geographic));
  ASSERT_NE(to_lonlat, nullptr);
  double farthest_m = 0;
  for (size_t i = 0; i < poses.size(); ++i) {
    ASSERT_EQ(coords[i][0], poses[i].x_m());
    ASSERT_EQ(coords[i][1], poses[i].y_m());
    double x = poses[i].x_m(), y = poses[i].y_m();
    farthest_m = std::max(farthest_m, std::hypot(x, y));
    ASSERT_TRUE(to_lonlat->Transform(1, &x, &y));
    EXPECT_NEAR(x, poses[i].longitude_deg(), 1e-9) << i;
    EXPECT_NEAR(y, poses[i].latitude_deg(), 1e-9) << i;
  }
  std::printf("[ measured ] %zu poses up to %.1f m from the site agree with the CRS\n",
              poses.size(), farthest_m);
  // GDAL reads the GeoJSON's CRS too: the same one.
  GDALDataset* vec = static_cast<GDALDataset*>(
      GDALOpenEx(dir.File("traverse.geojson").c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr));
  ASSERT_NE(vec, nullptr);
  const OGRSpatialReference* vsrs = vec->GetLayer(0)->GetSpatialRef();
  ASSERT_NE(vsrs, nullptr);
  EXPECT_TRUE(vsrs->IsSame(&srs));
  GDALClose(vec);
}

TEST(SiteMap, BadRequestsAreClearErrors) {
  ScratchDir dir;
  const auto files = RecordADrive(dir, "1m");
  ASSERT_FALSE(files.empty());
  const auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"map", files[0]};
    args.insert(args.end(), extra.begin(), extra.end());
    return Gsctl(dir, args);
  };
  const std::string out = dir.File("a.tif");
  GsctlResult r = run({"--layer", "albedo", "--out", out});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no layer 'albedo' (elevation|slope|hazard|hillshade|observed_at)"),
            std::string::npos)
      << r.err;
  r = run({"--out", "/nonexistent-dir/a.tif"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot write '/nonexistent-dir/a.tif'"), std::string::npos) << r.err;
  r = run({"--site", "north", "--out", out});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--site 'north' is not LAT,LON"), std::string::npos) << r.err;
  r = run({});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("say what to write"), std::string::npos) << r.err;
  r = run({"--start", "+1000h", "--out", out});
  EXPECT_NE(r.code, 0);
  EXPECT_FALSE(r.err.empty());
  EXPECT_FALSE(std::filesystem::exists(out));
  r = Gsctl(dir, {"map", dir.File("missing.mcap"), "--out", out});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("missing.mcap"), std::string::npos) << r.err;
}

// A PNG the station served, decoded by GDAL: bands of width × height octets.
struct Decoded {
  int width = 0, height = 0;
  std::vector<std::vector<uint8_t>> bands;
};
Decoded DecodePng(const std::string& png) {
  GDALAllRegister();
  const std::string name = "/vsimem/map-test.png";
  VSILFILE* f =
      VSIFileFromMemBuffer(name.c_str(), reinterpret_cast<GByte*>(const_cast<char*>(png.data())),
                           static_cast<vsi_l_offset>(png.size()), FALSE);
  if (f != nullptr) VSIFCloseL(f);
  Decoded out;
  GDALDataset* ds = static_cast<GDALDataset*>(GDALOpen(name.c_str(), GA_ReadOnly));
  if (ds != nullptr) {
    out.width = ds->GetRasterXSize();
    out.height = ds->GetRasterYSize();
    for (int b = 1; b <= ds->GetRasterCount(); ++b) {
      auto& band = out.bands.emplace_back(static_cast<size_t>(out.width) * out.height);
      if (ds->GetRasterBand(b)->RasterIO(GF_Read, 0, 0, out.width, out.height, band.data(),
                                         out.width, out.height, GDT_Byte, 0, 0) != CE_None) {
        out.bands.clear();
        break;
      }
    }
    GDALClose(ds);
  }
  VSIUnlink(name.c_str());
  return out;
}

// The map survives a restart: a station started over the recordings of a drive (and no rover)
// has every recorded tile in its site map; its API serves the map's pictures georeferenced and
// true to the tiles; the web traverse map draws the base layer, grid, scale bar and north
// arrow, and opens a soil measurement's result when it is clicked; and the science view draws
// the recorded spectra, oxides and hydrogen (Debian's chromium). One station for all: each
// browser check costs seconds.
TEST(SiteMap, AStationRebuildsTheMapFromItsRecordingsAndTheWebShowsMapAndScience) {
  ScratchDir dir;
  const Drive drive = ReadDrive(RecordADrive(dir, "10m"));
  ASSERT_FALSE(drive.files.empty());
  ASSERT_EQ(drive.unparsed, 0u);
  const auto& [files, recording, tiles, poses, soil, events, frames, unparsed] = drive;
  ASSERT_GE(tiles.size(), 40u);
  ASSERT_FALSE(poses.empty());
  ASSERT_GE(soil.size(), 5u);
  // Cell (col, row) -> hazard class, from every recorded tile (the terrain does not change).
  std::map<std::pair<int64_t, int64_t>, int> truth;
  for (const auto& t : tiles) {
    for (uint32_t r = 0; r < t.height_cells(); ++r) {
      for (uint32_t c = 0; c < t.width_cells(); ++c) {
        truth[{std::llround(t.origin_x_m() / 0.1) + c, std::llround(t.origin_y_m() / 0.1) + r}] =
            static_cast<unsigned char>(t.hazard_mask()[r * t.width_cells() + c]);
      }
    }
  }
  int64_t min_col = INT64_MAX, min_row = INT64_MAX, max_col = INT64_MIN, max_row = INT64_MIN;
  for (const auto& [cell, hazard] : truth) {
    min_col = std::min(min_col, cell.first);
    max_col = std::max(max_col, cell.first);
    min_row = std::min(min_row, cell.second);
    max_row = std::max(max_row, cell.second);
  }

  const int port = FreeTcpPort();
  ChildProcess station(LGS_STATION_BIN,
                       StationArgs()
                           .Connect(dir.IpcEndpoint("no-rover"))
                           .Record(dir.File("rec"))
                           .Quiet()
                           .Http(port)
                           .Args(),
                       dir.path(), "restarted");
  ASSERT_TRUE(WaitUntil([&] { return Get(port, "/api/map").status == 200; }, 20s))
      << station.Stderr();
  const json info = json::parse(Get(port, "/api/map").body);
  // The first station summarized its recording when it stopped (the parameter archive), so
  // this one is shown the newest tile of each footprint, not every tile: the same cells.
  std::set<std::array<double, 5>> footprints;
  for (const auto& t : tiles) {
    footprints.insert({t.origin_x_m(), t.origin_y_m(), static_cast<double>(t.width_cells()),
                       static_cast<double>(t.height_cells()), t.cell_size_m()});
  }
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(info["tiles"], footprints.size()) << info;
  EXPECT_EQ(info["replayed_tiles"], footprints.size());
  EXPECT_LT(footprints.size(), tiles.size());
  EXPECT_EQ(info["observed_cells"], truth.size());
  EXPECT_EQ(info["cell_size_m"], 0.1);
  EXPECT_DOUBLE_EQ(info["bounds_m"]["west"], static_cast<double>(min_col) * 0.1);
  EXPECT_DOUBLE_EQ(info["bounds_m"]["east"], static_cast<double>(max_col + 1) * 0.1);
  EXPECT_DOUBLE_EQ(info["bounds_m"]["south"], static_cast<double>(min_row) * 0.1);
  EXPECT_DOUBLE_EQ(info["bounds_m"]["north"], static_cast<double>(max_row + 1) * 0.1);
  EXPECT_EQ(info["site"]["latitude_deg"], poses.back().site_latitude_deg());
  EXPECT_EQ(info["site"]["longitude_deg"], poses.back().site_longitude_deg());

  // The hazard picture at full resolution: a coloured pixel exactly where a recorded cell is not
  // safe, transparent everywhere else; the georeferencing in its header.
  const Reply hazard = Get(port, "/api/map/image?layer=hazard&max=4096&format=png");
  ASSERT_EQ(hazard.status, 200) << hazard.body;
  const json georef = json::parse(hazard.headers.at("X-Lgs-Map"));
  EXPECT_EQ(georef["step_cells"], 1);
  EXPECT_DOUBLE_EQ(georef["pixel_size_m"], 0.1);
  const Decoded picture = DecodePng(hazard.body);
  ASSERT_EQ(picture.bands.size(), 4u);
  ASSERT_EQ(picture.width, max_col - min_col + 1);
  ASSERT_EQ(picture.height, max_row - min_row + 1);
  size_t hazardous = 0;
  for (int y = 0; y < picture.height; ++y) {
    for (int x = 0; x < picture.width; ++x) {
      const auto it = truth.find({min_col + x, max_row - y});
      const bool coloured = picture.bands[3][static_cast<size_t>(y) * picture.width + x] > 0;
      const bool want = it != truth.end() && it->second != 0;
      ASSERT_EQ(coloured, want) << x << "," << y;
      hazardous += want;
    }
  }
  // The hillshade: opaque exactly where a cell and its eight neighbours were observed.
  const Reply shade = Get(port, "/api/map/image?layer=hillshade&max=4096&format=png");
  ASSERT_EQ(shade.status, 200) << shade.body;
  const Decoded hillshade = DecodePng(shade.body);
  ASSERT_EQ(hillshade.bands.size(), 4u);
  ASSERT_EQ(hillshade.width, picture.width);
  size_t shaded = 0;
  for (int y = 0; y < hillshade.height; ++y) {
    for (int x = 0; x < hillshade.width; ++x) {
      bool all = true;
      for (int dc = -1; dc <= 1; ++dc) {
        for (int dr = -1; dr <= 1; ++dr)
          all = all && truth.contains({min_col + x + dc, max_row - y + dr});
      }
      const bool opaque = hillshade.bands[3][static_cast<size_t>(y) * hillshade.width + x] == 255;
      ASSERT_EQ(opaque, all) << x << "," << y;
      shaded += all;
    }
  }
  // Zoomed out, a coarse picture: whole coarse cells, a rock never lost.
  const json coarse = json::parse(Get(port, "/api/map/image?layer=hillshade&max=64").body);
  const int64_t longest = std::max(max_col - min_col + 1, max_row - min_row + 1);
  EXPECT_EQ(coarse["step_cells"], (longest + 63) / 64) << coarse.dump().substr(0, 300);
  EXPECT_LE(coarse["width"].get<int64_t>(), 65);
  EXPECT_FALSE(coarse["png_base64"].get<std::string>().empty());

  // Bad requests: clear errors.
  const auto error_of = [&](const std::string& target, unsigned status) {
    const Reply r = Get(port, target);
    EXPECT_EQ(r.status, status) << target << ": " << r.body;
    const json j = json::parse(r.body, nullptr, false);
    return j.is_object() ? j.value("error", std::string()) : r.body;
  };
  EXPECT_NE(error_of("/api/map/image?layer=albedo", 400)
                .find("no layer 'albedo': ask for one of elevation|slope|hazard"),
            std::string::npos);
  EXPECT_NE(error_of("/api/map/image?max=5", 400).find("max must be"), std::string::npos);
  EXPECT_NE(error_of("/api/map/image?west=1", 400).find("together"), std::string::npos);
  EXPECT_NE(error_of("/api/map/image?west=2&south=0&east=1&north=1", 400).find("west < east"),
            std::string::npos);
  EXPECT_NE(error_of("/api/map/image?west=5000&south=5000&east=5010&north=5010", 404)
                .find("nothing observed"),
            std::string::npos);

  EXPECT_NE(error_of("/api/soil/measurement?id=3", 400).find("say which"), std::string::npos);
  EXPECT_NE(error_of("/api/soil/measurement?ground_ns=12&id=x", 400).find("say which"),
            std::string::npos);
  EXPECT_NE(error_of("/api/soil/measurement?ground_ns=12&id=3", 404)
                .find("no soil measurement 3 recorded at 12 ns"),
            std::string::npos);

  // The browser: a site to click, an observed safe cell away from the path and the sites (its
  // neighbours observed, so it has a hillshade), and a point outside the map.
  const rover::v1::SoilMeasurement& site = soil[soil.size() / 2];
  std::optional<std::pair<double, double>> observed;
  for (const auto& [cell, hazard] : truth) {
    if (hazard != 0) continue;
    bool inner = true;
    for (int dc = -1; dc <= 1 && inner; ++dc) {
      for (int dr = -1; dr <= 1 && inner; ++dr) {
        inner = truth.contains({cell.first + dc, cell.second + dr});
      }
    }
    if (!inner) continue;
    const double x = (static_cast<double>(cell.first) + 0.5) * 0.1;
    const double y = (static_cast<double>(cell.second) + 0.5) * 0.1;
    bool clear = true;
    for (const auto& p : poses) clear = clear && std::hypot(p.x_m() - x, p.y_m() - y) > 1.0;
    for (const auto& s : soil) clear = clear && std::hypot(s.x_m() - x, s.y_m() - y) > 1.0;
    if (clear) {
      observed = {x, y};
      break;
    }
  }
  ASSERT_TRUE(observed.has_value());
  std::filesystem::create_directories(LGS_TEST_OUTPUT_DIR);
  const std::string screenshot = std::string(LGS_TEST_OUTPUT_DIR) + "/traverse-map.png";
  ChildProcess browser(
      LGS_NODE,
      {std::string(LGS_SOURCE_DIR) + "/tests/web/map_check.mjs", "--url",
       "http://127.0.0.1:" + std::to_string(port), "--site",
       fmt::format("{},{}", site.x_m(), site.y_m()), "--id", std::to_string(site.measurement_id()),
       "--observed", fmt::format("{},{}", observed->first, observed->second), "--empty",
       fmt::format("{},{}", static_cast<double>(min_col) * 0.1 - 1.0,
                   static_cast<double>(min_row) * 0.1 - 1.0),
       "--screenshot", screenshot},
      dir.path(), "browser");
  ASSERT_EQ(browser.Wait(100s), 0) << browser.Stderr();
  const json report = json::parse(browser.Stdout());
  {
    std::ofstream(std::string(LGS_TEST_OUTPUT_DIR) + "/traverse-map-report.json") << report.dump(2);
  }
  // The science view: two VNIS spectra (the second laid over the first), an APXS set and a
  // neutron result, chosen from its list.
  std::vector<const rover::v1::SoilMeasurement*> vnis;
  const rover::v1::SoilMeasurement *apxs = nullptr, *neutron = nullptr;
  for (const auto& m : soil) {
    if (m.has_vnis()) vnis.push_back(&m);
    if (m.has_apxs() && apxs == nullptr) apxs = &m;
    if (m.has_neutron() && neutron == nullptr) neutron = &m;
  }
  ASSERT_GE(vnis.size(), 2u);
  ASSERT_NE(apxs, nullptr);
  ASSERT_NE(neutron, nullptr);
  const std::string science_shot = std::string(LGS_TEST_OUTPUT_DIR) + "/science-view.png";
  ChildProcess science_browser(
      LGS_NODE,
      {std::string(LGS_SOURCE_DIR) + "/tests/web/science_check.mjs", "--url",
       "http://127.0.0.1:" + std::to_string(port), "--vnis",
       fmt::format("{},{}", vnis[0]->measurement_id(), vnis[1]->measurement_id()), "--apxs",
       std::to_string(apxs->measurement_id()), "--neutron",
       std::to_string(neutron->measurement_id()), "--screenshot", science_shot},
      dir.path(), "science-browser");
  ASSERT_EQ(science_browser.Wait(100s), 0) << science_browser.Stderr();
  const json science = json::parse(science_browser.Stdout());
  {
    std::ofstream(std::string(LGS_TEST_OUTPUT_DIR) + "/science-view-report.json")
        << science.dump(2);
  }
  station.Signal(SIGTERM);
  EXPECT_EQ(station.Wait(20s), 0) << station.Stderr();
  ASSERT_FALSE(science.contains("error")) << science.dump(2);
  EXPECT_EQ(science["console_errors"], json::array());
  EXPECT_EQ(science["rows"], soil.size());
  ASSERT_EQ(science["spectrum"].size(), 1u);
  EXPECT_EQ(science["spectrum"][0]["id"], vnis[0]->measurement_id());
  EXPECT_EQ(science["spectrum"][0]["points"], vnis[0]->vnis().reflectance_size());
  for (const char* band : {"1 µm pyroxene", "1.5 µm ice", "2 µm pyroxene"}) {
    EXPECT_NE(std::find(science["bands_marked"].begin(), science["bands_marked"].end(), band),
              science["bands_marked"].end())
        << band;
  }
  const std::string legend = science["legend"];
  EXPECT_NE(
      legend.find(fmt::format("band depth 1 µm {:.4f}, 2 µm {:.4f}",
                              vnis[0]->vnis().band_depth_1um(), vnis[0]->vnis().band_depth_2um())),
      std::string::npos)
      << legend;
  ASSERT_EQ(science["overlaid"].size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(science["overlaid"][i]["id"], vnis[i]->measurement_id());
    EXPECT_EQ(science["overlaid"][i]["points"], vnis[i]->vnis().reflectance_size());
  }
  const rover::v1::ApxsOxides& a = apxs->apxs();
  const std::map<std::string, double> oxides = {
      {"SiO2", a.sio2_wt_percent()},   {"Al2O3", a.al2o3_wt_percent()},
      {"CaO", a.cao_wt_percent()},     {"FeO", a.feo_wt_percent()},
      {"MgO", a.mgo_wt_percent()},     {"TiO2", a.tio2_wt_percent()},
      {"Na2O", a.na2o_wt_percent()},   {"K2O", a.k2o_wt_percent()},
      {"Cr2O3", a.cr2o3_wt_percent()}, {"MnO", a.mno_wt_percent()}};
  ASSERT_EQ(science["oxides"].size(), oxides.size()) << science["oxides"];
  for (const auto& [oxide, value] : oxides) EXPECT_EQ(science["oxides"][oxide], value) << oxide;
  EXPECT_EQ(science["references"], oxides.size());
  EXPECT_NE(science["neutron"].get<std::string>().find(
                fmt::format("{:.3f} wt %", neutron->neutron().hydrogen_weh_wt_percent())),
            std::string::npos)
      << science["neutron"];
  ASSERT_FALSE(report.contains("error")) << report.dump(2);
  EXPECT_NE(report["science_from_map"].get<std::string>().find(
                fmt::format("#{} ", site.measurement_id())),
            std::string::npos)
      << report["science_from_map"];
  EXPECT_EQ(report["console_errors"], json::array());
  const json& fitted = report["fitted"];
  EXPECT_EQ(fitted["base_layer"], "hillshade");
  // Grid: a 1, 2 or 5 × 10^k metre step, labelled east and north.
  const double step = fitted["grid_step_m"];
  const double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
  EXPECT_TRUE(std::abs(mantissa - 1) < 1e-6 || std::abs(mantissa - 2) < 1e-6 ||
              std::abs(mantissa - 5) < 1e-6)
      << step;
  size_t east_labels = 0, north_labels = 0;
  for (const auto& l : fitted["grid_labels"]) {
    east_labels += l.get<std::string>().starts_with("E ");
    north_labels += l.get<std::string>().starts_with("N ");
  }
  EXPECT_GE(east_labels, 2u);
  EXPECT_GE(north_labels, 2u);
  // The scale bar is as long as it says.
  const std::string label = fitted["scale_label"];
  const double bar_m = std::stod(label) * (label.ends_with(" km") ? 1000.0 : 1.0);
  EXPECT_NEAR(fitted["scale_bar_px"].get<double>(), bar_m * fitted["px_per_m"].get<double>(), 2.5)
      << label;
  EXPECT_TRUE(fitted["north_visible"]);
  EXPECT_EQ(fitted["sites"], soil.size());
  EXPECT_FALSE(fitted["rover"].get<std::string>().empty());
  // The base layer is drawn where the map was observed and not where it was not (a grid line
  // may cross the empty point: faint).
  const json& px = report["pixels"];
  const auto grey = [](const json& p) {
    return (p[0].get<int>() + p[1].get<int>() + p[2].get<int>()) / 3;
  };
  EXPECT_NE(px["observed"], json::array({30, 30, 30, 255})) << px;
  EXPECT_GT(grey(px["observed"]), 60) << px;
  EXPECT_LE(grey(px["empty"]), 80) << px;
  // The click opened the site's result.
  const json* shown = nullptr;
  for (const json& t : report["clicked"]) {
    if (t["id"] == site.measurement_id()) shown = &t;
  }
  ASSERT_NE(shown, nullptr) << report["clicked"].dump(2);
  const std::string text = (*shown)["text"];
  std::string value;
  if (site.has_vnis()) value = fmt::format("{:.4f}", site.vnis().band_depth_1um());
  if (site.has_apxs()) value = fmt::format("{:.2f}", site.apxs().sio2_wt_percent());
  if (site.has_neutron())
    value = fmt::format("{:.3f} wt %", site.neutron().hydrogen_weh_wt_percent());
  EXPECT_NE(text.find(value), std::string::npos) << value << " in " << text;
  // Zoomed in: the grid and the scale follow.
  const json& zoomed = report["zoomed"];
  EXPECT_GT(zoomed["px_per_m"].get<double>(), 3 * fitted["px_per_m"].get<double>());
  EXPECT_LT(zoomed["grid_step_m"].get<double>(), step);
  EXPECT_EQ(zoomed["base_layer"], "hillshade");
  std::printf(
      "[ measured ] %zu tiles, %zu cells (%zu hazardous, %zu with a hillshade) rebuilt "
      "from the recordings; "
      "the map drew in %.1f ms (fitted) and %.1f ms (zoomed)\n",
      tiles.size(), truth.size(), hazardous, shaded, fitted["render_ms"].get<double>(),
      zoomed["render_ms"].get<double>());
}

// The Foxglove channels of a real recording, read with the official MCAP readers (npm @mcap/*)
// through the schemas embedded in the file, against the rover's own recorded telemetry: the
// schemas are Foxglove's field for field; every pose is there; the terrain mesh covers every
// tile; the hazard cells, soil sites and events are the recorded ones.
TEST(SiteMap, TheRecordingsFoxgloveChannelsAreFoxglovesSchemasAndHoldTheRoversScene) {
  ScratchDir dir;
  const Drive drive = ReadDrive(RecordADrive(dir, "5m"));
  ASSERT_FALSE(drive.files.empty());
  ASSERT_EQ(drive.unparsed, 0u);
  const auto& [files, recording, all_tiles, poses, soil, events, frames, unparsed] = drive;
  std::map<std::string, rover::v1::TerrainTile> tiles;  // the newest copy of each
  for (const auto& t : all_tiles) tiles[fmt::format("terrain/{},{}", t.tile_x(), t.tile_y())] = t;
  ASSERT_GE(tiles.size(), 3u);
  ASSERT_FALSE(soil.empty());
  ASSERT_FALSE(events.empty());
  std::vector<std::string> args = {std::string(LGS_SOURCE_DIR) + "/tests/mcap/check_scene.mjs",
                                   std::string(LGS_SOURCE_DIR) + "/protocol/proto/foxglove"};
  args.insert(args.end(), files.begin(), files.end());
  ChildProcess check(LGS_NODE, args, dir.path(), "check_scene");
  ASSERT_EQ(check.Wait(60s), 0) << check.Stderr();
  const json report = json::parse(check.Stdout());
  EXPECT_GE(report["schemas_checked"].size(), 21u);
  for (const char* type : {"foxglove.FrameTransform", "foxglove.PoseInFrame",
                           "foxglove.SceneUpdate", "foxglove.Log"}) {
    EXPECT_GE(report["types_compared"].value(type, 0), 1) << type << report["types_compared"];
  }
  // SceneUpdate's embedded schema holds the entity, the deletion and every primitive.
  EXPECT_GE(report["types_compared"]["foxglove.SceneUpdate"].get<int>(), 16);

  // At most 20 Hz of ground time (the drive ran at 200×): each one a recorded pose, in order.
  const json& ps = report["poses"];
  ASSERT_GE(ps.size(), 10u);
  ASSERT_LE(ps.size(), poses.size());
  size_t at = 0;
  for (size_t i = 0; i < ps.size(); ++i) {
    while (at < poses.size() && !(ps[i][1] == poses[at].x_m() && ps[i][2] == poses[at].y_m())) ++at;
    ASSERT_LT(at, poses.size()) << "pose " << i << " is not a recorded one, in order";
  }
  EXPECT_EQ(report["transforms"]["site->rover"], ps.size());
  size_t camera_transforms = 0;
  for (const auto& [key, n] : report["transforms"].items()) {
    if (key.starts_with("rover->")) camera_transforms += n.get<size_t>();
  }
  EXPECT_EQ(camera_transforms, frames);

  const json& entities = report["entities"];
  for (const auto& [id, t] : tiles) {
    ASSERT_TRUE(entities.contains(id)) << id;
    const json& e = entities[id];
    const uint32_t w = t.width_cells(), h = t.height_cells();
    EXPECT_EQ(e["frame_id"], "site");
    EXPECT_EQ(e["points"], w * h) << id;
    EXPECT_EQ(e["colors"], w * h) << id;
    EXPECT_EQ(e["indices"], (w - 1) * (h - 1) * 6) << id;
    // The mesh spans the tile's cell centres.
    const double s = t.cell_size_m();
    EXPECT_NEAR(e["extent"][0].get<double>(), t.origin_x_m() + 0.5 * s, 1e-9) << id;
    EXPECT_NEAR(e["extent"][1].get<double>(), t.origin_y_m() + 0.5 * s, 1e-9) << id;
    EXPECT_NEAR(e["extent"][2].get<double>(), t.origin_x_m() + (w - 0.5) * s, 1e-9) << id;
    EXPECT_NEAR(e["extent"][3].get<double>(), t.origin_y_m() + (h - 0.5) * s, 1e-9) << id;
    const std::string hazard_id = "hazard/" + id.substr(std::string("terrain/").size());
    ASSERT_TRUE(entities.contains(hazard_id)) << hazard_id;
    EXPECT_EQ(entities[hazard_id]["cubes"],
              std::count_if(t.hazard_mask().begin(), t.hazard_mask().end(),
                            [](char c) { return c != 0; }))
        << hazard_id;
  }
  for (const auto& m : soil) {
    const std::string id = fmt::format("soil/{}", m.measurement_id());
    ASSERT_TRUE(entities.contains(id)) << id;
    EXPECT_EQ(entities[id]["spheres"], 1);
    EXPECT_TRUE(entities[id]["texts"][0].get<std::string>().starts_with(
        fmt::format("#{} ", m.measurement_id())));
  }
  ASSERT_TRUE(entities.contains("rover"));
  EXPECT_EQ(entities["rover"]["frame_id"], "rover");
  EXPECT_EQ(entities["rover"]["cylinders"], 5);
  // The log holds every event, in order, at its level.
  std::vector<std::string> logged;
  for (const json& l : report["logs"]) {
    if (l["name"].get<std::string>().starts_with("rover1/event/")) logged.push_back(l["message"]);
  }
  ASSERT_EQ(logged.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(logged[i], events[i].message()) << i;

  // gsctl adds the same channels to a recording: the copy's are the station's (its own old
  // ones are replaced, as in a recording made before them), and every other record is as it was.
  ASSERT_EQ(files.size(), 1u);
  const GsctlResult scene =
      Gsctl(dir, {"scene", files[0], "--out", dir.File("with-scene.mcap"), "--json"});
  ASSERT_EQ(scene.code, 0) << scene.err;
  const json summary = json::parse(scene.out);
  EXPECT_EQ(summary["added"]["/rover1/pose"], ps.size()) << summary;
  EXPECT_GT(summary["replaced"].get<uint64_t>(), 0u);
  ChildProcess recheck(
      LGS_NODE,
      {std::string(LGS_SOURCE_DIR) + "/tests/mcap/check_scene.mjs",
       std::string(LGS_SOURCE_DIR) + "/protocol/proto/foxglove", dir.File("with-scene.mcap")},
      dir.path(), "check_scene_copy");
  ASSERT_EQ(recheck.Wait(60s), 0) << recheck.Stderr();
  const json copied = json::parse(recheck.Stdout());
  for (const char* part : {"poses", "transforms", "entities", "logs"}) {
    EXPECT_EQ(copied[part], report[part]) << part;
  }
  const Recording copy = ReadRecordingFiles({dir.File("with-scene.mcap")});
  const auto raw = [](const Recording& r) {
    std::vector<std::tuple<std::string, uint64_t, uint64_t, std::string>> out;
    for (const RecordedMessage& m : r.messages) {
      const std::string& t = m.topic;
      if (t.ends_with("/tf") || t.ends_with("/pose") || t.ends_with("/scene") ||
          t.ends_with("/log")) {
        continue;
      }
      out.emplace_back(t, m.log_time, m.publish_time, m.data);
    }
    return out;
  };
  EXPECT_TRUE(raw(copy) == raw(recording));

  // The shipped layout names only topics a station records and fields their messages have.
  const json layout =
      json::parse(ReadFile(std::string(LGS_SOURCE_DIR) + "/tools/foxglove/rover1-layout.json"));
  std::set<std::string> topics;
  for (const RecordedMessage& m : recording.messages) topics.insert(m.topic);
  const std::string images = protocol::recording::ImageChannel("rover1", "navcam_left");
  size_t named = 0;
  for (const auto& [panel, config] : layout["configById"].items()) {
    if (config.contains("topics")) {
      for (const auto& [topic, on] : config["topics"].items()) {
        EXPECT_TRUE(topics.contains(topic) || topic == images) << panel << ": " << topic;
        ++named;
      }
    }
    if (config.contains("topicToRender")) {
      EXPECT_TRUE(topics.contains(config["topicToRender"].get<std::string>())) << panel;
      ++named;
    }
    if (config.contains("imageMode")) {
      EXPECT_EQ(config["imageMode"]["imageTopic"], images);
    }
    if (!config.contains("paths")) continue;
    for (const json& path : config["paths"]) {
      const std::string value = path["value"];
      const std::string topic = value.substr(0, value.find('.'));
      const std::string field = value.substr(value.find('.') + 1);
      ASSERT_TRUE(topics.contains(topic)) << panel << ": " << value;
      const protocol::StreamInfo* stream = protocol::recording::StreamOfChannel(topic, "rover1");
      ASSERT_NE(stream, nullptr) << value;
      EXPECT_NE(stream->prototype->GetDescriptor()->FindFieldByName(field), nullptr) << value;
      ++named;
    }
  }
  EXPECT_GE(named, 10u);
  std::printf(
      "[ measured ] %zu poses, %zu tiles, %zu soil sites, %zu events in the Foxglove "
      "channels; gsctl scene rebuilt the same %s\n",
      poses.size(), tiles.size(), soil.size(), events.size(), summary["added"].dump().c_str());
}

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t comma; (comma = line.find(',', start)) != std::string::npos; start = comma + 1) {
    out.push_back(line.substr(start, comma - start));
  }
  out.push_back(line.substr(start));
  return out;
}

// gsctl export --science: one tidy CSV per recorded soil measurement, values exactly the
// recorded ones (they read back to the same float and double), and an index of them all.
TEST(Science, EveryRecordedMeasurementIsOneTidyCsvWithItsExactValues) {
  ScratchDir dir;
  const auto files = RecordADrive(dir, "5m");
  ASSERT_EQ(files.size(), 1u);
  std::vector<std::pair<uint64_t, rover::v1::SoilMeasurement>> soil;
  for (const RecordedMessage& m : ReadRecordingFiles(files).messages) {
    if (m.topic != "/rover1/soil") continue;
    soil.emplace_back();
    soil.back().first = m.publish_time;
    ASSERT_TRUE(m.ParseAs(soil.back().second));
  }
  ASSERT_GE(soil.size(), 20u);
  const GsctlResult r = Gsctl(dir, {"export", files[0], "--science", dir.File("science")});
  ASSERT_EQ(r.code, 0) << r.err;
  std::printf("[ measured ] %s", r.err.c_str());
  const auto index = ReadLines(dir.File("science/index.csv"));
  ASSERT_EQ(index.size(), soil.size() + 1);
  const auto head = Split(index[0]);
  ASSERT_EQ(head[0], "measurement_id");
  ASSERT_EQ(head[8], "file");
  std::map<std::string, size_t> kinds;
  for (size_t i = 0; i < soil.size(); ++i) {
    const auto& [onboard_ns, m] = soil[i];
    const auto row = Split(index[i + 1]);
    ASSERT_EQ(row.size(), head.size()) << index[i + 1];
    EXPECT_EQ(std::stoull(row[0]), m.measurement_id());
    EXPECT_EQ(std::stoull(row[3]), onboard_ns);
    EXPECT_EQ(std::stod(row[4]), m.x_m());
    EXPECT_EQ(std::stod(row[5]), m.y_m());
    const auto lines = ReadLines(dir.File("science/" + row[8]));
    ASSERT_FALSE(lines.empty()) << row[8];
    ++kinds[row[1]];
    // Every row of the file names its measurement, time and place.
    for (size_t k = 1; k < lines.size(); ++k) {
      const auto cells = Split(lines[k]);
      ASSERT_EQ(std::stoull(cells[0]), m.measurement_id());
      ASSERT_EQ(std::stoull(cells[2]), onboard_ns);
      ASSERT_EQ(std::stod(cells[3]), m.x_m());
    }
    if (m.has_vnis()) {
      EXPECT_EQ(row[1], "vnis");
      const auto& v = m.vnis();
      ASSERT_EQ(lines.size(), static_cast<size_t>(v.reflectance_size()) + 1) << row[8];
      EXPECT_EQ(Split(lines[0]).back(), "reflectance");
      for (int b = 0; b < v.reflectance_size(); ++b) {
        const auto cells = Split(lines[static_cast<size_t>(b) + 1]);
        ASSERT_EQ(std::stof(cells.back()), v.reflectance(b)) << row[8] << " band " << b;
        ASSERT_NEAR(std::stod(cells[cells.size() - 2]), v.start_wavelength_um() + b * v.step_um(),
                    1e-12);
      }
      EXPECT_EQ(std::stod(row[10]), v.band_depth_1um());
    } else if (m.has_apxs()) {
      EXPECT_EQ(row[1], "apxs");
      ASSERT_EQ(lines.size(), 11u);  // ten oxides
      EXPECT_EQ(Split(lines[1])[7], "SiO2");
      EXPECT_EQ(std::stod(Split(lines[1])[8]), m.apxs().sio2_wt_percent());
      EXPECT_EQ(Split(lines[10])[7], "MnO");
      EXPECT_EQ(std::stod(Split(lines[10])[8]), m.apxs().mno_wt_percent());
      EXPECT_EQ(std::stod(row[13]), m.apxs().total_wt_percent());
    } else if (m.has_neutron()) {
      EXPECT_EQ(row[1], "neutron");
      ASSERT_EQ(lines.size(), 2u);
      EXPECT_EQ(std::stod(Split(lines[1]).back()), m.neutron().hydrogen_weh_wt_percent());
      EXPECT_EQ(std::stod(row[14]), m.neutron().hydrogen_weh_wt_percent());
    }
  }
  EXPECT_EQ(kinds.size(), 3u) << "the drive should have used every instrument";
  // A directory that cannot be made is a clear error.
  const GsctlResult bad = Gsctl(dir, {"export", files[0], "--science", "/proc/no-such/science"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("cannot create science directory '/proc/no-such/science'"),
            std::string::npos)
      << bad.err;
}

}  // namespace
}  // namespace lgs::test
