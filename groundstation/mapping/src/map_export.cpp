#include "groundstation/map_export.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <fmt/format.h>
#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <iterator>
#include <memory>
#include <mutex>

namespace lgs::station {
namespace {

// PROJ's IAU 2015 catalogue: the Moon's sphere, planetocentric latitude, east longitude.
constexpr const char* kMoonGeographic = "IAU_2015:30100";

void RegisterGdal() {
  static std::once_flag once;
  std::call_once(once, [] { GDALAllRegister(); });
}

// GDAL's errors during one call, kept from stderr and handed back.
class GdalErrors {
 public:
  GdalErrors() {
    CPLPushErrorHandlerEx(&GdalErrors::Handler, this);
    CPLErrorReset();
  }
  ~GdalErrors() { CPLPopErrorHandler(); }
  GdalErrors(const GdalErrors&) = delete;
  GdalErrors& operator=(const GdalErrors&) = delete;
  bool failed() const { return !last_.empty(); }
  Status Fail(const std::string& what) const {
    return Status::Error(last_.empty() ? what : what + ": " + last_);
  }

 private:
  static void CPL_STDCALL Handler(CPLErr level, CPLErrorNum, const char* message) {
    auto* self = static_cast<GdalErrors*>(CPLGetErrorHandlerUserData());
    if (self != nullptr && level >= CE_Failure && message != nullptr) self->last_ = message;
  }
  std::string last_;
};

struct DatasetCloser {
  void operator()(GDALDataset* d) const { GDALClose(d); }
};
using Dataset = std::unique_ptr<GDALDataset, DatasetCloser>;

Result<OGRSpatialReference> SiteCrs(const SiteOrigin& site) {
  if (!(site.latitude_deg >= -90.0 && site.latitude_deg <= 90.0) ||
      !(site.longitude_deg >= -360.0 && site.longitude_deg <= 360.0)) {
    return Status::Error(fmt::format("site at latitude {}°, longitude {}° is not on a globe",
                                     site.latitude_deg, site.longitude_deg));
  }
  RegisterGdal();
  GdalErrors errors;
  OGRSpatialReference srs;
  if (srs.SetFromUserInput(kMoonGeographic) != OGRERR_NONE) {
    return errors.Fail(fmt::format("PROJ does not know {} (the IAU 2015 Moon)", kMoonGeographic));
  }
  // The site frame is x east, y north: traditional GIS axis order throughout.
  srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  srs.SetProjCS(fmt::format("Moon (2015) / {} azimuthal equidistant", site.name).c_str());
  if (srs.SetAE(site.latitude_deg, site.longitude_deg, 0.0, 0.0) != OGRERR_NONE ||
      srs.SetLinearUnits(SRS_UL_METER, 1.0) != OGRERR_NONE) {
    return errors.Fail("cannot build the site's projection");
  }
  return srs;
}

// GDAL's type and the class colours for each layer.
GDALDataType TypeOf(MapLayer layer) {
  switch (layer) {
    case MapLayer::kElevation:
    case MapLayer::kSlope:
      return GDT_Float32;
    case MapLayer::kHazard:
    case MapLayer::kHillshade:
      return GDT_Byte;
    case MapLayer::kObservedAt:
      return GDT_Float64;
  }
  return GDT_Float64;
}

const char* UnitOf(MapLayer layer) {
  switch (layer) {
    case MapLayer::kElevation:
      return "m";
    case MapLayer::kSlope:
      return "deg";
    case MapLayer::kObservedAt:
      return "s";
    default:
      return "";
  }
}

std::string DescriptionOf(MapLayer layer) {
  switch (layer) {
    case MapLayer::kElevation:
      return "elevation above the site datum (m)";
    case MapLayer::kSlope:
      return "slope (degrees, Horn 3x3)";
    case MapLayer::kHazard:
      return "hazard class: 0 safe, 1 slope, 2 rock, 3 unknown";
    case MapLayer::kHillshade:
      return "hillshade (1..255)";
    case MapLayer::kObservedAt:
      return "on-board time of the newest observation (Unix seconds)";
  }
  return "";
}

void DescribeHazard(GDALRasterBand& band) {
  const char* names[] = {"safe", "slope", "rock", "unknown", nullptr};
  band.SetCategoryNames(const_cast<char**>(names));
  GDALColorTable colours;
  const GDALColorEntry safe{60, 160, 80, 255}, slope{230, 170, 40, 255}, rock{200, 50, 40, 255},
      unknown{120, 120, 120, 255}, none{0, 0, 0, 0};
  colours.SetColorEntry(kHazardSafe, &safe);
  colours.SetColorEntry(kHazardSlope, &slope);
  colours.SetColorEntry(kHazardRock, &rock);
  colours.SetColorEntry(kHazardUnknown, &unknown);
  for (int i = kHazardUnknown + 1; i <= 255; ++i) colours.SetColorEntry(i, &none);
  band.SetColorTable(&colours);
  band.SetColorInterpretation(GCI_PaletteIndex);
}

// The raster's 8-bit picture for PNG: classes and shades as they are, measures stretched over
// their range to 1..255 (0 = nothing observed).
std::vector<double> ToByte(const MapRaster& raster, double& nodata) {
  if (raster.layer == MapLayer::kHazard || raster.layer == MapLayer::kHillshade) {
    nodata = raster.nodata;
    return raster.values;
  }
  double lo = INFINITY, hi = -INFINITY;
  for (double v : raster.values) {
    if (v == raster.nodata) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  std::vector<double> out(raster.values.size(), 0.0);
  const double span = hi > lo ? hi - lo : 1.0;
  for (size_t i = 0; i < out.size(); ++i) {
    const double v = raster.values[i];
    if (v != raster.nodata) out[i] = 1.0 + std::round(254.0 * (v - lo) / span);
  }
  nodata = 0.0;
  return out;
}

}  // namespace

Result<std::string> SiteCrsWkt(const SiteOrigin& site) {
  auto srs = SiteCrs(site);
  if (!srs.ok()) return srs.error();
  GdalErrors errors;
  char* wkt = nullptr;
  const char* options[] = {"FORMAT=WKT2_2019", nullptr};
  if (srs->exportToWkt(&wkt, options) != OGRERR_NONE || wkt == nullptr) {
    CPLFree(wkt);
    return errors.Fail("cannot write the site's CRS as WKT");
  }
  std::string out(wkt);
  CPLFree(wkt);
  return out;
}

std::optional<MapFormat> MapFormatNamed(std::string_view name) {
  if (name == "geotiff" || name == "tiff" || name == "tif") return MapFormat::kGeoTiff;
  if (name == "png") return MapFormat::kPng;
  return std::nullopt;
}

Status WriteMapRaster(const MapRaster& raster, const SiteOrigin& site, MapFormat format,
                      const std::string& path) {
  const int64_t w = raster.window.width, h = raster.window.height;
  if (w <= 0 || h <= 0 || raster.values.size() != static_cast<size_t>(w * h)) {
    return Status::Error("the raster holds no cells");
  }
  if (w > INT32_MAX || h > INT32_MAX) return Status::Error("the raster is too large for GDAL");
  auto srs = SiteCrs(site);
  if (!srs.ok()) return srs.error();
  RegisterGdal();
  GdalErrors errors;
  const bool png = format == MapFormat::kPng;
  double nodata = raster.nodata;
  const std::vector<double> values = png ? ToByte(raster, nodata) : std::vector<double>();
  const GDALDataType type = png ? GDT_Byte : TypeOf(raster.layer);

  // Built in memory, then copied out by the format's driver (PNG can only be made that way).
  GDALDriver* mem = GetGDALDriverManager()->GetDriverByName("MEM");
  GDALDriver* out_driver = GetGDALDriverManager()->GetDriverByName(png ? "PNG" : "GTiff");
  if (mem == nullptr || out_driver == nullptr) {
    return Status::Error("this GDAL has no MEM or output driver");
  }
  Dataset ds(mem->Create("", static_cast<int>(w), static_cast<int>(h), 1, type, nullptr));
  if (!ds) return errors.Fail("cannot create the raster in memory");
  const double transform[6] = {raster.west_m(),    raster.cell_size_m, 0.0, raster.north_m(), 0.0,
                               -raster.cell_size_m};
  ds->SetGeoTransform(const_cast<double*>(transform));
  ds->SetSpatialRef(&*srs);
  ds->SetMetadataItem("LGS_LAYER", std::string(NameOf(raster.layer)).c_str());
  ds->SetMetadataItem("LGS_SITE", site.name.c_str());
  GDALRasterBand* band = ds->GetRasterBand(1);
  band->SetNoDataValue(nodata);
  band->SetDescription(DescriptionOf(raster.layer).c_str());
  if (!png) band->SetUnitType(UnitOf(raster.layer));
  if (raster.layer == MapLayer::kHazard) DescribeHazard(*band);
  const std::vector<double>& data = png ? values : raster.values;
  if (band->RasterIO(GF_Write, 0, 0, static_cast<int>(w), static_cast<int>(h),
                     const_cast<double*>(data.data()), static_cast<int>(w), static_cast<int>(h),
                     GDT_Float64, 0, 0) != CE_None) {
    return errors.Fail("cannot fill the raster");
  }
  CPLStringList options;
  if (png) {
    options.SetNameValue("WORLDFILE", "YES");
  } else {
    options.SetNameValue("COMPRESS", "DEFLATE");
    options.SetNameValue("TILED", "YES");
    if (type != GDT_Byte) options.SetNameValue("PREDICTOR", type == GDT_Float64 ? "1" : "3");
  }
  Dataset out(
      out_driver->CreateCopy(path.c_str(), ds.get(), FALSE, options.List(), nullptr, nullptr));
  if (!out) return errors.Fail(fmt::format("cannot write '{}'", path));
  // PNG keeps no CRS of its own: GDAL's .aux.xml beside it does (written at close).
  if (png) out->SetSpatialRef(&*srs);
  out.reset();  // GDAL writes the rest at close and says so only through its error handler
  if (errors.failed()) return errors.Fail(fmt::format("cannot finish '{}'", path));
  return Status::Ok();
}

namespace {

struct Rgba {
  uint8_t r, g, b, a;
};

// A perceptually even ramp (cividis-like: blue, grey, yellow), by linear steps between stops.
Rgba Ramp(double t) {
  static constexpr Rgba kStops[] = {{0, 34, 78, 255},     {54, 67, 108, 255},  {110, 110, 112, 255},
                                    {166, 157, 117, 255}, {228, 207, 94, 255}, {254, 232, 56, 255}};
  constexpr int n = std::size(kStops) - 1;
  t = std::clamp(t, 0.0, 1.0) * n;
  const int i = std::min(static_cast<int>(t), n - 1);
  const double f = t - i;
  const auto mix = [&](uint8_t a, uint8_t b) {
    return static_cast<uint8_t>(std::lround(a + (b - a) * f));
  };
  const Rgba &a = kStops[i], &b = kStops[i + 1];
  return {mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b), 255};
}

Rgba HazardColour(double v) {
  switch (static_cast<int>(v)) {
    case kHazardSlope:
      return {230, 170, 40, 200};
    case kHazardRock:
      return {220, 50, 40, 230};
    case kHazardUnknown:
      return {120, 120, 120, 140};
    default:
      return {0, 0, 0, 0};  // safe: the base layer shows through
  }
}

}  // namespace

Result<MapPicture> EncodeMapPicture(const MapRaster& raster) {
  const int64_t w = raster.window.width, h = raster.window.height;
  if (w <= 0 || h <= 0 || raster.values.size() != static_cast<size_t>(w * h)) {
    return Status::Error("the raster holds no cells");
  }
  if (w > 16384 || h > 16384) return Status::Error("the raster is too large for a picture");
  MapPicture picture;
  const bool ramp = raster.layer == MapLayer::kElevation || raster.layer == MapLayer::kSlope ||
                    raster.layer == MapLayer::kObservedAt;
  if (ramp) {
    double lo = INFINITY, hi = -INFINITY;
    for (double v : raster.values) {
      if (v == raster.nodata) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    if (lo <= hi) {
      picture.lo = lo;
      picture.hi = hi;
    }
  }
  const double span = picture.hi > picture.lo ? picture.hi - picture.lo : 1.0;
  // Band-interleaved for GDAL: four planes of w×h.
  const size_t n = static_cast<size_t>(w * h);
  std::vector<uint8_t> planes(4 * n, 0);
  for (size_t i = 0; i < n; ++i) {
    const double v = raster.values[i];
    if (v == raster.nodata) continue;
    Rgba c{0, 0, 0, 0};
    if (raster.layer == MapLayer::kHazard) {
      c = HazardColour(v);
    } else if (raster.layer == MapLayer::kHillshade) {
      const auto g = static_cast<uint8_t>(std::clamp(v, 0.0, 255.0));
      c = {g, g, g, 255};
    } else {
      c = Ramp((v - picture.lo) / span);
    }
    planes[i] = c.r;
    planes[n + i] = c.g;
    planes[2 * n + i] = c.b;
    planes[3 * n + i] = c.a;
  }
  RegisterGdal();
  GdalErrors errors;
  GDALDriver* mem = GetGDALDriverManager()->GetDriverByName("MEM");
  GDALDriver* png = GetGDALDriverManager()->GetDriverByName("PNG");
  if (mem == nullptr || png == nullptr) return Status::Error("this GDAL has no MEM or PNG driver");
  Dataset ds(mem->Create("", static_cast<int>(w), static_cast<int>(h), 4, GDT_Byte, nullptr));
  if (!ds) return errors.Fail("cannot create the picture in memory");
  if (ds->RasterIO(GF_Write, 0, 0, static_cast<int>(w), static_cast<int>(h), planes.data(),
                   static_cast<int>(w), static_cast<int>(h), GDT_Byte, 4, nullptr, 0, 0, 0,
                   nullptr) != CE_None) {
    return errors.Fail("cannot fill the picture");
  }
  // A name in GDAL's in-memory file system, unique per call (threads may encode at once).
  static std::atomic<uint64_t> serial{0};
  const std::string name = fmt::format("/vsimem/lgs-map-{}.png", serial.fetch_add(1));
  {
    Dataset out(png->CreateCopy(name.c_str(), ds.get(), FALSE, nullptr, nullptr, nullptr));
    if (!out) return errors.Fail("cannot encode the picture as PNG");
  }
  vsi_l_offset size = 0;
  GByte* bytes = VSIGetMemFileBuffer(name.c_str(), &size, FALSE);
  if (bytes != nullptr) picture.png.assign(reinterpret_cast<const char*>(bytes), size);
  VSIUnlink(name.c_str());
  VSIUnlink((name + ".aux.xml").c_str());
  if (picture.png.empty()) return errors.Fail("cannot encode the picture as PNG");
  return picture;
}

}  // namespace lgs::station
