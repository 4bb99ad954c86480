// The station's options: each part's own Validate(), and how they fit together.
#include <fmt/format.h>

#include <cmath>

#include "groundstation/station.h"

namespace lgs::station {

Status KeyOptions::Validate() const {
  if (insecure && (!secret_key_path.empty() || !rover_key_path.empty())) {
    return Status::Error(
        "--insecure and --secret-key/--rover-key contradict each other: plain text would "
        "silently drop the keys; give the keys or --insecure, not both");
  }
  if (!insecure && (secret_key_path.empty() || rover_key_path.empty())) {
    return Status::Error(
        "CurveZMQ keys are needed: --secret-key FILE (this station's key pair) and --rover-key "
        "FILE (the rover's public key; gsctl keygen makes them), or --insecure for plain text");
  }
  return Status::Ok();
}

Status ViewOptions::Validate() const {
  // Written !(x >= lo) so that NaN fails too (it passes every "x < lo" test).
  if (!(stats_interval_s >= 0.0 && print_interval_s >= 0.0 && reject_log_interval_s >= 0.0) ||
      !std::isfinite(stats_interval_s + print_interval_s + reject_log_interval_s)) {
    return Status::Error("intervals must be finite and not negative");
  }
  if (queue_depth == 0) return Status::Error("view queue depth must be positive");
  return Status::Ok();
}

Status CommandingOptions::Validate() const {
  if (!enabled) return Status::Ok();
  if (Status s = tracker.Validate(); !s.ok()) return s;
  return control.Validate();
}

Status StationOptions::Validate() const {
  if (link.connect.empty()) return Status::Error("no endpoint to connect to");
  if (Status s = keys.Validate(); !s.ok()) return s;
  if (!protocol::IsValidRoverId(rover_id)) {
    return Status::Error(
        fmt::format("rover id '{}' must be 1-32 characters of a-z 0-9 _ -", rover_id));
  }
  if (duration_s && !(*duration_s > 0.0)) {
    return Status::Error(fmt::format("duration {} s must be positive", *duration_s));
  }
  if (!(light_time_s >= 0.0 && light_time_s <= 60.0)) {
    return Status::Error(fmt::format("light time {} s is outside 0..60", light_time_s));
  }
  for (const Status& s : {view.Validate(), link.Validate(), limits.Validate(), web.Validate(),
                          commanding.Validate(), products.Validate()}) {
    if (!s.ok()) return s;
  }
  if (gap_fill.enabled || commanding.enabled) {
    if (Status s = gap_fill.Validate(); !s.ok()) return s;
  }
  if (resume && recorder.directory.empty()) {
    return Status::Error("--resume needs a recording directory (--record DIR)");
  }
  if (!recorder.directory.empty()) return recorder.Validate();
  return Status::Ok();
}

}  // namespace lgs::station
