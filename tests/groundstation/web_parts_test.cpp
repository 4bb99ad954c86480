// The web UI's building blocks without a network: field keys and their JSON values, the
// realtime hand-over from ingest, and which files the static server will and will not serve.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "groundstation/limits.h"
#include "groundstation/realtime.h"
#include "groundstation/static_files.h"
#include "groundstation/telemetry_dictionary.h"
#include "groundstation/telemetry_fields.h"
#include "rover/v1/event.pb.h"
#include "rover/v1/housekeeping.pb.h"
#include "rover/v1/navigation.pb.h"
#include "rover/v1/soil.pb.h"
#include "support/process.h"

namespace lgs::station {
namespace {

using nlohmann::json;

std::string ValueJson(std::string_view key, const google::protobuf::Message& m) {
  const TelemetryField* field = FindTelemetryField(key);
  EXPECT_NE(field, nullptr) << key;
  std::string out;
  if (field != nullptr) AppendFieldJson(*field, m, out);
  return out;
}

TEST(TelemetryFields, EveryDictionaryMeasurementIsAFieldKeyAndBack) {
  auto limits = LimitSet::Load("");
  ASSERT_TRUE(limits.ok());
  const json dictionary = TelemetryDictionaryJson("rover1", &*limits);
  size_t measurements = 0;
  for (const json& subsystem : dictionary["subsystems"]) {
    if (subsystem["key"] == "link") continue;
    for (const json& m : subsystem["measurements"]) {
      const TelemetryField* field = FindTelemetryField(m["key"].get<std::string>());
      ASSERT_NE(field, nullptr) << m["key"];
      EXPECT_EQ(field->stream->name, subsystem["key"].get<std::string>());
      EXPECT_EQ(field->unit, m["unit"].get<std::string>());
      ++measurements;
    }
  }
  EXPECT_EQ(measurements, AllTelemetryFields().size());
  EXPECT_EQ(FindTelemetryField("housekeeping"), nullptr);
  EXPECT_EQ(FindTelemetryField("housekeeping.nope"), nullptr);
  EXPECT_EQ(FindTelemetryField(""), nullptr);
  // Nested messages are walked ("soil.apxs.feo_wt_percent"), lists of records are not.
  EXPECT_NE(FindTelemetryField("soil.apxs.feo_wt_percent"), nullptr);
  EXPECT_EQ(FindTelemetryField("radiation.channels"), nullptr);
}

TEST(TelemetryFields, ValuesAreValidJsonOfEveryKind) {
  rover::v1::Housekeeping hk;
  hk.set_battery_soc_percent(42.5);
  hk.set_bus_voltage_v(std::nan(""));
  hk.set_mode(rover::v1::ROVER_MODE_SAFE);
  hk.set_uptime_s(18'446'744'073'709'551'615u);
  EXPECT_EQ(ValueJson("housekeeping.battery_soc_percent", hk), "42.5");
  EXPECT_EQ(ValueJson("housekeeping.bus_voltage_v", hk), "null");  // JSON has no NaN
  EXPECT_EQ(ValueJson("housekeeping.mode", hk), std::to_string(rover::v1::ROVER_MODE_SAFE));
  EXPECT_EQ(ValueJson("housekeeping.uptime_s", hk), "18446744073709551615");
  EXPECT_EQ(FieldNumber(*FindTelemetryField("housekeeping.battery_soc_percent"), hk), 42.5);

  rover::v1::NavigationPose pose;
  pose.add_wheel_current_a(1.0);
  pose.add_wheel_current_a(2.25);
  pose.set_visual_fix(true);
  EXPECT_EQ(ValueJson("navigation_pose.wheel_current_a", pose), "[1,2.25]");
  EXPECT_EQ(ValueJson("navigation_pose.visual_fix", pose), "true");
  EXPECT_FALSE(FieldNumber(*FindTelemetryField("navigation_pose.wheel_current_a"), pose));

  rover::v1::Event event;
  event.set_message("hazard \"rock\"\n\\ stop \x01");
  const std::string text = ValueJson("event.message", event);
  EXPECT_EQ(json::parse(text).get<std::string>(), event.message());
  // Values of exactly representable doubles survive the round trip.
  for (double v : {0.1, 1e-300, 123456.789, -0.0}) {
    hk.set_battery_soc_percent(v);
    EXPECT_EQ(json::parse(ValueJson("housekeeping.battery_soc_percent", hk)).get<double>(), v);
  }
}

TEST(TelemetryFields, AFieldInAnUnsetBranchHasNoSample) {
  rover::v1::SoilMeasurement soil;
  soil.set_x_m(1.5);
  soil.mutable_vnis()->set_band_depth_1um(0.2);
  EXPECT_TRUE(FieldPresent(*FindTelemetryField("soil.x_m"), soil));
  EXPECT_TRUE(FieldPresent(*FindTelemetryField("soil.vnis.band_depth_1um"), soil));
  EXPECT_FALSE(FieldPresent(*FindTelemetryField("soil.apxs.feo_wt_percent"), soil));
  EXPECT_FALSE(FieldPresent(*FindTelemetryField("soil.neutron.hydrogen_weh_wt_percent"), soil));
}

TEST(RealtimeFeed, KeepsOnlyWatchedStreamsAndDropsTheOldestPerStream) {
  RealtimeFeed feed(3);
  rover::v1::Event payload;
  payload.set_message("\x01\x02\x03");
  EXPECT_FALSE(feed.Wants(protocol::StreamId::kHousekeeping));
  feed.SetWanted(1u << static_cast<unsigned>(protocol::StreamId::kRadiation));
  EXPECT_TRUE(feed.Wants(protocol::StreamId::kRadiation));
  EXPECT_FALSE(feed.Wants(protocol::StreamId::kHousekeeping));
  const auto offer = [&](protocol::StreamId stream, uint64_t t) {
    static_cast<void>(feed.Offer(stream, t, t, std::make_unique<rover::v1::Event>(payload)));
  };
  for (uint64_t i = 0; i < 10; ++i) offer(protocol::StreamId::kRadiation, i);
  offer(protocol::StreamId::kEvent, 100);
  const auto packets = feed.TakeAll();
  ASSERT_EQ(packets.size(), 4u);
  // The newest three of the busy stream, and the quiet stream's one is not crowded out.
  EXPECT_EQ(packets[0].ground_ns, 7u);
  EXPECT_EQ(packets[2].ground_ns, 9u);
  EXPECT_EQ(packets[3].stream, protocol::StreamId::kEvent);
  EXPECT_EQ(static_cast<const rover::v1::Event&>(*packets[3].message).message(),
            std::string("\x01\x02\x03"));
  EXPECT_EQ(feed.offered(), 11u);
  EXPECT_EQ(feed.dropped(), 7u);
  EXPECT_TRUE(feed.TakeAll().empty());
}

TEST(RealtimeFeed, IngestAndTheWebThreadCanUseItAtOnce) {
  RealtimeFeed feed(64);
  feed.SetWanted(~0u);
  rover::v1::Housekeeping payload;
  payload.set_battery_soc_percent(7);
  std::thread ingest([&] {
    // As RealtimeSink does: the message returned is the next one to fill.
    auto message = std::make_unique<rover::v1::Housekeeping>(payload);
    for (uint64_t i = 0; i < 100'000; ++i) {
      auto spare = feed.Offer(protocol::StreamId::kHousekeeping, i, i, std::move(message));
      message = spare ? std::unique_ptr<rover::v1::Housekeeping>(
                            static_cast<rover::v1::Housekeeping*>(spare.release()))
                      : std::make_unique<rover::v1::Housekeeping>();
      message->CopyFrom(payload);
    }
  });
  uint64_t taken = 0, last = 0;
  bool ordered = true;
  while (taken + feed.dropped() < 100'000) {
    auto packets = feed.TakeAll();
    for (const auto& p : packets) {
      ordered = ordered && (taken == 0 || p.ground_ns > last);
      last = p.ground_ns;
      ++taken;
    }
    feed.Recycle(packets);  // the messages go back to the ingest side, as the web's do
  }
  ingest.join();
  taken += feed.TakeAll().size();
  EXPECT_TRUE(ordered);
  EXPECT_EQ(taken + feed.dropped(), 100'000u);
}

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    namespace fs = std::filesystem;
    fs::create_directories(dir_.path() / "web" / "sub");
    fs::create_directories(dir_.path() / "lib");
    Write("web/index.html", "<html>page</html>");
    Write("web/sub/app.js", "let x = 1;");
    Write("web/.secret", "no");
    Write("lib/openmct.js", "library");
    Write("outside.txt", "outside");
    fs::create_symlink(dir_.path() / "outside.txt", dir_.path() / "web" / "link.txt");
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_.path() / name) << text;
  }
  test::ScratchDir dir_;
};

TEST_F(StaticFilesTest, ServesFilesInsideTheMountsAndNothingElse) {
  StaticFiles files({{"/", dir_.File("web"), "no-cache"},
                     {"/openmct/", dir_.File("lib"), "max-age=3600"},
                     {"/missing/", dir_.File("not-installed"), "no-cache"}});
  auto index = files.Serve("/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200u);
  EXPECT_EQ(index->body, "<html>page</html>");
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(index->cache_control, "no-cache");
  auto js = files.Serve("/sub/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  auto lib = files.Serve("/openmct/openmct.js");
  ASSERT_TRUE(lib);
  EXPECT_EQ(lib->body, "library");
  EXPECT_EQ(lib->cache_control, "max-age=3600");
  EXPECT_EQ(files.Serve("/../outside.txt")->status, 400u);
  EXPECT_EQ(files.Serve("/sub/../../outside.txt")->status, 400u);
  EXPECT_EQ(files.Serve("/%2e%2e/outside.txt")->status, 400u);
  EXPECT_EQ(files.Serve("/.secret")->status, 400u);
  EXPECT_EQ(files.Serve("/link.txt")->status, 404u);  // a symlink out of the mount
  EXPECT_EQ(files.Serve("/sub")->status, 404u);       // a directory
  EXPECT_EQ(files.Serve("/nope.js")->status, 404u);
  const auto missing = files.Serve("/missing/x.js");
  EXPECT_EQ(missing->status, 503u);
  EXPECT_NE(missing->body.find("tools/setup"), std::string::npos);
  // A file changed on disk is read again.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Write("web/sub/app.js", "let x = 2;");
  std::filesystem::last_write_time(
      dir_.path() / "web/sub/app.js",
      std::filesystem::last_write_time(dir_.path() / "web/sub/app.js") + std::chrono::seconds(2));
  EXPECT_EQ(files.Serve("/sub/app.js")->body, "let x = 2;");
}

}  // namespace
}  // namespace lgs::station
