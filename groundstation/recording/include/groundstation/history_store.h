// HistoryStore: answers the web UI's history queries from the station's MCAP recordings — the
// closed files and the one being written. Closed files are read through their summary: files
// outside the asked range are not opened, and only the chunks whose index says they overlap the
// range and hold the asked channel are read (no walk through the rest of the file). The file
// being written has no summary yet: its records are walked, and chunks outside the range are
// skipped by their time bounds without being inflated.
// Strategies follow Open MCT: all samples (newest `max_samples`), `latest` (the newest `size`),
// and `minmax` (`size` equal time buckets, each answered by its minimum and maximum sample).
// Not thread-safe: the station's Asio thread owns it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "groundstation/telemetry_fields.h"
#include "protocol/logger.h"
#include "protocol/mcap_reader.h"
#include "protocol/status.h"
#include "rover/v1/soil.pb.h"

namespace lgs::station {

enum class HistoryStrategy { kAll, kLatest, kMinMax };

struct HistoryQuery {
  const TelemetryField* field = nullptr;
  uint64_t start_ns = 0, end_ns = 0;  // ground receipt time, inclusive
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
  size_t files_read = 0;
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
};
struct HazardCell {
  double x_m = 0, y_m = 0, size_m = 0;
  int kind = 0;  // 1 slope, 2 rock, 3 unknown (terrain.proto)
};
struct TraverseResult {
  std::vector<TraversePoint> path;  // oldest first, at most max_points (evenly thinned)
  std::vector<HazardCell> hazards;  // from the newest copy of each tile
  std::vector<SoilSite> sites;      // oldest first, the first 20 000 in the range
  size_t sites_left_out = 0;        // beyond those
  size_t files_read = 0;
};

// An image the station recorded on /<rover>/images/<camera> (foxglove.CompressedImage).
struct RecordedImage {
  uint64_t ground_ns = 0;   // when it was recorded (the log time)
  uint64_t onboard_ns = 0;  // its timestamp: the camera record's on-board time
  std::string format;       // "jpeg", "png"
  std::string data;         // the file's bytes (only when asked for)
};

class HistoryStore {
 public:
  // Damaged files are logged to `log` (once each).
  HistoryStore(std::string directory, std::string rover_id, Logger& log = NullLogger());

  // Fails only on an unreadable directory; damaged files are skipped (and logged once).
  [[nodiscard]] Result<HistoryResult> Query(const HistoryQuery& query);
  // The soil measurement `id` recorded at ground time `ground_ns` (as Traverse's sites say),
  // whole (a VNIS spectrum with every band); none when no recording holds it.
  [[nodiscard]] Result<std::optional<SoilSite>> SoilMeasurementAt(uint64_t ground_ns, uint32_t id);
  [[nodiscard]] Result<TraverseResult> Traverse(uint64_t start_ns, uint64_t end_ns,
                                                size_t max_points);
  // The images of one camera recorded in [start, end] (ground time), oldest first, at most
  // `max`; with `with_data` their bytes too (ask for a narrow range then: images are large).
  [[nodiscard]] Result<std::vector<RecordedImage>> Images(const std::string& camera,
                                                          uint64_t start_ns, uint64_t end_ns,
                                                          size_t max, bool with_data);

 private:
  Logger& log_;
  struct FileSpan {
    std::filesystem::file_time_type modified;
    uintmax_t size = 0;
    bool closed = false;  // has a summary: the range below is exact
    uint64_t start_ns = 0, end_ns = 0;
    std::shared_ptr<const protocol::McapSummary> summary;  // closed files
  };
  // The recordings of this rover, oldest first, that may hold messages in [start, end].
  Result<std::vector<std::string>> FilesFor(uint64_t start_ns, uint64_t end_ns);
  template <typename OnMessage>
  Status ForEachMessage(const std::string& path, const std::vector<std::string>& topics,
                        uint64_t start_ns, uint64_t end_ns, uint64_t& chunks_read,
                        OnMessage&& on_message);

  std::string directory_;
  std::string rover_id_;
  std::map<std::string, FileSpan> spans_;
  std::map<std::string, std::string> reported_;  // file -> problem already logged
};

}  // namespace lgs::station
