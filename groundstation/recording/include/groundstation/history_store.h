// HistoryStore: answers the web UI's history queries from the station's MCAP recordings — the
// closed files and the one being written. Closed files are read through their summary: files
// outside the asked range are not opened, and only the chunks whose index says they overlap the
// range and hold the asked channel are read (no walk through the rest of the file). The file
// being written has no summary yet: its records are walked, and chunks outside the range are
// skipped by their time bounds without being inflated.
// Strategies follow Open MCT: all samples (newest `max_samples`), `latest` (the newest `size`),
// and `minmax` (`size` equal time buckets, each answered by its minimum and maximum sample).
// `minmax` over a range of at least kMinArchiveBuckets finest archive buckets uses the parameter
// archive's buckets (groundstation/parameter_archive.h): whole archive buckets (at least `size`
// of them, from the coarsest level that gives that many) and the ragged ends a bucket each.
// Where a recording has a valid archive they come from its summaries (the ragged ends from its
// finest ones and the messages of under a minute at each end); a recording without one (the
// file being written, one not indexed yet, a damaged archive) is read message by message into
// the same buckets, so the answer is the same either way. `latest` (size 1) takes a recording's
// newest sample from its archive when it has one. All samples over a long range (more than
// `max_samples`) read only the messages from where the archives count the newest `max_samples`.
// By on-board time (HistoryTime::kOnboard) the range, the order and the buckets are the
// rover's clock (the recordings and their archives are indexed by ground time, and a played-back
// recording arrives hours after it was taken, so ground time cannot bound it): a recording is
// skipped when its archive says it holds nothing of the stream in that on-board range;
// `latest` and all samples read the recordings newest on board first and stop when the older
// ones cannot hold any of the newest asked for; `minmax` over a range of at least
// kMinArchiveBuckets minutes takes whole finest archive buckets whose on-board span fits one of
// its buckets and reads the messages of the others.
// Not thread-safe: the station's Asio thread owns it.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "groundstation/parameter_archive.h"
#include "groundstation/telemetry_fields.h"
#include "protocol/logger.h"
#include "protocol/mcap_reader.h"
#include "protocol/status.h"
#include "rover/v1/soil.pb.h"

namespace lgs::station {

enum class HistoryStrategy { kAll, kLatest, kMinMax };
// Which time a query's range, order and buckets are in: when the station received a sample
// (ground, UTC) or when the rover took it (on board, SCET).
enum class HistoryTime { kGround, kOnboard };

struct HistoryQuery {
  const TelemetryField* field = nullptr;
  uint64_t start_ns = 0, end_ns = 0;  // inclusive, in `time`
  HistoryTime time = HistoryTime::kGround;
  HistoryStrategy strategy = HistoryStrategy::kAll;
  size_t size = 1000;  // minmax buckets, or how many latest samples
  size_t max_samples = 100'000;
};

struct HistorySample {
  uint64_t ground_ns = 0, onboard_ns = 0;
  std::string value_json;  // the value as JSON text
  double number = 0.0;     // for minmax (NaN for non-numbers)
};

struct HistoryResult {
  std::vector<HistorySample> samples;  // oldest first
  size_t files_read = 0;               // recordings whose messages were read
  size_t archives_read = 0;            // parameter archives whose summaries answered instead
  // minmax from the archive: the width of its buckets (a multiple of an archive level, aligned
  // to it), and where the first of them starts (the ragged ends before and after are a bucket
  // each); 0 when the answer came from the messages.
  uint64_t bucket_ns = 0, buckets_start_ns = 0, buckets_end_ns = 0;
  uint64_t chunks_read = 0;
  uint64_t messages_decoded = 0;
  bool truncated = false;  // more samples than max_samples: the newest were kept
};

// One pose of the traverse and the hazard cells mapped so far.
struct TraversePoint {
  uint64_t ground_ns = 0;
  double x_m = 0, y_m = 0;
  double heading_deg = 0;  // 0 = north, clockwise
};
// A soil measurement where it was made, with its whole result.
struct SoilSite {
  uint64_t ground_ns = 0, onboard_ns = 0;
  rover::v1::SoilMeasurement measurement;
  // From a parameter archive, the VNIS reflectance values are left out: their count. (0: the
  // measurement is whole, or has no spectrum.)
  uint32_t vnis_bands = 0;
  int VnisBands() const {
    return measurement.vnis().reflectance_size() > 0 ? measurement.vnis().reflectance_size()
                                                     : static_cast<int>(vnis_bands);
  }
};
struct HazardCell {
  double x_m = 0, y_m = 0, size_m = 0;
  int kind = 0;  // 1 slope, 2 rock, 3 unknown (terrain.proto)
};
struct TraverseResult {
  std::vector<TraversePoint> path;  // oldest first, at most max_points (evenly thinned)
  std::vector<HazardCell> hazards;  // from the newest copy of each tile
  std::vector<SoilSite> sites;      // oldest first, at most 20 000 (evenly thinned)
  size_t sites_left_out = 0;        // thinned out
  size_t files_read = 0;
  size_t archives_read = 0;  // files answered (in part) from their parameter archive
};

// An image the station recorded on /<rover>/images/<camera> (foxglove.CompressedImage).
struct RecordedImage {
  uint64_t ground_ns = 0;   // when it was recorded (the log time)
  uint64_t onboard_ns = 0;  // its timestamp: the camera record's on-board time
  std::string format;       // "jpeg", "png"
  std::string data;         // the file's bytes (only when asked for)
};

// One entry of the operator's timeline: a rover event, an alarm transition or a command stage,
// as recorded (the rover's event stream, /ground/alarms, /ground/commands).
enum class TimelineKind { kEvent, kAlarm, kCommand };
inline constexpr int kTimelineKinds = 3;
enum class TimelineSeverity { kInfo, kWarning, kCritical };
struct TimelineEntry {
  uint64_t ground_ns = 0;   // received (events) or the transition (alarms, commands)
  uint64_t onboard_ns = 0;  // the event's on-board time; 0 for the station's own entries
  TimelineKind kind = TimelineKind::kEvent;
  TimelineSeverity severity = TimelineSeverity::kInfo;
  std::string name;     // the event's kind ("HAZARD_STOP"), the alarm's id, the command's name
  std::string state;    // the alarm's state ("raised"), the command's stage ("started"); events ""
  std::string message;  // readable: the event's message, the alarm's text, the command's detail
  uint64_t command_id = 0;
  std::string arguments;  // commands
};
struct TimelineFilter {
  std::array<bool, kTimelineKinds> kinds{true, true, true};  // by TimelineKind
  TimelineSeverity min_severity = TimelineSeverity::kInfo;
};
struct TimelineResult {
  std::vector<TimelineEntry> entries;  // oldest first (by ground time), the newest `max`
  bool truncated = false;              // more matched: the newest were kept
  size_t files_read = 0;
};
const char* TimelineKindName(TimelineKind kind);       // "event", "alarm", "command"
const char* TimelineSeverityName(TimelineSeverity s);  // "info", "warning", "critical"

// A minmax range shorter than this many finest archive buckets is answered from the messages.
inline constexpr uint64_t kMinArchiveBuckets = 120;

class HistoryStore {
 public:
  // Damaged files are logged to `log` (once each).
  HistoryStore(std::string directory, std::string rover_id, Logger& log = NullLogger());

  // Fails only on an unreadable directory; damaged files are skipped (and logged once).
  [[nodiscard]] Result<HistoryResult> Query(const HistoryQuery& query);
  // The soil measurement `id` recorded at ground time `ground_ns` (as Traverse's sites say),
  // whole (a VNIS spectrum with every band); none when no recording holds it.
  [[nodiscard]] Result<std::optional<SoilSite>> SoilMeasurementAt(uint64_t ground_ns, uint32_t id);
  // The rover's path, the hazards of the newest copy of each tile and the soil sites in a range.
  // Where a recording has a valid archive, its sites (and, for a file wholly in the range, its
  // tiles) come from it, and over a range so long that `max_points` poses would be more than
  // 30 s apart anyway, the path is the first and last pose of each minute from it: a traverse of
  // days reads no pose, tile or site message of an archived file.
  [[nodiscard]] Result<TraverseResult> Traverse(uint64_t start_ns, uint64_t end_ns,
                                                size_t max_points);
  // The events, alarm transitions and command stages recorded in [start, end] (ground time)
  // that pass `filter`, oldest first, the newest `max` of them; memory is bounded by `max`.
  [[nodiscard]] Result<TimelineResult> Timeline(uint64_t start_ns, uint64_t end_ns,
                                                const TimelineFilter& filter, size_t max);
  // The images of one camera recorded in [start, end] (in `time`: ground, or on board, the
  // camera record's time), oldest first in that time, at most `max`; with `with_data` their
  // bytes too (ask for a narrow range then: images are large). By on-board time every
  // recording's chunks that hold the camera's images are read.
  [[nodiscard]] Result<std::vector<RecordedImage>> Images(const std::string& camera,
                                                          uint64_t start_ns, uint64_t end_ns,
                                                          size_t max, bool with_data,
                                                          HistoryTime time = HistoryTime::kGround);

 private:
  Logger& log_;
  struct FileSpan {
    int64_t modified = 0;
    uintmax_t size = 0;
    bool gone = false;    // no longer there
    uint64_t used = 0;    // the last query that listed it
    bool closed = false;  // has a summary or an archive: the range below is exact
    uint64_t start_ns = 0, end_ns = 0;
    std::shared_ptr<const protocol::McapSummary> summary;  // closed files, read when needed
    bool summary_tried = false;
    bool archived = false;  // its parameter archive is valid for it as it is
    int64_t archive_modified = 0;
    uintmax_t archive_size = 0;
    // The archive's on-board span per stream, read at the first query by on-board time.
    bool onboard_tried = false;
    std::optional<std::array<OnboardSpan, protocol::kStreamCount>> onboard;
  };
  void Refresh(const std::string& path, FileSpan& span);
  Result<HistoryResult> QueryOnboard(const HistoryQuery& q);
  // minmax by on-board time from the archives' finest buckets: a field's bucket whose stream
  // span on board (@onboard-minutes) lies inside one on-board bucket is taken whole, the others
  // (a bucket boundary, a playback mixed with live data) are read message by message; a file
  // without such an archive is read whole. nullopt: the range is too short to be worth it.
  std::optional<HistoryResult> MinMaxOnboardFromArchives(const HistoryQuery& q,
                                                         const std::vector<std::string>& files);
  // Drops the summary of a file read in a query over many, so a month of them is not held.
  void ForgetSummary(const std::string& path);
  // Whether a recording may hold samples of `stream` taken on board in [start, end]: false
  // only when its valid archive says it holds none.
  bool MayHoldOnboard(const std::string& path, FileSpan& span, protocol::StreamId stream,
                      uint64_t start_ns, uint64_t end_ns);
  // The sample of `field` a recorded message holds, if any.
  using SampleFn = std::function<void(uint64_t ground_ns, uint64_t onboard_ns, double number,
                                      const google::protobuf::Message& message)>;
  void RawSamples(const std::string& path, const TelemetryField& field, uint64_t from_ns,
                  uint64_t to_ns, HistoryResult& result, const SampleFn& on_sample);
  std::optional<HistoryResult> MinMaxFromArchives(const HistoryQuery& q,
                                                  const std::vector<std::string>& files);
  std::optional<HistoryResult> LatestFromArchives(const HistoryQuery& q,
                                                  const std::vector<std::string>& files);
  // For kAll: a time at or after which the archives count at least `keep` samples of the field
  // (none older can be among the newest `keep`), else the range's start.
  uint64_t NewestFrom(const HistoryQuery& q, const std::vector<std::string>& files, size_t keep,
                      HistoryResult& result);
  void ArchiveProblem(const std::string& path, const std::string& reason);
  // The recordings of this rover, oldest first, that may hold messages in [start, end].
  Result<std::vector<std::string>> FilesFor(uint64_t start_ns, uint64_t end_ns);
  template <typename OnMessage>
  Status ForEachMessage(const std::string& path, const std::vector<std::string>& topics,
                        uint64_t start_ns, uint64_t end_ns, uint64_t& chunks_read,
                        OnMessage&& on_message);

  std::string directory_;
  std::string rover_id_;
  std::unordered_map<std::string, FileSpan> spans_;  // references stay valid as it grows
  // The directory's recordings in start order, as last listed, and what the directory and its
  // archive directory looked like then.
  std::vector<std::string> names_;
  bool listed_ = false;
  int64_t dir_mtime_ = 0, archive_dir_mtime_ = 0;
  uint64_t query_ = 0;
  std::map<std::string, std::string> reported_;  // file -> problem already logged
};

}  // namespace lgs::station
