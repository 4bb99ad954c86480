// The parameter archive: per recording, for every numeric field of every rover stream, summaries
// of its samples in time buckets at several resolutions (count, and the minimum, maximum, first
// and last sample with their ground and on-board times). History answers long ranges from it
// without reading the recordings' messages (groundstation/archive/README.md).
//
// One sidecar file per recording, `<dir>/archive/<recording>.lgsarc`, written whole to a
// temporary name and renamed, so a reader sees an old archive, a new one or none. The recording
// stays the one source of truth: a sidecar names the recording's size, modification time and the
// CRC-32 of its last 64 KiB, and one that disagrees, is torn or fails a CRC is not used (and is
// rebuilt by whoever builds archives: `gsctl index`, the station's ArchiveMaintainer).
//
// ArchiveBuilder and ArchiveReader are not thread-safe; the free functions are.
#pragma once

#include <google/protobuf/message.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "groundstation/link_accounting.h"
#include "groundstation/telemetry_fields.h"
#include "protocol/status.h"
#include "protocol/stream_registry.h"

namespace lgs::station {

// Bucket widths, finest first. Buckets are aligned to multiples of their width in ground time
// since 1970, so buckets of different files (and levels) line up and merge exactly.
inline constexpr std::array<uint64_t, 4> kArchiveLevelsNs = {
    60'000'000'000ULL, 600'000'000'000ULL, 3'600'000'000'000ULL, 86'400'000'000'000ULL};

struct ArchiveSample {
  uint64_t ground_ns = 0;
  uint64_t onboard_ns = 0;
  double value = 0.0;
};

struct ArchiveBucket {
  uint64_t start_ns = 0;  // a multiple of the level's width
  uint32_t count = 0;
  // Ties: min and max keep the earliest sample with that value; first is the earliest ground
  // time, last the latest (the later one read on a tie).
  ArchiveSample min, max, first, last;
};
// Adds a sample (the bucket is the caller's choice).
void AddToBucket(ArchiveBucket& bucket, const ArchiveSample& sample);
// Merges `b` into `into` (same bucket of two files, or finer buckets into a coarser one).
void MergeBuckets(ArchiveBucket& into, const ArchiveBucket& b);

// What a sidecar says about the recording it summarizes.
struct RecordingIdentity {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint32_t tail_crc = 0;  // CRC-32 of the last min(size, 64 KiB) bytes
};
[[nodiscard]] Result<RecordingIdentity> IdentifyRecording(const std::string& path);
// A file's modification time in ns (0 when it cannot be read).
int64_t RecordingMtimeNs(const std::string& path);
// `<dir>/archive/<name>.lgsarc` for `<dir>/<name>`.
std::string ArchivePathFor(const std::string& recording_path);
// The archive directory of a recording directory.
std::string ArchiveDirectoryOf(const std::string& recording_directory);

// The on-board times a recording holds of one stream (`any` false: none of it).
struct OnboardSpan {
  bool any = false;
  uint64_t oldest_ns = 0, newest_ns = 0;
};
// The on-board times of one stream's messages received in one finest bucket (a minute of ground
// time starting at `start_ns`): history by on-board time takes a field's finest bucket whole
// when this span lies inside one of its on-board buckets.
struct OnboardMinute {
  uint64_t start_ns = 0;
  uint64_t oldest_ns = 0, newest_ns = 0;
};

// A recorded message a sidecar keeps whole: the newest terrain tile of each footprint, the
// newest navigation pose. What a starting station needs of a recording it does not read again.
struct ArchivedMessage {
  uint64_t ground_ns = 0, onboard_ns = 0;
  uint32_t sequence = 0;
  std::string data;  // the message's protobuf bytes, as recorded
  // A soil measurement's: its VNIS spectrum had this many bands, whose reflectance values are
  // left out of `data` (a map shows where and what was measured; the spectrum is read from the
  // recording when asked for). 0 for everything else.
  uint32_t vnis_bands = 0;
};

// Summaries of one recording's samples as they are read (in any order).
class ArchiveBuilder {
 public:
  ArchiveBuilder();
  // Every message of the recording, for its time span (images, ground channels too).
  void SeeMessage(uint64_t ground_ns);
  // A rover stream's message: each of its numeric fields present (finite) is a sample; its
  // sequence is recorded; a terrain tile or a pose is kept whole if it is the newest of its kind
  // or (a pose) the first or last of its minute; a soil measurement is kept without its
  // reflectance values (`data`: its recorded bytes).
  void AddMessage(const protocol::StreamInfo& stream, const google::protobuf::Message& message,
                  uint64_t ground_ns, uint64_t onboard_ns, uint32_t sequence = 0,
                  std::span<const uint8_t> data = {});
  // A message that did not parse: its sequence and on-board time are recorded all the same.
  void AddSequence(protocol::StreamId stream, uint32_t sequence, uint64_t onboard_ns) {
    sequences_[static_cast<size_t>(stream)].push_back(sequence);
    auto& newest = newest_onboard_[static_cast<size_t>(stream)];
    newest = std::max(newest, onboard_ns);
    auto& oldest = oldest_onboard_[static_cast<size_t>(stream)];
    oldest = std::min(oldest, onboard_ns);
  }
  void SetComplete(bool complete) { complete_ = complete; }
  // The sidecar's bytes.
  std::string Serialize(const RecordingIdentity& identity) const;

  uint64_t samples() const { return samples_; }
  uint64_t messages() const { return messages_; }

 private:
  struct FieldBuckets {
    const TelemetryField* field = nullptr;
    std::map<uint64_t, ArchiveBucket> buckets;  // finest level, by start
    std::map<uint64_t, ArchiveBucket>::iterator last;
  };
  // Per stream, the numeric fields it has (indices into fields_).
  std::array<std::vector<size_t>, protocol::kStreamCount> by_stream_;
  std::vector<FieldBuckets> fields_;
  uint64_t samples_ = 0, messages_ = 0;
  uint64_t start_ns_ = UINT64_MAX, end_ns_ = 0;
  bool complete_ = true;
  std::array<std::vector<uint32_t>, protocol::kStreamCount> sequences_;
  std::array<uint64_t, protocol::kStreamCount> newest_onboard_{};  // 0: none recorded
  // Per stream, by finest bucket start: the on-board span of its messages.
  std::array<std::map<uint64_t, OnboardMinute>, protocol::kStreamCount> onboard_minutes_;
  std::array<uint64_t, protocol::kStreamCount> oldest_onboard_ = [] {
    std::array<uint64_t, protocol::kStreamCount> a{};
    a.fill(UINT64_MAX);
    return a;
  }();
  // Tiles by footprint (origin, size, cell size), the newest observation (on-board time).
  std::map<std::array<double, 5>, ArchivedMessage> tiles_;
  std::optional<ArchivedMessage> pose_;  // the newest by ground time
  // The first and the last pose (by ground time) of each finest bucket, by its index.
  std::map<uint64_t, std::pair<ArchivedMessage, ArchivedMessage>> path_;
  std::vector<ArchivedMessage> sites_;  // in the order read
};

// Whether an archive sidecar can be used for its recording, and why not.
enum class ArchiveState { kValid, kMissing, kStale, kDamaged };
std::string_view ArchiveStateName(ArchiveState state);

struct ArchiveHeader {
  RecordingIdentity recording;
  uint64_t start_ns = 0, end_ns = 0;  // ground times of the recording's messages (0, 0: none)
  uint64_t messages = 0, samples = 0;
  uint64_t archive_size = 0;
  // The recording was complete (had its summary) when summarized; false: torn or damaged, and
  // summarized up to there (a station recovers such a file at start before trusting it).
  bool recording_complete = true;
};

// A sidecar opened for reading: its header and directory are read and checked at Open; each
// field's block is read, CRC-checked and inflated when asked for.
class ArchiveReader {
 public:
  // kMissing, kDamaged (torn, a CRC, a bad length: the reason says) as the error's state.
  struct OpenError {
    ArchiveState state;
    std::string reason;
  };
  static std::variant<std::unique_ptr<ArchiveReader>, OpenError> Open(const std::string& path);

  const ArchiveHeader& header() const { return header_; }
  // Whether it describes this recording as it is now (kValid or kStale with the reason): the
  // same size, and the same modification time or (a copy, a touch) the same tail.
  ArchiveState Matches(const std::string& recording_path, uint64_t size, int64_t mtime_ns,
                       std::string* reason = nullptr) const;
  bool HasField(std::string_view key) const;
  // The field's buckets at `level` (index into kArchiveLevelsNs), by start; empty when the
  // recording has no sample of it. An error is a damaged block (the archive is not to be used).
  [[nodiscard]] Result<std::vector<ArchiveBucket>> Buckets(std::string_view key, size_t level);
  // The sequences recorded per stream, as sorted disjoint ranges, and how many rover messages
  // carried them (duplicates too).
  struct Sequences {
    uint64_t messages = 0;
    std::array<std::vector<SequenceRange>, protocol::kStreamCount> ranges;
  };
  [[nodiscard]] Result<Sequences> RecordedSequences();
  // Per stream, the newest on-board time recorded (0: none); nullopt: the sidecar was written
  // before it kept them. A resuming station tells a copy of a recorded packet (no newer) from a
  // rover whose numbering restarted (newer) with it.
  [[nodiscard]] Result<std::optional<std::array<uint64_t, protocol::kStreamCount>>> NewestOnboard();
  // Per stream, the oldest and the newest on-board time recorded; nullopt: the sidecar was
  // written before it kept them. History by on-board time skips a recording whose span for the
  // asked stream lies outside the range (on-board time cannot be told from ground time: a
  // played-back recording arrives hours after it was taken).
  [[nodiscard]] Result<std::optional<std::array<OnboardSpan, protocol::kStreamCount>>>
  OnboardSpans();
  // One stream's on-board span per finest bucket that has its messages, by start; nullopt: the
  // sidecar was written before it kept them.
  [[nodiscard]] Result<std::optional<std::vector<OnboardMinute>>> OnboardMinutes(
      protocol::StreamId stream);
  // The newest terrain tile of each footprint, oldest first, and the newest pose (none: the
  // recording had no pose).
  [[nodiscard]] Result<std::vector<ArchivedMessage>> Tiles();
  [[nodiscard]] Result<std::optional<ArchivedMessage>> NewestPose();
  // For a traverse over days: the first and the last pose of each finest bucket (minute), and
  // every soil measurement (reflectance values left out), oldest first. nullopt: the sidecar was
  // written before these blocks existed (the recording is to be read instead).
  [[nodiscard]] Result<std::optional<std::vector<ArchivedMessage>>> PathPoses();
  [[nodiscard]] Result<std::optional<std::vector<ArchivedMessage>>> SoilSites();

 private:
  struct Entry {
    uint64_t offset = 0;
    uint32_t compressed = 0, raw = 0, crc = 0;
    std::array<uint32_t, kArchiveLevelsNs.size()> counts{};
  };
  ArchiveReader() = default;
  const Entry* Find(std::string_view key) const;
  Result<std::string> Block(std::string_view key);
  std::string path_;
  ArchiveHeader header_;
  // Kept open from Open() to the last block read: one open() per file and query.
  struct Fd {
    int fd = -1;
    ~Fd();
  };
  Fd fd_;
  // The directory as read, and its entries (keys point into it), in file order: a query asks
  // for one or two keys, so a scan beats building a map of a hundred.
  std::string directory_;
  std::vector<std::pair<std::string_view, Entry>> entries_;
};

// Reads the recording (complete, torn or damaged: what is intact) and writes its sidecar.
struct ArchiveBuildStats {
  uint64_t messages = 0, samples = 0;
  uint64_t archive_bytes = 0, recording_bytes = 0;
  bool recording_complete = true;  // false: torn or damaged, summarized up to the damage
};
[[nodiscard]] Result<ArchiveBuildStats> BuildArchive(const std::string& recording_path);

// The sidecar's state for a recording (identity computed from the file).
ArchiveState CheckArchive(const std::string& recording_path, std::string* reason = nullptr);

// The JSON text of a numeric field's value as AppendFieldJson writes it (numbers, true/false,
// enum numbers), from the number an archive holds.
void AppendArchivedValueJson(const TelemetryField& field, double value, std::string& out);

}  // namespace lgs::station
