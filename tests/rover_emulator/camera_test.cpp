// Cameras: rendered images checked through the real codecs' decoders (libjpeg-turbo, libpng),
// not through the code that made them.
#include "rover_emulator/camera.h"

#include "rover_emulator/imaging_worker.h"

// jpeglib.h needs <cstdio> first.
// clang-format off
#include <cstdio>
#include <jpeglib.h>
// clang-format on
#include <gtest/gtest.h>
#include <png.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace lgs::emulator {
namespace {

struct Decoded {
  uint32_t width = 0, height = 0;
  std::vector<uint8_t> pixels;
};

Decoded DecodeJpeg(const std::string& bytes) {
  jpeg_decompress_struct info;
  jpeg_error_mgr error;
  info.err = jpeg_std_error(&error);
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  EXPECT_EQ(jpeg_read_header(&info, TRUE), JPEG_HEADER_OK);
  jpeg_start_decompress(&info);
  Decoded d;
  d.width = info.output_width;
  d.height = info.output_height;
  EXPECT_EQ(info.output_components, 1);
  d.pixels.resize(static_cast<size_t>(d.width) * d.height);
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = d.pixels.data() + static_cast<size_t>(info.output_scanline) * d.width;
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
  return d;
}

Decoded DecodePng(const std::string& bytes) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  EXPECT_TRUE(png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()));
  image.format = PNG_FORMAT_GRAY;
  Decoded d;
  d.width = image.width;
  d.height = image.height;
  d.pixels.resize(PNG_IMAGE_SIZE(image));
  EXPECT_TRUE(png_image_finish_read(&image, nullptr, d.pixels.data(), 0, nullptr));
  return d;
}

double Mean(const std::vector<uint8_t>& p) {
  return std::accumulate(p.begin(), p.end(), 0.0) / static_cast<double>(p.size());
}

// A plateau with little regional tilt: with the nominal 2° and the sun 1.5° up, the half of the
// site that slopes away from the sun is in its own shadow (as it would be), which makes a poor
// test scene.
Scenario GentleSite() {
  Scenario s;
  s.site.terrain.regional_slope_deg = 0.3;
  return s;
}

class CameraTest : public ::testing::Test {
 protected:
  Scenario scenario = GentleSite();
  Terrain terrain{scenario.site.terrain, 1};
  CameraRenderer renderer{terrain};
  // Higher than the pole's sun ever gets (about 2°), so most of the near field is lit and the
  // exposure checks have ground to look at.
  SunPosition sun{5.0, 90.0};

  CameraPose MastPose(double azimuth, double tilt) const {
    return {2.0, 3.0, terrain.Elevation(2.0, 3.0) + 1.5, azimuth, tilt};
  }
};

TEST_F(CameraTest, NavcamJpegDecodesToItsSizeWithSkyAboveAndGroundBelow) {
  const CameraSpec& spec = scenario.cameras.navcam;
  const RenderedImage image = renderer.Render(spec, MastPose(60.0, -10.0), sun, 7);
  ASSERT_EQ(image.width, spec.width_px);
  ASSERT_EQ(image.height, spec.height_px);
  auto jpeg = EncodeJpeg(image, spec.jpeg_quality);
  ASSERT_TRUE(jpeg.ok()) << jpeg.error().message();
  const Decoded d = DecodeJpeg(*jpeg);
  if (std::getenv("LGS_CAMERA_DUMP")) {
    std::FILE* f = std::fopen("/tmp/navcam.png", "wb");
    auto png = EncodePng(image);
    std::fwrite(png->data(), 1, png->size(), f);
    std::fclose(f);
  }
  ASSERT_EQ(d.width, spec.width_px);
  ASSERT_EQ(d.height, spec.height_px);
  EXPECT_NEAR(Mean(d.pixels), Mean(image.pixels), 1.5);
  // A real scene, not noise or a flat card: tens of kilobytes at least, black sky at the top
  // (tilted 10° down, a 46° view still shows some), ground with lit and shadowed parts below.
  EXPECT_GT(jpeg->size(), 20'000u);
  const auto row_mean = [&](uint32_t row) {
    const auto* p = d.pixels.data() + static_cast<size_t>(row) * d.width;
    return std::accumulate(p, p + d.width, 0.0) / d.width;
  };
  EXPECT_LT(row_mean(0), 20.0);
  std::vector<uint8_t> bottom(d.pixels.end() - d.width * 100, d.pixels.end());
  std::sort(bottom.begin(), bottom.end());
  EXPECT_GT(bottom[bottom.size() / 2], 100) << "the lit ground in front is exposed well";
  // Below the horizon (the top 30% is sky and massifs) there is shadow as well as lit ground.
  std::vector<uint8_t> ground(d.pixels.begin() + d.width * (d.height * 3 / 10), d.pixels.end());
  std::sort(ground.begin(), ground.end());
  EXPECT_LT(ground[ground.size() / 50], 30) << "shadows";
  EXPECT_GT(ground[ground.size() * 95 / 100], 150) << "lit slopes";
}

TEST_F(CameraTest, MeanBrightnessIsThatOfThePixels) {
  const RenderedImage image =
      renderer.Render(scenario.cameras.navcam, MastPose(200.0, -25.0), sun, 9);
  // The 8-bit values are square-root companded 12-bit DN: expanding them gives the DN back.
  double sum = 0.0;
  for (uint8_t v : image.pixels) sum += 4095.0 * (v / 255.0) * (v / 255.0);
  EXPECT_NEAR(sum / static_cast<double>(image.pixels.size()), image.mean_dn,
              image.mean_dn * 0.05 + 8.0);
  EXPECT_GT(image.exposure_ms, 0.0);
  EXPECT_LE(image.exposure_ms, 500.0);
}

TEST_F(CameraTest, PngIsLossless) {
  CameraSpec small = scenario.cameras.hazcam;
  small.width_px = 256;
  small.height_px = 192;
  CameraPose pose = MastPose(0.0, small.fixed_tilt_deg);
  pose.z_m = terrain.Elevation(2.0, 3.0) + small.height_m;
  const RenderedImage image = renderer.Render(small, pose, sun, 3);
  auto png = EncodePng(image);
  ASSERT_TRUE(png.ok()) << png.error().message();
  const Decoded d = DecodePng(*png);
  ASSERT_EQ(d.width, 256u);
  ASSERT_EQ(d.height, 192u);
  EXPECT_EQ(d.pixels, image.pixels);
}

TEST_F(CameraTest, SameInputsGiveTheSameBytesAndNoiseDiffersPerFrame) {
  const CameraSpec& spec = scenario.cameras.navcam;
  CameraRenderer other(terrain);
  auto a = EncodeJpeg(renderer.Render(spec, MastPose(10.0, -20.0), sun, 5), 90);
  auto b = EncodeJpeg(other.Render(spec, MastPose(10.0, -20.0), sun, 5), 90);
  auto c = EncodeJpeg(renderer.Render(spec, MastPose(10.0, -20.0), sun, 6), 90);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
}

TEST_F(CameraTest, ALowerSunCastsMoreShadow) {
  CameraSpec spec = scenario.cameras.navcam;
  spec.width_px = spec.height_px = 256;
  // Looking across the site towards the sun's side: at 5° nearly all the ground is lit; at the
  // pole's 1° the rocks and the relief cast many times more shadow (its floor is only scattered
  // light, far below the lit ground).
  const auto dark_fraction = [&](double elevation) {
    CameraRenderer r(terrain);
    const RenderedImage image = r.Render(spec, MastPose(60.0, -10.0), {elevation, 90.0}, 1);
    // Ground pixels only: the lower half of the frame; dark against its lit ground (the 95th
    // percentile: the exposure is metered on the ground, so the massifs may clip).
    std::vector<uint8_t> ground(image.pixels.begin() + image.pixels.size() / 2, image.pixels.end());
    std::vector<uint8_t> sorted = ground;
    std::nth_element(sorted.begin(), sorted.begin() + sorted.size() * 95 / 100, sorted.end());
    const uint8_t lit = sorted[sorted.size() * 95 / 100];
    const auto dark =
        std::count_if(ground.begin(), ground.end(), [&](uint8_t v) { return v < lit / 3; });
    return static_cast<double>(dark) / static_cast<double>(ground.size());
  };
  const double low = dark_fraction(1.0), high = dark_fraction(5.0);
  EXPECT_GT(low, 0.02) << "1° " << low << ", 5° " << high;
  EXPECT_GT(low, 5 * high) << "1° " << low << ", 5° " << high;
}

TEST_F(CameraTest, TheImagingThreadHandsImagesBackInOrderAtTheirTimeAndAsRenderedHere) {
  CameraSpec small = scenario.cameras.navcam;
  small.width_px = small.height_px = 96;
  const SunPosition sun{1.5, 90.0};
  ImagingWorker worker(terrain);
  for (int i = 0; i < 4; ++i) {
    ImagingJob job;
    job.spec = small;
    job.pose = MastPose(30.0 * i, -15.0);
    job.sun = sun;
    job.noise_seed = 100 + i;
    job.format = i == 3 ? rover::v1::IMAGE_FORMAT_PNG : rover::v1::IMAGE_FORMAT_JPEG;
    job.ready_ns = 1'000 * (i + 1);
    job.frame.set_frame_id(i);
    worker.Submit(std::move(job));
  }
  EXPECT_EQ(worker.pending(), 4u);
  EXPECT_TRUE(worker.Ready(999).empty());  // none due: nothing, however far the thread is
  std::vector<ImagingResult> got = worker.Ready(2'000);
  ASSERT_EQ(got.size(), 2u);
  for (ImagingResult& r : worker.Ready(10'000)) got.push_back(std::move(r));
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(worker.pending(), 0u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(got[i].job.frame.frame_id(), static_cast<uint32_t>(i));
    // The same bytes as rendering here, in this thread.
    const RenderedImage image = renderer.Render(small, MastPose(30.0 * i, -15.0), sun, 100 + i);
    auto file = i == 3 ? EncodePng(image) : EncodeJpeg(image, small.jpeg_quality);
    ASSERT_TRUE(got[i].file.ok());
    EXPECT_EQ(*got[i].file, *file) << i;
    EXPECT_EQ(got[i].mean_dn, image.mean_dn);
    EXPECT_EQ(got[i].width, 96u);
  }
}

}  // namespace
}  // namespace lgs::emulator
