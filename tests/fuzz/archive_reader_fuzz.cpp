// libFuzzer target: the parameter archive's reader must turn any sidecar — torn, corrupt,
// hostile lengths and counts, bad compression — into its data or a reason, never a crash, hang,
// out-of-bounds read or an allocation as large as a length claims.
//
// Input: one byte of mode, then the sidecar. With mode bit 0 set, the harness first makes every
// CRC (header, directory, each block it can find) right, so the fuzzer gets past them to the
// lengths, counts and zstd frames behind them; without it, the bytes are read as they are.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <span>
#include <string>

#include "groundstation/parameter_archive.h"
#include "groundstation/telemetry_fields.h"
#include "protocol/crc32.h"

namespace {

using namespace lgs;

uint32_t Crc(const std::string& s, size_t from, size_t n) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data()) + from;
  return protocol::Crc32Finish(protocol::Crc32Update(protocol::kCrc32Initial, {p, n}));
}
template <typename T>
T Get(const std::string& s, size_t at) {
  T v;
  std::memcpy(&v, s.data() + at, sizeof v);
  return v;
}
template <typename T>
void Set(std::string& s, size_t at, T v) {
  std::memcpy(s.data() + at, &v, sizeof v);
}

// The layout as groundstation/archive/README.md gives it: an 88-byte header, then the
// directory (key length, key, offset, compressed, raw, CRC, four level counts per entry).
void FixCrcs(std::string& f) {
  constexpr size_t kHeader = 88, kFixed = 8 + 4 * 3 + 4 * 4;
  if (f.size() < kHeader) return;
  Set<uint64_t>(f, 72, f.size());
  const uint32_t dir_size = Get<uint32_t>(f, 12);
  if (dir_size <= f.size() - kHeader) {
    for (size_t at = kHeader; at + 2 <= kHeader + dir_size;) {
      const uint16_t klen = Get<uint16_t>(f, at);
      const size_t e = at + 2 + klen;
      if (e + kFixed > kHeader + dir_size) break;
      const uint64_t offset = Get<uint64_t>(f, e);
      const uint32_t compressed = Get<uint32_t>(f, e + 8);
      if (offset <= f.size() && compressed <= f.size() - offset) {
        Set<uint32_t>(f, e + 16, Crc(f, offset, compressed));
      }
      at = e + kFixed;
    }
    Set<uint32_t>(f, 36, Crc(f, kHeader, dir_size));
  }
  Set<uint32_t>(f, 80, Crc(f, 0, 80));
}

std::string ScratchPath() {
  char dir[] = "/tmp/archive-fuzz-XXXXXX";
  if (::mkdtemp(dir) == nullptr) std::abort();
  return std::string(dir) + "/input.lgsarc";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = ScratchPath();
  if (size == 0) return 0;
  std::string file(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) FixCrcs(file);
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(file.data(), static_cast<std::streamsize>(file.size()));
  auto opened = station::ArchiveReader::Open(path);
  if (opened.index() != 0) {
    if (std::get<1>(opened).reason.empty()) __builtin_trap();
    return 0;
  }
  station::ArchiveReader& reader = *std::get<0>(opened);
  if (reader.header().archive_size != file.size()) __builtin_trap();
  for (const station::TelemetryField& f : station::AllTelemetryFields()) {
    if (!reader.HasField(f.key)) continue;
    for (size_t level = 0; level < station::kArchiveLevelsNs.size(); ++level) {
      auto buckets = reader.Buckets(f.key, level);
      if (!buckets.ok()) {
        if (buckets.error().message().empty()) __builtin_trap();
        break;
      }
    }
  }
  static_cast<void>(reader.RecordedSequences());
  static_cast<void>(reader.Tiles());
  static_cast<void>(reader.NewestPose());
  static_cast<void>(reader.NewestOnboard());
  static_cast<void>(reader.OnboardSpans());
  static_cast<void>(reader.OnboardMinutes(protocol::StreamId::kHousekeeping));
  return 0;
}
