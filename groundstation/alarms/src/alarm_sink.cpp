#include "groundstation/alarm_sink.h"

namespace lgs::station {

AlarmSink::AlarmSink(AlarmManager& alarms, const LinkAccounting& accounting,
                     double check_interval_s, uint64_t gaps_at_start, Publish publish)
    : alarms_(alarms),
      accounting_(accounting),
      check_interval_s_(check_interval_s),
      gaps_at_start_(gaps_at_start),
      publish_(std::move(publish)) {}

void AlarmSink::OnAccepted(const AcceptedPacket& a) {
  out_.clear();
  alarms_.Evaluate(a.packet.stream->id, *a.packet.message, a.ground_ns, out_);
  const Observation* o = a.observation;
  if (o != nullptr && o->has_latency && o->latency_settled &&
      !alarms_.limits().ForLink(LinkMetric::kLatencyMs).empty()) {
    alarms_.EvaluateLink(LinkMetric::kLatencyMs, static_cast<double>(o->latency_ns) / 1e6,
                         a.ground_ns, out_);
  }
  if (!out_.empty()) publish_(out_, a.ground_ns);
}

void AlarmSink::OnTick(const IngestTick& tick) {
  EvaluateLink(LinkMetric::kSilenceS, tick.silent_s, tick.now_ns);
  const auto now = tick.now;
  const double since_s = std::chrono::duration<double>(now - last_gap_check_).count();
  if (since_s < check_interval_s_) return;
  const uint64_t gaps = accounting_.Snapshot().total_gaps();
  gap_history_.emplace_back(now, gaps);
  while (gap_history_.size() > 1 && now - gap_history_[1].first >= std::chrono::seconds(60)) {
    gap_history_.pop_front();
  }
  const uint64_t in_last_minute = now - gap_history_.front().first >= std::chrono::seconds(60)
                                      ? gaps - gap_history_.front().second
                                      : gaps - gaps_at_start_;
  EvaluateLink(LinkMetric::kGapRatePerMin, static_cast<double>(in_last_minute), tick.now_ns);
  last_gap_check_ = now;
}

void AlarmSink::EvaluateLink(LinkMetric metric, double value, protocol::TimestampNs now_ns) {
  if (alarms_.limits().ForLink(metric).empty()) return;
  out_.clear();
  alarms_.EvaluateLink(metric, value, now_ns, out_);
  if (!out_.empty()) publish_(out_, now_ns);
}

Status AlarmSink::Acknowledge(const std::string& id, const std::string& by,
                              protocol::TimestampNs now_ns,
                              std::vector<std::string>& acknowledged) {
  out_.clear();
  Status s = alarms_.Acknowledge(id, by, now_ns, out_);
  for (const ground::v1::GroundAlarm& a : out_) acknowledged.push_back(a.id());
  if (!out_.empty()) publish_(out_, now_ns);
  return s;
}

}  // namespace lgs::station
