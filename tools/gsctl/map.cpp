// gsctl map: the site map from recordings' terrain tiles, exported for GIS (GeoTIFF or PNG
// through GDAL), and the traverse (poses and soil-measurement sites) as GeoJSON in the same CRS.
#include <fmt/format.h>
#include <google/protobuf/message.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "groundstation/footprint.h"
#include "groundstation/map_export.h"
#include "groundstation/site_mosaic.h"
#include "protocol/command_dictionary.h"
#include "rover/v1/camera.pb.h"
#include "rover/v1/navigation.pb.h"
#include "rover/v1/soil.pb.h"
#include "rover/v1/terrain.pb.h"
#include "science.h"

namespace lgs::gsctl {
namespace {

using nlohmann::json;

struct Pose {
  int64_t t = 0;
  rover::v1::NavigationPose pose;
};
struct Soil {
  int64_t t = 0;
  rover::v1::SoilMeasurement m;
};
struct Image {
  int64_t t = 0;
  rover::v1::CameraFrame frame;
};

// The ground an image covers (groundstation/footprint.h), for a kept image.
std::optional<json> FootprintFeature(const Image& image) {
  constexpr double kMaxRangeM = 30.0;
  const auto fp = station::ImageFootprint(image.frame, kMaxRangeM);
  if (!fp) return std::nullopt;
  json ring = json::array();
  for (const auto& c : fp->corners) ring.push_back({c[0], c[1]});
  ring.push_back(ring.front());  // GeoJSON closes its rings
  const auto& f = image.frame;
  json props = {{"kind", "image_footprint"},
                {"product_name", f.product_name()},
                {"camera", protocol::CameraName(f.camera())},
                {"frame_id", f.frame_id()},
                {"pan_deg", f.pan_deg()},
                {"tilt_deg", f.tilt_deg()},
                {"field_of_view_deg", f.field_of_view_deg()},
                {"onboard_time", FormatUtc(static_cast<uint64_t>(image.t))},
                {"onboard_ns", image.t}};
  if (fp->clipped) props["clipped_at_m"] = kMaxRangeM;
  return json{{"type", "Feature"},
              {"geometry", {{"type", "Polygon"}, {"coordinates", json::array({ring})}}},
              {"properties", std::move(props)}};
}

json SoilFeature(const Soil& s) {
  json props = {{"measurement_id", s.m.measurement_id()},
                {"onboard_time", FormatUtc(static_cast<uint64_t>(s.t))},
                {"onboard_ns", s.t},
                {"integration_s", s.m.integration_s()},
                {"in_shadow", s.m.in_shadow()},
                {"instrument", std::string(InstrumentName(s.m.instrument()))}};
  switch (s.m.result_case()) {
    case rover::v1::SoilMeasurement::kApxs: {
      const auto& a = s.m.apxs();
      json oxides = json::object();
      for (const auto& [oxide, value] : Oxides(a)) oxides[std::string(oxide)] = value;
      props["oxides_wt_percent"] = std::move(oxides);
      props["total_wt_percent"] = a.total_wt_percent();
      break;
    }
    case rover::v1::SoilMeasurement::kVnis: {
      const auto& v = s.m.vnis();
      props["bands"] = v.reflectance_size();
      props["band_depth_1um"] = v.band_depth_1um();
      props["band_depth_2um"] = v.band_depth_2um();
      props["ice_band_depth_1_5um"] = v.ice_band_depth_1_5um();
      break;
    }
    case rover::v1::SoilMeasurement::kNeutron: {
      const auto& n = s.m.neutron();
      props["hydrogen_weh_wt_percent"] = n.hydrogen_weh_wt_percent();
      props["epithermal_counts_per_s"] = n.epithermal_counts_per_s();
      break;
    }
    default:
      break;
  }
  return {{"type", "Feature"},
          {"geometry", {{"type", "Point"}, {"coordinates", {s.m.x_m(), s.m.y_m()}}}},
          {"properties", std::move(props)}};
}

// GeoJSON in the site frame: the CRS travels as WKT in the (2008) "crs" member, which GDAL and so
// QGIS read; coordinates are site metres, x east, y north.
json TraverseJson(const std::vector<Pose>& poses, const std::vector<Soil>& soil,
                  const std::vector<Image>& images, const std::string& crs_wkt) {
  json features = json::array();
  if (!poses.empty()) {
    json coords = json::array(), times = json::array();
    for (const Pose& p : poses) {
      coords.push_back({p.pose.x_m(), p.pose.y_m(), p.pose.z_m()});
      times.push_back(p.t);
    }
    const json props = {{"kind", "traverse"},
                        {"poses", poses.size()},
                        {"start", FormatUtc(static_cast<uint64_t>(poses.front().t))},
                        {"end", FormatUtc(static_cast<uint64_t>(poses.back().t))},
                        {"odometer_m", poses.back().pose.odometer_m()},
                        {"onboard_ns", std::move(times)}};
    features.push_back({{"type", "Feature"},
                        {"geometry", {{"type", "LineString"}, {"coordinates", std::move(coords)}}},
                        {"properties", props}});
  }
  for (const Soil& s : soil) features.push_back(SoilFeature(s));
  for (const Image& i : images) {
    if (auto f = FootprintFeature(i)) features.push_back(std::move(*f));
  }
  return {{"type", "FeatureCollection"},
          {"name", "traverse"},
          {"crs", {{"type", "name"}, {"properties", {{"name", crs_wkt}}}}},
          {"features", std::move(features)}};
}

std::optional<std::pair<double, double>> ParseSite(const std::string& text) {
  const size_t comma = text.find(',');
  if (comma == std::string::npos) return std::nullopt;
  try {
    size_t used = 0;
    const double lat = std::stod(text.substr(0, comma), &used);
    if (used != comma) return std::nullopt;
    const std::string rest = text.substr(comma + 1);
    const double lon = std::stod(rest, &used);
    if (used != rest.size()) return std::nullopt;
    return std::make_pair(lat, lon);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool EndsWith(const std::string& s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

int RunMap(const MapOptions& o) {
  using station::MapFormat;
  using station::MapLayer;
  if (o.out.empty() && o.traverse.empty()) {
    fmt::print(stderr,
               "gsctl map: say what to write: --out FILE (a layer) and/or --traverse "
               "FILE (GeoJSON, - for stdout)\n");
    return kExitUsage;
  }
  const auto layer = station::MapLayerNamed(o.layer);
  if (!layer) {
    fmt::print(stderr, "gsctl map: no layer '{}' ({})\n", o.layer, station::MapLayerNames());
    return kExitUsage;
  }
  std::string format_name = o.format;
  if (format_name.empty()) {
    format_name = EndsWith(o.out, ".png") ? "png" : "geotiff";
  }
  const auto format = station::MapFormatNamed(format_name);
  if (!format) {
    fmt::print(stderr, "gsctl map: unknown format '{}' (geotiff or png)\n", format_name);
    return kExitUsage;
  }
  std::optional<std::pair<double, double>> site_override;
  if (!o.site.empty()) {
    site_override = ParseSite(o.site);
    if (!site_override) {
      fmt::print(stderr, "gsctl map: --site '{}' is not LAT,LON in degrees (e.g. -89.45,31.4)\n",
                 o.site);
      return kExitUsage;
    }
  }

  station::SiteMosaic mosaic;
  std::vector<Pose> poses;
  std::vector<Soil> soil;
  std::vector<Image> images;
  std::optional<std::pair<double, double>> site_from_poses;
  uint64_t refused = 0;
  int worst = kExitOk;
  const std::vector<std::string> topics = {"terrain_tile", "navigation_pose", "soil",
                                           "camera_frame"};
  // Months of recordings take a while: files done, and what was found so far (a terminal only).
  ProgressBar progress("mapping", o.files.size());
  uint64_t seen = 0;
  size_t files_done = 0;
  for (const std::string& file : o.files) {
    const int code = ForEachMessage("map", file, topics, o.start, o.end, [&](const Decoded& d) {
      if ((++seen & 0xFFF) == 0) {
        progress.Update(files_done,
                        fmt::format("{} tiles, {} poses", mosaic.stats().tiles, poses.size()));
      }
      const std::string_view type = d.message->GetDescriptor()->full_name();
      if (type == "rover.v1.TerrainTile") {
        rover::v1::TerrainTile tile;
        if (!AsGenerated(d, tile)) return;
        if (Status s = mosaic.Add(tile, OnboardOrLogTime(d)); !s.ok() && refused++ < 5) {
          fmt::print(stderr, "gsctl map: {}: {}\n", file, s.message());
        }
      } else if (type == "rover.v1.NavigationPose") {
        Pose p{OnboardOrLogTime(d), {}};
        if (!AsGenerated(d, p.pose)) return;
        if (!site_from_poses &&
            (p.pose.site_latitude_deg() != 0 || p.pose.site_longitude_deg() != 0)) {
          site_from_poses = std::make_pair(p.pose.site_latitude_deg(), p.pose.site_longitude_deg());
        }
        poses.push_back(std::move(p));
      } else if (type == "rover.v1.SoilMeasurement") {
        Soil s{OnboardOrLogTime(d), {}};
        if (AsGenerated(d, s.m)) soil.push_back(std::move(s));
      } else if (type == "rover.v1.CameraFrame") {
        // Kept images only: periodic navigation frames are not downlinked.
        Image i{OnboardOrLogTime(d), {}};
        if (AsGenerated(d, i.frame) && !i.frame.product_name().empty())
          images.push_back(std::move(i));
      }
    });
    ++files_done;
    if (code == kExitUsage || code == kExitFailure) {
      progress.Finish();
      return code;
    }
    worst = std::max(worst, code);
  }
  progress.Finish();
  if (refused > 5) fmt::print(stderr, "gsctl map: {} tiles refused in all\n", refused);
  std::sort(poses.begin(), poses.end(), [](const Pose& a, const Pose& b) { return a.t < b.t; });
  std::sort(soil.begin(), soil.end(), [](const Soil& a, const Soil& b) { return a.t < b.t; });
  std::sort(images.begin(), images.end(), [](const Image& a, const Image& b) { return a.t < b.t; });

  station::SiteOrigin site;
  if (site_override) {
    site.latitude_deg = site_override->first;
    site.longitude_deg = site_override->second;
  } else if (site_from_poses) {
    site.latitude_deg = site_from_poses->first;
    site.longitude_deg = site_from_poses->second;
  } else {
    fmt::print(stderr,
               "gsctl map: the recordings' poses do not say where the site is (none recorded, or "
               "from before poses carried it): give --site LAT,LON\n");
    return kExitUsage;
  }
  site.name = o.site_name;

  json summary = {
      {"tiles", mosaic.stats().tiles},
      {"tiles_refused", mosaic.stats().tiles_refused},
      {"observed_cells", mosaic.stats().observed_cells},
      {"cell_size_m", mosaic.cell_size_m()},
      {"poses", poses.size()},
      {"soil_measurements", soil.size()},
      {"site", {{"latitude_deg", site.latitude_deg}, {"longitude_deg", site.longitude_deg}}}};
  if (!o.out.empty()) {
    station::SiteMosaic::RenderOptions render;
    render.sun_azimuth_deg = o.sun_azimuth_deg;
    render.sun_elevation_deg = o.sun_elevation_deg;
    auto raster = mosaic.Render(*layer, render);
    if (!raster.ok()) {
      fmt::print(stderr, "gsctl map: {}\n", raster.error().message());
      return kExitFailure;
    }
    if (Status s = station::WriteMapRaster(*raster, site, *format, o.out); !s.ok()) {
      fmt::print(stderr, "gsctl map: {}\n", s.message());
      return kExitFailure;
    }
    const auto& w = raster->window;
    summary["layer"] = {{"name", o.layer},
                        {"file", o.out},
                        {"format", format_name},
                        {"width", w.width},
                        {"height", w.height},
                        {"west_m", raster->west_m()},
                        {"north_m", raster->north_m()},
                        {"cells_with_data", raster->observed_cells}};
    fmt::print(stderr,
               "gsctl map: {} tile(s), {} cell(s) observed; {} {}×{} cells ({:.1f} m × {:.1f} m "
               "at {} m) written to {}\n",
               mosaic.stats().tiles, mosaic.stats().observed_cells, o.layer, w.width, w.height,
               w.width * raster->cell_size_m, w.height * raster->cell_size_m, raster->cell_size_m,
               o.out);
  }
  if (!o.traverse.empty()) {
    auto wkt = station::SiteCrsWkt(site);
    if (!wkt.ok()) {
      fmt::print(stderr, "gsctl map: {}\n", wkt.error().message());
      return kExitFailure;
    }
    const std::string text = TraverseJson(poses, soil, images, *wkt).dump() + "\n";
    if (o.traverse == "-") {
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
    } else {
      std::ofstream out(o.traverse, std::ios::binary | std::ios::trunc);
      out << text;
      out.close();
      if (!out) {
        fmt::print(stderr, "gsctl map: cannot write '{}'\n", o.traverse);
        return kExitFailure;
      }
    }
    summary["traverse"] = o.traverse;
    fmt::print(stderr,
               "gsctl map: traverse of {} pose(s), {} soil measurement(s) and {} image "
               "footprint(s) written to {}\n",
               poses.size(), soil.size(), images.size(), o.traverse == "-" ? "stdout" : o.traverse);
  }
  if (o.json && o.traverse != "-") fmt::print("{}\n", summary.dump());
  return worst;
}

}  // namespace lgs::gsctl
