#include <cmath>
#include <cstdlib>

#include "groundstation/telemetry_fields.h"
#include "protocol/text.h"
#include "station_impl.h"

namespace lgs::station {

namespace {

// Every error answer of the web endpoints: {"error": reason}.
// The reason may quote what the client sent: it is made valid UTF-8 and bounded here.
HttpResponse error(unsigned status, std::string_view why) {
  return HttpResponse{status, "application/json",
                      text::JsonDump(nlohmann::json{{"error", text::SanitizeUtf8(why, 300)}})};
}

// What a client sent, quoted in an answer: valid UTF-8 and short.
std::string Quote(std::string_view s, size_t max_bytes = 100) {
  return text::SanitizeUtf8(s, max_bytes);
}

}  // namespace

Status Station::Impl::StartHttp() {
  if (options.http == "none") return Status::Ok();
  HttpOptions o;
  o.log = &log;
  const size_t colon = options.http.rfind(':');
  int port = -1;
  if (colon != std::string::npos) {
    try {
      port = std::stoi(options.http.substr(colon + 1));
    } catch (const std::exception&) {
      port = -1;
    }
  }
  if (colon == std::string::npos || port < 0 || port > 65535) {
    return Status::Error(fmt::format("--http '{}' is not ADDRESS:PORT", options.http));
  }
  o.address = options.http.substr(0, colon);
  o.port = static_cast<uint16_t>(port);
  const bool loopback = o.address.rfind("127.", 0) == 0 || o.address == "::1";
  if (!loopback && !options.http_remote) {
    return Status::Error(fmt::format(
        "--http {} is not a loopback address: anyone on that network could reach the station; "
        "add --http-remote (requests then need the token)",
        options.http));
  }
  // Remote access always needs the token; on loopback an explicit --http-token asks for it too
  // (other users of a shared ground-station host can reach loopback).
  if (!loopback || !options.http_token_path.empty()) {
    if (Status s = transport::PrepareControlDirectory(transport::DefaultControlDirectory());
        !s.ok() && options.http_token_path.empty()) {
      return s;
    }
    const std::string path =
        options.http_token_path.empty()
            ? fmt::format("{}/{}.http-token", transport::DefaultControlDirectory(),
                          options.rover_id)
            : options.http_token_path;
    auto token = transport::CreateControlToken(path);
    if (!token.ok()) return token.error();
    http_token = std::move(*token);
    log.Info("HTTP token in {}", path);
  }
  realtime_feed = std::make_unique<RealtimeFeed>(options.realtime.packets_per_stream_per_batch);
  realtime = std::make_unique<RealtimeServer>(io, *realtime_feed, options.realtime);
  if (!options.recorder.directory.empty()) {
    history = std::make_unique<HistoryStore>(options.recorder.directory, options.rover_id, log);
  }
  web_files = std::make_unique<StaticFiles>(std::vector<StaticFiles::Mount>{
      {"/", options.web_root.empty() ? std::string(LGS_WEB_DIR) : options.web_root, "no-cache"},
      {"/openmct/",
       options.openmct_root.empty() ? std::string(LGS_OPENMCT_DIR) : options.openmct_root,
       "max-age=3600"}});
  http = std::make_unique<HttpServer>(
      io, o, [this](const HttpRequest& r) { return HandleHttp(r); },
      [this](const HttpRequest& r, boost::beast::tcp_stream& stream, HttpServer::Request& request) {
        return UpgradeHttp(r, stream, request);
      });
  if (Status s = http->Start(); !s.ok()) {
    http.reset();
    realtime.reset();
    if (options.http_explicit) return s;
    log.Warn("{}; running without the web endpoint (give --http another port)", s.message());
    return Status::Ok();
  }
  realtime->Start();
  log.Info("serving HTTP on http://{}:{}/", o.address, http->port());
  return Status::Ok();
}

HttpResponse Station::Impl::HandleHttp(const HttpRequest& r) {
  const auto json = [](unsigned status, const nlohmann::json& body) {
    return HttpResponse{status, "application/json", text::JsonDump(body)};
  };
  const auto only = [&](const char* method) { return r.method == method; };
  if (r.path == "/login" && !http_token.empty()) {
    // A browser cannot send a bearer token with a page load or a WebSocket: /login?token=...
    // turns the token into a cookie, then every request carries it.
    if (r.query != "token=" + http_token) return error(401, "wrong or missing token");
    HttpResponse redirect{303, "text/plain", "see /"};
    redirect.headers = {
        {"Location", "/"},
        {"Set-Cookie", fmt::format("lgs_token={}; Path=/; HttpOnly; SameSite=Strict", http_token)}};
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
  if (r.path == "/api/realtime") return error(426, "this is a WebSocket endpoint: upgrade");
  if (r.path == "/api/dictionary") {
    if (!only("GET")) return error(405, "GET only");
    return json(200,
                TelemetryDictionaryJson(options.rover_id, alarms ? &alarms->limits() : nullptr));
  }
  if (r.path == "/api/commands/dictionary") {
    if (!only("GET")) return error(405, "GET only");
    return json(200, CommandDictionaryJson());
  }
  if (r.path == "/api/link") {
    if (!only("GET")) return error(405, "GET only");
    const uint64_t drops = view_queue.dropped();
    const double seconds = std::chrono::duration<double>(Clock::now() - started_at).count();
    nlohmann::json link = LinkSummaryJson(accounting.Snapshot(), accounting, seconds, drops);
    const RealtimeStats rt = realtime->stats();
    link["realtime"] = {{"clients", rt.clients},
                        {"clients_total", rt.clients_total},
                        {"refused", rt.refused},
                        {"samples_sent", rt.samples_sent},
                        {"samples_dropped", rt.samples_dropped},
                        {"messages_sent", rt.messages_sent},
                        {"bad_messages", rt.bad_messages},
                        {"feed_dropped", rt.feed_dropped}};
    link["link"] = LinkWatchJson(link_watch_snapshot);
    const HttpStats& h = http->stats();
    link["http"] = {{"requests", h.requests},
                    {"bad_requests", h.bad_requests},
                    {"refused_connections", h.refused_connections},
                    {"evicted_connections", h.evicted_connections},
                    {"internal_errors", h.internal_errors}};
    return json(200, link);
  }
  if (r.path == "/api/alarms") {
    if (!only("GET")) return error(405, "GET only");
    if (!alarms) return error(404, "limit checking is off (--limits none)");
    return json(200, {{"alarms", CurrentAlarmsJson()}});
  }
  if (r.path == "/api/alarms/ack") {
    if (!only("POST")) return error(405, "POST only");
    if (!alarms) return error(404, "limit checking is off (--limits none)");
    const nlohmann::json body = nlohmann::json::parse(r.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("id") ||
        !body["id"].is_string() || body["id"].get<std::string>().empty()) {
      return error(400, "expected {\"id\": \"<alarm id>\" or \"all\", \"by\": \"<name>\"}");
    }
    const auto by = body.find("by");
    if (!bridge.ToIngest([this, id = body["id"].get<std::string>(),
                          by = by != body.end() && by->is_string()
                                   ? by->get<std::string>()
                                   : std::string("web")] { Acknowledge(id, by, std::string()); })) {
      return error(503, "the station is too busy to take an acknowledgement now; try again");
    }
    return json(202, {{"queued", body["id"]}});
  }
  if (r.path == "/api/commands") {
    if (!tracker) return error(404, "this station does not command (start it with --command)");
    if (only("GET")) return json(200, {{"commands", RecentCommandsJson(*tracker)}});
    if (!only("POST")) return error(405, "GET or POST");
    auto parsed = CommandRequestFromJson(nlohmann::json::parse(r.body, nullptr, false), "web");
    if (!parsed.ok()) return error(400, parsed.error().message());
    const CommandRequest& command = *parsed;
    CommandTracker::Transitions transitions;
    const uint64_t id = tracker->Submit(command, RoverNow(), Clock::now(), transitions);
    Publish(transitions);
    const ground::v1::GroundCommand& t = transitions.back();
    const bool rejected = t.stage() == ground::v1::COMMAND_STAGE_REJECTED;
    return json(rejected ? 422 : 202,
                {{"command_id", id}, {"stage", StageName(t.stage())}, {"detail", t.detail()}});
  }
  if (!r.path.starts_with("/api/") && only("GET")) {
    if (auto file = web_files->Serve(r.path)) return *file;
  }
  return error(404, fmt::format("no such resource: {}", Quote(r.path, 200)));
}

bool Station::Impl::Authorized(const HttpRequest& r) const {
  if (http_token.empty()) return true;
  if (r.authorization == "Bearer " + http_token) return true;
  const std::string cookie = "lgs_token=" + http_token;
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

std::optional<HttpResponse> Station::Impl::UpgradeHttp(const HttpRequest& r,
                                                       boost::beast::tcp_stream& stream,
                                                       HttpServer::Request& request) {
  if (!Authorized(r)) return error(401, "this endpoint needs the station's HTTP token");
  if (r.path != "/api/realtime") {
    return error(404, fmt::format("no WebSocket at {}", Quote(r.path, 200)));
  }
  realtime->Accept(std::move(stream), std::move(request));
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

struct TimeRange {
  uint64_t start_ns = 0, end_ns = 0;
};

Result<TimeRange> ParseRange(const std::string& query) {
  const auto start = QueryNumber(query, "start");
  const auto end = QueryNumber(query, "end");
  if (!start || !end) {
    return Status::Error("start and end are needed, in ms since 1970 (Open MCT's utc)");
  }
  if (*start < 0 || *end < *start) {
    return Status::Error("the range must have 0 <= start <= end");
  }
  if (*end - *start > kMaxHistoryRangeMs) {
    return Status::Error("the range is longer than 31 days; ask for less");
  }
  return TimeRange{static_cast<uint64_t>(*start * 1e6), static_cast<uint64_t>(*end * 1e6)};
}

}  // namespace

HttpResponse Station::Impl::HandleHistory(const HttpRequest& r) {
  const std::string key = QueryText(r.query, "key");
  HistoryQuery q;
  q.field = FindTelemetryField(key);
  if (q.field == nullptr) {
    return error(404, fmt::format("unknown field '{}' (see /api/dictionary)", Quote(key)));
  }
  auto range = ParseRange(r.query);
  if (!range.ok()) return error(400, range.error().message());
  q.start_ns = range->start_ns;
  q.end_ns = range->end_ns;
  const std::string strategy = QueryText(r.query, "strategy");
  if (strategy == "latest") {
    q.strategy = HistoryStrategy::kLatest;
    q.size = 1;
  } else if (strategy == "minmax") {
    q.strategy = HistoryStrategy::kMinMax;
  } else if (!strategy.empty()) {
    return error(400, fmt::format("unknown strategy '{}' (latest, minmax)", Quote(strategy, 40)));
  }
  if (!QueryText(r.query, "size").empty()) {
    const auto size = QueryNumber(r.query, "size");
    if (!size || *size < 1 || *size > kMaxHistoryBuckets) {
      return error(400, fmt::format("size must be 1..{}", kMaxHistoryBuckets));
    }
    q.size = static_cast<size_t>(*size);
  }
  if (!history) return HttpResponse{200, "application/json", "[]"};  // nothing is recorded
  auto result = history->Query(q);
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
                      {"X-History-Truncated", result->truncated ? "true" : "false"}};
  return response;
}

HttpResponse Station::Impl::HandleTraverse(const HttpRequest& r) {
  auto range = ParseRange(r.query);
  if (!range.ok()) return error(400, range.error().message());
  nlohmann::json path = nlohmann::json::array(), hazards = nlohmann::json::array();
  if (history) {
    auto result = history->Traverse(range->start_ns, range->end_ns, 5000);
    if (!result.ok()) return error(500, result.error().message());
    for (const TraversePoint& p : result->path) {
      path.push_back({static_cast<double>(p.ground_ns) / 1e6, p.x_m, p.y_m});
    }
    for (const HazardCell& h : result->hazards) hazards.push_back({h.x_m, h.y_m, h.size_m, h.kind});
  }
  return HttpResponse{200, "application/json",
                      text::JsonDump(nlohmann::json{{"path", path}, {"hazards", hazards}})};
}

}  // namespace lgs::station
