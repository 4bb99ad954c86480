// Writes the fuzzers' seed corpus (committed under tests/fuzz/corpus/): real packets of every
// stream from the emulator's generator, and small MCAP files as the station writes them (each
// compression, and one cut short), and parameter archive sidecars of those packets.
// Run: fuzz_make_corpus tests/fuzz/corpus
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "groundstation/parameter_archive.h"
#include "protocol/byte_sink.h"
#include "protocol/cfdp_pdu.h"
#include "protocol/mcap_writer.h"
#include "protocol/protobuf_schema.h"
#include "protocol/space_packet.h"
#include "rover/v1/event.pb.h"
#include "rover/v1/housekeeping.pb.h"
#include "rover_emulator/telemetry_generator.h"

namespace fs = std::filesystem;
using namespace lgs;

namespace {

void WriteFile(const fs::path& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class StringSink final : public protocol::ByteSink {
 public:
  Status Write(std::span<const uint8_t> b) override {
    out.append(reinterpret_cast<const char*>(b.data()), b.size());
    return Status::Ok();
  }
  Status Sync() override { return Status::Ok(); }
  Status Close() override { return Status::Ok(); }
  std::string out;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const fs::path dir = argv[1];
  fs::create_directories(dir / "packet");
  fs::create_directories(dir / "mcap");
  emulator::TelemetryGenerator generator(3, "rover1", 1'800'000'000LL * 1'000'000'000);
  std::vector<emulator::GeneratedPacket> all, batch;
  // Until every periodic stream has two packets (soil reports only as instruments finish).
  std::array<int, protocol::kStreamCount> seen{};
  const auto enough = [&] {
    for (const protocol::StreamInfo& s : protocol::AllStreams()) {
      if (s.nominal_rate_hz > 0 && seen[static_cast<size_t>(s.id)] < 2) return false;
    }
    return all.size() >= 400;
  };
  while (!enough() && all.size() < 200'000) {
    if (!generator.Next(batch).ok()) return 1;
    for (auto& p : batch) {
      ++seen[static_cast<size_t>(p.stream->id)];
      all.push_back(p);
    }
  }
  // Packets: the first byte picks the topic (the stream's index), as the fuzzer reads it.
  std::array<int, protocol::kStreamCount> kept{};
  for (const auto& p : all) {
    const auto index = static_cast<size_t>(p.stream->id);
    if (kept[index]++ >= 2) continue;
    std::string input(1, static_cast<char>(index));
    input += p.packet;
    WriteFile(dir / "packet" / fmt::format("{}-{}.bin", p.stream->name, p.sequence), input);
  }
  // The classes an adversarial pass found (issue 16): wild extended sequences (with a valid CRC,
  // as a corruption the CRC-16 missed would have), the last sequence there is, event text with
  // terminal escapes and with invalid UTF-8 (patched in: protobuf will not write it).
  const auto& hk = protocol::Stream(protocol::StreamId::kHousekeeping);
  const auto& ev = protocol::Stream(protocol::StreamId::kEvent);
  const auto packet_of = [&](const protocol::StreamInfo& s, uint32_t seq, std::string payload) {
    std::string packet;
    if (!protocol::EncodeTmPacket(s.apid, seq, 1'800'000'000LL * 1'000'000'000,
                                  protocol::AsBytes(payload), packet)
             .ok()) {
      return std::string();
    }
    return std::string(1, static_cast<char>(static_cast<size_t>(s.id))) + packet;
  };
  rover::v1::Housekeeping housekeeping;
  housekeeping.set_battery_soc_percent(50);
  for (uint32_t seq : {4'000'000'000u, 0xFFFFFFFFu, 0xFFFFFFFEu}) {
    WriteFile(dir / "packet" / fmt::format("housekeeping-wild-{}.bin", seq),
              packet_of(hk, seq, housekeeping.SerializeAsString()));
  }
  rover::v1::Event event;
  event.set_kind(rover::v1::EVENT_KIND_THERMAL_LIMIT);
  event.set_message("\x1b[2J\x1b]0;owned\x07\nLINK  999 packets\r\xc2\x9b");
  WriteFile(dir / "packet" / "event-escapes.bin", packet_of(ev, 7, event.SerializeAsString()));
  event.set_message("bad @@ text");
  std::string invalid = event.SerializeAsString();
  invalid.replace(invalid.find("@@"), 2, "\xff\xfe");
  WriteFile(dir / "packet" / "event-invalid-utf8.bin", packet_of(ev, 8, invalid));

  // MCAP files: 60 messages each, with every compression; one of them cut short.
  for (auto [compression, name] : {std::pair{protocol::McapCompression::kNone, "none"},
                                   std::pair{protocol::McapCompression::kZstd, "zstd"},
                                   std::pair{protocol::McapCompression::kLz4, "lz4"}}) {
    StringSink sink;
    protocol::McapWriterOptions options;
    options.compression = compression;
    options.chunk_size = 4096;
    options.sync_on_chunk = false;
    protocol::McapWriter writer(sink, options);
    if (!writer.Open().ok()) return 1;
    const auto& nav = protocol::Stream(protocol::StreamId::kNavigationPose);
    const std::string schema = protocol::FileDescriptorSetOf(*nav.prototype->GetDescriptor());
    auto sid = writer.AddSchema(nav.prototype->GetDescriptor()->full_name(), "protobuf",
                                protocol::AsBytes(schema));
    // Metadata as a hostile file may carry it: invalid UTF-8 and a terminal escape.
    auto channel =
        writer.AddChannel("/rover1/navigation_pose", "protobuf", *sid,
                          {{"apid", std::to_string(nav.apid)}, {"note", "\xF4 \x1b[2J"}});
    int written = 0;
    for (const auto& p : all) {
      if (p.stream->id != protocol::StreamId::kNavigationPose || written++ >= 60) continue;
      const auto payload = protocol::AsBytes(p.packet).subspan(
          protocol::kPrimaryHeaderSize + protocol::kSecondaryHeaderSize,
          p.packet.size() - protocol::kTmOverheadSize);
      if (!writer.Write(*channel, p.sequence, p.onboard_time_ns, p.onboard_time_ns, payload).ok()) {
        return 1;
      }
    }
    if (!writer.Close().ok()) return 1;
    WriteFile(dir / "mcap" / fmt::format("{}.mcap", name), sink.out);
    if (compression == protocol::McapCompression::kZstd) {
      WriteFile(dir / "mcap" / "zstd-torn.mcap",
                std::string_view(sink.out).substr(0, sink.out.size() * 2 / 3));
      // The summary's Channel record damaged and the summary CRC zeroed: no CRC catches it.
      std::string damaged = sink.out;
      const size_t at = damaged.rfind("/rover1/navigation_pose");
      damaged[at + 3] ^= 0x01;
      std::fill(damaged.end() - 12, damaged.end() - 8, '\0');
      WriteFile(dir / "mcap" / "zstd-summary-channel-damaged.mcap", damaged);
    }
  }
  // Parameter archives: the sidecar of the packets above as one recording, read as it is (mode
  // byte 0) and with the harness setting the CRCs (mode 1); and one torn.
  {
    fs::create_directories(dir / "archive");
    station::ArchiveBuilder builder;
    for (const auto& p : all) {
      std::unique_ptr<google::protobuf::Message> m(p.stream->prototype->New());
      const auto payload = protocol::AsBytes(p.packet).subspan(
          protocol::kPrimaryHeaderSize + protocol::kSecondaryHeaderSize,
          p.packet.size() - protocol::kTmOverheadSize);
      builder.SeeMessage(p.onboard_time_ns + 1'280'000'000);
      if (!m->ParseFromArray(payload.data(), static_cast<int>(payload.size()))) continue;
      builder.AddMessage(*p.stream, *m, p.onboard_time_ns + 1'280'000'000, p.onboard_time_ns,
                         p.sequence, payload);
    }
    const std::string sidecar = builder.Serialize({123'456, 1'800'000'000'000'000'000, 0xC0FFEE});
    for (const char mode : {'\0', '\1'}) {
      WriteFile(dir / "archive" / fmt::format("mode{}.bin", int{mode}),
                std::string(1, mode) + sidecar);
    }
    WriteFile(dir / "archive" / "torn.bin",
              std::string(1, '\0') + sidecar.substr(0, sidecar.size() / 2));
  }
  // CFDP: one PDU of every kind, small IDs and no CRC as most links send them, and the same with
  // 3-octet IDs, a 5-octet sequence number, 64-bit sizes and a CRC.
  fs::create_directories(dir / "cfdp");
  namespace cfdp = protocol::cfdp;
  const std::string chunk = "navcam image bytes";
  const std::vector<cfdp::PduBody> bodies = {
      cfdp::MetadataPdu{true,
                        cfdp::ChecksumType::kModular,
                        420'000,
                        "navcam/0001.jpg",
                        "products/navcam/0001.jpg",
                        {{cfdp::kTlvMessageToUser, "frame=1"}}},
      cfdp::FileDataPdu{0, "", 4096, protocol::AsBytes(chunk)},
      cfdp::EofPdu{cfdp::ConditionCode::kNoError, 0x9F686A6C, 420'000, {}},
      cfdp::FinishedPdu{cfdp::ConditionCode::kNoError,
                        cfdp::DeliveryCode::kComplete,
                        cfdp::FileStatus::kRetained,
                        {},
                        {}},
      cfdp::AckPdu{cfdp::DirectiveCode::kEof, cfdp::ConditionCode::kNoError,
                   cfdp::TransactionStatus::kActive},
      cfdp::NakPdu{0, 420'000, {{0, 0}, {4096, 8192}, {12'000, 16'000}}},
      cfdp::PromptPdu{true},
      cfdp::KeepAlivePdu{300'000},
  };
  for (const bool wide : {false, true}) {
    cfdp::PduHeader h;
    h.source = 5;
    h.sequence = 1;
    h.destination = 11;
    if (wide) {
      h.crc = true;
      h.large_file = true;
      h.entity_id_length = 3;
      h.sequence_length = 5;
      h.sequence = 0x0102030405;
    }
    for (size_t i = 0; i < bodies.size(); ++i) {
      std::string pdu;
      if (!cfdp::EncodePdu(h, bodies[i], pdu).ok()) return 1;
      WriteFile(dir / "cfdp" / fmt::format("{}-{}.pdu", wide ? "wide" : "small", i), pdu);
    }
  }
  return 0;
}
