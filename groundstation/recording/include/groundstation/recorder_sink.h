// RecorderSink: the recorder in the ingest pipeline (groundstation/sink.h). Every accepted packet
// goes to its stream's channel, every rejected message to /link/rejected; on its ticks the sink
// records the link statistics (/ground/link_stats, every `stats_interval_s`) and lets the
// recorder flush and split; on stop it records them a last time and closes the file.
// Other parts of the station record alarms and commands through recorder() on the ingest thread.
//
// Not thread-safe: the ingest thread's, like every sink.
#pragma once

#include "groundstation/link_accounting.h"
#include "groundstation/recorder.h"
#include "groundstation/sink.h"

namespace lgs::station {

class RecorderSink final : public Sink {
 public:
  // `recorder` is open; `opened_ns` is when (the first statistics interval starts there).
  RecorderSink(Recorder& recorder, const LinkAccounting& accounting, double stats_interval_s,
               protocol::TimestampNs opened_ns)
      : recorder_(recorder),
        accounting_(accounting),
        stats_interval_s_(stats_interval_s),
        last_stats_ns_(opened_ns) {}

  void OnAccepted(const AcceptedPacket& packet) override;
  void OnRejected(const RejectedMessage& message) override;
  void OnTick(const IngestTick& tick) override;
  Status OnStop() override;

  Recorder& recorder() { return recorder_; }

 private:
  Recorder& recorder_;
  const LinkAccounting& accounting_;
  const double stats_interval_s_;
  LinkSnapshot last_stats_;
  protocol::TimestampNs last_stats_ns_;
};

}  // namespace lgs::station
