// The station's summary: one model of everything the station counted, with two views — the text
// printed when it stops and the JSON of --summary-json (and of /api/link for the link part).
// Internal to gs_station. Pure functions of their arguments; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ground/v1/ground.pb.h"
#include "groundstation/alarm_manager.h"
#include "groundstation/archive_maintainer.h"
#include "groundstation/command_tracker.h"
#include "groundstation/gap_filler.h"
#include "groundstation/link_accounting.h"
#include "groundstation/link_watch.h"
#include "groundstation/prior_recordings.h"
#include "groundstation/product_sink.h"
#include "groundstation/recorder.h"

namespace lgs::station {

struct StationSummary {
  StationSummary(LinkSnapshot link, const LinkAccounting& accounting, double seconds,
                 uint64_t view_dropped)
      : link(std::move(link)),
        accounting(accounting),
        seconds(seconds),
        view_dropped(view_dropped) {}
  LinkSnapshot link;
  const LinkAccounting& accounting;  // latency and ranges
  double seconds = 0.0;              // how long the station ran
  uint64_t view_dropped = 0;         // terminal lines dropped (too slow)
  LinkWatchSnapshot link_watch{};
  uint64_t auth_failures = 0;
  const PriorRecordings* prior = nullptr;
  std::optional<GapFillStats> gap_fill;
  struct Alarms {
    AlarmStats stats;
    std::vector<ground::v1::GroundAlarm> unresolved;
  };
  std::optional<Alarms> alarms;
  struct Commands {
    CommandTrackerStats stats;
    size_t in_flight = 0;
    uint64_t control_refused = 0;
  };
  std::optional<Commands> commands;
  std::optional<RecorderStats> recording;
  std::optional<ArchiveMaintainerStats> archive;
  struct Products {
    ProductStats stats;
    protocol::cfdp::ReceiverStats receiver;
    size_t in_progress = 0;  // transfers not finished when the station stopped
  };
  std::optional<Products> products;
};

std::string SummaryText(const StationSummary& summary);
nlohmann::json SummaryJson(const StationSummary& summary);

// The parts other answers share: the link (/api/link), the link watch, an alarm, latency.
nlohmann::json LinkSummaryJson(const LinkSnapshot& s, const LinkAccounting& accounting,
                               double seconds, uint64_t view_drops);
nlohmann::json LinkWatchJson(const LinkWatchSnapshot& link_watch);
nlohmann::json AlarmJson(const ground::v1::GroundAlarm& a);
// The periodic statistics line: `now` against `before`, `dt_s` apart.
std::string StatsLine(const LinkSnapshot& now, const LinkSnapshot& before, double dt_s,
                      const LatencySummary& latency);
// Latency is worth showing when it was measured against a clock that means something.
bool LatencyShown(const LatencySummary& l);

}  // namespace lgs::station
