#include "groundstation/recorder_sink.h"

#include <fmt/format.h>

namespace lgs::station {

void RecorderSink::OnAccepted(const AcceptedPacket& a) {
  recorder_.RecordTelemetry(a.packet, a.ground_ns);
}

void RecorderSink::OnRejected(const RejectedMessage& m) {
  recorder_.RecordRejected(m.reason, m.detail, m.topic, m.data, m.frames, m.ground_ns);
}

void RecorderSink::OnTick(const IngestTick& tick) {
  const double since_s = static_cast<double>(tick.now_ns - last_stats_ns_) / 1e9;
  if (since_s >= stats_interval_s_) {
    LinkSnapshot snapshot = accounting_.Snapshot();
    recorder_.RecordLinkStats(snapshot, last_stats_, accounting_, since_s, tick.now_ns);
    last_stats_ = std::move(snapshot);
    last_stats_ns_ = tick.now_ns;
  }
  recorder_.Tick(tick.now_ns);
}

Status RecorderSink::OnStop() {
  const protocol::TimestampNs now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count();
  recorder_.RecordLinkStats(accounting_.Snapshot(), last_stats_, accounting_,
                            static_cast<double>(now_ns - last_stats_ns_) / 1e9, now_ns);
  if (Status s = recorder_.Close(); !s.ok()) {
    return Status::Error(fmt::format("closing the recording failed: {}", s.message()));
  }
  return Status::Ok();
}

}  // namespace lgs::station
