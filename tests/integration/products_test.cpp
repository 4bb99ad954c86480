// Images over CFDP end to end with real processes: the emulator renders a commanded panorama,
// keeps the files in its on-board store and sends them with CFDP class 2 over a faulty link;
// the station receives them into --products, NAKs what was lost over the uplink and keeps each
// file with a sidecar. The emulator's truth file lists every product it made (name, size,
// SHA-256, fate): the ground truth every test compares against, with the files read back from
// disk and hashed by sha256sum.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "rover/v1/event.pb.h"
#include "support/gsctl.h"
#include "support/http.h"
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
    // The emulator may be writing the last line still.
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("product")) continue;
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
  // `http_port` 0: no web endpoint.
  ImageDownlink(const ScratchDir& dir, const std::string& scenario, double speed, int http_port = 0)
      : dir_(dir), http_port_(http_port) {
    const std::string tm = dir.IpcEndpoint("tm"), tc = dir.IpcEndpoint("tc");
    StartStation(false);
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

  // The station as an operator runs it; `resume` starts it again after it was killed (the
  // control token is written anew: it is waited for).
  void StartStation(bool resume) {
    std::filesystem::remove(dir_.File("control.token"));
    StationArgs args;
    args.Connect(dir_.IpcEndpoint("tm"))
        .GapFill(dir_.IpcEndpoint("tc"))
        .Command()
        .Control(dir_)
        .Record(dir_.File("rec"))
        .Products(dir_.File("products"), 0.3)
        .Jsonl(dir_.File(resume ? "station2.jsonl" : "station.jsonl"))
        .Quiet()
        .StatsInterval(0);
    if (http_port_ > 0) {
      args.Http(http_port_);
    } else {
      args.NoHttp();
    }
    if (resume) args.Resume();
    station_ = std::make_unique<ChildProcess>(LGS_STATION_BIN, args.Args(), dir_.path(),
                                              resume ? "station2" : "station");
    if (resume) {
      EXPECT_TRUE(
          WaitUntil([&] { return std::filesystem::exists(dir_.File("control.token")); }, 10s));
    }
  }
  void KillStation() {
    station_->Signal(SIGKILL);
    static_cast<void>(station_->Wait(10s));
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
    // Both runs' lines when the station was started again.
    const auto events = [&](const std::string& kind) {
      auto out = EventMessages(dir_.File("station.jsonl"), kind);
      for (std::string& m : EventMessages(dir_.File("station2.jsonl"), kind)) out.push_back(m);
      return out;
    };
    return WaitUntil(
        [&] {
          const auto downlinked = events("EVENT_KIND_FILE_DOWNLINKED");
          if (events("EVENT_KIND_IMAGE_TAKEN").size() < images ||
              downlinked.size() + events("EVENT_KIND_FILE_EVICTED").size() < images) {
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
  int http_port_ = 0;
  std::unique_ptr<ChildProcess> station_, emulator_;
};

// A scenario file of the test's own in `dir`.
void WriteScenario(const ScratchDir& dir, const std::string& name, const char* yaml) {
  std::FILE* f = std::fopen(dir.File(name).c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs(yaml, f);
  std::fclose(f);
}

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
  // A replay of the recording into another station (listening only) reproduces every product.
  {
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir.File("rec"))) {
      if (entry.path().extension() == ".mcap") files.push_back(entry.path().string());
    }
    const std::string replayed = dir.IpcEndpoint("replay");
    ChildProcess station_b(LGS_STATION_BIN,
                           StationArgs()
                               .Connect(replayed)
                               .Products(dir.File("products_b"), 0.3)
                               .NoHttp()
                               .Quiet()
                               .StatsInterval(0)
                               .Args(),
                           dir.path(), "station_b");
    ChildProcess replay(LGS_GSCTL_BIN,
                        ReplayArgs(files).Max().Bind(replayed).WaitForSubscribers().Args(),
                        dir.path(), "replay");
    EXPECT_EQ(replay.Wait(60s), 0) << replay.Stderr();
    EXPECT_TRUE(WaitUntil(
        [&] {
          return std::all_of(truth.begin(), truth.end(), [&](const auto& p) {
            return std::filesystem::exists(dir.File("products_b/" + p.first + ".json"));
          });
        },
        20s))
        << station_b.Stderr();
    station_b.Signal(SIGTERM);
    EXPECT_EQ(station_b.Wait(20s), 0) << station_b.Stderr();
    for (const auto& [name, p] : truth) {
      EXPECT_EQ(Sha256Sum(dir.File("products_b/" + name)), p.sha256) << name;
      const json a = json::parse(ReadFile(dir.File("products/" + name + ".json")));
      const json b = json::parse(ReadFile(dir.File("products_b/" + name + ".json")));
      EXPECT_EQ(a["camera_frame"], b["camera_frame"]) << name;
      EXPECT_EQ(a["transaction"], b["transaction"]) << name;
    }
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
  // On the traverse map, each image is a footprint where the panorama looked: 30° apart.
  std::vector<std::string> map_args = {"map"};
  for (const auto& entry : std::filesystem::directory_iterator(dir.File("rec"))) {
    if (entry.path().extension() == ".mcap") map_args.push_back(entry.path().string());
  }
  map_args.insert(map_args.end(), {"--traverse", dir.File("traverse.geojson")});
  const GsctlResult map = Gsctl(dir, map_args);
  ASSERT_EQ(map.code, 0) << map.err;
  const json geo = json::parse(ReadFile(dir.File("traverse.geojson")));
  std::map<std::string, json> footprints;
  for (const json& f : geo["features"]) {
    if (f["properties"].value("kind", "") == "image_footprint") {
      footprints[f["properties"]["product_name"]] = f;
    }
  }
  ASSERT_EQ(footprints.size(), truth.size()) << map.err;
  std::map<uint32_t, double> pans;  // by frame, in the order taken
  for (const auto& [name, p] : truth) {
    ASSERT_TRUE(footprints.contains(name)) << name;
    const json& f = footprints[name];
    EXPECT_EQ(f["properties"]["camera"], "navcam_left");
    EXPECT_EQ(f["geometry"]["type"], "Polygon");
    EXPECT_EQ(f["geometry"]["coordinates"][0].size(), 5u);  // a closed ring of four corners
    pans[f["properties"]["frame_id"].get<uint32_t>()] = f["properties"]["pan_deg"].get<double>();
  }
  for (auto it = std::next(pans.begin()); it != pans.end(); ++it) {
    EXPECT_NEAR(std::remainder(it->second - std::prev(it)->second, 360.0), 30.0, 1e-6);
  }
}

TEST(Products, AcrossARelayOutageTheStoreKeepsWhatFitsAndSaysWhatItLost) {
  ScratchDir dir;
  // A slow relay with an outage in the middle of the transfer and a store that holds only two
  // images: the later ones of the panorama are evicted, by name; the rest arrive after the
  // outage.
  WriteScenario(dir, "outage.yaml",
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
                "  store_capacity_bytes: 300000\n");
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

TEST(Products, AStationKilledMidTransferGoesOnFromItsRecording) {
  ScratchDir dir;
  // A link slow enough that the one image takes seconds to come down.
  WriteScenario(dir, "slow.yaml",
                "name: file-resume\n"
                "seed: 11\n"
                "link:\n"
                "  light_time_s: 1.28\n"
                "  bandwidth_bps: 96000\n");
  ImageDownlink mission(dir, dir.File("slow.yaml"), 2);
  ASSERT_EQ(mission.Command({"capture_image", "camera=navcam_left"}), 0);
  // Killed (no chance to close anything) once a good part of the file is in and recorded.
  std::string part;
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::error_code ec;
        for (const auto& e :
             std::filesystem::directory_iterator(dir.File("products/.partial"), ec)) {
          if (e.path().extension() == ".part" && e.file_size(ec) > 40'000) {
            part = e.path().stem().string();  // "<source>-<sequence>"
            return true;
          }
        }
        return false;
      },
      60s))
      << mission.StationLog();
  // The recorder closes a chunk every second: what it has written is what the next run rebuilds
  // (a slow build's recorder lags the partial file), so both must hold a good part of the image.
  const auto recorded_bytes = [&] {
    std::error_code ec;
    uint64_t bytes = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.File("rec"), ec)) {
      if (e.path().extension() == ".mcap") bytes += e.file_size(ec);
    }
    return bytes;
  };
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::error_code ec;
        return std::filesystem::file_size(dir.File("products/.partial/" + part + ".part"), ec) >
                   70'000 &&
               recorded_bytes() > 80'000;
      },
      30s));
  std::printf("[ measured ] killed with %llu octets recorded\n",
              static_cast<unsigned long long>(recorded_bytes()));
  mission.KillStation();
  mission.StartStation(true);
  EXPECT_TRUE(mission.WaitForFates(1, 60s)) << mission.StationLog();
  mission.Finish();

  // The new run took the transfer up from the recording, not from the beginning.
  const std::string log = mission.StationLog();
  const std::string said = "1 transfer(s) to go on with (";
  const size_t at = log.find(said);
  ASSERT_NE(at, std::string::npos) << log;
  const uint64_t resumed_octets = std::stoull(log.substr(at + said.size()));
  const size_t line_start = log.rfind('\n', at) + 1;
  std::printf("[ measured ] %s\n", log.substr(line_start, log.find('\n', at) - line_start).c_str());
  EXPECT_GT(resumed_octets, 20'000u) << log;
  const auto truth = ProductsInTruth(dir.File("truth.jsonl"));
  ASSERT_EQ(truth.size(), 1u);
  size_t delivered = 0;
  CheckArchive(dir, truth, delivered);
  EXPECT_EQ(delivered, 1u);
  // ... and finished the transaction it had begun: one CFDP transaction from the rover's side,
  // the one whose partial file the killed run left.
  const auto dash = part.find('-');
  const uint64_t sequence = std::stoull(part.substr(dash + 1));
  std::set<uint64_t> transactions;
  for (const std::string& line : ReadLines(dir.File("truth.jsonl"))) {
    const json j = json::parse(line);
    if (j.contains("product") && j.value("transaction", uint64_t{0}) != 0) {
      transactions.insert(j["transaction"].get<uint64_t>());
    }
  }
  EXPECT_EQ(transactions, std::set<uint64_t>{sequence});
  const json sidecar =
      json::parse(ReadFile(dir.File("products/" + truth.begin()->first + ".json")), nullptr, false);
  EXPECT_EQ(sidecar.value("/transaction/sequence"_json_pointer, uint64_t{0}), sequence);
}

TEST(Products, OperatorsFollowTheDownlinkAndFetchTheFilesWithGsctlAndTheBrowser) {
  ScratchDir dir;
  WriteScenario(dir, "slow.yaml",
                "name: file-watch\n"
                "seed: 12\n"
                "link:\n"
                "  light_time_s: 1.28\n"
                "  bandwidth_bps: 128000\n");
  const int port = FreeTcpPort();
  const std::string url = "127.0.0.1:" + std::to_string(port);
  ImageDownlink mission(dir, dir.File("slow.yaml"), 2, port);
  ASSERT_EQ(mission.Command({"capture_image", "camera=navcam_left", "frames=2", "pan_step_deg=40"}),
            0);
  // The browser follows it from the start.
  std::filesystem::create_directories(LGS_TEST_OUTPUT_DIR);
  const std::string screenshot = std::string(LGS_TEST_OUTPUT_DIR) + "/web-images.png";
  ChildProcess browser(
      LGS_NODE,
      {std::string(LGS_SOURCE_DIR) + "/tests/web/images_check.mjs", "--url", "http://" + url,
       "--camera", "navcam_left", "--images", "2", "--screenshot", screenshot},
      dir.path(), "browser");

  // In flight: gsctl products --json shows the transfer with its progress, and what has
  // arrived of it can be fetched.
  json transfer;
  ASSERT_TRUE(WaitUntil(
      [&] {
        const GsctlResult r = Gsctl(dir, {"products", "--json", "--url", url});
        const json j = json::parse(r.out, nullptr, false);
        if (r.code != 0 || j.is_discarded()) return false;
        for (const json& t : j["transfers"]) {
          if (t["state"] == "receiving" && t["size"].is_number() && t["received"] > 10'000) {
            transfer = t;
            return true;
          }
        }
        return false;
      },
      60s));
  const uint64_t size = transfer["size"];
  EXPECT_GT(transfer["progress"].get<double>(), 0.0);
  EXPECT_LT(transfer["progress"].get<double>(), 1.0);
  EXPECT_EQ(transfer["camera"], "navcam_left");
  const std::string name = transfer["name"];
  const GsctlResult partial = Gsctl(
      dir, {"products", "get", transfer["id"], "--out", dir.File("partial.bin"), "--url", url});
  ASSERT_EQ(partial.code, 0) << partial.err;
  EXPECT_LE(std::filesystem::file_size(dir.File("partial.bin")), size);

  EXPECT_TRUE(mission.WaitForFates(2, 90s)) << mission.StationLog();
  ASSERT_EQ(browser.Wait(120s), 0) << browser.Stderr();
  const json report = json::parse(browser.Stdout(), nullptr, false);
  std::map<std::string, Product> truth;
  EXPECT_TRUE(WaitUntil(
      [&] {
        truth = ProductsInTruth(dir.File("truth.jsonl"));
        return truth.size() == 2 && std::all_of(truth.begin(), truth.end(), [](const auto& p) {
                 return p.second.fate == "delivered";
               });
      },
      10s));
  ASSERT_EQ(truth.size(), 2u);
  ASSERT_TRUE(truth.contains(name)) << name;
  EXPECT_EQ(truth.at(name).size, size);

  // Complete: the kept files come back byte for byte, by name, to a file and to stdout.
  const GsctlResult list = Gsctl(dir, {"products", "--url", url});
  ASSERT_EQ(list.code, 0) << list.err;
  for (const auto& [product, p] : truth) {
    EXPECT_NE(list.out.find(product), std::string::npos) << list.out;
    EXPECT_NE(list.out.find(p.sha256), std::string::npos) << list.out;
    const GsctlResult got =
        Gsctl(dir, {"products", "get", product, "--out", dir.File("got-" + product), "--url", url});
    ASSERT_EQ(got.code, 0) << got.err;
    EXPECT_EQ(Sha256Sum(dir.File("got-" + product)), p.sha256) << product;
  }
  // What arrived before the transfer ended is the file's, up to the first hole.
  {
    const std::string early = ReadFile(dir.File("partial.bin"));
    const std::string whole = ReadFile(dir.File("got-" + name));
    const size_t first_gap =
        transfer["gaps"].empty()
            ? early.size()
            : std::min<size_t>(early.size(), transfer["gaps"][0][0].get<size_t>());
    EXPECT_GT(first_gap, 0u);
    EXPECT_EQ(early.substr(0, first_gap), whole.substr(0, first_gap));
  }
  const GsctlResult stdout_get = Gsctl(dir, {"products", "get", name, "--out", "-", "--url", url});
  ASSERT_EQ(stdout_get.code, 0);
  EXPECT_EQ(stdout_get.out, ReadFile(dir.File("got-" + name)));
  // Bad asks get a clear error and exit 1; nothing outside the archive is served.
  const GsctlResult escape =
      Gsctl(dir, {"products", "get", "../station.jsonl", "--out", dir.File("x"), "--url", url});
  EXPECT_EQ(escape.code, 1);
  EXPECT_NE(escape.err.find("not a product name"), std::string::npos) << escape.err;
  const GsctlResult missing =
      Gsctl(dir, {"products", "get", "nothing.jpg", "--out", dir.File("x"), "--url", url});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("404"), std::string::npos) << missing.err;
  const GsctlResult nobody = Gsctl(dir, {"products", "--url", "127.0.0.1:1"});
  EXPECT_EQ(nobody.code, 1);
  EXPECT_NE(nobody.err.find("no station web endpoint"), std::string::npos) << nobody.err;
  mission.Finish();

  // History from the recordings: with the archive gone, a station over the same recordings
  // still lists the camera's images and serves them byte for byte.
  std::filesystem::remove_all(dir.File("products"));
  const int later_port = FreeTcpPort();
  ChildProcess later(LGS_STATION_BIN,
                     StationArgs()
                         .Connect(dir.IpcEndpoint("nobody"))
                         .Record(dir.File("rec"))
                         .Products(dir.File("products_new"), 1)
                         .Http(later_port)
                         .Quiet()
                         .StatsInterval(0)
                         .Args(),
                     dir.path(), "later");
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const std::string images_query =
      "/api/images?camera=navcam_left&start=" + std::to_string(now_ms - 3'600'000) +
      "&end=" + std::to_string(now_ms + 60'000);
  Reply listed;
  ASSERT_TRUE(WaitUntil(
      [&] {
        listed = Get(later_port, images_query);
        return listed.status == 200;
      },
      20s))
      << later.Stderr();
  const json images = json::parse(listed.body);
  ASSERT_EQ(images.size(), truth.size()) << listed.body;
  // By on-board time: the same images over their on-board span, in on-board order, and none
  // after it (the recordings' publish time is the camera record's).
  {
    double first = images[0]["scet"], last = first;
    for (const json& image : images) {
      first = std::min(first, image["scet"].get<double>());
      last = std::max(last, image["scet"].get<double>());
    }
    const auto by_onboard = [&](double from, double to) {
      return json::parse(Get(later_port, fmt::format("/api/images?camera=navcam_left&time=onboard"
                                                     "&start={:.0f}&end={:.0f}",
                                                     std::floor(from), std::ceil(to)))
                             .body);
    };
    const json onboard = by_onboard(first, last);
    ASSERT_EQ(onboard.size(), images.size()) << onboard.dump();
    for (size_t i = 1; i < onboard.size(); ++i) {
      EXPECT_LE(onboard[i - 1]["scet"].get<double>(), onboard[i]["scet"].get<double>());
    }
    std::set<std::string> names, onboard_names;
    for (const json& image : images) names.insert(image["name"].get<std::string>());
    for (const json& image : onboard) onboard_names.insert(image["name"].get<std::string>());
    EXPECT_EQ(onboard_names, names);
    EXPECT_EQ(by_onboard(last + 1, last + 3'600'000).size(), 0u);
    EXPECT_EQ(Get(later_port, images_query + "&time=later").status, 400u);
  }
  std::set<std::string> served;
  for (const json& image : images) {
    EXPECT_EQ(image["source"], "recording");
    const Reply file = Get(later_port, image["url"]);
    ASSERT_EQ(file.status, 200u) << image;
    EXPECT_EQ(file.headers.at("Content-Type"), "image/jpeg");
    const std::string path = dir.File("served.jpg");
    { std::ofstream(path, std::ios::binary) << file.body; }
    served.insert(Sha256Sum(path));
  }
  for (const auto& [product, p] : truth) EXPECT_TRUE(served.contains(p.sha256)) << product;
  EXPECT_EQ(Get(later_port, "/api/images/recorded?camera=navcam_left&at=12x").status, 400u);
  EXPECT_EQ(Get(later_port, "/api/images/recorded?camera=navcam_left&at=1").status, 404u);
  later.Signal(SIGTERM);
  EXPECT_EQ(later.Wait(20s), 0) << later.Stderr();

  // The browser saw the transfer in the queue, each image kept, the chosen one at its size with
  // its record beside it, and Open MCT's imagery view showing the camera's images.
  ASSERT_FALSE(report.is_discarded()) << browser.Stdout();
  ASSERT_FALSE(report.contains("error")) << report.dump(2);
  EXPECT_EQ(report["console_errors"], json::array()) << report.dump(2);
  EXPECT_GT(report["transfer"]["progress"].get<double>(), 0.0);
  EXPECT_LT(report["transfer"]["progress"].get<double>(), 1.0);
  std::set<std::string> thumbnails(report["thumbnails"].begin(), report["thumbnails"].end());
  for (const auto& [product, p] : truth) EXPECT_TRUE(thumbnails.contains(product)) << product;
  EXPECT_EQ(report["detail"]["natural"], json::array({1024, 1024}));
  const std::string meta = report["detail"]["meta"];
  const std::string shown = report["detail"]["product"];
  EXPECT_NE(meta.find(truth.at(shown).sha256), std::string::npos) << meta;
  EXPECT_NE(meta.find("navcam_left"), std::string::npos) << meta;
  EXPECT_NE(report["imagery"]["src"].get<std::string>().find("/api/products/file?name=navcam_left"),
            std::string::npos);
  EXPECT_EQ(report["imagery"]["natural"], json::array({1024, 1024}));
}

}  // namespace
}  // namespace lgs::test
