#include "rover_emulator/camera.h"

// jpeglib.h needs <cstdio> first.
// clang-format off
#include <cstdio>
#include <jpeglib.h>
// clang-format on
#include <png.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <csetjmp>
#include <cstring>

#include "rover_emulator/random.h"

namespace lgs::emulator {
namespace {

constexpr double kDegPerRad = 180.0 / M_PI;
constexpr double kShadowCellM = 0.125;  // finer than the smallest rock shadow at 1° sun
constexpr double kNearM = 0.05;
constexpr double kFarM = 600.0;
constexpr double kSunRadiusDeg = 0.265;
// The sensor: 12-bit DN per unit of radiance and millisecond of exposure, and the level the
// auto-exposure puts the 97th percentile of the sunlit ground at.
constexpr double kDnPerRadianceMs = 20'000.0;
constexpr double kTargetDn = 3'500.0;
constexpr double kMaxExposureMs = 500.0, kMinExposureMs = 0.05, kMaxGainDb = 12.0;
constexpr double kReadNoiseDn = 2.5;
constexpr double kRegolithAlbedo = 0.12, kRockAlbedo = 0.20;
// Light from the sunlit terrain around, which is all that fills a shadow at the pole: shadows are
// nearly black (and exposure is set for the lit ground).
constexpr double kScatteredLight = 0.001;
constexpr double kLunarLambertWeight = 0.5;

struct Vec {
  double x, y, z;
};
Vec operator+(Vec a, Vec b) {
  return {a.x + b.x, a.y + b.y, a.z + b.z};
}
Vec operator*(double s, Vec a) {
  return {s * a.x, s * a.y, s * a.z};
}
double Dot(Vec a, Vec b) {
  return a.x * b.x + a.y * b.y + a.z * b.z;
}
Vec Normalize(Vec a) {
  const double n = std::sqrt(Dot(a, a));
  return {a.x / n, a.y / n, a.z / n};
}
Vec Direction(double azimuth_deg, double elevation_deg) {
  const double az = azimuth_deg / kDegPerRad, el = elevation_deg / kDegPerRad;
  return {std::sin(az) * std::cos(el), std::cos(az) * std::cos(el), std::sin(el)};
}

// Value noise in [0, 1) on a lattice of `scale` metres: regolith texture that stays put when
// the camera moves.
double Hash(int64_t x, int64_t y) {
  uint64_t h = static_cast<uint64_t>(x) * 0x9E3779B97F4A7C15ull ^
               static_cast<uint64_t>(y) * 0xC2B2AE3D27D4EB4Full;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 32;
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}
double ValueNoise(double x, double y, double scale) {
  const double gx = x / scale, gy = y / scale;
  const auto ix = static_cast<int64_t>(std::floor(gx)), iy = static_cast<int64_t>(std::floor(gy));
  const double fx = gx - static_cast<double>(ix), fy = gy - static_cast<double>(iy);
  const double a = Hash(ix, iy), b = Hash(ix + 1, iy), c = Hash(ix, iy + 1),
               d = Hash(ix + 1, iy + 1);
  const double top = a + (b - a) * fx, bottom = c + (d - c) * fx;
  return top + (bottom - top) * fy;
}

}  // namespace

const CameraSpec& SpecOf(const CameraSpecs& specs, rover::v1::Camera camera) {
  switch (camera) {
    case rover::v1::CAMERA_PANCAM_LEFT:
    case rover::v1::CAMERA_PANCAM_RIGHT:
      return specs.pancam;
    case rover::v1::CAMERA_HAZCAM_FRONT:
    case rover::v1::CAMERA_HAZCAM_REAR:
      return specs.hazcam;
    default:
      return specs.navcam;
  }
}

void CameraRenderer::UpdateShadows(const SunPosition& sun) {
  if (std::abs(sun.azimuth_deg - shadow_az_) < 0.05 &&
      std::abs(sun.elevation_deg - shadow_el_) < 0.02) {
    return;
  }
  shadow_az_ = sun.azimuth_deg;
  shadow_el_ = sun.elevation_deg;
  const double half = terrain_.half_size_m();
  shadow_cell_m_ = kShadowCellM;
  shadow_cells_ = static_cast<int>(std::ceil(2.0 * half / kShadowCellM)) + 1;
  const int n = shadow_cells_;
  lit_.assign(static_cast<size_t>(n) * n, 0);
  if (sun.elevation_deg <= terrain_.FarHorizonDeg(sun.azimuth_deg)) return;  // behind massifs

  std::vector<float> ground(static_cast<size_t>(n) * n);
  for (int iy = 0; iy < n; ++iy) {
    for (int ix = 0; ix < n; ++ix) {
      const double x = -half + ix * kShadowCellM, y = -half + iy * kShadowCellM;
      ground[static_cast<size_t>(iy) * n + ix] =
          static_cast<float>(terrain_.Elevation(x, y) + terrain_.RockHeight(x, y));
    }
  }
  // Sweep from the sun's side: the shadow surface of a cell is the higher of its own ground and
  // the surface one cell towards the sun, lowered by the sun's slope over that distance.
  const Vec to_sun = Direction(sun.azimuth_deg, 0.0);
  const double tan_el = std::tan(sun.elevation_deg / kDegPerRad);
  const bool along_x = std::abs(to_sun.x) >= std::abs(to_sun.y);
  const double major = along_x ? to_sun.x : to_sun.y, minor = along_x ? to_sun.y : to_sun.x;
  const int step = major > 0 ? 1 : -1;
  const double shift = minor / std::abs(major);  // cells along the minor axis per major step
  const double drop = kShadowCellM * std::hypot(1.0, shift) * tan_el;
  std::vector<float> surface(ground.size());
  const auto at = [n](int major_i, int minor_i, bool x_major) {
    return x_major ? static_cast<size_t>(minor_i) * n + major_i
                   : static_cast<size_t>(major_i) * n + minor_i;
  };
  const int first = step > 0 ? n - 1 : 0;
  for (int m = first; m >= 0 && m < n; m -= step) {
    for (int k = 0; k < n; ++k) {
      const size_t c = at(m, k, along_x);
      const int up = m + step;
      const double kk = k + shift;
      const int k0 = static_cast<int>(std::floor(kk));
      if (up < 0 || up >= n || k0 < 0 || k0 + 1 >= n) {
        surface[c] = ground[c];
        lit_[c] = 1;
        continue;
      }
      const double f = kk - k0;
      const double upstream =
          surface[at(up, k0, along_x)] * (1.0 - f) + surface[at(up, k0 + 1, along_x)] * f - drop;
      lit_[c] = ground[c] >= upstream ? 1 : 0;
      surface[c] = static_cast<float>(std::max<double>(ground[c], upstream));
    }
  }
}

double CameraRenderer::Lit(double x_m, double y_m) const {
  const double half = terrain_.half_size_m();
  const int ix = static_cast<int>(std::lround((x_m + half) / shadow_cell_m_));
  const int iy = static_cast<int>(std::lround((y_m + half) / shadow_cell_m_));
  if (ix < 0 || iy < 0 || ix >= shadow_cells_ || iy >= shadow_cells_) return 0.0;
  return lit_[static_cast<size_t>(iy) * shadow_cells_ + ix];
}

RenderedImage CameraRenderer::Render(const CameraSpec& spec, const CameraPose& pose,
                                     const SunPosition& sun, uint64_t noise_seed) {
  UpdateShadows(sun);
  const uint32_t w = spec.width_px, h = spec.height_px;
  const double half = terrain_.half_size_m();
  const double max_z = terrain_.max_elevation_m();
  const Vec eye{pose.x_m, pose.y_m, pose.z_m};
  const Vec forward = Direction(pose.azimuth_deg, pose.tilt_deg);
  const Vec right{std::cos(pose.azimuth_deg / kDegPerRad), -std::sin(pose.azimuth_deg / kDegPerRad),
                  0.0};
  const Vec up{right.y * forward.z - right.z * forward.y, right.z * forward.x - right.x * forward.z,
               right.x * forward.y - right.y * forward.x};
  const double tan_half = std::tan(spec.fov_deg / 2.0 / kDegPerRad);
  const Vec sun_dir = Direction(sun.azimuth_deg, sun.elevation_deg);
  const double cos_sun_radius = std::cos(kSunRadiusDeg / kDegPerRad);
  const auto ground = [&](double x, double y) {
    return terrain_.Elevation(x, y) + terrain_.RockHeight(x, y);
  };
  const auto beyond = [&](const Vec& dir) {
    // What a ray that meets no ground in the region sees: the sun, the lit or dark flank of a
    // distant massif, or black sky.
    if (Dot(dir, sun_dir) > cos_sun_radius && sun.elevation_deg > -kSunRadiusDeg) return 1e3;
    const double el = std::asin(std::clamp(dir.z, -1.0, 1.0)) * kDegPerRad;
    const double az = std::atan2(dir.x, dir.y) * kDegPerRad;
    if (el < terrain_.FarHorizonDeg(az) && sun.elevation_deg > 0.0) {
      const double facing = 0.5 * (1.0 + std::cos((az - sun.azimuth_deg) / kDegPerRad));
      return kRegolithAlbedo * 0.25 * facing * facing;
    }
    return 0.0;
  };

  std::vector<float> radiance(static_cast<size_t>(w) * h, 0.0f);
  // What each pixel sees: 0 sky or the distant massifs, 1 the site's ground in shadow, 2 its
  // sunlit ground. The exposure is metered on the sunlit ground (the massifs face the sun and
  // would leave the near field dark; the shadows, all that scattered light fills, would burn out
  // the lit ground).
  std::vector<uint8_t> seen(radiance.size(), 0);
  for (uint32_t i = 0; i < w; ++i) {
    const double sx = (2.0 * (i + 0.5) / w - 1.0) * tan_half;
    double t = kNearM;
    bool missed = false;  // a ray of this column met nothing: every ray above it misses too
    for (int64_t j = h - 1; j >= 0; --j) {
      const double sy = (1.0 - 2.0 * (static_cast<double>(j) + 0.5) / h) * tan_half * h / w;
      const Vec dir = Normalize(forward + sx * right + sy * up);
      float& out = radiance[static_cast<size_t>(j) * w + i];
      if (missed) {
        out = static_cast<float>(beyond(dir));
        continue;
      }
      // Rays higher in the column meet the ground further away: start where the one below met
      // it, unless that point is already underground (then from the near plane).
      double tt = std::max(kNearM, t * 0.98);
      Vec p = eye + tt * dir;
      if (p.z < ground(p.x, p.y)) tt = kNearM;
      double prev = tt;
      bool hit = false;
      while (tt < kFarM) {
        p = eye + tt * dir;
        if (std::abs(p.x) > half || std::abs(p.y) > half || (dir.z >= 0 && p.z > max_z)) break;
        if (p.z <= ground(p.x, p.y)) {
          hit = true;
          break;
        }
        prev = tt;
        tt += std::max(0.004, tt * 0.004);
      }
      if (!hit) {
        missed = true;
        out = static_cast<float>(beyond(dir));
        continue;
      }
      double lo = prev, hi = tt;
      for (int k = 0; k < 6; ++k) {
        const double mid = 0.5 * (lo + hi);
        const Vec q = eye + mid * dir;
        (q.z <= ground(q.x, q.y) ? hi : lo) = mid;
      }
      t = hi;
      p = eye + hi * dir;
      const double e = std::max(0.01, hi * 0.002);
      const double dzdx = (ground(p.x + e, p.y) - ground(p.x - e, p.y)) / (2 * e);
      const double dzdy = (ground(p.x, p.y + e) - ground(p.x, p.y - e)) / (2 * e);
      const Vec normal = Normalize({-dzdx, -dzdy, 1.0});
      const double cos_i = std::max(0.0, Dot(normal, sun_dir));
      const double cos_e = std::max(0.05, -Dot(normal, dir));
      const bool rock = terrain_.RockHeight(p.x, p.y) > 0.005;
      double albedo = rock ? kRockAlbedo : kRegolithAlbedo;
      albedo *= 0.75 + 0.35 * ValueNoise(p.x, p.y, 0.04) + 0.15 * ValueNoise(p.x, p.y, 0.6);
      // Lunar-Lambert (McEwen): Lommel-Seeliger, the law of dusty airless surfaces, blended with
      // Lambert so grazing views do not outshine the near field; plus light scattered from the
      // lit terrain into the shadows.
      const double direct =
          cos_i > 0 ? Lit(p.x, p.y) * (kLunarLambertWeight * 2.0 * cos_i / (cos_i + cos_e) +
                                       (1.0 - kLunarLambertWeight) * cos_i)
                    : 0.0;
      out = static_cast<float>(albedo * (direct + kScatteredLight));
      seen[static_cast<size_t>(j) * w + i] = direct > 0 ? 2 : 1;
    }
  }

  // Auto-exposure: the 97th percentile of the sunlit ground at kTargetDn (a few glints may
  // clip); gain only when the exposure is at its longest.
  std::vector<float> sample;
  sample.reserve(radiance.size() / 7 + 1);
  // Too little sunlit ground to meter on (looking into a crater's shadow): all of the ground,
  // then anything.
  for (const uint8_t at_least : {2, 1, 0}) {
    sample.clear();
    for (size_t k = 0; k < radiance.size(); k += 7) {
      if (seen[k] >= at_least && radiance[k] > 0.0f && radiance[k] < 100.0f) {
        sample.push_back(radiance[k]);
      }
    }
    if (sample.size() * 7 * 200 >= radiance.size()) break;  // at least 0.5 % of the frame
  }
  double reference = 0.01;
  if (!sample.empty()) {
    auto nth = sample.begin() + static_cast<std::ptrdiff_t>(sample.size() * 97 / 100);
    std::nth_element(sample.begin(), nth, sample.end());
    reference = std::max<double>(*nth, 1e-6);
  }
  RenderedImage image;
  image.width = w;
  image.height = h;
  double exposure = kTargetDn / (reference * kDnPerRadianceMs);
  double gain = 1.0;
  if (exposure > kMaxExposureMs) {
    gain = std::min(exposure / kMaxExposureMs, std::pow(10.0, kMaxGainDb / 20.0));
    exposure = kMaxExposureMs;
  }
  exposure = std::max(exposure, kMinExposureMs);
  image.exposure_ms = exposure;
  image.gain_db = 20.0 * std::log10(gain);
  std::array<uint8_t, 4096> compand;
  for (size_t dn = 0; dn < compand.size(); ++dn) {
    compand[dn] = static_cast<uint8_t>(std::lround(255.0 * std::sqrt(dn / 4095.0)));
  }
  Random noise(noise_seed);
  image.pixels.resize(radiance.size());
  double sum = 0.0;
  for (size_t k = 0; k < radiance.size(); ++k) {
    const double signal = radiance[k] * exposure * kDnPerRadianceMs * gain;
    const double shot = std::sqrt(std::max(0.0, std::min(signal, 4095.0)) * 0.25);
    const double dn = std::clamp(
        std::round(signal + noise.Normal(0.0, std::hypot(kReadNoiseDn, shot))), 0.0, 4095.0);
    sum += dn;
    image.pixels[k] = compand[static_cast<size_t>(dn)];
  }
  image.mean_dn = sum / static_cast<double>(radiance.size());
  return image;
}

namespace {

struct JpegError {
  jpeg_error_mgr manager;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void JpegErrorExit(j_common_ptr info) {
  auto* error = reinterpret_cast<JpegError*>(info->err);
  (*info->err->format_message)(info, error->message);
  std::longjmp(error->jump, 1);
}

// The libjpeg part, apart from anything with a destructor (longjmp skips them).
bool CompressJpeg(const RenderedImage& image, int quality, unsigned char** out, unsigned long* size,
                  JpegError& error) {
  jpeg_compress_struct info;
  info.err = jpeg_std_error(&error.manager);
  error.manager.error_exit = JpegErrorExit;
  if (setjmp(error.jump)) {
    jpeg_destroy_compress(&info);
    return false;
  }
  jpeg_create_compress(&info);
  jpeg_mem_dest(&info, out, size);
  info.image_width = image.width;
  info.image_height = image.height;
  info.input_components = 1;
  info.in_color_space = JCS_GRAYSCALE;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, quality, TRUE);
  jpeg_start_compress(&info, TRUE);
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(image.pixels.data() +
                                        static_cast<size_t>(info.next_scanline) * image.width);
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  return true;
}

struct PngSink {
  std::string bytes;
  char message[256] = {};
};

void PngWrite(png_structp png, png_bytep data, size_t length) {
  auto* sink = static_cast<PngSink*>(png_get_io_ptr(png));
  sink->bytes.append(reinterpret_cast<const char*>(data), length);
}
void PngFlush(png_structp) {}
void PngError(png_structp png, png_const_charp message) {
  auto* sink = static_cast<PngSink*>(png_get_error_ptr(png));
  std::snprintf(sink->message, sizeof(sink->message), "%s", message);
  png_longjmp(png, 1);
}
void PngWarning(png_structp, png_const_charp) {}

bool CompressPng(const RenderedImage& image, PngSink& sink) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, PngError, PngWarning);
  if (png == nullptr) return false;
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, &sink, PngWrite, PngFlush);
  png_set_IHDR(png, info, image.width, image.height, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (uint32_t row = 0; row < image.height; ++row) {
    png_write_row(png, image.pixels.data() + static_cast<size_t>(row) * image.width);
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

}  // namespace

Result<std::string> EncodeJpeg(const RenderedImage& image, int quality) {
  if (image.pixels.size() != static_cast<size_t>(image.width) * image.height || image.width == 0) {
    return Status::Error("no image to compress");
  }
  unsigned char* out = nullptr;
  unsigned long size = 0;
  JpegError error{};
  const bool ok = CompressJpeg(image, std::clamp(quality, 1, 100), &out, &size, error);
  std::string bytes;
  if (ok) bytes.assign(reinterpret_cast<const char*>(out), size);
  std::free(out);
  if (!ok) return Status::Error(std::string("JPEG compression failed: ") + error.message);
  return bytes;
}

Result<std::string> EncodePng(const RenderedImage& image) {
  if (image.pixels.size() != static_cast<size_t>(image.width) * image.height || image.width == 0) {
    return Status::Error("no image to compress");
  }
  PngSink sink;
  if (!CompressPng(image, sink)) {
    return Status::Error(std::string("PNG compression failed: ") + sink.message);
  }
  return std::move(sink.bytes);
}

}  // namespace lgs::emulator
