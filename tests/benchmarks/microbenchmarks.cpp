// Google Benchmark microbenchmarks of the hot paths: CRCs, packet encode/decode, protobuf decode
// per stream, link accounting, the MCAP writer with each compression and the reader, and the
// emulator's own production rate. Input is the default stream mix from the emulator's
// TelemetryGenerator. Not a ctest test: run build/.../tests/microbenchmarks.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <filesystem>

#include "groundstation/alarm_manager.h"
#include "groundstation/link_accounting.h"
#include "groundstation/map_export.h"
#include "groundstation/site_mosaic.h"
#include "protocol/byte_sink.h"
#include "protocol/cfdp_receiver.h"
#include "protocol/cfdp_sender.h"
#include "protocol/crc16.h"
#include "protocol/crc32.h"
#include "protocol/mcap_reader.h"
#include "protocol/mcap_writer.h"
#include "protocol/protobuf_schema.h"
#include "protocol/telemetry_decoder.h"
#include "rover_emulator/camera.h"
#include "rover_emulator/link_model.h"
#include "rover_emulator/scenario.h"
#include "rover_emulator/telemetry_generator.h"
#include "rover_emulator/terrain.h"

namespace lgs {
namespace {

constexpr protocol::TimestampNs kStart = 1'795'000'000'000'000'000;

// The default stream mix: every stream at its nominal rate, as the emulator sends it.
const std::vector<emulator::GeneratedPacket>& DefaultMix() {
  static const std::vector<emulator::GeneratedPacket> packets = [] {
    // Static: the packets' topic pointers point into the generator.
    static emulator::TelemetryGenerator generator(1, "rover1", kStart);
    std::vector<emulator::GeneratedPacket> all, batch;
    while (all.size() < 200'000) {
      if (!generator.Next(batch).ok()) std::abort();
      for (auto& p : batch) all.push_back(p);
    }
    return all;
  }();
  return packets;
}

size_t RawBytes() {
  size_t total = 0;
  for (const auto& p : DefaultMix()) total += p.packet.size();
  return total;
}

class CountingSink final : public protocol::ByteSink {
 public:
  Status Write(std::span<const uint8_t> bytes) override {
    bytes_ += bytes.size();
    return Status::Ok();
  }
  Status Sync() override { return Status::Ok(); }
  Status Close() override { return Status::Ok(); }
  uint64_t bytes() const { return bytes_; }

 private:
  uint64_t bytes_ = 0;
};

void BM_Crc16(benchmark::State& state) {
  const std::string data(state.range(0), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(protocol::Crc16CcittFalse(protocol::AsBytes(data)));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Crc16)->Arg(64)->Arg(512)->Arg(4096);

void BM_Crc32(benchmark::State& state) {
  const std::string data(state.range(0), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(protocol::Crc32(protocol::AsBytes(data)));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Crc32)->Arg(4096)->Arg(1 << 20);

void BM_DecodeDefaultMix(benchmark::State& state) {
  const auto& mix = DefaultMix();
  protocol::TelemetryDecoder decoder("rover1");
  size_t i = 0;
  for (auto _ : state) {
    const auto& p = mix[i++ % mix.size()];
    auto decoded = decoder.Decode(*p.topic, protocol::AsBytes(p.packet));
    benchmark::DoNotOptimize(decoded);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeDefaultMix);

// The station's per-packet limit check with the built-in limits, over the default mix (decoded
// once up front): what alarms add to each packet's cost.
void BM_AlarmEvaluateDefaultMix(benchmark::State& state) {
  const auto& mix = DefaultMix();
  protocol::TelemetryDecoder decoder("rover1");
  std::vector<std::pair<protocol::StreamId, std::unique_ptr<google::protobuf::Message>>> decoded;
  for (const auto& p : mix) {
    auto d = decoder.Decode(*p.topic, protocol::AsBytes(p.packet));
    if (!d.ok()) continue;
    decoded.emplace_back(d->stream->id,
                         std::unique_ptr<google::protobuf::Message>(d->message->New()));
    decoded.back().second->CopyFrom(*d->message);
  }
  auto limits = station::LimitSet::Load("");
  station::AlarmManager alarms(std::move(*limits));
  station::AlarmManager::Transitions out;
  size_t i = 0;
  for (auto _ : state) {
    const auto& [stream, message] = decoded[i++ % decoded.size()];
    out.clear();
    alarms.Evaluate(stream, *message, 1, out);
    alarms.EvaluateLink(station::LinkMetric::kLatencyMs, 30.0, 1, out);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AlarmEvaluateDefaultMix);

void BM_EncodeTmPacket(benchmark::State& state) {
  const auto& mix = DefaultMix();
  std::string out;
  size_t i = 0;
  for (auto _ : state) {
    const auto& p = mix[i++ % mix.size()];
    const auto payload = protocol::AsBytes(p.packet).subspan(
        protocol::kPrimaryHeaderSize + protocol::kSecondaryHeaderSize,
        p.packet.size() - protocol::kTmOverheadSize);
    if (!protocol::EncodeTmPacket(p.stream->apid, p.sequence, p.onboard_time_ns, payload, out)
             .ok()) {
      std::abort();
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeTmPacket);

// Verify + protobuf decode of one stream's packets (Arg = index in the registry).
void BM_DecodeStream(benchmark::State& state) {
  const auto& info = protocol::AllStreams()[static_cast<size_t>(state.range(0))];
  std::vector<const emulator::GeneratedPacket*> packets;
  for (const auto& p : DefaultMix()) {
    if (p.stream->id == info.id) packets.push_back(&p);
  }
  if (packets.empty()) {
    state.SkipWithError("stream not in the default mix");
    return;
  }
  state.SetLabel(std::string(info.name));
  protocol::TelemetryDecoder decoder("rover1");
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const auto& p = *packets[i++ % packets.size()];
    auto decoded = decoder.Decode(*p.topic, protocol::AsBytes(p.packet));
    benchmark::DoNotOptimize(decoded);
    bytes += p.packet.size();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_DecodeStream)->DenseRange(0, 6);

void BM_LinkAccountingObserve(benchmark::State& state) {
  const auto& mix = DefaultMix();
  station::LinkAccounting accounting;
  size_t i = 0;
  for (auto _ : state) {
    const auto& p = mix[i++ % mix.size()];
    // Sequences keep rising across passes over the mix, so every packet is new.
    const auto pass = static_cast<uint32_t>(i / mix.size());
    benchmark::DoNotOptimize(accounting.Observe(p.stream->id, p.sequence + pass * 1'000'000,
                                                p.packet.size(), p.onboard_time_ns,
                                                p.onboard_time_ns + 1'000'000));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LinkAccountingObserve);

void WriteMix(benchmark::State& state, protocol::McapCompression compression) {
  const auto& mix = DefaultMix();
  uint64_t file_bytes = 0;
  for (auto _ : state) {
    CountingSink sink;
    protocol::McapWriterOptions options;
    options.compression = compression;
    options.sync_on_chunk = false;
    protocol::McapWriter writer(sink, options);
    if (!writer.Open().ok()) std::abort();
    std::array<uint16_t, protocol::kStreamCount> channels{};
    for (const protocol::StreamInfo& s : protocol::AllStreams()) {
      const std::string schema = protocol::FileDescriptorSetOf(*s.prototype->GetDescriptor());
      auto sid = writer.AddSchema(s.prototype->GetDescriptor()->full_name(), "protobuf",
                                  protocol::AsBytes(schema));
      channels[static_cast<size_t>(s.id)] =
          *writer.AddChannel("/rover1/" + std::string(s.name), "protobuf", *sid, {});
    }
    for (const auto& p : mix) {
      const auto payload = protocol::AsBytes(p.packet).subspan(
          protocol::kPrimaryHeaderSize + protocol::kSecondaryHeaderSize,
          p.packet.size() - protocol::kTmOverheadSize);
      if (!writer
               .Write(channels[static_cast<size_t>(p.stream->id)], p.sequence,
                      static_cast<uint64_t>(p.onboard_time_ns),
                      static_cast<uint64_t>(p.onboard_time_ns), payload)
               .ok()) {
        std::abort();
      }
    }
    if (!writer.Close().ok()) std::abort();
    file_bytes = sink.bytes();
  }
  state.SetItemsProcessed(state.iterations() * mix.size());
  state.SetBytesProcessed(state.iterations() * RawBytes());
  state.counters["file_pct_of_packets"] = 100.0 * file_bytes / RawBytes();
}
void BM_McapWrite_none(benchmark::State& s) {
  WriteMix(s, protocol::McapCompression::kNone);
}
void BM_McapWrite_zstd(benchmark::State& s) {
  WriteMix(s, protocol::McapCompression::kZstd);
}
void BM_McapWrite_lz4(benchmark::State& s) {
  WriteMix(s, protocol::McapCompression::kLz4);
}
BENCHMARK(BM_McapWrite_none)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_McapWrite_zstd)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_McapWrite_lz4)->Unit(benchmark::kMillisecond);

// Reads every message of a zstd recording of the default mix (CRCs checked).
void BM_McapRead(benchmark::State& state) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("lgs-bench-" + std::to_string(::getpid()) + ".mcap"))
                               .string();
  {
    auto sink = protocol::FileSink::Create(path);
    if (!sink.ok()) std::abort();
    protocol::McapWriterOptions options;
    options.sync_on_chunk = false;
    protocol::McapWriter writer(**sink, options);
    if (!writer.Open().ok()) std::abort();
    const std::string schema =
        protocol::FileDescriptorSetOf(*protocol::AllStreams()[0].prototype->GetDescriptor());
    auto sid = writer.AddSchema("schema", "protobuf", protocol::AsBytes(schema));
    auto channel = writer.AddChannel("/rover1/all", "protobuf", *sid, {});
    for (const auto& p : DefaultMix()) {
      if (!writer
               .Write(*channel, p.sequence, static_cast<uint64_t>(p.onboard_time_ns),
                      static_cast<uint64_t>(p.onboard_time_ns), protocol::AsBytes(p.packet))
               .ok()) {
        std::abort();
      }
    }
    if (!writer.Close().ok()) std::abort();
  }
  auto file = protocol::McapFile::Open(path);
  if (!file.ok()) std::abort();
  size_t messages = 0;
  for (auto _ : state) {
    protocol::McapMessageReader reader(**file);
    protocol::McapMessage m;
    messages = 0;
    while (reader.Next(m)) ++messages;
    benchmark::DoNotOptimize(messages);
  }
  std::filesystem::remove(path);
  if (messages != DefaultMix().size()) std::abort();
  state.SetItemsProcessed(state.iterations() * messages);
  state.SetBytesProcessed(state.iterations() * RawBytes());
}
BENCHMARK(BM_McapRead)->Unit(benchmark::kMillisecond);

// The emulator's production without the socket: rover model + packet encoding + link model,
// per mission hour (Arg 0 = ideal link, 1 = the lossy-link scenario's faults).
void BM_EmulatorProduction(benchmark::State& state) {
  emulator::Scenario scenario = *emulator::LoadScenario(state.range(0) ? "lossy-link" : "nominal");
  if (state.range(0) == 0) scenario.link = emulator::LinkProfile::Ideal();
  state.SetLabel(state.range(0) ? "lossy-link" : "ideal link");
  size_t packets = 0;
  for (auto _ : state) {
    emulator::TelemetryGenerator generator(scenario.seed, "rover1", kStart, scenario);
    emulator::LinkModel link(scenario.link, scenario.seed, kStart);
    std::vector<emulator::GeneratedPacket> batch;
    std::vector<emulator::LinkOutcome> out;
    const protocol::TimestampNs end = kStart + 3600LL * 1'000'000'000;
    while (generator.next_due_ns() < end) {
      const protocol::TimestampNs t = generator.next_due_ns();
      if (!generator.Next(batch).ok()) std::abort();
      link.Advance(t, out);
      for (auto& p : batch) {
        link.Offer({p.stream, p.topic, p.sequence, p.onboard_time_ns, 0, std::move(p.packet)}, t);
      }
      link.Advance(t, out);
      packets += out.size();
      out.clear();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(packets));
}
BENCHMARK(BM_EmulatorProduction)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// Ground CFDP reassembly: a 16 MiB file as File Data PDUs of `range(0)` octets (decoded from
// their bytes, checked, summed, written to a file on disk), then its EOF, its checksum and the
// file kept under its name. Bytes per second are file bytes.
void BM_CfdpReceive(benchmark::State& state) {
  const size_t file_size = 16u << 20, piece = static_cast<size_t>(state.range(0));
  std::string file(file_size, '\0');
  for (size_t i = 0; i < file.size(); ++i) file[i] = static_cast<char>(i * 2654435761u >> 24);
  protocol::cfdp::SenderOptions so;
  so.max_file_data = piece;
  protocol::cfdp::Sender sender(so);
  const auto now = std::chrono::steady_clock::now();
  sender.Put(protocol::AsBytes(file), "bench.bin", true);
  std::vector<std::string> wire;
  while (auto pdu = sender.NextPdu(now)) wire.push_back(std::move(*pdu));
  const auto dir =
      std::filesystem::temp_directory_path() / ("lgs-bench-cfdp-" + std::to_string(::getpid()));
  for (auto _ : state) {
    std::filesystem::remove_all(dir);
    protocol::cfdp::DiskFiles files(dir.string());
    protocol::cfdp::ReceiverOptions ro;
    ro.entity_id = so.destination_id;
    protocol::cfdp::Receiver receiver(ro, files.Factory());
    std::vector<std::string> out;
    std::vector<protocol::cfdp::ReceiverEvent> events;
    for (const std::string& w : wire) {
      auto pdu = protocol::cfdp::DecodePdu(protocol::AsBytes(w));
      if (!pdu.ok()) std::abort();
      receiver.OnPdu(*pdu, now, out, events);
    }
    if (events.empty() || events.back().kind != protocol::cfdp::ReceiverEvent::Kind::kCompleted) {
      std::abort();
    }
  }
  std::filesystem::remove_all(dir);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * file_size));
}
BENCHMARK(BM_CfdpReceive)->Arg(1000)->Arg(60000)->Unit(benchmark::kMillisecond);

// A commanded image: the frame rendered from the nominal site (ray march, shading, cast shadows
// from the shadow map, exposure, noise) and compressed, per camera (0 navcam 1024x1024 JPEG,
// 1 pancam 2048x1536 JPEG, 2 hazcam 1024x1024 at 120 degrees JPEG, 3 navcam as PNG). The
// shadow map is made once before the loop (the sun moves too little between frames for a new
// one); BM_CameraShadowMap times making it.
void BM_CameraRender(benchmark::State& state) {
  const emulator::Scenario scenario = *emulator::LoadScenario("nominal");
  const emulator::Terrain terrain(scenario.site.terrain, scenario.seed);
  emulator::CameraRenderer renderer(terrain);
  const int which = static_cast<int>(state.range(0));
  const emulator::CameraSpec& spec = which == 1   ? scenario.cameras.pancam
                                     : which == 2 ? scenario.cameras.hazcam
                                                  : scenario.cameras.navcam;
  const double tilt = which == 2 ? spec.fixed_tilt_deg : -20.0;
  const emulator::CameraPose pose{0.0, 0.0, terrain.Elevation(0.0, 0.0) + spec.height_m, 60.0,
                                  tilt};
  const emulator::SunPosition sun{1.5, 90.0};
  static_cast<void>(renderer.Render(spec, pose, sun, 1));
  state.SetLabel(std::array<const char*, 4>{"navcam JPEG", "pancam JPEG", "hazcam JPEG",
                                            "navcam PNG"}[static_cast<size_t>(which)]);
  uint64_t bytes = 0, frame = 0;
  for (auto _ : state) {
    const emulator::RenderedImage image = renderer.Render(spec, pose, sun, ++frame);
    auto file =
        which == 3 ? emulator::EncodePng(image) : emulator::EncodeJpeg(image, spec.jpeg_quality);
    if (!file.ok()) std::abort();
    bytes += file->size();
    benchmark::DoNotOptimize(file->data());
  }
  state.counters["file_kB"] = static_cast<double>(bytes) / static_cast<double>(frame) / 1e3;
  state.counters["megapixels"] = spec.width_px * spec.height_px / 1e6;
}
BENCHMARK(BM_CameraRender)->DenseRange(0, 3)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CameraShadowMap(benchmark::State& state) {
  const emulator::Scenario scenario = *emulator::LoadScenario("nominal");
  const emulator::Terrain terrain(scenario.site.terrain, scenario.seed);
  emulator::CameraSpec tiny = scenario.cameras.navcam;
  tiny.width_px = tiny.height_px = 8;  // the frame costs nothing beside the map
  const emulator::CameraPose pose{0.0, 0.0, terrain.Elevation(0.0, 0.0) + 1.5, 60.0, -20.0};
  double elevation = 1.0;
  for (auto _ : state) {
    emulator::CameraRenderer renderer(terrain);
    elevation += 0.1;  // a new sun: a new map
    benchmark::DoNotOptimize(renderer.Render(tiny, pose, {elevation, 90.0}, 1).pixels.data());
  }
}
BENCHMARK(BM_CameraShadowMap)->Unit(benchmark::kMillisecond)->UseRealTime();

// The site map: one rover tile (32×32 cells at 0.1 m) into the mosaic, as the ingest side would
// add it; and a 256 m × 256 m site at 0.1 m (6.5 M cells) exported as a GeoTIFF.
rover::v1::TerrainTile BenchTile(int tx, int ty) {
  rover::v1::TerrainTile t;
  t.set_tile_x(tx);
  t.set_tile_y(ty);
  t.set_origin_x_m(tx * 3.2);
  t.set_origin_y_m(ty * 3.2);
  t.set_cell_size_m(0.1);
  t.set_width_cells(32);
  t.set_height_cells(32);
  for (int i = 0; i < 32 * 32; ++i) {
    t.add_elevation_m(static_cast<float>(std::sin(tx * 0.3 + i * 0.01) + ty * 0.01));
  }
  t.set_hazard_mask(std::string(32 * 32, '\0'));
  return t;
}

void BM_MosaicAddTile(benchmark::State& state) {
  station::SiteMosaic map;
  std::vector<rover::v1::TerrainTile> tiles;
  for (int i = 0; i < 64; ++i) tiles.push_back(BenchTile(i % 8, i / 8));
  int64_t t = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(map.Add(tiles[static_cast<size_t>(t % 64)], t).ok());
    ++t;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MosaicAddTile);

void BM_MosaicExportGeoTiff(benchmark::State& state) {
  station::SiteMosaic map;
  constexpr int kTiles = 80;  // 80 × 3.2 m = 256 m a side
  for (int ty = 0; ty < kTiles; ++ty) {
    for (int tx = 0; tx < kTiles; ++tx) static_cast<void>(map.Add(BenchTile(tx, ty), 1));
  }
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("lgs-bench-map-" + std::to_string(getpid()) + ".tif"))
                               .string();
  const auto layer = static_cast<station::MapLayer>(state.range(0));
  for (auto _ : state) {
    auto raster = map.Render(layer, {});
    if (!raster.ok() || !station::WriteMapRaster(*raster, {-89.45, 31.4, "bench"},
                                                 station::MapFormat::kGeoTiff, path)
                             .ok()) {
      state.SkipWithError("export failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * int64_t{kTiles * 32} * (kTiles * 32));
  state.SetLabel(std::string(station::NameOf(layer)));
  std::filesystem::remove(path);
}
BENCHMARK(BM_MosaicExportGeoTiff)
    ->Arg(static_cast<int>(station::MapLayer::kElevation))
    ->Arg(static_cast<int>(station::MapLayer::kHillshade))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace lgs

BENCHMARK_MAIN();
