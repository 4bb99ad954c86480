// ConsoleState: what the operator console's state banner and mission clock show of the rover —
// its mode, battery and power from the newest housekeeping, where it is, whether a hazard stop
// holds it, the sun at its cameras, and when each stream last delivered. ConsoleStateSink keeps
// it from the accepted telemetry and hands a copy to `publish` at most every 250 ms while it
// changes; ConsoleStateJson turns a copy into the /api/state answer's "rover" part.
//
// "Newest" is by on-board time: a playback of stored packets after a loss of signal (older
// on-board times arriving late) counts as delivered but does not set the banner back.
//
// ConsoleStateSink is not thread-safe (the ingest thread's, like every sink); a ConsoleState is
// a plain value, copied across threads.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "groundstation/sink.h"
#include "protocol/stream_registry.h"
#include "rover/v1/housekeeping.pb.h"

namespace lgs::station {

// The battery trend is the state of charge's change over this much on-board time (at least
// kSocTrendMinSpan of it), in percent per hour.
inline constexpr int64_t kSocTrendWindowNs = 10LL * 60 * 1'000'000'000;
inline constexpr int64_t kSocTrendMinSpanNs = 60LL * 1'000'000'000;

struct StreamSeen {
  uint64_t packets = 0;
  int64_t ground_ns = 0;   // when the last packet of the stream arrived (0: none yet)
  int64_t onboard_ns = 0;  // the newest on-board time of the stream
};

struct ConsoleState {
  bool have_housekeeping = false;
  int64_t housekeeping_ground_ns = 0, housekeeping_onboard_ns = 0;
  rover::v1::Housekeeping housekeeping;  // the newest by on-board time
  // The mode: housekeeping's, or a later mode-change event's (a hibernating rover sends none).
  rover::v1::RoverMode mode = rover::v1::ROVER_MODE_UNSPECIFIED;
  int64_t mode_onboard_ns = 0;
  bool have_soc_trend = false;
  double soc_trend_percent_per_h = 0;

  bool have_pose = false;
  int64_t pose_onboard_ns = 0;
  double x_m = 0, y_m = 0, heading_deg = 0, speed_m_per_h = 0, odometer_m = 0;

  // A hazard stop holds from the rover's hazard-stop event until it moves again.
  bool hazard_stop = false;
  int64_t hazard_stop_onboard_ns = 0;
  std::string hazard_stop_message;

  // The sun as the newest camera record saw it.
  bool have_sun = false;
  int64_t sun_onboard_ns = 0;
  double sun_elevation_deg = 0, sun_azimuth_deg = 0;

  // The newest on-board time of any stream (SCET), when that packet arrived, and the oldest one
  // seen (the mission clock's epoch unless the station was given one).
  int64_t latest_onboard_ns = 0, latest_ground_ns = 0;
  int64_t first_onboard_ns = 0;
  // The rover's clock rate against the ground's, from the newest packets: two reference points
  // of the newest on-board time, moved on every 30 s of ground time, so the rate is measured
  // over the last 30 to 60 s (a real rover's is 1 within its drift; an emulated one runs at
  // --speed). Played-back packets are older on board than the newest and do not move them.
  int64_t rate_ref_onboard_ns = 0, rate_ref_ground_ns = 0;
  int64_t rate_next_onboard_ns = 0, rate_next_ground_ns = 0;
  // On-board seconds per ground second; none before 2 s of ground time separate the points.
  std::optional<double> ScetRate() const;

  std::array<StreamSeen, protocol::kStreamCount> streams{};
};

class ConsoleStateSink final : public Sink {
 public:
  using Publish = std::function<void(const ConsoleState&)>;
  explicit ConsoleStateSink(Publish publish) : publish_(std::move(publish)) {}
  void OnAccepted(const AcceptedPacket& packet) override;
  void OnTick(const IngestTick& tick) override;
  const ConsoleState& state() const { return state_; }

 private:
  void Housekeeping(const rover::v1::Housekeeping& hk, int64_t ground_ns, int64_t onboard_ns);
  Publish publish_;
  ConsoleState state_;
  // (on-board time, state of charge) over the trend window, oldest first.
  std::deque<std::pair<int64_t, double>> soc_;
  bool changed_ = false;
  std::chrono::steady_clock::time_point last_published_{};
};

// The rover's part of /api/state at wall time `now_ns`: every age is now minus a ground time,
// in seconds; a periodic stream (the registry's `periodic`) silent for more than
// `stale_after_periods` of its nominal periods, and at least 5 s, is "stale".
nlohmann::json ConsoleStateJson(const ConsoleState& state, int64_t now_ns,
                                double stale_after_periods = 3.0);

}  // namespace lgs::station
