#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "groundstation/footprint.h"
#include "groundstation/map_export.h"
#include "groundstation/product_archive.h"
#include "groundstation/static_files.h"
#include "groundstation/telemetry_dictionary.h"
#include "groundstation/telemetry_fields.h"
#include "groundstation/web_server.h"
#include "protocol/clock.h"
#include "protocol/text.h"

namespace lgs::station {

namespace {

// Every error answer of the web endpoints: {"error": reason}.
// The reason may quote what the client sent: it is made valid UTF-8 and bounded here.
HttpResponse error(unsigned status, std::string_view why) {
  return HttpResponse{status, "application/json",
                      text::JsonDump(nlohmann::json{{"error", text::SanitizeUtf8(why, 300)}})};
}

HttpResponse json(unsigned status, const nlohmann::json& body) {
  return HttpResponse{status, "application/json", text::JsonDump(body)};
}

// What a client sent, quoted in an answer: valid UTF-8 and short.
std::string Quote(std::string_view s, size_t max_bytes = 100) {
  return text::SanitizeUtf8(s, max_bytes);
}

}  // namespace

HttpResponse WebServer::Handle(const HttpRequest& r) {
  const auto only = [&](const char* method) { return r.method == method; };
  if (r.path == "/login" && !token_.empty()) {
    // A browser cannot send a bearer token with a page load or a WebSocket: /login?token=...
    // turns the token into a cookie, then every request carries it.
    if (r.query != "token=" + token_) return error(401, "wrong or missing token");
    HttpResponse redirect{303, "text/plain", "see /"};
    redirect.headers = {
        {"Location", "/"},
        {"Set-Cookie", fmt::format("lgs_token={}; Path=/; HttpOnly; SameSite=Strict", token_)}};
    return redirect;
  }
  if (!Authorized(r)) {
    return error(401,
                 "this endpoint needs the station's HTTP token (Authorization: Bearer ..., or "
                 "open /login?token=... once)");
  }
  if (r.path == "/api/history") {
    if (!only("GET")) return error(405, "GET only");
    return HandleHistory(r);
  }
  if (r.path == "/api/traverse") {
    if (!only("GET")) return error(405, "GET only");
    return HandleTraverse(r);
  }
  if (r.path == "/api/map" || r.path == "/api/map/image") {
    if (!only("GET")) return error(405, "GET only");
    return r.path == "/api/map" ? HandleMap() : HandleMapImage(r);
  }
  if (r.path == "/api/soil/measurement") {
    if (!only("GET")) return error(405, "GET only");
    return HandleSoilMeasurement(r);
  }
  if (r.path == "/api/state") {
    if (!only("GET")) return error(405, "GET only");
    return HandleState();
  }
  if (r.path == "/api/timeline") {
    if (!only("GET")) return error(405, "GET only");
    return HandleTimeline(r);
  }
  if (r.path == "/api/realtime") return error(426, "this is a WebSocket endpoint: upgrade");
  if (r.path == "/api/dictionary") {
    if (!only("GET")) return error(405, "GET only");
    return json(200, TelemetryDictionaryJson(rover_id_, backend_.limits()));
  }
  if (r.path == "/api/commands/dictionary") {
    if (!only("GET")) return error(405, "GET only");
    return json(200, CommandDictionaryJson());
  }
  if (r.path == "/api/link") {
    if (!only("GET")) return error(405, "GET only");
    return HandleLink();
  }
  if (r.path == "/api/alarms") {
    if (!only("GET")) return error(405, "GET only");
    if (backend_.limits() == nullptr) return error(404, "limit checking is off (--limits none)");
    return json(200, {{"alarms", backend_.Alarms()}});
  }
  if (r.path == "/api/alarms/ack") {
    if (!only("POST")) return error(405, "POST only");
    if (backend_.limits() == nullptr) return error(404, "limit checking is off (--limits none)");
    return HandleAck(r);
  }
  if (r.path == "/api/images" || r.path == "/api/images/recorded") {
    if (!only("GET")) return error(405, "GET only");
    if (options_.products_directory.empty() && !history_) {
      return error(404, "this station keeps no products and no recordings");
    }
    return r.path == "/api/images" ? HandleImages(r) : HandleRecordedImage(r);
  }
  if (r.path == "/api/products" || r.path == "/api/products/file") {
    if (!only("GET")) return error(405, "GET only");
    if (options_.products_directory.empty()) {
      return error(404, "this station keeps no products (start it with --products DIR)");
    }
    return r.path == "/api/products" ? HandleProducts(r) : HandleProductFile(r);
  }
  if (r.path == "/api/commands") {
    if (!backend_.commanding()) {
      return error(404, "this station does not command (start it with --command)");
    }
    if (only("GET")) return json(200, {{"commands", control::ToJson(backend_.RecentCommands())}});
    if (!only("POST")) return error(405, "GET or POST");
    return HandleCommands(r);
  }
  if (!r.path.starts_with("/api/") && only("GET")) {
    if (auto file = files_->Serve(r.path)) return *file;
  }
  return error(404, fmt::format("no such resource: {}", Quote(r.path, 200)));
}

bool WebServer::Authorized(const HttpRequest& r) const {
  if (token_.empty()) return true;
  if (r.authorization == "Bearer " + token_) return true;
  const std::string cookie = "lgs_token=" + token_;
  size_t at = r.cookie.find(cookie);
  while (at != std::string::npos) {
    const size_t end = at + cookie.size();
    if ((at == 0 || r.cookie[at - 1] == ' ' || r.cookie[at - 1] == ';') &&
        (end == r.cookie.size() || r.cookie[end] == ';')) {
      return true;
    }
    at = r.cookie.find(cookie, at + 1);
  }
  return false;
}

std::optional<HttpResponse> WebServer::Upgrade(const HttpRequest& r,
                                               boost::beast::tcp_stream& stream,
                                               HttpServer::Request& request) {
  if (!Authorized(r)) return error(401, "this endpoint needs the station's HTTP token");
  if (r.path != "/api/realtime") {
    return error(404, fmt::format("no WebSocket at {}", Quote(r.path, 200)));
  }
  realtime_->Accept(std::move(stream), std::move(request));
  return std::nullopt;
}

namespace {

// A time in ms since 1970 (Open MCT's utc), as a query parameter.
std::optional<double> QueryNumber(const std::string& query, std::string_view name) {
  size_t at = 0;
  while (at < query.size()) {
    const size_t end = std::min(query.find('&', at), query.size());
    const std::string_view part = std::string_view(query).substr(at, end - at);
    if (part.size() > name.size() && part.starts_with(name) && part[name.size()] == '=') {
      const std::string text(part.substr(name.size() + 1));
      char* stop = nullptr;
      const double v = std::strtod(text.c_str(), &stop);
      if (text.empty() || *stop != '\0' || !std::isfinite(v)) return std::nullopt;
      return v;
    }
    at = end + 1;
  }
  return std::nullopt;
}

std::string QueryText(const std::string& query, std::string_view name) {
  size_t at = 0;
  while (at < query.size()) {
    const size_t end = std::min(query.find('&', at), query.size());
    const std::string_view part = std::string_view(query).substr(at, end - at);
    if (part.size() > name.size() && part.starts_with(name) && part[name.size()] == '=') {
      return std::string(part.substr(name.size() + 1));
    }
    at = end + 1;
  }
  return {};
}

// History ranges are bounded so one request cannot read a mission's worth of recordings.
constexpr double kMaxHistoryRangeMs = 31.0 * 24 * 3600 * 1000;
constexpr size_t kMaxHistoryBuckets = 10'000;

// Timeline entries one answer carries: by default, and at most.
constexpr size_t kDefaultTimelineEntries = 2'000;
constexpr size_t kMaxTimelineEntries = 20'000;

struct TimeRange {
  uint64_t start_ns = 0, end_ns = 0;
};

// minmax and latest answer a range of any length from the parameter archive's summaries.
constexpr double kMaxSummaryRangeMs = 100.0 * 366 * 24 * 3600 * 1000;

Result<TimeRange> ParseRange(const std::string& query, double max_range_ms = kMaxHistoryRangeMs) {
  const auto start = QueryNumber(query, "start");
  const auto end = QueryNumber(query, "end");
  if (!start || !end) {
    return Status::Error("start and end are needed, in ms since 1970 (Open MCT's utc)");
  }
  if (*start < 0 || *end < *start) {
    return Status::Error("the range must have 0 <= start <= end");
  }
  if (*end - *start > max_range_ms) {
    return Status::Error(max_range_ms == kMaxHistoryRangeMs
                             ? "the range is longer than 31 days; ask for less (or for minmax)"
                             : "the range is longer than a century");
  }
  return TimeRange{static_cast<uint64_t>(*start * 1e6), static_cast<uint64_t>(*end * 1e6)};
}

// `time=ground` (the default: when the station received it) or `time=onboard` (SCET).
Result<HistoryTime> ParseHistoryTime(const std::string& query) {
  const std::string time = QueryText(query, "time");
  if (time.empty() || time == "ground") return HistoryTime::kGround;
  if (time == "onboard") return HistoryTime::kOnboard;
  return Status::Error(fmt::format(
      "unknown time '{}' (ground: when received, onboard: when taken on board)", Quote(time, 40)));
}

}  // namespace

HttpResponse WebServer::HandleLink() {
  nlohmann::json link = backend_.LinkStatus();
  const RealtimeStats rt = realtime_->stats();
  link["realtime"] = {{"clients", rt.clients},
                      {"clients_total", rt.clients_total},
                      {"refused", rt.refused},
                      {"samples_sent", rt.samples_sent},
                      {"samples_dropped", rt.samples_dropped},
                      {"messages_sent", rt.messages_sent},
                      {"bad_messages", rt.bad_messages},
                      {"feed_dropped", rt.feed_dropped}};
  const HttpStats& h = http_->stats();
  link["http"] = {{"requests", h.requests},
                  {"bad_requests", h.bad_requests},
                  {"refused_connections", h.refused_connections},
                  {"evicted_connections", h.evicted_connections},
                  {"internal_errors", h.internal_errors}};
  return json(200, link);
}

// The console's state banner and clock: the rover's state, the clock, the link watch, and the
// command running now and the last one.
HttpResponse WebServer::HandleState() {
  const int64_t now_ns = protocol::WallNowNs();
  nlohmann::json state = backend_.ConsoleState(now_ns);
  nlohmann::json commands = {
      {"enabled", backend_.commanding()}, {"running", nullptr}, {"last", nullptr}};
  if (backend_.commanding()) {
    const std::vector<control::CommandSummary> recent = backend_.RecentCommands();
    if (!recent.empty()) commands["last"] = control::ToJson(recent.back());
    for (auto c = recent.rbegin(); c != recent.rend(); ++c) {
      if (!IsFinalStageName(c->stage)) {
        commands["running"] = control::ToJson(*c);
        break;
      }
    }
  }
  state["commands"] = std::move(commands);
  return json(200, state);
}

// The operator's timeline: rover events, alarm transitions and command stages from the
// recordings (live ones too: the file being written is read up to its last chunk, closed at
// least every flush interval).
HttpResponse WebServer::HandleTimeline(const HttpRequest& r) {
  auto range = ParseRange(r.query);
  if (!range.ok()) return error(400, range.error().message());
  TimelineFilter filter;
  const std::string kinds = QueryText(r.query, "kinds");
  if (!kinds.empty()) {
    filter.kinds = {false, false, false};
    size_t at = 0;
    while (at <= kinds.size()) {
      const size_t end = std::min(kinds.find(',', at), kinds.size());
      const std::string kind = kinds.substr(at, end - at);
      bool known = false;
      for (int k = 0; k < kTimelineKinds; ++k) {
        if (kind == TimelineKindName(static_cast<TimelineKind>(k))) {
          filter.kinds[static_cast<size_t>(k)] = known = true;
        }
      }
      if (!known) {
        return error(400, fmt::format("unknown kind '{}' (event, alarm, command; comma-separated)",
                                      Quote(kind, 40)));
      }
      at = end + 1;
    }
  }
  const std::string severity = QueryText(r.query, "severity");
  if (!severity.empty()) {
    bool known = false;
    for (auto s :
         {TimelineSeverity::kInfo, TimelineSeverity::kWarning, TimelineSeverity::kCritical}) {
      if (severity == TimelineSeverityName(s)) {
        filter.min_severity = s;
        known = true;
      }
    }
    if (!known) {
      return error(400,
                   fmt::format("unknown severity '{}' (info, warning, critical: the least shown)",
                               Quote(severity, 40)));
    }
  }
  size_t limit = kDefaultTimelineEntries;
  if (!QueryText(r.query, "limit").empty()) {
    const auto n = QueryNumber(r.query, "limit");
    if (!n || *n < 1 || *n > kMaxTimelineEntries || *n != std::floor(*n)) {
      return error(400, fmt::format("limit must be 1..{}", kMaxTimelineEntries));
    }
    limit = static_cast<size_t>(*n);
  }
  nlohmann::json entries = nlohmann::json::array();
  bool truncated = false;
  if (history_) {
    auto result = history_->Timeline(range->start_ns, range->end_ns, filter, limit);
    if (!result.ok()) return error(500, result.error().message());
    truncated = result->truncated;
    for (const TimelineEntry& e : result->entries) {
      nlohmann::json j = {{"utc", static_cast<double>(e.ground_ns) / 1e6},
                          {"kind", TimelineKindName(e.kind)},
                          {"severity", TimelineSeverityName(e.severity)},
                          {"name", text::SanitizeUtf8(e.name, 200)},
                          {"message", text::SanitizeUtf8(e.message, 2000)}};
      if (e.onboard_ns != 0) j["scet"] = static_cast<double>(e.onboard_ns) / 1e6;
      if (!e.state.empty()) j["state"] = e.state;
      if (e.kind == TimelineKind::kCommand) {
        j["command_id"] = e.command_id;
        j["arguments"] = text::SanitizeUtf8(e.arguments, 500);
      }
      entries.push_back(std::move(j));
    }
  }
  return json(200, {{"entries", std::move(entries)}, {"truncated", truncated}});
}

HttpResponse WebServer::HandleAck(const HttpRequest& r) {
  const nlohmann::json body = nlohmann::json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("id") || !body["id"].is_string() ||
      body["id"].get<std::string>().empty()) {
    return error(400, "expected {\"id\": \"<alarm id>\" or \"all\", \"by\": \"<name>\"}");
  }
  const auto by = body.find("by");
  if (!backend_.Acknowledge(body["id"].get<std::string>(), by != body.end() && by->is_string()
                                                               ? by->get<std::string>()
                                                               : std::string("web"))) {
    return error(503, "the station is too busy to take an acknowledgement now; try again");
  }
  return json(202, {{"queued", body["id"]}});
}

HttpResponse WebServer::HandleCommands(const HttpRequest& r) {
  auto parsed = control::CommandFromJson(nlohmann::json::parse(r.body, nullptr, false), "web");
  if (!parsed.ok()) return error(400, parsed.error().message());
  const auto [id, first] = backend_.Submit(*parsed);
  const bool rejected = first.stage() == ground::v1::COMMAND_STAGE_REJECTED;
  return json(
      rejected ? 422 : 202,
      {{"command_id", id}, {"stage", StageName(first.stage())}, {"detail", first.detail()}});
}

HttpResponse WebServer::HandleHistory(const HttpRequest& r) {
  const std::string key = QueryText(r.query, "key");
  HistoryQuery q;
  q.field = FindTelemetryField(key);
  if (q.field == nullptr) {
    return error(404, fmt::format("unknown field '{}' (see /api/dictionary)", Quote(key)));
  }
  const std::string strategy = QueryText(r.query, "strategy");
  if (strategy == "latest") {
    q.strategy = HistoryStrategy::kLatest;
    q.size = 1;
  } else if (strategy == "minmax") {
    q.strategy = HistoryStrategy::kMinMax;
  } else if (!strategy.empty()) {
    return error(400, fmt::format("unknown strategy '{}' (latest, minmax)", Quote(strategy, 40)));
  }
  auto time = ParseHistoryTime(r.query);
  if (!time.ok()) return error(400, time.error().message());
  q.time = *time;
  auto range = ParseRange(
      r.query, q.strategy == HistoryStrategy::kAll ? kMaxHistoryRangeMs : kMaxSummaryRangeMs);
  if (!range.ok()) return error(400, range.error().message());
  q.start_ns = range->start_ns;
  q.end_ns = range->end_ns;
  if (!QueryText(r.query, "size").empty()) {
    const auto size = QueryNumber(r.query, "size");
    if (!size || *size < 1 || *size > kMaxHistoryBuckets) {
      return error(400, fmt::format("size must be 1..{}", kMaxHistoryBuckets));
    }
    q.size = static_cast<size_t>(*size);
  }
  if (!history_) return HttpResponse{200, "application/json", "[]"};  // nothing is recorded
  auto result = history_->Query(q);
  if (!result.ok()) return error(500, result.error().message());
  std::string body = "[";
  for (const HistorySample& s : result->samples) {
    if (body.size() > 1) body += ',';
    fmt::format_to(std::back_inserter(body),
                   "{{\"key\":\"{}\",\"utc\":{:.3f},\"scet\":{:.3f},\"value\":{}}}", q.field->key,
                   static_cast<double>(s.ground_ns) / 1e6, static_cast<double>(s.onboard_ns) / 1e6,
                   s.value_json);
  }
  body += ']';
  HttpResponse response{200, "application/json", std::move(body)};
  response.headers = {{"X-History-Files", std::to_string(result->files_read)},
                      {"X-History-Chunks", std::to_string(result->chunks_read)},
                      {"X-History-Decoded", std::to_string(result->messages_decoded)},
                      {"X-History-Archives", std::to_string(result->archives_read)},
                      {"X-History-Bucket-Ns", std::to_string(result->bucket_ns)},
                      {"X-History-Truncated", result->truncated ? "true" : "false"}};
  return response;
}

namespace {

// A soil measurement for the map: where, when, with what, and its result (a VNIS spectrum as its
// band depths and length: the science view asks for the spectrum itself).
nlohmann::json SoilSiteJson(const SoilSite& site) {
  const rover::v1::SoilMeasurement& m = site.measurement;
  nlohmann::json j{{"id", m.measurement_id()},
                   {"utc_ms", static_cast<double>(site.ground_ns) / 1e6},
                   // A string: a JavaScript number holds only 53 bits, and this names the record.
                   {"ground_time_ns", std::to_string(site.ground_ns)},
                   {"onboard_time_ns", site.onboard_ns},
                   {"x_m", m.x_m()},
                   {"y_m", m.y_m()},
                   {"integration_s", m.integration_s()},
                   {"in_shadow", m.in_shadow()}};
  switch (m.result_case()) {
    case rover::v1::SoilMeasurement::kApxs: {
      const rover::v1::ApxsOxides& a = m.apxs();
      j["instrument"] = "apxs";
      j["oxides_wt_percent"] = {{"SiO2", a.sio2_wt_percent()},   {"Al2O3", a.al2o3_wt_percent()},
                                {"CaO", a.cao_wt_percent()},     {"FeO", a.feo_wt_percent()},
                                {"MgO", a.mgo_wt_percent()},     {"TiO2", a.tio2_wt_percent()},
                                {"Na2O", a.na2o_wt_percent()},   {"K2O", a.k2o_wt_percent()},
                                {"Cr2O3", a.cr2o3_wt_percent()}, {"MnO", a.mno_wt_percent()},
                                {"total", a.total_wt_percent()}};
      break;
    }
    case rover::v1::SoilMeasurement::kVnis: {
      const rover::v1::VnisSpectrum& v = m.vnis();
      j["instrument"] = "vnis";
      j["vnis"] = {{"bands", site.VnisBands()},
                   {"start_wavelength_um", v.start_wavelength_um()},
                   {"step_um", v.step_um()},
                   {"band_depth_1um", v.band_depth_1um()},
                   {"band_depth_2um", v.band_depth_2um()},
                   {"ice_band_depth_1_5um", v.ice_band_depth_1_5um()}};
      break;
    }
    case rover::v1::SoilMeasurement::kNeutron: {
      const rover::v1::NeutronHydrogen& n = m.neutron();
      j["instrument"] = "neutron";
      j["neutron"] = {{"thermal_counts_per_s", n.thermal_counts_per_s()},
                      {"epithermal_counts_per_s", n.epithermal_counts_per_s()},
                      {"fast_counts_per_s", n.fast_counts_per_s()},
                      {"hydrogen_weh_wt_percent", n.hydrogen_weh_wt_percent()}};
      break;
    }
    default:
      j["instrument"] = "unknown";
  }
  return j;
}

}  // namespace

HttpResponse WebServer::HandleSoilMeasurement(const HttpRequest& r) {
  const auto whole = [&](std::string_view name) -> std::optional<uint64_t> {
    const std::string text = QueryText(r.query, name);
    uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return v;
  };
  const auto ground_ns = whole("ground_ns");
  const auto id = whole("id");
  if (!ground_ns || !id || *id > UINT32_MAX) {
    return error(400,
                 "say which: ground_ns=N (its ground time, as /api/traverse's sites give it) and "
                 "id=N (its measurement id)");
  }
  if (!history_) return error(404, "this station keeps no recordings");
  auto found = history_->SoilMeasurementAt(*ground_ns, static_cast<uint32_t>(*id));
  if (!found.ok()) return error(500, found.error().message());
  if (!found->has_value()) {
    return error(404, fmt::format("no soil measurement {} recorded at {} ns", *id, *ground_ns));
  }
  const SoilSite& site = **found;
  nlohmann::json j = SoilSiteJson(site);
  if (site.measurement.has_vnis()) {
    const rover::v1::VnisSpectrum& v = site.measurement.vnis();
    nlohmann::json wavelengths = nlohmann::json::array(), reflectance = nlohmann::json::array();
    for (int i = 0; i < v.reflectance_size(); ++i) {
      wavelengths.push_back(v.start_wavelength_um() + i * v.step_um());
      reflectance.push_back(v.reflectance(i));
    }
    j["vnis"]["wavelength_um"] = std::move(wavelengths);
    j["vnis"]["reflectance"] = std::move(reflectance);
  }
  return json(200, j);
}

HttpResponse WebServer::HandleTraverse(const HttpRequest& r) {
  auto range = ParseRange(r.query);
  if (!range.ok()) return error(400, range.error().message());
  nlohmann::json path = nlohmann::json::array(), hazards = nlohmann::json::array(),
                 sites = nlohmann::json::array();
  size_t left_out = 0;
  if (history_) {
    auto result = history_->Traverse(range->start_ns, range->end_ns, 5000);
    if (!result.ok()) return error(500, result.error().message());
    for (const TraversePoint& p : result->path) {
      path.push_back({static_cast<double>(p.ground_ns) / 1e6, p.x_m, p.y_m, p.heading_deg});
    }
    for (const HazardCell& h : result->hazards) hazards.push_back({h.x_m, h.y_m, h.size_m, h.kind});
    for (const SoilSite& site : result->sites) sites.push_back(SoilSiteJson(site));
    left_out = result->sites_left_out;
  }
  return json(
      200, {{"path", path}, {"hazards", hazards}, {"sites", sites}, {"sites_left_out", left_out}});
}

namespace {

// Kept products listed per request at most (the newest).
constexpr size_t kMaxKeptListed = 2000;
// Files served whole from memory: far above any image (a pancam PNG is ~3 MB), bounded so a
// stray large file in the directory cannot take the station's memory.
constexpr uintmax_t kMaxServedFile = 64u << 20;

nlohmann::json KeptJson(const KeptProduct& k) {
  const nlohmann::json& s = k.sidecar;
  nlohmann::json j{{"name", k.name},
                   {"url", "/api/products/file?name=" + k.name},
                   {"size", s.value("size", uint64_t{0})},
                   {"sha256", s.value("sha256", "")},
                   {"kept_utc_ns", s.value("kept_utc_ns", uint64_t{0})},
                   {"onboard_time_ns", s.value("onboard_time_ns", uint64_t{0})}};
  if (s.contains("transaction")) {
    j["id"] = fmt::format("{}-{}", s["transaction"].value("source", uint64_t{0}),
                          s["transaction"].value("sequence", uint64_t{0}));
  }
  if (s.contains("camera_frame") && s["camera_frame"].is_object()) {
    j["camera"] = s.value("camera", "");
    j["camera_frame"] = s["camera_frame"];
    // Where it looked, for the traverse map: the frame's corners on the ground.
    rover::v1::CameraFrame frame;
    google::protobuf::util::JsonParseOptions o;
    o.ignore_unknown_fields = true;
    if (google::protobuf::util::JsonStringToMessage(text::JsonDump(s["camera_frame"]), &frame, o)
            .ok()) {
      if (const auto fp = ImageFootprint(frame)) {
        nlohmann::json corners = nlohmann::json::array();
        for (const auto& [x, y] : fp->corners) corners.push_back({x, y});
        j["footprint"] = {{"corners_m", corners}, {"clipped", fp->clipped}};
      }
    }
  }
  return j;
}

}  // namespace

HttpResponse WebServer::HandleProducts(const HttpRequest& r) {
  size_t limit = 200;
  if (!QueryText(r.query, "limit").empty()) {
    const auto n = QueryNumber(r.query, "limit");
    if (!n || *n < 1 || *n > kMaxKeptListed) {
      return error(400, fmt::format("limit must be 1..{}", kMaxKeptListed));
    }
    limit = static_cast<size_t>(*n);
  }
  auto kept = ListKeptProducts(options_.products_directory, limit);
  if (!kept.ok()) return error(500, kept.error().message());
  nlohmann::json list = nlohmann::json::array();
  for (const KeptProduct& k : *kept) list.push_back(KeptJson(k));
  return json(200, {{"transfers", backend_.Transfers()}, {"kept", std::move(list)}});
}

HttpResponse WebServer::HandleProductFile(const HttpRequest& r) {
  const std::string name = QueryText(r.query, "name"), id = QueryText(r.query, "id");
  std::string path;
  std::string_view type = "application/octet-stream";
  if (!name.empty()) {
    if (!IsProductName(name))
      return error(400, fmt::format("'{}' is not a product name", Quote(name)));
    path = options_.products_directory + "/" + name;
    // Images and sidecars as what they are; anything else as bytes, never as a page this
    // origin would run.
    if (const std::string_view t = ContentTypeOf(name);
        t.starts_with("image/png") || t.starts_with("image/jpeg") || t == "application/json") {
      type = t;
    }
  } else if (!id.empty()) {
    const auto partial = PartialPath(options_.products_directory, id);
    if (!partial)
      return error(400, fmt::format("'{}' is not a transfer id (SOURCE-SEQUENCE)", Quote(id)));
    path = *partial;
  } else {
    return error(400, "say which: name=FILE (a kept product) or id=SOURCE-SEQUENCE (a transfer)");
  }
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec || !std::filesystem::is_regular_file(path, ec)) {
    return error(404, fmt::format("no product '{}'", Quote(name.empty() ? id : name)));
  }
  if (size > kMaxServedFile) return error(413, "the file is too large to serve whole");
  std::ifstream in(path, std::ios::binary);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return error(500, "the file could not be read");
  HttpResponse response{200, std::string(type), std::move(body)};
  // A kept product never changes; a partial one grows.
  if (!name.empty()) response.cache_control = "private, max-age=86400";
  return response;
}

HttpResponse WebServer::HandleImages(const HttpRequest& r) {
  const std::string camera = QueryText(r.query, "camera");
  auto range = ParseRange(r.query);
  if (!range.ok()) return error(400, range.error().message());
  auto time = ParseHistoryTime(r.query);
  if (!time.ok()) return error(400, time.error().message());
  const bool onboard = *time == HistoryTime::kOnboard;
  std::vector<KeptProduct> kept;
  if (!options_.products_directory.empty()) {
    auto listed = ListKeptProducts(options_.products_directory, kMaxKeptListed);
    if (!listed.ok()) return error(500, listed.error().message());
    kept = std::move(*listed);
  }
  // The archive's images, with their camera records; then those only the recordings still
  // hold (an archive wiped or on another machine), by their on-board time.
  // (utc, onboard) -> image, or (onboard, utc) by on-board time: in the order asked.
  std::map<std::pair<uint64_t, uint64_t>, nlohmann::json> out;
  const auto order = [onboard](uint64_t utc_ns, uint64_t onboard_ns) {
    return onboard ? std::make_pair(onboard_ns, utc_ns) : std::make_pair(utc_ns, onboard_ns);
  };
  std::set<uint64_t> onboard_seen;
  for (const KeptProduct& k : kept) {
    const nlohmann::json& s = k.sidecar;
    if (!s.contains("camera_frame") || (!camera.empty() && s.value("camera", "") != camera)) {
      continue;
    }
    const uint64_t utc_ns = s.value("kept_utc_ns", uint64_t{0});
    const uint64_t onboard_ns = s.value("onboard_time_ns", uint64_t{0});
    onboard_seen.insert(onboard_ns);
    const uint64_t at = onboard ? onboard_ns : utc_ns;
    if (at < range->start_ns || at > range->end_ns) continue;
    const nlohmann::json& f = s["camera_frame"];
    out[order(utc_ns, onboard_ns)] = {{"utc", static_cast<double>(utc_ns) / 1e6},
                                      {"scet", static_cast<double>(onboard_ns) / 1e6},
                                      {"url", "/api/products/file?name=" + k.name},
                                      {"name", k.name},
                                      {"camera", s.value("camera", "")},
                                      {"frame_id", f.value("frame_id", 0)},
                                      {"exposure_ms", f.value("exposure_ms", 0.0)},
                                      {"gain_db", f.value("gain_db", 0.0)},
                                      {"pan_deg", f.value("pan_deg", 0.0)},
                                      {"tilt_deg", f.value("tilt_deg", 0.0)},
                                      {"sun_azimuth_deg", f.value("sun_azimuth_deg", 0.0)},
                                      {"sun_elevation_deg", f.value("sun_elevation_deg", 0.0)},
                                      {"width_px", f.value("width_px", 0)},
                                      {"height_px", f.value("height_px", 0)},
                                      {"size", s.value("size", uint64_t{0})},
                                      {"source", "archive"}};
  }
  if (history_ && !camera.empty()) {
    auto recorded =
        history_->Images(camera, range->start_ns, range->end_ns, kMaxKeptListed, false, *time);
    if (!recorded.ok()) return error(500, recorded.error().message());
    for (const RecordedImage& i : *recorded) {
      if (onboard_seen.contains(i.onboard_ns)) continue;
      const std::string name =
          fmt::format("{}_{}.{}", camera, i.onboard_ns, i.format == "png" ? "png" : "jpg");
      out[order(i.ground_ns, i.onboard_ns)] = {
          {"utc", static_cast<double>(i.ground_ns) / 1e6},
          {"scet", static_cast<double>(i.onboard_ns) / 1e6},
          {"url", fmt::format("/api/images/recorded?camera={}&at={}", camera, i.ground_ns)},
          {"name", name},
          {"camera", camera},
          {"source", "recording"}};
    }
  }
  nlohmann::json list = nlohmann::json::array();
  for (auto& [key, image] : out) list.push_back(std::move(image));
  return json(200, list);
}

HttpResponse WebServer::HandleRecordedImage(const HttpRequest& r) {
  const std::string camera = QueryText(r.query, "camera");
  // Nanoseconds since 1970 are beyond a double's exact integers: read as an integer.
  const std::string at = QueryText(r.query, "at");
  uint64_t ns = 0;
  const auto parsed = std::from_chars(at.data(), at.data() + at.size(), ns);
  if (camera.empty() || at.empty() || parsed.ec != std::errc() ||
      parsed.ptr != at.data() + at.size()) {
    return error(400, "say which: camera=NAME&at=NS (the image's ground time, from /api/images)");
  }
  if (!history_) return error(404, "this station has no recordings");
  auto images = history_->Images(camera, ns, ns, 1, true);
  if (!images.ok()) return error(500, images.error().message());
  if (images->empty())
    return error(404, fmt::format("no {} image recorded at {}", Quote(camera), ns));
  RecordedImage& i = images->front();
  HttpResponse response{200, i.format == "png" ? "image/png" : "image/jpeg", std::move(i.data)};
  response.cache_control = "private, max-age=86400";
  return response;
}

namespace {

// The picture sizes a client may ask for (the longest side, in pixels).
constexpr int64_t kMinMapPixels = 16, kMaxMapPixels = 4096, kDefaultMapPixels = 1024;

nlohmann::json MapInfoJson(const MapSnapshot& map) {
  const SiteMosaic& m = *map.mosaic;
  const MosaicStats& st = m.stats();
  nlohmann::json j{{"version", map.version},
                   {"tiles", st.tiles},
                   {"tiles_refused", st.tiles_refused},
                   {"replayed_tiles", map.replayed_tiles},
                   {"observed_cells", st.observed_cells},
                   {"cell_size_m", m.cell_size_m()},
                   {"layers", MapLayerNames()},
                   {"bounds_m", nullptr},
                   {"site", nullptr}};
  if (const CellWindow b = m.Bounds(); !b.empty()) {
    const double s = m.cell_size_m();
    j["bounds_m"] = {{"west", static_cast<double>(b.col0) * s},
                     {"south", static_cast<double>(b.row0) * s},
                     {"east", static_cast<double>(b.col0 + b.width) * s},
                     {"north", static_cast<double>(b.row0 + b.height) * s}};
  }
  if (map.site) {
    j["site"] = {{"latitude_deg", map.site->latitude_deg},
                 {"longitude_deg", map.site->longitude_deg}};
  }
  return j;
}

}  // namespace

HttpResponse WebServer::HandleMap() {
  nlohmann::json j = MapInfoJson(backend_.SiteMap());
  // What else the traverse map can draw here: image footprints, drive targets.
  j["products"] = !options_.products_directory.empty();
  j["commanding"] = backend_.commanding();
  return json(200, j);
}

HttpResponse WebServer::HandleMapImage(const HttpRequest& r) {
  const std::string layer_name = QueryText(r.query, "layer");
  const auto layer = MapLayerNamed(layer_name.empty() ? "hillshade" : layer_name);
  if (!layer) {
    return error(
        400, fmt::format("no layer '{}': ask for one of {}", Quote(layer_name), MapLayerNames()));
  }
  int64_t max_pixels = kDefaultMapPixels;
  if (!QueryText(r.query, "max").empty()) {
    const auto v = QueryNumber(r.query, "max");
    if (!v || *v < kMinMapPixels || *v > kMaxMapPixels || *v != std::floor(*v)) {
      return error(400, fmt::format("max must be a whole number of pixels, {}..{}", kMinMapPixels,
                                    kMaxMapPixels));
    }
    max_pixels = static_cast<int64_t>(*v);
  }
  const std::string format = QueryText(r.query, "format");
  if (!format.empty() && format != "json" && format != "png") {
    return error(400, fmt::format("format '{}': json (the default) or png", Quote(format)));
  }
  // A window in site metres: all four edges or none (the whole map).
  const char* edges[] = {"west", "south", "east", "north"};
  double edge[4] = {};
  int given = 0;
  for (int i = 0; i < 4; ++i) {
    if (QueryText(r.query, edges[i]).empty()) continue;
    const auto v = QueryNumber(r.query, edges[i]);
    if (!v || std::abs(*v) > 1e7) {
      return error(400, fmt::format("{} must be a number of metres in the site frame", edges[i]));
    }
    edge[i] = *v;
    ++given;
  }
  if (given != 0 && given != 4) return error(400, "give west, south, east and north together");
  if (given == 4 && (edge[2] <= edge[0] || edge[3] <= edge[1])) {
    return error(400, "the window must have west < east and south < north");
  }

  const MapSnapshot map = backend_.SiteMap();
  const SiteMosaic& mosaic = *map.mosaic;
  if (mosaic.empty()) return error(404, "no terrain tile has been observed yet: the map is empty");
  SiteMosaic::RenderOptions o;
  o.window = mosaic.Bounds();
  if (given == 4) {
    // Only the part of the window where something can have been observed is rendered: a
    // window the size of the Moon costs what the map does.
    const CellWindow want = mosaic.WindowOf(edge[0], edge[1], edge[2], edge[3]);
    const CellWindow& b = o.window;
    const int64_t c0 = std::max(want.col0, b.col0), r0 = std::max(want.row0, b.row0);
    const int64_t c1 = std::min(want.col0 + want.width, b.col0 + b.width);
    const int64_t r1 = std::min(want.row0 + want.height, b.row0 + b.height);
    if (c1 <= c0 || r1 <= r0) {
      return error(404, fmt::format("nothing observed from {} to {} m east, {} to {} m north",
                                    edge[0], edge[2], edge[1], edge[3]));
    }
    o.window = CellWindow{c0, r0, c1 - c0, r1 - r0};
  }
  const int64_t longest = std::max(o.window.width, o.window.height);
  o.step = std::max<int64_t>(1, (longest + max_pixels - 1) / max_pixels);
  auto raster = mosaic.Render(*layer, o);
  if (!raster.ok()) return error(500, raster.error().message());
  if (raster->observed_cells == 0) {
    return error(404, fmt::format("nothing observed in {} from {} to {} m east, {} to {} m north",
                                  NameOf(*layer), edge[0], edge[2], edge[1], edge[3]));
  }
  auto picture = EncodeMapPicture(*raster);
  if (!picture.ok()) return error(500, picture.error().message());
  const nlohmann::json georef{{"layer", NameOf(*layer)},
                              {"version", map.version},
                              {"west_m", raster->west_m()},
                              {"north_m", raster->north_m()},
                              {"pixel_size_m", raster->cell_size_m},
                              {"width", raster->window.width},
                              {"height", raster->window.height},
                              {"step_cells", o.step},
                              {"observed_pixels", raster->observed_cells},
                              {"lo", picture->lo},
                              {"hi", picture->hi}};
  if (format == "png") {
    HttpResponse png{200, "image/png", std::move(picture->png)};
    png.headers = {{"X-Lgs-Map", text::JsonDump(georef)}};
    return png;
  }
  nlohmann::json body = georef;
  body["png_base64"] = text::Base64(picture->png);
  return json(200, body);
}

}  // namespace lgs::station
