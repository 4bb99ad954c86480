// Google Benchmark microbenchmarks of the hot paths: CRCs, packet encode/decode, the MCAP
// writer with each compression and the reader. Input is the default stream mix from the
// emulator's TelemetryGenerator. Not a ctest test: run build/.../tests/microbenchmarks.
#include <benchmark/benchmark.h>

#include "protocol/crc16.h"
#include "protocol/crc32.h"
#include "protocol/mcap_reader.h"
#include "protocol/mcap_writer.h"
#include "protocol/protobuf_schema.h"
#include "protocol/telemetry_decoder.h"
#include "rover_emulator/telemetry_generator.h"

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

}  // namespace
}  // namespace lgs

BENCHMARK_MAIN();
