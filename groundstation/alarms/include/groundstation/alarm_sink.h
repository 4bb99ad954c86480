// AlarmSink: limit checking in the ingest pipeline (groundstation/sink.h). Every sample of every
// accepted packet is checked against the limits of its field; a live packet's latency against
// the link's latency limit once the clock correlation has settled (a replay or an emulator at
// --speed would raise it falsely); on its ticks, the gap rate (gaps opened over the last
// minute, not one interval's extrapolated: a single lost packet in a 5 s interval is one gap a
// minute, not twelve). Every transition goes to `publish` (record, show, snapshot).
// Acknowledgements and the link's silence come from the station, on the ingest thread.
//
// Not thread-safe: the ingest thread's, like every sink.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <string>
#include <utility>

#include "groundstation/alarm_manager.h"
#include "groundstation/link_accounting.h"
#include "groundstation/sink.h"

namespace lgs::station {

class AlarmSink final : public Sink {
 public:
  using Publish =
      std::function<void(const AlarmManager::Transitions&, protocol::TimestampNs ground_ns)>;
  // `gaps_at_start`: what resuming found is not a rate.
  AlarmSink(AlarmManager& alarms, const LinkAccounting& accounting, double check_interval_s,
            uint64_t gaps_at_start, Publish publish);

  void OnAccepted(const AcceptedPacket& packet) override;
  void OnTick(const IngestTick& tick) override;

  void EvaluateLink(LinkMetric metric, double value, protocol::TimestampNs now_ns);
  // What Acknowledge() did: the ids acknowledged (published as transitions too).
  Status Acknowledge(const std::string& id, const std::string& by, protocol::TimestampNs now_ns,
                     std::vector<std::string>& acknowledged);
  AlarmManager& alarms() { return alarms_; }

 private:
  AlarmManager& alarms_;
  const LinkAccounting& accounting_;
  const double check_interval_s_;
  const uint64_t gaps_at_start_;
  Publish publish_;
  AlarmManager::Transitions out_;
  std::chrono::steady_clock::time_point last_gap_check_ = std::chrono::steady_clock::now();
  // (time, total gaps) at each check over the last minute.
  std::deque<std::pair<std::chrono::steady_clock::time_point, uint64_t>> gap_history_;
};

}  // namespace lgs::station
