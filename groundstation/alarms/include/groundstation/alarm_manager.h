// AlarmManager: checks every telemetry sample (and the link's metrics) against the limit set and
// runs each alarm's lifecycle:
//
//   nominal -> raised (warning | critical) [-> escalated to critical] -> acknowledged -> cleared
//
// An alarm is raised once `persistence` consecutive samples are beyond a bound and cleared once
// as many are back within; it is resolved (gone from Current()) when it is both acknowledged and
// cleared, so an operator sees every alarm that happened even if it cleared by itself. Repeated
// fields are checked element by element, each its own alarm ("navigation_pose.wheel_current_a[3]").
// Every transition is appended for the caller to print, record (/ground/alarms) and publish.
//
// Flapping: a value that keeps crossing a bound would raise and clear without end (2 000 lines in
// 3 s). An alarm that changed state kFlapTransitions times within kFlapWindowS of ground time is
// marked "flapping" once and then held raised, quietly, until its value has stayed within
// limits for kFlapHoldS; then it clears, saying how many crossings were not shown.
// Not thread-safe: the station's ingest thread owns it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ground/v1/ground.pb.h"
#include "groundstation/limits.h"
#include "protocol/status.h"

namespace google::protobuf {
class Message;
class Reflection;
}  // namespace google::protobuf

namespace lgs::station {

struct AlarmStats {
  uint64_t samples = 0;  // values checked
  uint64_t raised = 0, escalated = 0, acknowledged = 0, cleared = 0;
  uint64_t flapping = 0;    // times an alarm was found flapping and held raised
  uint64_t suppressed = 0;  // crossings of a flapping alarm not shown as transitions
};

inline constexpr int kFlapTransitions = 6;
inline constexpr double kFlapWindowS = 60.0;
inline constexpr double kFlapHoldS = 30.0;

class AlarmManager {
 public:
  using Transitions = std::vector<ground::v1::GroundAlarm>;
  explicit AlarmManager(LimitSet limits);

  // One decoded message of `stream`, received at `ground_ns`.
  void Evaluate(protocol::StreamId stream, const google::protobuf::Message& message,
                int64_t ground_ns, Transitions& out);
  void EvaluateLink(LinkMetric metric, double value, int64_t ground_ns, Transitions& out);
  // Acknowledges one alarm by id, or every unacknowledged one with "all"; fails when there is
  // no such unacknowledged alarm.
  Status Acknowledge(const std::string& id, const std::string& by, int64_t ground_ns,
                     Transitions& out);
  // Alarms not yet resolved (raised, and not both acknowledged and cleared), by id.
  std::vector<ground::v1::GroundAlarm> Current() const;
  const AlarmStats& stats() const { return stats_; }
  const LimitSet& limits() const { return limits_; }

 private:
  enum class Level { kNominal = 0, kWarning = 1, kCritical = 2 };
  struct Channel {
    Level level = Level::kNominal;  // the alarm's severity; kNominal = no alarm
    bool active = false;            // beyond its bounds now
    bool acknowledged = false;
    int beyond_yellow = 0, beyond_red = 0, within = 0;  // consecutive samples
    double value = 0.0;
    int64_t raised_ns = 0;
    std::string limit, acknowledged_by;
    std::string text;  // what raised (or last escalated) it
    // Flap detection: the ground times of the latest raises and clears, oldest first.
    std::vector<int64_t> transitions;
    bool flapping = false;
    int64_t within_since_ns = 0;  // flapping: back within limits since (0 = beyond now)
    uint64_t suppressed = 0;      // crossings not shown while flapping
  };
  // Records a raise or clear at `ground_ns`; true when that makes the alarm flap.
  static bool NoteTransition(Channel& c, int64_t ground_ns);
  // Back to nominal, keeping its recent transitions (an alarm an operator keeps acknowledging is
  // still found flapping).
  static void Resolve(Channel& c);
  void Sample(size_t limit, size_t element, bool repeated, double value, int64_t ground_ns,
              Transitions& out);
  void Emit(size_t limit, size_t element, bool repeated, const Channel& c, std::string_view state,
            std::string text, Transitions& out) const;
  std::string IdOf(size_t limit, size_t element, bool repeated) const;

  // Per limit, what the per-sample path needs without looking anything up: the bounds with
  // absent ones at +-infinity, and the reflection of the message holding a top-level field.
  struct Fast {
    double red_low, yellow_low, yellow_high, red_high;
    const google::protobuf::Reflection* reflection = nullptr;  // null: nested, look it up
    bool repeated = false;
  };

  LimitSet limits_;
  std::vector<std::vector<Channel>> channels_;  // [limit][element]
  std::vector<Fast> fast_;
  std::vector<bool> repeated_;  // per limit
  AlarmStats stats_;
};

}  // namespace lgs::station
