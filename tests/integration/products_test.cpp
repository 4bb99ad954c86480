// Images over CFDP end to end with real processes: the emulator renders a commanded panorama,
// keeps the files in its on-board store and sends them with CFDP class 2 over a faulty link;
// the station receives them into --products, NAKs what was lost over the uplink and keeps each
// file with a sidecar. The emulator's truth file lists every product it made (name, size,
// SHA-256, fate): the ground truth every test compares against, with the files read back from
// disk and hashed by sha256sum.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "rover/v1/event.pb.h"
#include "support/process.h"
#include "support/programs.h"
#include "support/recording.h"

namespace lgs::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

struct Product {
  std::string name, sha256, fate;
  uint64_t size = 0;
};

// name -> the product's last word in the truth file (stored, then delivered/evicted/...).
std::map<std::string, Product> ProductsInTruth(const std::string& path) {
  std::map<std::string, Product> out;
  for (const std::string& line : ReadLines(path)) {
    const json j = json::parse(line);
    if (!j.contains("product")) continue;
    Product& p = out[j["product"]];
    p.name = j["product"];
    p.sha256 = j["sha256"];
    p.size = j["size"];
    p.fate = j["event"];
  }
  return out;
}

// Events the station saw, by kind, from its JSON lines.
std::vector<std::string> EventMessages(const std::string& jsonl, const std::string& kind) {
  std::vector<std::string> out;
  if (!std::filesystem::exists(jsonl)) return out;
  for (const std::string& line : ReadLines(jsonl)) {
    if (line.find(kind) == std::string::npos) continue;
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("stream", "") != "event") continue;
    const json& m = j["data"];
    if (m.value("kind", "") == kind) out.push_back(m.value("message", ""));
  }
  return out;
}

class ImageDownlink {
 public:
  ImageDownlink(const ScratchDir& dir, const std::string& scenario, double speed) : dir_(dir) {
    const std::string tm = dir.IpcEndpoint("tm"), tc = dir.IpcEndpoint("tc");
    station_ = std::make_unique<ChildProcess>(LGS_STATION_BIN,
                                              StationArgs()
                                                  .Connect(tm)
                                                  .GapFill(tc)
                                                  .Command()
                                                  .Control(dir)
                                                  .Record(dir.File("rec"))
                                                  .Products(dir.File("products"), 0.3)
                                                  .Jsonl(dir.File("station.jsonl"))
                                                  .NoHttp()
                                                  .Quiet()
                                                  .StatsInterval(0)
                                                  .Args(),
                                              dir.path(), "station");
    emulator_ = std::make_unique<ChildProcess>(LGS_EMULATOR_BIN,
                                               EmulatorArgs()
                                                   .Bind(tm)
                                                   .CommandBind(tc)
                                                   .Scenario(scenario)
                                                   .Speed(speed)
                                                   .WaitForSubscribers()
                                                   .Duration(100)
                                                   .Truth(dir.File("truth.jsonl"))
                                                   .Args(),
                                               dir.path(), "emulator");
    EXPECT_TRUE(WaitUntil([&] { return std::filesystem::exists(dir.File("control.token")); }, 10s));
    // Commands are checked against the rover's mode: wait for its first housekeeping.
    EXPECT_TRUE(WaitUntil(
        [&] {
          return std::filesystem::exists(dir.File("station.jsonl")) &&
                 ReadFile(dir.File("station.jsonl")).find("housekeeping") != std::string::npos;
        },
        10s));
  }

  int Command(std::vector<std::string> args) {
    args.insert(args.begin(), "command");
    args.insert(args.end(), {"--control", dir_.IpcEndpoint("control"), "--control-token",
                             dir_.File("control.token")});
    ChildProcess gsctl(LGS_GSCTL_BIN, args, dir_.path(), "gsctl");
    return gsctl.Wait(60s).value_or(-1);
  }

  // Waits until every image taken has been downlinked or lost (the rover's events say so), and
  // each downlinked one has its sidecar with the image's record (a record the link lost comes
  // back by gap fill, and the sidecar is written again).
  bool WaitForFates(size_t images, std::chrono::milliseconds timeout) {
    const std::string jsonl = dir_.File("station.jsonl");
    return WaitUntil(
        [&] {
          const auto downlinked = EventMessages(jsonl, "EVENT_KIND_FILE_DOWNLINKED");
          if (EventMessages(jsonl, "EVENT_KIND_IMAGE_TAKEN").size() < images ||
              downlinked.size() + EventMessages(jsonl, "EVENT_KIND_FILE_EVICTED").size() < images) {
            return false;
          }
          for (const std::string& m : downlinked) {  // "file NAME downlinked (N octets)"
            const std::string name = m.substr(5, m.find(' ', 5) - 5);
            const std::string sidecar = dir_.File("products/" + name + ".json");
            if (!std::filesystem::exists(sidecar) ||
                ReadFile(sidecar).find("camera_frame") == std::string::npos) {
              return false;
            }
          }
          return true;
        },
        timeout);
  }

  void Finish() {
    emulator_->Signal(SIGTERM);
    EXPECT_EQ(emulator_->Wait(20s), 0) << emulator_->Stderr();
    station_->Signal(SIGTERM);
    EXPECT_EQ(station_->Wait(20s), 0) << station_->Stderr();
  }
  std::string StationLog() const { return station_->Stderr(); }

 private:
  const ScratchDir& dir_;
  std::unique_ptr<ChildProcess> station_, emulator_;
};

// Every delivered product is in the archive byte for byte, with a sidecar that describes it;
// counts those delivered.
void CheckArchive(const ScratchDir& dir, const std::map<std::string, Product>& truth,
                  size_t& delivered) {
  delivered = 0;
  for (const auto& [name, p] : truth) {
    const std::string path = dir.File("products/" + name);
    if (p.fate != "delivered") {
      EXPECT_FALSE(std::filesystem::exists(path)) << name << " was " << p.fate;
      continue;
    }
    ++delivered;
    ASSERT_TRUE(std::filesystem::exists(path)) << name;
    EXPECT_EQ(std::filesystem::file_size(path), p.size) << name;
    EXPECT_EQ(Sha256Sum(path), p.sha256) << name;
    const json sidecar = json::parse(ReadFile(path + ".json"), nullptr, false);
    ASSERT_TRUE(sidecar.is_object()) << name;
    EXPECT_EQ(sidecar.value("sha256", ""), p.sha256);
    EXPECT_EQ(sidecar.value("size", uint64_t{0}), p.size);
    EXPECT_EQ(sidecar.value("/transaction/source"_json_pointer, 0), 7);
    // The image's record (a lost one is gap-filled, and the sidecar written again).
    EXPECT_EQ(sidecar.value("/camera_frame/product_name"_json_pointer, std::string()), name);
    EXPECT_GT(sidecar.value("/camera_frame/width_px"_json_pointer, 0), 0);
  }
}

TEST(Products, APanoramaOverTheLossyLinkArrivesByteForByte) {
  ScratchDir dir;
  ImageDownlink mission(dir, "lossy-link", 10);
  ASSERT_EQ(mission.Command({"capture_image", "camera=navcam_left", "frames=4", "pan_step_deg=30"}),
            0);
  EXPECT_TRUE(mission.WaitForFates(4, 60s)) << mission.StationLog();
  mission.Finish();
  const auto truth = ProductsInTruth(dir.File("truth.jsonl"));
  ASSERT_EQ(truth.size(), 4u);
  size_t delivered = 0;
  CheckArchive(dir, truth, delivered);
  EXPECT_EQ(delivered, 4u);
  // The link lost file data on the way (2% of packets): CFDP NAKed it back, not gap fill.
  size_t lost_pdus = 0;
  for (const std::string& line : ReadLines(dir.File("truth.jsonl"))) {
    if (line.find("\"stream\":\"file_delivery\"") != std::string::npos &&
        (line.find("\"fate\":\"dropped\"") != std::string::npos ||
         line.find("\"fate\":\"corrupted\"") != std::string::npos)) {
      ++lost_pdus;
    }
  }
  EXPECT_GT(lost_pdus, 0u) << "the scenario should have cost some PDUs";
  // The recording holds every PDU the station accepted, on the file_delivery channel.
  size_t recorded = 0;
  for (const RecordedMessage& m : ReadRecording(dir.File("rec")).messages) {
    if (m.topic == "/rover1/file_delivery") ++recorded;
  }
  EXPECT_GT(recorded, 400u);
  // ... and rebuilds every file byte for byte: gsctl export --images runs the recorded PDUs
  // through a receiver again.
  for (const auto& entry : std::filesystem::directory_iterator(dir.File("rec"))) {
    if (entry.path().extension() != ".mcap") continue;
    ChildProcess gsctl(LGS_GSCTL_BIN,
                       {"export", entry.path().string(), "--images", dir.File("exported")},
                       dir.path(), "export");
    EXPECT_EQ(gsctl.Wait(60s), 0) << gsctl.Stderr();
  }
  for (const auto& [name, p] : truth) {
    EXPECT_EQ(Sha256Sum(dir.File("exported/" + name)), p.sha256) << name;
  }
  // Each image is also in the recording as foxglove.CompressedImage on its camera's channel:
  // the official MCAP readers decode it with the schema in the file (Foxglove's published one),
  // and its bytes are the file's, with the image's size in their JPEG frame header.
  std::vector<std::string> args = {
      std::string(LGS_SOURCE_DIR) + "/tests/mcap/check_images.mjs",
      std::string(LGS_SOURCE_DIR) + "/protocol/proto/foxglove/CompressedImage.proto"};
  for (const auto& entry : std::filesystem::directory_iterator(dir.File("rec"))) {
    if (entry.path().extension() == ".mcap") args.push_back(entry.path().string());
  }
  ChildProcess check(LGS_NODE, args, dir.path(), "check_images");
  ASSERT_EQ(check.Wait(60s), 0) << check.Stderr();
  std::map<std::string, json> images;  // by SHA-256
  std::istringstream lines(check.Stdout());
  for (std::string line; std::getline(lines, line);) {
    const json j = json::parse(line);
    images[j["sha256"]] = j;
  }
  for (const auto& [name, p] : truth) {
    ASSERT_TRUE(images.contains(p.sha256)) << name << " is not in the recording as an image";
    const json& image = images[p.sha256];
    EXPECT_EQ(image["topic"], "/rover1/images/navcam_left");
    EXPECT_EQ(image["frame_id"], "navcam_left");
    EXPECT_EQ(image["format"], "jpeg");
    EXPECT_EQ(image["width"], 1024);
    EXPECT_EQ(image["height"], 1024);
  }
}

TEST(Products, AcrossARelayOutageTheStoreKeepsWhatFitsAndSaysWhatItLost) {
  ScratchDir dir;
  // A slow relay with an outage in the middle of the transfer and a store that holds only two
  // images: the later ones of the panorama are evicted, by name; the rest arrive after the
  // outage.
  std::FILE* f = std::fopen(dir.File("outage.yaml").c_str(), "w");
  std::fputs(
      "name: file-outage\n"
      "seed: 5\n"
      "link:\n"
      "  light_time_s: 1.28\n"
      "  bandwidth_bps: 64000\n"
      "  loss_probability: 0.01\n"
      "  outages:\n"
      "    - start: 30s\n"
      "      duration: 40s\n"
      "files:\n"
      "  store_capacity_bytes: 300000\n",
      f);
  std::fclose(f);
  ImageDownlink mission(dir, dir.File("outage.yaml"), 10);
  ASSERT_EQ(
      mission.Command({"capture_image", "camera=navcam_right", "frames=4", "pan_step_deg=20"}), 0);
  EXPECT_TRUE(mission.WaitForFates(4, 90s)) << mission.StationLog();
  mission.Finish();
  const auto truth = ProductsInTruth(dir.File("truth.jsonl"));
  ASSERT_EQ(truth.size(), 4u);
  std::vector<std::string> evicted;
  for (const auto& [name, p] : truth) {
    if (p.fate == "evicted") evicted.push_back(name);
  }
  ASSERT_FALSE(evicted.empty()) << "4 images of ~130 kB cannot all fit 300 kB";
  size_t delivered = 0;
  CheckArchive(dir, truth, delivered);
  EXPECT_EQ(delivered, 4 - evicted.size());
  // Each loss reached the operators as an event naming the file.
  const auto events = EventMessages(dir.File("station.jsonl"), "EVENT_KIND_FILE_EVICTED");
  for (const std::string& name : evicted) {
    EXPECT_TRUE(std::any_of(events.begin(), events.end(), [&](const std::string& m) {
      return m.find(name) != std::string::npos;
    })) << name;
  }
  // The transfer really spanned the outage (mission seconds 30-70): file data went before it,
  // none during it, and the rest after it.
  int64_t start = INT64_MAX;
  std::vector<int64_t> sent;
  for (const std::string& line : ReadLines(dir.File("truth.jsonl"))) {
    const json j = json::parse(line);
    if (!j.contains("stream")) continue;
    start = std::min(start, j["onboard_time_ns"].get<int64_t>());
    if (j["stream"] == "file_delivery" && j["sent_ns"].get<int64_t>() > 0) {
      sent.push_back(j["sent_ns"].get<int64_t>());
    }
  }
  const auto in = [&](double from_s, double to_s) {
    return std::count_if(sent.begin(), sent.end(), [&](int64_t t) {
      return t >= start + static_cast<int64_t>(from_s * 1e9) &&
             t < start + static_cast<int64_t>(to_s * 1e9);
    });
  };
  EXPECT_GT(in(0, 30), 0);
  EXPECT_EQ(in(30, 70), 0);
  EXPECT_GT(in(70, 1e6), 0);
}

}  // namespace
}  // namespace lgs::test
