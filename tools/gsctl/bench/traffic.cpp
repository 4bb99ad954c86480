#include "bench/traffic.h"

#include <fmt/format.h>

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <random>

#include "groundstation/recorder.h"
#include "protocol/bytes.h"
#include "protocol/cfdp_sender.h"
#include "protocol/clock.h"
#include "protocol/crc16.h"
#include "protocol/space_packet.h"
#include "protocol/telemetry_decoder.h"
#include "rover/v1/file_delivery.pb.h"
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

Mix MakeFileMix(size_t count) {
  Mix mix;
  emulator::TelemetryGenerator generator(1, "rover1", kMissionStart);
  for (const protocol::StreamInfo& s : protocol::AllStreams()) {
    mix.topics.push_back(protocol::TelemetryTopic("rover1", s));
  }
  constexpr double kLinkBytesPerS = 285'000.0 / 8;
  constexpr size_t kFileBytes = 150'000;
  protocol::cfdp::Sender sender(protocol::cfdp::SenderOptions{});
  const auto now = std::chrono::steady_clock::now();
  std::mt19937 rng(18);
  std::string file(kFileBytes, '\0');
  uint64_t link_bytes = 0;
  uint32_t file_sequence = 0;
  std::vector<emulator::GeneratedPacket> batch;
  const auto add = [&](size_t stream, std::string bytes, size_t cfdp_at) {
    ++mix.per_stream[stream];
    mix.bytes += bytes.size();
    link_bytes += bytes.size();
    mix.packets.push_back({stream, std::move(bytes), cfdp_at});
  };
  while (mix.packets.size() < count) {
    if (!generator.Next(batch).ok()) break;
    protocol::TimestampNs t = 0;
    for (auto& p : batch) {
      t = p.onboard_time_ns;
      add(static_cast<size_t>(p.stream->id), std::move(p.packet), 0);
    }
    // Files fill what the link has left by then.
    const double budget = static_cast<double>(t - kMissionStart) / 1e9 * kLinkBytesPerS;
    while (static_cast<double>(link_bytes) < budget && mix.packets.size() < count) {
      auto pdu = sender.NextPdu(now);
      if (!pdu) {
        for (char& c : file) c = static_cast<char>(rng());
        sender.Put(protocol::AsBytes(file), fmt::format("bench_{:04}.bin", mix.transactions++),
                   true);
        continue;
      }
      rover::v1::FilePdu message;
      message.set_pdu(*pdu);
      const std::string payload = message.SerializeAsString();
      std::string packet;
      const auto& stream = protocol::Stream(protocol::StreamId::kFileDelivery);
      if (!protocol::EncodeTmPacket(stream.apid, file_sequence++, t, protocol::AsBytes(payload),
                                    packet)
               .ok()) {
        break;
      }
      // The PDU header: 4 octets, the source entity (1 octet), then the sequence number.
      const size_t at = packet.find(*pdu) + 4 + 1;
      add(static_cast<size_t>(stream.id), std::move(packet), at);
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
  if (p.cfdp_sequence_at > 0) {
    uint8_t* c = b + p.cfdp_sequence_at;
    const uint32_t transaction =
        ((uint32_t{c[0]} << 24) | (uint32_t{c[1]} << 16) | (uint32_t{c[2]} << 8) | c[3]) +
        static_cast<uint32_t>(cycle * mix.transactions);
    c[0] = static_cast<uint8_t>(transaction >> 24);
    c[1] = static_cast<uint8_t>(transaction >> 16);
    c[2] = static_cast<uint8_t>(transaction >> 8);
    c[3] = static_cast<uint8_t>(transaction);
  }
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
