// LimitSet: the limit definitions the station checks telemetry against, from YAML
// (groundstation/limits/default.yaml is built in; --limits FILE replaces it). Each limit names a
// field of a stream's message (repeated fields: every element) or a link metric, with yellow and
// red bounds, low and high, and a persistence count. Field paths are resolved against the
// protobuf descriptors at load, so a typo is an error at start, not a silent no-op.
// Immutable after loading; thread-safe.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "groundstation/telemetry_fields.h"
#include "protocol/status.h"
#include "protocol/stream_registry.h"

namespace google::protobuf {
class FieldDescriptor;
}

namespace lgs::station {

// Link metrics that limits may name as `link.<metric>`.
enum class LinkMetric { kNone, kLatencyMs, kGapRatePerMin, kSilenceS };

struct LimitSpec {
  std::string field;  // as written: "housekeeping.battery_soc_percent"
  std::optional<double> red_low, yellow_low, yellow_high, red_high;
  int persistence = 1;
  std::string unit;  // from the field name's suffix: "%", "V", "C", "uGy/h", ...
  // Resolved: a stream's field path (the last one may be repeated) or a link metric.
  const protocol::StreamInfo* stream = nullptr;
  std::vector<const google::protobuf::FieldDescriptor*> path;
  LinkMetric link = LinkMetric::kNone;
};

// Which limits the station checks.
struct LimitOptions {
  bool enabled = true;
  std::string path;  // "" = the built-in set, groundstation/limits/default.yaml

  // The file itself is read (and its errors said) by LimitSet::Load.
  [[nodiscard]] Status Validate() const {
    if (!enabled && !path.empty()) {
      return Status::Error("a limits file and no limit checking contradict each other");
    }
    return Status::Ok();
  }
};

class LimitSet {
 public:
  // Parses limit YAML; `source` names it in errors ("limits.yaml: limits[3].field: ...").
  static Result<LimitSet> Parse(std::string_view yaml, std::string_view source);
  // `path` "" = the built-in default set.
  static Result<LimitSet> Load(const std::string& path);

  const std::vector<LimitSpec>& limits() const { return limits_; }
  // Indexes of the limits on one stream's fields.
  const std::vector<size_t>& ForStream(protocol::StreamId stream) const {
    return by_stream_[static_cast<size_t>(stream)];
  }
  const std::vector<size_t>& ForLink(LinkMetric metric) const {
    return metric == LinkMetric::kLatencyMs       ? latency_
           : metric == LinkMetric::kGapRatePerMin ? gap_rate_
                                                  : silence_;
  }

 private:
  std::vector<LimitSpec> limits_;
  std::array<std::vector<size_t>, protocol::kStreamCount> by_stream_;
  std::vector<size_t> latency_, gap_rate_, silence_;
};

}  // namespace lgs::station
