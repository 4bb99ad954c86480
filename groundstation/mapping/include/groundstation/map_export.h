// Map products for GIS, through GDAL: a MapRaster as a georeferenced GeoTIFF (or a PNG with its
// world file and CRS beside it), and the site's coordinate reference system — the azimuthal
// equidistant projection centred on the landing site, on the Moon sphere of PROJ's IAU 2015
// catalogue (IAU_2015:30100), in which the rover's site frame (x east, y north, metres) is the
// projected coordinates. QGIS and every GDAL tool open the files in place.
//
// Thread-safe: GDAL's drivers are registered once; each call uses its own dataset. GDAL's own
// messages are kept from stderr and returned in the Status.
#pragma once

#include <string>
#include <string_view>

#include "groundstation/site_mosaic.h"
#include "protocol/status.h"

namespace lgs::station {

// The site frame's origin, selenographic degrees (NavigationPose.site_latitude_deg/longitude).
struct SiteOrigin {
  double latitude_deg = 0.0;
  double longitude_deg = 0.0;
  std::string name = "landing site";
};

// The site's CRS as WKT2 (2019). Fails on a latitude outside -90..90 or a longitude outside
// -360..360.
[[nodiscard]] Result<std::string> SiteCrsWkt(const SiteOrigin& site);

enum class MapFormat { kGeoTiff, kPng };
std::optional<MapFormat> MapFormatNamed(std::string_view name);  // "geotiff" or "png"

// Writes `raster` to `path`. GeoTIFF: the layer's own type (Float32 elevation and slope, Byte
// hazard with class names and colours, Byte hillshade, Float64 observed_at in Unix seconds),
// its nodata, DEFLATE-compressed tiles. PNG: 8 bits (elevation and slope stretched over their
// range to 1..255, 0 where nothing was observed), the world file (.wld) and the CRS (.aux.xml).
[[nodiscard]] Status WriteMapRaster(const MapRaster& raster, const SiteOrigin& site,
                                    MapFormat format, const std::string& path);

// A layer as a picture for a screen (the web traverse map): an RGBA PNG in memory, cells nothing
// observed transparent. Hillshade in grey; elevation and slope on a colour ramp over the
// window's range (`lo`..`hi`, in the layer's unit); hazard in the classes' colours with safe
// cells transparent, to lie over a base layer.
struct MapPicture {
  std::string png;
  double lo = 0.0, hi = 0.0;  // the range the ramp spans (elevation m, slope °), else 0
};
[[nodiscard]] Result<MapPicture> EncodeMapPicture(const MapRaster& raster);

}  // namespace lgs::station
