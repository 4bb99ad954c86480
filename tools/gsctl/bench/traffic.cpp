#include "bench/traffic.h"

#include <fmt/format.h>

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <random>

#include "groundstation/recorder.h"
#include "protocol/bytes.h"
#include "protocol/clock.h"
#include "protocol/crc16.h"
#include "protocol/telemetry_decoder.h"
#include "rover_emulator/telemetry_generator.h"

namespace lgs::gsctl::bench {

Mix MakeMix(size_t count) {
  Mix mix;
  emulator::TelemetryGenerator generator(1, "rover1", kMissionStart);
  for (const protocol::StreamInfo& s : protocol::AllStreams()) {
    mix.topics.push_back(protocol::TelemetryTopic("rover1", s));
  }
  std::vector<emulator::GeneratedPacket> batch;
  while (mix.packets.size() < count) {
    if (!generator.Next(batch).ok()) break;
    for (auto& p : batch) {
      const auto stream = static_cast<size_t>(p.stream->id);
      ++mix.per_stream[stream];
      mix.bytes += p.packet.size();
      mix.packets.push_back({stream, std::move(p.packet)});
    }
  }
  return mix;
}

void Resequence(const Mix& mix, const Mix::Packet& p, uint64_t cycle, std::string& out) {
  out = p.bytes;
  auto* b = reinterpret_cast<uint8_t*>(out.data());
  const uint32_t seq =
      ((uint32_t{b[13]} << 24) | (uint32_t{b[14]} << 16) | (uint32_t{b[15]} << 8) | b[16]) +
      static_cast<uint32_t>(cycle * mix.per_stream[p.stream]);
  b[2] = static_cast<uint8_t>(0xC0 | ((seq >> 8) & 0x3F));
  b[3] = static_cast<uint8_t>(seq);
  b[13] = static_cast<uint8_t>(seq >> 24);
  b[14] = static_cast<uint8_t>(seq >> 16);
  b[15] = static_cast<uint8_t>(seq >> 8);
  b[16] = static_cast<uint8_t>(seq);
  const uint16_t crc = protocol::Crc16CcittFalse({b, out.size() - 2});
  b[out.size() - 2] = static_cast<uint8_t>(crc >> 8);
  b[out.size() - 1] = static_cast<uint8_t>(crc);
}

std::string FreeEndpoint(const std::string& transport, const fs::path& dir,
                         const std::string& name) {
  if (transport == "ipc") return "ipc://" + (dir / (name + ".ipc")).string();
  static std::mt19937 rng(static_cast<unsigned>(protocol::WallNowNs()));
  return fmt::format("tcp://127.0.0.1:{}", 20000 + rng() % 30000);
}

int FreeTcpPortNumber() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

fs::path RecordMix(const Mix& mix, const fs::path& directory, uint64_t count, int64_t step_ns,
                   uint64_t* housekeeping, uint64_t housekeeping_target, uint64_t* recorded) {
  station::RecorderOptions options;
  options.directory = directory.string();
  options.writer.sync_on_chunk = false;
  options.split_duration_s = std::nullopt;  // one file, however much ground time it spans
  options.split_size_bytes = std::nullopt;
  station::Recorder recorder(options);
  if (!recorder.Open(kMissionStart).ok()) return {};
  protocol::TelemetryDecoder decoder("rover1");
  std::string scratch;
  const size_t hk = static_cast<size_t>(protocol::StreamId::kHousekeeping);
  for (uint64_t i = 0; i < count; ++i) {
    const auto& p = mix.packets[i % mix.packets.size()];
    const uint64_t cycle = i / mix.packets.size();
    const std::string* bytes = &p.bytes;
    if (cycle > 0) {
      Resequence(mix, p, cycle, scratch);
      bytes = &scratch;
    }
    auto decoded = decoder.Decode(mix.topics[p.stream], protocol::AsBytes(*bytes));
    if (!decoded.ok()) return {};
    const int64_t ground_ns = kMissionStart + static_cast<int64_t>(i) * step_ns;
    recorder.RecordTelemetry(*decoded, ground_ns);
    recorder.Tick(ground_ns);  // chunks close on the recorder's flush interval of ground time
    if (recorded != nullptr) ++*recorded;
    if (housekeeping != nullptr) *housekeeping += p.stream == hk;
    if (housekeeping != nullptr && housekeeping_target > 0 &&
        *housekeeping >= housekeeping_target) {
      break;
    }
  }
  if (!recorder.Close().ok()) return {};
  return recorder.stats().current_file;
}

}  // namespace lgs::gsctl::bench
