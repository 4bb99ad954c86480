#include "groundstation/parameter_archive.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "protocol/byte_sink.h"
#include "protocol/crc32.h"
#include "protocol/mcap_reader.h"
#include "protocol/recording_profile.h"
#include "protocol/regular_file.h"
#include "rover/v1/soil.pb.h"
#include "rover/v1/terrain.pb.h"

namespace lgs::station {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'L', 'G', 'S', 'P', 'A', 'R', 'C', '\x01'};
constexpr uint32_t kVersion = 1;
// magic 8, version 4, directory size 4, recording size 8 @16, mtime 8 @24, tail CRC 4 @32,
// directory CRC 4 @36, start 8 @40, end 8 @48, messages 8 @56, samples 8 @64, archive size 8 @72,
// header CRC 4 @80 (of the 80 bytes before it), flags 4 @84.
constexpr size_t kHeaderSize = 88;
constexpr uint64_t kTailBytes = 64 * 1024;
// A directory names at most a few hundred fields; anything near this is not ours.
constexpr uint32_t kMaxDirectoryBytes = 16u << 20;
// One bucket in a block: start, count, and 4 samples of (value, ground, on-board - ground).
constexpr uint32_t kBucketBytes = 8 + 4 + 4 * 24;
constexpr int kZstdLevel = 3;
// Header flags (offset 84, outside the header CRC's 80 bytes: set with them all the same).
constexpr uint32_t kFlagComplete = 1;
// Blocks that are not a field's buckets.
const std::string kSequencesKey = "@sequences", kTilesKey = "@tiles", kPoseKey = "@pose",
                  kPathKey = "@path", kSitesKey = "@sites", kOnboardKey = "@onboard",
                  kOnboardSpanKey = "@onboard-span", kOnboardMinutesKey = "@onboard-minutes";
constexpr uint32_t kMaxSpecialBytes = 256u << 20;
// Inflating starts with this much room and doubles it as the data fills it.
constexpr size_t kFirstInflateBytes = 64 * 1024;
// Our blocks are compressed at level 3 with windows of at most 2 MiB (2^21).
constexpr int kMaxWindowLog = 23;

void Put(std::string& out, const void* p, size_t n) {
  out.append(static_cast<const char*>(p), n);
}
template <typename T>
void Put(std::string& out, T v) {
  Put(out, &v, sizeof v);  // little-endian hosts only (the project's: x86-64, arm64)
}
template <typename T>
T Get(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

uint32_t Crc(std::span<const uint8_t> bytes) {
  return protocol::Crc32Finish(protocol::Crc32Update(protocol::kCrc32Initial, bytes));
}
uint32_t Crc(const std::string& s, size_t from = 0, size_t n = std::string::npos) {
  const size_t len = std::min(n, s.size() - from);
  return Crc({reinterpret_cast<const uint8_t*>(s.data()) + from, len});
}

Status ReadAt(int fd, uint64_t offset, size_t n, std::string& out) {
  out.resize(n);
  size_t done = 0;
  while (done < n) {
    const ssize_t got = ::pread(fd, out.data() + done, n - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return Status::Error(got == 0 ? "ends early" : std::strerror(errno));
    done += static_cast<size_t>(got);
  }
  return Status::Ok();
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// The numeric fields of each stream: the ones an archive summarizes.
bool Summarized(const TelemetryField& f) {
  return f.format != FieldFormat::kString && f.format != FieldFormat::kArray &&
         !f.path.back()->is_repeated();
}

void EncodeLevel(const std::vector<ArchiveBucket>& buckets, std::string& out) {
  for (const ArchiveBucket& b : buckets) Put(out, b.start_ns);
  for (const ArchiveBucket& b : buckets) Put(out, b.count);
  for (int which = 0; which < 4; ++which) {
    const auto sample = [which](const ArchiveBucket& b) -> const ArchiveSample& {
      return which == 0 ? b.min : which == 1 ? b.max : which == 2 ? b.first : b.last;
    };
    for (const ArchiveBucket& b : buckets) Put(out, sample(b).value);
    for (const ArchiveBucket& b : buckets) Put(out, sample(b).ground_ns);
    for (const ArchiveBucket& b : buckets) {
      Put(out, static_cast<int64_t>(sample(b).onboard_ns - sample(b).ground_ns));
    }
  }
}

void DecodeLevel(const uint8_t* p, uint32_t n, std::vector<ArchiveBucket>& out) {
  out.resize(n);
  for (uint32_t i = 0; i < n; ++i) out[i].start_ns = Get<uint64_t>(p + 8 * i);
  p += 8 * n;
  for (uint32_t i = 0; i < n; ++i) out[i].count = Get<uint32_t>(p + 4 * i);
  p += 4 * n;
  for (int which = 0; which < 4; ++which) {
    for (uint32_t i = 0; i < n; ++i) {
      ArchiveBucket& b = out[i];
      ArchiveSample& s = which == 0 ? b.min : which == 1 ? b.max : which == 2 ? b.first : b.last;
      s.value = Get<double>(p + 8 * i);
      s.ground_ns = Get<uint64_t>(p + 8 * (n + i));
      s.onboard_ns = s.ground_ns + static_cast<uint64_t>(Get<int64_t>(p + 8 * (2 * n + i)));
    }
    p += 24 * n;
  }
}

}  // namespace

void AddToBucket(ArchiveBucket& b, const ArchiveSample& s) {
  if (b.count == 0) {
    b.min = b.max = b.first = b.last = s;
  } else {
    if (s.value < b.min.value || (s.value == b.min.value && s.ground_ns < b.min.ground_ns)) {
      b.min = s;
    }
    if (s.value > b.max.value || (s.value == b.max.value && s.ground_ns < b.max.ground_ns)) {
      b.max = s;
    }
    if (s.ground_ns < b.first.ground_ns) b.first = s;
    if (s.ground_ns >= b.last.ground_ns) b.last = s;
  }
  ++b.count;
}

void MergeBuckets(ArchiveBucket& into, const ArchiveBucket& b) {
  if (b.count == 0) return;
  if (into.count == 0) {
    const uint64_t start = into.start_ns;
    into = b;
    into.start_ns = start;
    return;
  }
  const uint32_t count = into.count;
  AddToBucket(into, b.min);
  AddToBucket(into, b.max);
  AddToBucket(into, b.first);
  AddToBucket(into, b.last);
  into.count = count + b.count;
}

int64_t RecordingMtimeNs(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
}

Result<RecordingIdentity> IdentifyRecording(const std::string& path) {
  auto fd = protocol::OpenRegularFile(path, "recording");
  if (!fd.ok()) return fd.error();
  Fd closer{*fd};
  struct stat st {};
  if (::fstat(*fd, &st) != 0)
    return Status::Error(fmt::format("{}: {}", path, std::strerror(errno)));
  RecordingIdentity id;
  id.size = static_cast<uint64_t>(st.st_size);
  id.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
  const uint64_t n = std::min(id.size, kTailBytes);
  std::string tail;
  if (Status s = ReadAt(*fd, id.size - n, n, tail); !s.ok()) {
    return Status::Error(fmt::format("{}: {}", path, s.message()));
  }
  id.tail_crc = Crc(tail);
  return id;
}

std::string ArchiveDirectoryOf(const std::string& recording_directory) {
  return (fs::path(recording_directory) / "archive").string();
}

std::string ArchivePathFor(const std::string& recording_path) {
  const fs::path p(recording_path);
  return (p.parent_path() / "archive" / (p.filename().string() + ".lgsarc")).string();
}

std::string_view ArchiveStateName(ArchiveState state) {
  switch (state) {
    case ArchiveState::kValid:
      return "valid";
    case ArchiveState::kMissing:
      return "missing";
    case ArchiveState::kStale:
      return "stale";
    case ArchiveState::kDamaged:
      return "damaged";
  }
  return "?";
}

ArchiveBuilder::ArchiveBuilder() {
  const std::vector<TelemetryField>& all = AllTelemetryFields();
  for (const TelemetryField& f : all) {
    if (!Summarized(f) || f.stream == nullptr) continue;
    by_stream_[static_cast<size_t>(f.stream->id)].push_back(fields_.size());
    FieldBuckets fb;
    fb.field = &f;
    fields_.push_back(std::move(fb));
  }
  for (FieldBuckets& fb : fields_) fb.last = fb.buckets.end();
}

void ArchiveBuilder::SeeMessage(uint64_t ground_ns) {
  ++messages_;
  start_ns_ = std::min(start_ns_, ground_ns);
  end_ns_ = std::max(end_ns_, ground_ns);
}

void ArchiveBuilder::AddMessage(const protocol::StreamInfo& stream,
                                const google::protobuf::Message& message, uint64_t ground_ns,
                                uint64_t onboard_ns, uint32_t sequence,
                                std::span<const uint8_t> data) {
  AddSequence(stream.id, sequence, onboard_ns);
  // The recorded bytes (a message of nothing but defaults has none), or the message's own.
  const auto keep = [&] {
    return ArchivedMessage{
        ground_ns, onboard_ns, sequence,
        data.empty() ? message.SerializeAsString()
                     : std::string(reinterpret_cast<const char*>(data.data()), data.size())};
  };
  if (stream.id == protocol::StreamId::kTerrainTile) {
    if (const auto* tile = dynamic_cast<const rover::v1::TerrainTile*>(&message)) {
      const std::array<double, 5> key = {
          tile->origin_x_m(), tile->origin_y_m(), static_cast<double>(tile->width_cells()),
          static_cast<double>(tile->height_cells()), tile->cell_size_m()};
      auto [it, added] = tiles_.try_emplace(key);
      if (added || onboard_ns >= it->second.onboard_ns) it->second = keep();
    }
  } else if (stream.id == protocol::StreamId::kNavigationPose) {
    if (!pose_ || ground_ns >= pose_->ground_ns) pose_ = keep();
    const auto [it, added] = path_.try_emplace(ground_ns / kArchiveLevelsNs[0]);
    auto& [first, last] = it->second;
    if (added || ground_ns < first.ground_ns) first = keep();
    if (added || ground_ns >= last.ground_ns) last = keep();
  } else if (stream.id == protocol::StreamId::kSoilMeasurement) {
    if (const auto* soil = dynamic_cast<const rover::v1::SoilMeasurement*>(&message)) {
      ArchivedMessage site = keep();
      if (soil->has_vnis() && soil->vnis().reflectance_size() > 0) {
        rover::v1::SoilMeasurement without = *soil;
        site.vnis_bands = static_cast<uint32_t>(soil->vnis().reflectance_size());
        without.mutable_vnis()->clear_reflectance();
        site.data = without.SerializeAsString();
      }
      sites_.push_back(std::move(site));
    }
  }
  const uint64_t width = kArchiveLevelsNs[0];
  const uint64_t start = ground_ns / width * width;
  {
    auto [minute, added] =
        onboard_minutes_[static_cast<size_t>(stream.id)].try_emplace(start, OnboardMinute{});
    OnboardMinute& m = minute->second;
    if (added) m = {start, onboard_ns, onboard_ns};
    m.oldest_ns = std::min(m.oldest_ns, onboard_ns);
    m.newest_ns = std::max(m.newest_ns, onboard_ns);
  }
  for (const size_t index : by_stream_[static_cast<size_t>(stream.id)]) {
    FieldBuckets& fb = fields_[index];
    if (!FieldPresent(*fb.field, message)) continue;
    const std::optional<double> v = FieldNumber(*fb.field, message);
    if (!v || !std::isfinite(*v)) continue;
    // Samples come in ground-time order but for reordering and overlaps: the last bucket
    // used is almost always the one.
    if (fb.last == fb.buckets.end() || fb.last->first != start) {
      fb.last = fb.buckets.try_emplace(start).first;
      fb.last->second.start_ns = start;
    }
    AddToBucket(fb.last->second, ArchiveSample{ground_ns, onboard_ns, *v});
    ++samples_;
  }
}

std::string ArchiveBuilder::Serialize(const RecordingIdentity& identity) const {
  std::string directory, blocks;
  std::string raw;
  std::vector<ArchiveBucket> level;
  // A zstd block and its directory entry (offset relative to the blocks: made absolute below).
  const auto add_block = [&](const std::string& key, const std::string& payload,
                             const std::array<uint32_t, kArchiveLevelsNs.size()>& counts) {
    std::string compressed(ZSTD_compressBound(payload.size()), '\0');
    const size_t n = ZSTD_compress(compressed.data(), compressed.size(), payload.data(),
                                   payload.size(), kZstdLevel);
    compressed.resize(ZSTD_isError(n) ? 0 : n);
    Put(directory, static_cast<uint16_t>(key.size()));
    Put(directory, key.data(), key.size());
    Put(directory, static_cast<uint64_t>(blocks.size()));
    Put(directory, static_cast<uint32_t>(compressed.size()));
    Put(directory, static_cast<uint32_t>(payload.size()));
    Put(directory, Crc(compressed));
    for (uint32_t c : counts) Put(directory, c);
    blocks += compressed;
  };
  for (const FieldBuckets& fb : fields_) {
    if (fb.buckets.empty()) continue;
    raw.clear();
    std::array<uint32_t, kArchiveLevelsNs.size()> counts{};
    for (size_t l = 0; l < kArchiveLevelsNs.size(); ++l) {
      level.clear();
      for (const auto& [start, b] : fb.buckets) {
        const uint64_t s = start / kArchiveLevelsNs[l] * kArchiveLevelsNs[l];
        if (level.empty() || level.back().start_ns != s) {
          level.push_back(ArchiveBucket{});
          level.back().start_ns = s;
        }
        MergeBuckets(level.back(), b);
      }
      counts[l] = static_cast<uint32_t>(level.size());
      EncodeLevel(level, raw);
    }
    add_block(fb.field->key, raw, counts);
  }
  // What a starting station needs whole: sequences, the newest tiles and pose.
  const auto special = [&](const std::string& key, const std::string& payload) {
    add_block(key, payload, {});
  };
  {
    std::string payload;
    uint64_t count = 0;
    for (const auto& seqs : sequences_) count += seqs.size();
    Put(payload, count);
    for (size_t i = 0; i < sequences_.size(); ++i) {
      std::vector<uint32_t> seqs = sequences_[i];
      if (seqs.empty()) continue;
      std::sort(seqs.begin(), seqs.end());
      seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
      std::vector<SequenceRange> ranges;
      for (uint32_t q : seqs) {
        if (!ranges.empty() && ranges.back().last + 1ULL == q) {
          ranges.back().last = q;
        } else {
          ranges.push_back({q, q});
        }
      }
      Put(payload, static_cast<uint8_t>(i));
      Put(payload, static_cast<uint32_t>(ranges.size()));
      for (const SequenceRange& r : ranges) {
        Put(payload, r.first);
        Put(payload, r.last);
      }
    }
    special(kSequencesKey, payload);
  }
  {
    // Per stream that has any: its index and its newest on-board time.
    std::string payload;
    for (size_t i = 0; i < newest_onboard_.size(); ++i) {
      if (sequences_[i].empty()) continue;
      Put(payload, static_cast<uint8_t>(i));
      Put(payload, newest_onboard_[i]);
    }
    special(kOnboardKey, payload);
  }
  {
    // Per stream that has any: its index, its oldest and its newest on-board time.
    std::string payload;
    for (size_t i = 0; i < newest_onboard_.size(); ++i) {
      if (sequences_[i].empty()) continue;
      Put(payload, static_cast<uint8_t>(i));
      Put(payload, oldest_onboard_[i]);
      Put(payload, newest_onboard_[i]);
    }
    special(kOnboardSpanKey, payload);
  }
  {
    // Per stream that has any: its index, how many minutes, then each minute's start and its
    // oldest and newest on-board time.
    std::string payload;
    for (size_t i = 0; i < onboard_minutes_.size(); ++i) {
      if (onboard_minutes_[i].empty()) continue;
      Put(payload, static_cast<uint8_t>(i));
      Put(payload, static_cast<uint32_t>(onboard_minutes_[i].size()));
      for (const auto& [start, m] : onboard_minutes_[i]) {
        Put(payload, m.start_ns);
        Put(payload, m.oldest_ns);
        Put(payload, m.newest_ns);
      }
    }
    special(kOnboardMinutesKey, payload);
  }
  // Sites carry their band count after the length (DecodeMessages' `with_bands`).
  const auto messages = [](const std::vector<const ArchivedMessage*>& list,
                           bool with_bands = false) {
    std::string payload;
    Put(payload, static_cast<uint32_t>(list.size()));
    for (const ArchivedMessage* m : list) {
      Put(payload, m->ground_ns);
      Put(payload, m->onboard_ns);
      Put(payload, m->sequence);
      Put(payload, static_cast<uint32_t>(m->data.size()));
      if (with_bands) Put(payload, m->vnis_bands);
      payload += m->data;
    }
    return payload;
  };
  std::vector<const ArchivedMessage*> tiles;
  for (const auto& [key, m] : tiles_) tiles.push_back(&m);
  std::sort(tiles.begin(), tiles.end(), [](const ArchivedMessage* a, const ArchivedMessage* b) {
    return a->ground_ns < b->ground_ns;
  });
  special(kTilesKey, messages(tiles));
  std::vector<const ArchivedMessage*> pose;
  if (pose_) pose.push_back(&*pose_);
  special(kPoseKey, messages(pose));
  std::vector<const ArchivedMessage*> path;
  for (const auto& [start, ends] : path_) {
    path.push_back(&ends.first);
    if (ends.second.ground_ns != ends.first.ground_ns) path.push_back(&ends.second);
  }
  special(kPathKey, messages(path));
  std::vector<const ArchivedMessage*> sites;
  for (const ArchivedMessage& m : sites_) sites.push_back(&m);
  std::stable_sort(sites.begin(), sites.end(),
                   [](const ArchivedMessage* a, const ArchivedMessage* b) {
                     return a->ground_ns < b->ground_ns;
                   });
  special(kSitesKey, messages(sites, true));
  // Block offsets are relative to the end of the directory: make them absolute.
  const uint64_t base = kHeaderSize + directory.size();
  for (size_t at = 0; at < directory.size();) {
    const auto klen = Get<uint16_t>(reinterpret_cast<const uint8_t*>(directory.data()) + at);
    const size_t off_at = at + 2 + klen;
    const uint64_t rel = Get<uint64_t>(reinterpret_cast<const uint8_t*>(directory.data()) + off_at);
    const uint64_t abs = rel + base;
    std::memcpy(directory.data() + off_at, &abs, sizeof abs);
    at = off_at + 8 + 4 * 3 + 4 * kArchiveLevelsNs.size();
  }
  std::string out;
  Put(out, kMagic, sizeof kMagic);
  Put(out, kVersion);
  Put(out, static_cast<uint32_t>(directory.size()));
  Put(out, identity.size);
  Put(out, identity.mtime_ns);
  Put(out, identity.tail_crc);
  Put(out, Crc(directory));
  Put(out, messages_ == 0 ? uint64_t{0} : start_ns_);
  Put(out, end_ns_);
  Put(out, messages_);
  Put(out, samples_);
  Put(out, static_cast<uint64_t>(base + blocks.size()));
  Put(out, Crc(out));  // of the 80 bytes before it
  Put(out, uint32_t{complete_ ? kFlagComplete : 0u});
  out += directory;
  out += blocks;
  return out;
}

std::variant<std::unique_ptr<ArchiveReader>, ArchiveReader::OpenError> ArchiveReader::Open(
    const std::string& path) {
  const auto damaged = [&](std::string why) {
    return OpenError{ArchiveState::kDamaged, fmt::format("{}: {}", path, why)};
  };
  auto reader = std::unique_ptr<ArchiveReader>(new ArchiveReader());
  Fd& fd = reader->fd_;
  fd.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd.fd < 0) {
    if (errno == ENOENT) return OpenError{ArchiveState::kMissing, path + ": no archive"};
    return damaged(std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0 || !S_ISREG(st.st_mode)) return damaged("not a regular file");
  const auto size = static_cast<uint64_t>(st.st_size);
  // The header and, almost always, the whole directory in one read.
  std::string head;
  if (size < kHeaderSize ||
      !ReadAt(fd.fd, 0, static_cast<size_t>(std::min<uint64_t>(size, 16 * 1024)), head).ok()) {
    return damaged("shorter than its header (torn)");
  }
  const auto* h = reinterpret_cast<const uint8_t*>(head.data());
  if (std::memcmp(h, kMagic, sizeof kMagic) != 0) return damaged("not a parameter archive");
  if (Get<uint32_t>(h + 8) != kVersion) {
    return damaged(
        fmt::format("format version {}, this build reads {}", Get<uint32_t>(h + 8), kVersion));
  }
  if (Get<uint32_t>(h + 80) != Crc(head, 0, 80)) return damaged("header CRC mismatch");
  reader->path_ = path;
  ArchiveHeader& hd = reader->header_;
  const uint32_t dir_size = Get<uint32_t>(h + 12);
  hd.recording.size = Get<uint64_t>(h + 16);
  hd.recording.mtime_ns = Get<int64_t>(h + 24);
  hd.recording.tail_crc = Get<uint32_t>(h + 32);
  const uint32_t dir_crc = Get<uint32_t>(h + 36);
  hd.start_ns = Get<uint64_t>(h + 40);
  hd.end_ns = Get<uint64_t>(h + 48);
  hd.messages = Get<uint64_t>(h + 56);
  hd.samples = Get<uint64_t>(h + 64);
  hd.archive_size = Get<uint64_t>(h + 72);
  hd.recording_complete = (Get<uint32_t>(h + 84) & kFlagComplete) != 0;
  if (hd.archive_size != size) {
    return damaged(fmt::format("{} bytes where its header says {} (torn)", size, hd.archive_size));
  }
  if (dir_size > kMaxDirectoryBytes || kHeaderSize + dir_size > size) {
    return damaged(fmt::format("a directory of {} bytes does not fit", dir_size));
  }
  std::string& dir = reader->directory_;
  if (kHeaderSize + dir_size <= head.size()) {
    dir.assign(head, kHeaderSize, dir_size);
  } else if (Status s = ReadAt(fd.fd, kHeaderSize, dir_size, dir); !s.ok()) {
    return damaged(s.message());
  }
  if (Crc(dir) != dir_crc) return damaged("directory CRC mismatch");
  const auto* d = reinterpret_cast<const uint8_t*>(dir.data());
  constexpr size_t kFixed = 8 + 4 * 3 + 4 * kArchiveLevelsNs.size();
  for (size_t at = 0; at < dir.size();) {
    if (at + 2 > dir.size()) return damaged("directory entry cut short");
    const auto klen = Get<uint16_t>(d + at);
    if (at + 2 + klen + kFixed > dir.size()) return damaged("directory entry cut short");
    const std::string_view key(dir.data() + at + 2, klen);
    const uint8_t* e = d + at + 2 + klen;
    Entry entry;
    entry.offset = Get<uint64_t>(e);
    entry.compressed = Get<uint32_t>(e + 8);
    entry.raw = Get<uint32_t>(e + 12);
    entry.crc = Get<uint32_t>(e + 16);
    uint64_t buckets = 0;
    for (size_t l = 0; l < kArchiveLevelsNs.size(); ++l) {
      entry.counts[l] = Get<uint32_t>(e + 20 + 4 * l);
      buckets += entry.counts[l];
    }
    // Lengths are checked against the file and each other before anything is allocated.
    const bool special = key.starts_with('@');
    if (entry.offset < kHeaderSize + dir_size || entry.offset + entry.compressed > size ||
        (special ? entry.raw > kMaxSpecialBytes : uint64_t{entry.raw} != buckets * kBucketBytes)) {
      return damaged(fmt::format("the block of {} does not fit its file", key));
    }
    reader->entries_.emplace_back(key, entry);
    at += 2 + klen + kFixed;
  }
  return reader;
}

ArchiveState ArchiveReader::Matches(const std::string& recording_path, uint64_t size,
                                    int64_t mtime_ns, std::string* reason) const {
  const RecordingIdentity& was = header_.recording;
  if (size != was.size) {
    if (reason) {
      *reason = fmt::format("{} is {} bytes, its archive was made for {}", recording_path, size,
                            was.size);
    }
    return ArchiveState::kStale;
  }
  if (mtime_ns == was.mtime_ns) return ArchiveState::kValid;
  // Touched or copied (a copy keeps the size but not always the time): the tail says.
  auto now = IdentifyRecording(recording_path);
  if (!now.ok() || now->tail_crc != was.tail_crc) {
    if (reason) *reason = fmt::format("{} changed since its archive was made", recording_path);
    return ArchiveState::kStale;
  }
  return ArchiveState::kValid;
}

ArchiveReader::Fd::~Fd() {
  if (fd >= 0) ::close(fd);
}

const ArchiveReader::Entry* ArchiveReader::Find(std::string_view key) const {
  for (const auto& [k, e] : entries_) {
    if (k == key) return &e;
  }
  return nullptr;
}

bool ArchiveReader::HasField(std::string_view key) const {
  return Find(key) != nullptr;
}

Result<std::string> ArchiveReader::Block(std::string_view key) {
  const Entry* found = Find(key);
  if (found == nullptr) return std::string();
  const Entry& e = *found;
  thread_local std::string compressed;
  if (Status s = ReadAt(fd_.fd, e.offset, e.compressed, compressed); !s.ok()) {
    return Status::Error(fmt::format("{}: the block of {} {}", path_, key, s.message()));
  }
  if (Crc(compressed) != e.crc) {
    return Status::Error(fmt::format("{}: the block of {} fails its CRC", path_, key));
  }
  const auto bad = [&] {
    return Status::Error(
        fmt::format("{}: the block of {} does not inflate to its {} bytes", path_, key, e.raw));
  };
  // The frame must say the size the directory says, before anything is allocated for it.
  const unsigned long long framed = ZSTD_getFrameContentSize(compressed.data(), compressed.size());
  if (framed != ZSTD_CONTENTSIZE_UNKNOWN && framed != e.raw) return bad();
  // One decompression context per thread, not one per block. Its window is capped: a frame
  // that asks for more is refused, not given the memory.
  thread_local std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> context(
      [] {
        ZSTD_DCtx* c = ZSTD_createDCtx();
        ZSTD_DCtx_setParameter(c, ZSTD_d_windowLogMax, kMaxWindowLog);
        return c;
      }(),
      ZSTD_freeDCtx);
  ZSTD_DCtx_reset(context.get(), ZSTD_reset_session_only);
  // The output grows as it is produced, up to the size claimed: a claim the data does not back
  // costs what the data inflates to, not what the directory says.
  std::string raw;
  ZSTD_inBuffer in{compressed.data(), compressed.size(), 0};
  size_t produced = 0;
  for (;;) {
    if (produced == raw.size() && raw.size() < e.raw) {
      raw.resize(std::min<size_t>(e.raw, std::max<size_t>(2 * raw.size(), kFirstInflateBytes)));
    }
    ZSTD_outBuffer out{raw.data(), raw.size(), produced};
    const size_t consumed = in.pos;
    const size_t left = ZSTD_decompressStream(context.get(), &out, &in);
    if (ZSTD_isError(left)) return bad();
    const bool progress = out.pos != produced || in.pos != consumed;
    produced = out.pos;
    if (left == 0) break;
    if (!progress) return bad();  // cut short, or more than claimed
  }
  if (produced != e.raw) return bad();
  return raw;
}

Result<std::vector<ArchiveBucket>> ArchiveReader::Buckets(std::string_view key, size_t level) {
  std::vector<ArchiveBucket> out;
  const Entry* found = Find(key);
  if (found == nullptr || level >= kArchiveLevelsNs.size() || key.starts_with('@')) return out;
  auto raw = Block(key);
  if (!raw.ok()) return raw.error();
  const Entry& e = *found;
  size_t at = 0;
  for (size_t l = 0; l < level; ++l) at += size_t{e.counts[l]} * kBucketBytes;
  DecodeLevel(reinterpret_cast<const uint8_t*>(raw->data()) + at, e.counts[level], out);
  return out;
}

Result<ArchiveReader::Sequences> ArchiveReader::RecordedSequences() {
  auto raw = Block(kSequencesKey);
  if (!raw.ok()) return raw.error();
  Sequences out;
  const auto* p = reinterpret_cast<const uint8_t*>(raw->data());
  const size_t size = raw->size();
  if (size < 8) return Status::Error(fmt::format("{}: sequences cut short", path_));
  out.messages = Get<uint64_t>(p);
  for (size_t at = 8; at < size;) {
    if (at + 5 > size) return Status::Error(fmt::format("{}: sequences cut short", path_));
    const uint8_t stream = p[at];
    const uint32_t n = Get<uint32_t>(p + at + 1);
    at += 5;
    if (stream >= protocol::kStreamCount || (size - at) / 8 < n) {
      return Status::Error(fmt::format("{}: sequences do not fit their block", path_));
    }
    for (uint32_t i = 0; i < n; ++i, at += 8) {
      out.ranges[stream].push_back({Get<uint32_t>(p + at), Get<uint32_t>(p + at + 4)});
    }
  }
  return out;
}

namespace {

Result<std::vector<ArchivedMessage>> DecodeMessages(const std::string& raw, const std::string& path,
                                                    std::string_view what,
                                                    bool with_bands = false) {
  std::vector<ArchivedMessage> out;
  if (raw.empty()) return out;
  const auto* p = reinterpret_cast<const uint8_t*>(raw.data());
  const auto bad = [&] {
    return Status::Error(fmt::format("{}: {} do not fit their block", path, what));
  };
  if (raw.size() < 4) return bad();
  const uint32_t n = Get<uint32_t>(p);
  size_t at = 4;
  for (uint32_t i = 0; i < n; ++i) {
    const size_t fixed = with_bands ? 28 : 24;
    if (raw.size() - at < fixed) return bad();
    ArchivedMessage m;
    m.ground_ns = Get<uint64_t>(p + at);
    m.onboard_ns = Get<uint64_t>(p + at + 8);
    m.sequence = Get<uint32_t>(p + at + 16);
    const uint32_t len = Get<uint32_t>(p + at + 20);
    if (with_bands) m.vnis_bands = Get<uint32_t>(p + at + 24);
    at += fixed;
    if (raw.size() - at < len) return bad();
    m.data.assign(raw, at, len);
    at += len;
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

Result<std::vector<ArchivedMessage>> ArchiveReader::Tiles() {
  auto raw = Block(kTilesKey);
  if (!raw.ok()) return raw.error();
  return DecodeMessages(*raw, path_, "tiles");
}

Result<std::optional<ArchivedMessage>> ArchiveReader::NewestPose() {
  auto raw = Block(kPoseKey);
  if (!raw.ok()) return raw.error();
  auto list = DecodeMessages(*raw, path_, "poses");
  if (!list.ok()) return list.error();
  if (list->empty()) return std::optional<ArchivedMessage>();
  return std::optional<ArchivedMessage>(std::move(list->back()));
}

Result<std::optional<std::array<uint64_t, protocol::kStreamCount>>> ArchiveReader::NewestOnboard() {
  using Out = std::optional<std::array<uint64_t, protocol::kStreamCount>>;
  if (Find(kOnboardKey) == nullptr) return Out();
  auto raw = Block(kOnboardKey);
  if (!raw.ok()) return raw.error();
  std::array<uint64_t, protocol::kStreamCount> out{};
  const auto* p = reinterpret_cast<const uint8_t*>(raw->data());
  if (raw->size() % 9 != 0) {
    return Status::Error(fmt::format("{}: on-board times do not fit their block", path_));
  }
  for (size_t at = 0; at < raw->size(); at += 9) {
    if (p[at] >= protocol::kStreamCount) {
      return Status::Error(fmt::format("{}: on-board times name stream {}", path_, p[at]));
    }
    out[p[at]] = Get<uint64_t>(p + at + 1);
  }
  return Out(out);
}

Result<std::optional<std::array<OnboardSpan, protocol::kStreamCount>>>
ArchiveReader::OnboardSpans() {
  using Out = std::optional<std::array<OnboardSpan, protocol::kStreamCount>>;
  if (Find(kOnboardSpanKey) == nullptr) return Out();
  auto raw = Block(kOnboardSpanKey);
  if (!raw.ok()) return raw.error();
  std::array<OnboardSpan, protocol::kStreamCount> out{};
  const auto* p = reinterpret_cast<const uint8_t*>(raw->data());
  if (raw->size() % 17 != 0) {
    return Status::Error(fmt::format("{}: on-board spans do not fit their block", path_));
  }
  for (size_t at = 0; at < raw->size(); at += 17) {
    if (p[at] >= protocol::kStreamCount) {
      return Status::Error(fmt::format("{}: on-board spans name stream {}", path_, p[at]));
    }
    OnboardSpan& span = out[p[at]];
    span.oldest_ns = Get<uint64_t>(p + at + 1);
    span.newest_ns = Get<uint64_t>(p + at + 9);
    if (span.oldest_ns > span.newest_ns) {
      return Status::Error(fmt::format("{}: an on-board span ends before it starts", path_));
    }
    span.any = true;
  }
  return Out(out);
}

Result<std::optional<std::vector<OnboardMinute>>> ArchiveReader::OnboardMinutes(
    protocol::StreamId stream) {
  using Out = std::optional<std::vector<OnboardMinute>>;
  if (Find(kOnboardMinutesKey) == nullptr) return Out();
  auto raw = Block(kOnboardMinutesKey);
  if (!raw.ok()) return raw.error();
  const auto* p = reinterpret_cast<const uint8_t*>(raw->data());
  std::vector<OnboardMinute> out;
  for (size_t at = 0; at < raw->size();) {
    if (raw->size() - at < 5) {
      return Status::Error(fmt::format("{}: on-board minutes do not fit their block", path_));
    }
    const uint8_t index = p[at];
    const uint32_t n = Get<uint32_t>(p + at + 1);
    at += 5;
    if (index >= protocol::kStreamCount || (raw->size() - at) / 24 < n) {
      return Status::Error(
          fmt::format("{}: on-board minutes of stream {} do not fit their block", path_, index));
    }
    if (index == static_cast<uint8_t>(stream)) {
      out.resize(n);
      uint64_t previous = 0;
      for (uint32_t i = 0; i < n; ++i, at += 24) {
        OnboardMinute& m = out[i];
        m.start_ns = Get<uint64_t>(p + at);
        m.oldest_ns = Get<uint64_t>(p + at + 8);
        m.newest_ns = Get<uint64_t>(p + at + 16);
        if (m.oldest_ns > m.newest_ns || (i > 0 && m.start_ns <= previous)) {
          return Status::Error(fmt::format("{}: on-board minutes out of order", path_));
        }
        previous = m.start_ns;
      }
    } else {
      at += size_t{24} * n;
    }
  }
  return Out(std::move(out));
}

Result<std::optional<std::vector<ArchivedMessage>>> ArchiveReader::PathPoses() {
  using Out = std::optional<std::vector<ArchivedMessage>>;
  if (Find(kPathKey) == nullptr) return Out();
  auto raw = Block(kPathKey);
  if (!raw.ok()) return raw.error();
  auto list = DecodeMessages(*raw, path_, "path poses");
  if (!list.ok()) return list.error();
  return Out(std::move(*list));
}

Result<std::optional<std::vector<ArchivedMessage>>> ArchiveReader::SoilSites() {
  using Out = std::optional<std::vector<ArchivedMessage>>;
  if (Find(kSitesKey) == nullptr) return Out();
  auto raw = Block(kSitesKey);
  if (!raw.ok()) return raw.error();
  auto list = DecodeMessages(*raw, path_, "soil sites", true);
  if (!list.ok()) return list.error();
  return Out(std::move(*list));
}

Result<ArchiveBuildStats> BuildArchive(const std::string& recording_path) {
  auto identity = IdentifyRecording(recording_path);
  if (!identity.ok()) return identity.error();
  auto file = protocol::McapFile::Open(recording_path);
  if (!file.ok()) return file.error();
  ArchiveBuilder builder;
  protocol::McapMessageReader reader(**file);
  // Per channel: its stream and a message of its type to parse into (null: not telemetry).
  std::map<uint16_t,
           std::pair<const protocol::StreamInfo*, std::unique_ptr<google::protobuf::Message>>>
      channels;
  protocol::McapMessage m;
  while (reader.Next(m)) {
    builder.SeeMessage(m.log_time);
    auto it = channels.find(m.channel_id);
    if (it == channels.end()) {
      const protocol::StreamInfo* stream = nullptr;
      if (auto c = protocol::recording::ReadTelemetryChannel(reader.channels().at(m.channel_id))) {
        stream = c->stream;
      }
      std::unique_ptr<google::protobuf::Message> message(stream ? stream->prototype->New()
                                                                : nullptr);
      it = channels.emplace(m.channel_id, std::make_pair(stream, std::move(message))).first;
    }
    auto& [stream, message] = it->second;
    if (stream == nullptr) continue;
    if (!message->ParseFromArray(m.data.data(), static_cast<int>(m.data.size()))) {
      builder.AddSequence(stream->id, m.sequence, m.publish_time);  // recorded all the same
      continue;
    }
    builder.AddMessage(*stream, *message, m.log_time, m.publish_time, m.sequence, m.data);
  }
  builder.SetComplete(reader.end() == protocol::McapMessageReader::End::kComplete);
  ArchiveBuildStats stats;
  stats.messages = builder.messages();
  stats.samples = builder.samples();
  stats.recording_bytes = identity->size;
  stats.recording_complete = reader.end() == protocol::McapMessageReader::End::kComplete;
  const std::string bytes = builder.Serialize(*identity);
  stats.archive_bytes = bytes.size();
  // Whole to a temporary name, synced, then renamed: a reader never sees half an archive.
  const std::string path = ArchivePathFor(recording_path);
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  const std::string temporary = path + ".tmp";
  {
    auto sink = protocol::FileSink::Create(temporary);
    if (!sink.ok())
      return Status::Error(fmt::format("cannot write {}: {}", temporary, sink.error().message()));
    Status s = (*sink)->Write({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
    if (s.ok()) s = (*sink)->Sync();
    if (s.ok()) s = (*sink)->Close();
    if (!s.ok()) {
      fs::remove(temporary, ec);
      return Status::Error(fmt::format("cannot write {}: {}", temporary, s.message()));
    }
  }
  fs::rename(temporary, path, ec);
  if (ec) {
    fs::remove(temporary, ec);
    return Status::Error(fmt::format("cannot rename {} to {}: {}", temporary, path, ec.message()));
  }
  return stats;
}

ArchiveState CheckArchive(const std::string& recording_path, std::string* reason) {
  auto opened = ArchiveReader::Open(ArchivePathFor(recording_path));
  if (auto* error = std::get_if<ArchiveReader::OpenError>(&opened)) {
    if (reason) *reason = error->reason;
    return error->state;
  }
  std::error_code ec;
  const uint64_t size = fs::file_size(recording_path, ec);
  if (ec) {
    if (reason) *reason = fmt::format("{}: {}", recording_path, ec.message());
    return ArchiveState::kStale;
  }
  return std::get<0>(opened)->Matches(recording_path, size, RecordingMtimeNs(recording_path),
                                      reason);
}

void AppendArchivedValueJson(const TelemetryField& field, double v, std::string& out) {
  using google::protobuf::FieldDescriptor;
  switch (field.path.back()->cpp_type()) {
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT:
      if (std::isfinite(v)) {
        fmt::format_to(std::back_inserter(out), "{}", v);
      } else {
        out += "null";
      }
      return;
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      fmt::format_to(std::back_inserter(out), "{}", static_cast<uint64_t>(v));
      return;
    case FieldDescriptor::CPPTYPE_BOOL:
      out += v != 0.0 ? "true" : "false";
      return;
    default:
      fmt::format_to(std::back_inserter(out), "{}", static_cast<int64_t>(v));
  }
}

}  // namespace lgs::station
