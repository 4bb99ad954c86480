// WebServer: the station's web endpoint — the HTTP API (/api/...), the WebSocket realtime feed
// (/api/realtime), the Open MCT UI's files and the token that guards them when asked for. The
// routes read the station through a WebBackend (what the station knows) and history through the
// recordings. Parts: HttpServer (listener and HTTP sessions), RealtimeServer (WebSocket sessions
// and their shared feed), routes.cpp (the API).
//
// Not thread-safe: the Asio thread owns it, except feed(), which the ingest thread's
// RealtimeSink fills.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "groundstation/control_protocol.h"
#include "groundstation/history_store.h"
#include "groundstation/http_server.h"
#include "groundstation/limits.h"
#include "groundstation/map_sink.h"
#include "groundstation/realtime.h"
#include "groundstation/static_files.h"
#include "protocol/logger.h"
#include "protocol/status.h"

namespace lgs::station {

struct WebOptions {
  // Loopback by default; any other address needs `remote` and then every request must carry
  // the token written to `token_path` (Authorization: Bearer ...). A default address that cannot
  // be bound (another station has it) is a warning; one asked for explicitly is an error.
  std::string address = "127.0.0.1:8080";  // "none" = off
  bool address_explicit = false;
  bool remote = false;
  // "" = <control directory>/<rover>.http-token; given, the token is needed on loopback too.
  std::string token_path;
  // The UI's files: our page and plugin, and Open MCT's distribution ("" = the copies in the
  // source tree, groundstation/web/ui and node_modules/openmct/dist, installed by tools/setup).
  std::string web_root;
  std::string openmct_root;
  // The product archive (--products DIR) the images and files are served from; "" = none.
  std::string products_directory;
  RealtimeOptions realtime;

  bool enabled() const { return address != "none"; }
  [[nodiscard]] Status Validate() const;
};

// What the routes ask the station (Asio thread).
class WebBackend {
 public:
  virtual ~WebBackend() = default;
  // The limits checked, or null when limit checking is off.
  virtual const LimitSet* limits() const = 0;
  // The link's counts and the link watch (the summary's "link" shape, live).
  virtual nlohmann::json LinkStatus() const = 0;
  // The unresolved alarms (only asked with limits on).
  virtual nlohmann::json Alarms() const = 0;
  // Hands an acknowledgement to the alarms; false when the station is too busy to take it now.
  virtual bool Acknowledge(const std::string& id, const std::string& by) = 0;
  // Commanding: off (false) unless the station commands.
  virtual bool commanding() const = 0;
  virtual std::vector<control::CommandSummary> RecentCommands() const = 0;
  // Submits a command from the web; returns its id and its first stage.
  virtual std::pair<uint64_t, ground::v1::GroundCommand> Submit(const CommandRequest& command) = 0;
  // The file transfers in flight and recently finished (ProgressJson each), as last published by
  // the ingest thread; an empty array when products are off.
  virtual nlohmann::json Transfers() const = 0;
  // The site map as the ingest thread has built it so far (any thread; a cheap snapshot).
  virtual MapSnapshot SiteMap() const = 0;
  // The console's state banner and mission clock at wall time `now_ns`: {"rover": the rover's
  // state (ConsoleStateJson), "clock": UTC, SCET, light time, mission elapsed time, "link": the
  // link watch}. /api/state adds the commands.
  virtual nlohmann::json ConsoleState(int64_t now_ns) const = 0;
};

class WebServer {
 public:
  // `recording_directory` ("" none) is where history is read from.
  WebServer(boost::asio::io_context& io, WebOptions options, std::string rover_id,
            std::string recording_directory, WebBackend& backend, Logger& log);
  ~WebServer();

  // Binds and serves; without a web endpoint (off, or the default address taken) it is
  // Ok and running() is false.
  [[nodiscard]] Status Start();
  void Stop();
  bool running() const { return http_ != nullptr; }
  // The realtime feed the ingest thread fills (null when not running).
  RealtimeFeed* feed() { return feed_.get(); }

 private:
  HttpResponse Handle(const HttpRequest& r);
  bool Authorized(const HttpRequest& r) const;
  std::optional<HttpResponse> Upgrade(const HttpRequest& r, boost::beast::tcp_stream& stream,
                                      HttpServer::Request& request);
  HttpResponse HandleLink();
  HttpResponse HandleHistory(const HttpRequest& r);
  HttpResponse HandleTraverse(const HttpRequest& r);
  HttpResponse HandleSoilMeasurement(const HttpRequest& r);
  HttpResponse HandleMap();
  HttpResponse HandleMapImage(const HttpRequest& r);
  HttpResponse HandleCommands(const HttpRequest& r);
  HttpResponse HandleAck(const HttpRequest& r);
  HttpResponse HandleState();
  HttpResponse HandleTimeline(const HttpRequest& r);
  HttpResponse HandleProducts(const HttpRequest& r);
  HttpResponse HandleProductFile(const HttpRequest& r);
  HttpResponse HandleImages(const HttpRequest& r);
  HttpResponse HandleRecordedImage(const HttpRequest& r);

  boost::asio::io_context& io_;
  WebOptions options_;
  std::string rover_id_, recording_directory_;
  WebBackend& backend_;
  Logger& log_;
  std::string token_;
  // The realtime server uses the feed: declared after it, so destroyed before it.
  std::unique_ptr<RealtimeFeed> feed_;
  std::unique_ptr<RealtimeServer> realtime_;
  std::unique_ptr<HistoryStore> history_;
  std::unique_ptr<StaticFiles> files_;
  std::unique_ptr<HttpServer> http_;
};

}  // namespace lgs::station
