#include "summary.h"

#include <fmt/format.h>

namespace lgs::station {

const char* BasisName(ClockCorrelation::Basis basis) {
  switch (basis) {
    case ClockCorrelation::Basis::kAbsolute:
      return "absolute";
    case ClockCorrelation::Basis::kRelative:
      return "relative";
    case ClockCorrelation::Basis::kLearning:
      break;
  }
  return "learning";
}

// Latency is worth showing when it was measured against a clock that means something.
bool LatencyShown(const LatencySummary& l) {
  return l.count > 0 && (l.basis == ClockCorrelation::Basis::kRelative || l.negative == 0);
}

std::string FormatRanges(const std::vector<SequenceRange>& ranges) {
  std::string out;
  for (const SequenceRange& r : ranges) {
    if (!out.empty()) out += ", ";
    out += r.first == r.last ? fmt::format("{}", r.first) : fmt::format("{}-{}", r.first, r.last);
  }
  return out;
}

std::string FormatLinkSummary(const LinkSnapshot& s, const LinkAccounting& accounting,
                              double seconds, uint64_t view_drops) {
  std::string out = "station summary\n";
  out += fmt::format("  {:<22}{:>10}{:>12}{:>9}{:>11}{:>9}{:>7}{:>7}{:>7}{:>7}  {}\n", "stream",
                     "received", "bytes", "pkt/s", "bit/s", "missing", "lost", "gaps", "dup", "ooo",
                     "latency ms p50/p99/max");
  const auto row = [&](std::string_view name, uint64_t received, uint64_t bytes, uint64_t missing,
                       uint64_t lost, uint64_t gaps, uint64_t dup, uint64_t ooo,
                       const LatencySummary& l) {
    const std::string latency =
        LatencyShown(l)
            ? fmt::format("{:.1f}/{:.1f}/{:.1f}", l.p50_ns / 1e6, l.p99_ns / 1e6, l.max_ns / 1e6)
            : "-";
    out += fmt::format("  {:<22}{:>10}{:>12}{:>9.1f}{:>11.0f}{:>9}{:>7}{:>7}{:>7}{:>7}  {}\n", name,
                       received, bytes, seconds > 0 ? received / seconds : 0.0,
                       seconds > 0 ? bytes * 8.0 / seconds : 0.0, missing, lost, gaps, dup, ooo,
                       latency);
  };
  for (const protocol::StreamInfo& info : protocol::AllStreams()) {
    const StreamStats& st = s.streams[static_cast<size_t>(info.id)];
    row(info.name, st.received, st.bytes, st.missing, st.lost, st.gaps, st.duplicates,
        st.out_of_order, accounting.Latency(info.id));
  }
  row("total", s.total_received(), s.total_bytes(), s.total_missing(), s.total_lost(),
      s.total_gaps(), s.total_duplicates(), s.total_out_of_order(), accounting.Latency());
  for (const protocol::StreamInfo& info : protocol::AllStreams()) {
    const StreamStats& st = s.streams[static_cast<size_t>(info.id)];
    if (st.missing > 0) {
      out += fmt::format("  {} still missing: {}\n", info.name,
                         FormatRanges(accounting.MissingRanges(info.id, 20)));
    }
    if (st.lost > 0) {
      out += fmt::format("  {} lost for good (the rover no longer has them): {}\n", info.name,
                         FormatRanges(accounting.LostRanges(info.id, 20)));
    }
  }
  out += fmt::format("  {}\n", accounting.LatencyBasis());
  out += fmt::format("  rejected: {}", s.total_rejected());
  for (const auto& info : protocol::kRejectReasons) {
    const uint64_t n = s.rejected[static_cast<size_t>(info.reason)];
    if (n > 0) out += fmt::format("  {} {}", info.name, n);
  }
  out += "\n";
  if (view_drops > 0)
    out += fmt::format("  terminal view dropped {} lines (too slow)\n", view_drops);
  return out;
}

nlohmann::json AlarmJson(const ground::v1::GroundAlarm& a) {
  return {{"id", a.id()},
          {"severity", a.severity()},
          {"state", a.state()},
          {"text", a.text()},
          {"raised_ns", a.raised_ns()},
          {"value", a.value()},
          {"limit", a.limit()},
          {"unit", a.unit()},
          {"acknowledged", a.acknowledged()},
          {"acknowledged_by", a.acknowledged_by()},
          {"active", a.active()}};
}

nlohmann::json LatencyJson(const LatencySummary& l) {
  return {{"count", l.count},
          {"negative", l.negative},
          {"p50_ns", l.p50_ns},
          {"p99_ns", l.p99_ns},
          {"p999_ns", l.p999_ns},
          {"max_ns", l.max_ns},
          {"basis", BasisName(l.basis)},
          {"clock_rate", l.clock_rate}};
}

nlohmann::json RangesJson(const std::vector<SequenceRange>& ranges) {
  nlohmann::json out = nlohmann::json::array();
  for (const SequenceRange& r : ranges) out.push_back({r.first, r.last});
  return out;
}

nlohmann::json LinkSummaryJson(const LinkSnapshot& s, const LinkAccounting& accounting,
                               double seconds, uint64_t view_drops) {
  nlohmann::json streams = nlohmann::json::object();
  for (const protocol::StreamInfo& info : protocol::AllStreams()) {
    const StreamStats& st = s.streams[static_cast<size_t>(info.id)];
    streams[std::string(info.name)] = {
        {"packets_per_s", seconds > 0 ? st.received / seconds : 0.0},
        {"bits_per_s", seconds > 0 ? st.bytes * 8.0 / seconds : 0.0},
        {"lost", st.lost},
        {"recorded_before", st.recorded_before},
        {"latency", LatencyJson(accounting.Latency(info.id))},
        {"missing_ranges", RangesJson(accounting.MissingRanges(info.id, 1000))},
        {"lost_ranges", RangesJson(accounting.LostRanges(info.id, 1000))},
        {"apid", info.apid},
        {"received", st.received},
        {"bytes", st.bytes},
        {"missing", st.missing},
        {"gaps", st.gaps},
        {"duplicates", st.duplicates},
        {"out_of_order", st.out_of_order},
        {"first_seq", st.first_seq},
        {"highest_seq", st.highest_seq},
        {"started", st.started},
        {"suspects", st.suspects},
        {"implausible", st.implausible},
        {"resyncs", st.resyncs},
        {"ignored_reports", st.ignored_reports},
    };
  }
  nlohmann::json rejected = nlohmann::json::object();
  for (const auto& info : protocol::kRejectReasons) {
    rejected[std::string(info.name)] = s.rejected[static_cast<size_t>(info.reason)];
  }
  return {{"streams", streams},
          {"rejected", rejected},
          {"totals",
           {{"received", s.total_received()},
            {"bytes", s.total_bytes()},
            {"rejected", s.total_rejected()},
            {"missing", s.total_missing()},
            {"lost", s.total_lost()},
            {"gaps", s.total_gaps()},
            {"duplicates", s.total_duplicates()},
            {"out_of_order", s.total_out_of_order()},
            {"first_ground_ns", s.first_ground_ns()},
            {"last_ground_ns", s.last_ground_ns()}}},
          {"latency", LatencyJson(accounting.Latency())},
          {"view_dropped", view_drops}};
}

nlohmann::json LinkWatchJson(const LinkWatchSnapshot& link_watch_snapshot) {
  nlohmann::json endpoints = nlohmann::json::array();
  for (const LinkEndpointState& e : link_watch_snapshot.endpoints) {
    endpoints.push_back({{"endpoint", e.endpoint},
                         {"connected", e.connected},
                         {"drops", e.drops},
                         {"reconnects", e.reconnects}});
  }
  return {{"endpoints", endpoints},
          {"silent", link_watch_snapshot.silent},
          {"silent_s", link_watch_snapshot.silent_s},
          {"silences", link_watch_snapshot.silences},
          {"reconnects", link_watch_snapshot.reconnects}};
}

std::string SummaryText(const StationSummary& s) {
  std::string out = FormatLinkSummary(s.link, s.accounting, s.seconds, s.view_dropped);
  if (s.gap_fill) {
    const GapFillStats& g = *s.gap_fill;
    out += fmt::format(
        "  gap fill: {} requests ({} ranges, {} packets asked for, {} retries, {} tail "
        "probes), {} reports, rover queued {} packets, {} lost for good, {} held back by "
        "the uplink\n",
        g.requests, g.ranges_requested, g.packets_requested, g.retries, g.probes, g.reports,
        g.packets_queued, g.lost, g.send_failures);
  }
  if (s.alarms) {
    const AlarmStats& a = s.alarms->stats;
    const auto& current = s.alarms->unresolved;
    // "Unresolved" alarms are the ones still on the operator's list: beyond limits now, or back
    // within but not yet acknowledged. Said as such, so one alarm does not read as two.
    size_t active = 0;
    for (const ground::v1::GroundAlarm& alarm : current) active += alarm.active();
    std::string flapping;
    if (a.flapping > 0) {
      flapping = fmt::format(", {} flapping ({} crossings not shown)", a.flapping, a.suppressed);
    }
    out += fmt::format(
        "  alarms: {} raised, {} escalated, {} acknowledged, {} cleared{}; waiting for the "
        "operator: {} ({} still beyond limits, {} back within, not acknowledged); {} "
        "values checked\n",
        a.raised, a.escalated, a.acknowledged, a.cleared, flapping, current.size(), active,
        current.size() - active, a.samples);
  }
  if (s.auth_failures > 0) {
    out += fmt::format(
        "  telemetry authentication failures: {} (publishers without the rover's key)\n",
        s.auth_failures);
  }
  if (s.commands) {
    const CommandTrackerStats& c = s.commands->stats;
    out += fmt::format(
        "  commands: {} submitted, {} rejected by the station, {} completed, {} failed, {} "
        "timed out, {} still in flight; {} sends ({} resends)\n",
        c.submitted, c.rejected, c.completed, c.failed, c.timed_out, s.commands->in_flight, c.sent,
        c.resent);
  }
  if (s.products) {
    const ProductStats& p = s.products->stats;
    const protocol::cfdp::ReceiverStats& r = s.products->receiver;
    std::string bad;
    for (const auto& [reason, n] : p.bad_by_reason) bad += fmt::format(", {} {}", n, reason);
    out += fmt::format(
        "  products: {} kept, {} failed, {} in progress; {} CFDP PDUs ({} refused{}), {} file "
        "octets ({} duplicate), {} of unknown transactions, {} transactions over the limit; {} "
        "NAKs, {} PDUs sent to the rover ({} not sent)\n",
        p.completed, p.failed, s.products->in_progress, p.pdus, p.bad_pdus, bad, r.file_data_bytes,
        r.duplicate_bytes, r.unknown_transaction, r.refused_transactions, r.naks_sent, p.pdus_sent,
        p.send_failures);
  }
  if (s.recording) {
    const RecorderStats& r = *s.recording;
    out += fmt::format("  recorded {} messages, {} bytes in {} file(s); last: {}\n", r.messages,
                       r.bytes, r.files, r.current_file);
    if (r.not_recorded > 0 || r.failures > 0) {
      out += fmt::format(
          "  NOT recorded: {} messages; recording stopped {} time(s), resumed {} "
          "time(s); last error: {}\n",
          r.not_recorded, r.failures, r.resumed, r.error);
    }
  }
  if (s.archive && (s.archive->built > 0 || s.archive->failed > 0)) {
    const ArchiveMaintainerStats& a = *s.archive;
    out += fmt::format("  parameter archive: {} recording(s) summarized ({} bytes), {} failed\n",
                       a.built, a.archive_bytes, a.failed);
  }
  return out;
}

nlohmann::json SummaryJson(const StationSummary& s) {
  nlohmann::json json = LinkSummaryJson(s.link, s.accounting, s.seconds, s.view_dropped);
  json["duration_s"] = s.seconds;
  json["link"] = LinkWatchJson(s.link_watch);
  json["telemetry_auth_failures"] = s.auth_failures;
  if (s.alarms) {
    const AlarmStats& a = s.alarms->stats;
    nlohmann::json unresolved = nlohmann::json::array();
    for (const ground::v1::GroundAlarm& alarm : s.alarms->unresolved) {
      unresolved.push_back(AlarmJson(alarm));
    }
    json["alarms"] = {
        {"raised", a.raised},     {"escalated", a.escalated},  {"acknowledged", a.acknowledged},
        {"cleared", a.cleared},   {"samples", a.samples},      {"unresolved", unresolved},
        {"flapping", a.flapping}, {"suppressed", a.suppressed}};
  }
  if (s.products) {
    const ProductStats& p = s.products->stats;
    const protocol::cfdp::ReceiverStats& r = s.products->receiver;
    json["products"] = {{"completed", p.completed},
                        {"failed", p.failed},
                        {"in_progress", s.products->in_progress},
                        {"pdus", p.pdus},
                        {"bad_pdus", p.bad_pdus},
                        {"bad_by_reason", p.bad_by_reason},
                        {"file_data_bytes", r.file_data_bytes},
                        {"duplicate_bytes", r.duplicate_bytes},
                        {"unknown_transaction", r.unknown_transaction},
                        {"not_for_us", r.not_for_us},
                        {"refused_transactions", r.refused_transactions},
                        {"naks_sent", r.naks_sent},
                        {"pdus_sent", p.pdus_sent},
                        {"send_failures", p.send_failures},
                        {"sidecar_failures", p.sidecar_failures}};
  }
  static const PriorRecordings kNone;
  const PriorRecordings& prior = s.prior != nullptr ? *s.prior : kNone;
  json["prior_recordings"] = {{"files", prior.files},
                              {"recovered_files", prior.recovered_files},
                              {"recovered_messages", prior.recovered_messages},
                              {"lost_tail_bytes", prior.lost_tail_bytes},
                              {"messages", prior.messages},
                              {"archived_files", prior.archived_files},
                              {"set_aside", prior.set_aside}};
  if (s.gap_fill) {
    const GapFillStats& g = *s.gap_fill;
    json["gap_fill"] = {{"requests", g.requests},
                        {"ranges_requested", g.ranges_requested},
                        {"packets_requested", g.packets_requested},
                        {"retries", g.retries},
                        {"probes", g.probes},
                        {"reports", g.reports},
                        {"failed_reports", g.failed_reports},
                        {"packets_queued", g.packets_queued},
                        {"lost", g.lost},
                        {"send_failures", g.send_failures},
                        {"unmatched_reports", g.unmatched_reports}};
  }
  if (s.commands) {
    const CommandTrackerStats& c = s.commands->stats;
    json["commands"] = {{"submitted", c.submitted},
                        {"rejected", c.rejected},
                        {"completed", c.completed},
                        {"failed", c.failed},
                        {"timed_out", c.timed_out},
                        {"in_flight", s.commands->in_flight},
                        {"sent", c.sent},
                        {"resent", c.resent},
                        {"control_refused", s.commands->control_refused}};
  }
  if (s.recording) {
    const RecorderStats& r = *s.recording;
    json["recording"] = {{"files", r.files},
                         {"messages", r.messages},
                         {"bytes", r.bytes},
                         {"not_recorded", r.not_recorded},
                         {"rejected_not_kept", r.rejected_not_kept},
                         {"failures", r.failures},
                         {"resumed", r.resumed},
                         {"recording", r.recording},
                         {"last_error", r.error},
                         {"current_file", r.current_file}};
  }
  if (s.archive) {
    const ArchiveMaintainerStats& a = *s.archive;
    json["archive"] = {{"checked", a.checked},
                       {"up_to_date", a.up_to_date},
                       {"built", a.built},
                       {"failed", a.failed},
                       {"arrived", a.arrived},
                       {"pending", a.pending},
                       {"recording_bytes", a.recording_bytes},
                       {"archive_bytes", a.archive_bytes},
                       {"build_seconds", a.build_seconds}};
  }
  return json;
}

std::string StatsLine(const LinkSnapshot& now, const LinkSnapshot& before, double dt_s,
                      const LatencySummary& latency) {
  const double pps = (now.total_received() - before.total_received()) / dt_s;
  const double kbps = (now.total_bytes() - before.total_bytes()) * 8.0 / 1000.0 / dt_s;
  const std::string latency_text = LatencyShown(latency)
                                       ? fmt::format(" | latency p50 {:.1f} ms p99 {:.1f} ms",
                                                     latency.p50_ns / 1e6, latency.p99_ns / 1e6)
                                       : "";
  return fmt::format(
      "LINK  {} packets  {:.1f} pkt/s  {:.1f} kbit/s | rejected {} | missing {} in {} gaps | "
      "duplicates {} | out of order {}{}\n",
      now.total_received(), pps, kbps, now.total_rejected(), now.total_missing(), now.total_gaps(),
      now.total_duplicates(), now.total_out_of_order(), latency_text);
}

}  // namespace lgs::station
