#include "groundstation/web_server.h"

#include <fmt/format.h>

#include "transport/control_channel.h"

namespace lgs::station {

namespace {

struct Address {
  std::string host;
  uint16_t port = 0;
};

Result<Address> ParseAddress(const std::string& text) {
  const size_t colon = text.rfind(':');
  int port = -1;
  if (colon != std::string::npos) {
    try {
      port = std::stoi(text.substr(colon + 1));
    } catch (const std::exception&) {
      port = -1;
    }
  }
  if (colon == std::string::npos || port < 0 || port > 65535) {
    return Status::Error(fmt::format("--http '{}' is not ADDRESS:PORT", text));
  }
  return Address{text.substr(0, colon), static_cast<uint16_t>(port)};
}

bool IsLoopback(const std::string& host) {
  return host.rfind("127.", 0) == 0 || host == "::1";
}

}  // namespace

Status WebOptions::Validate() const {
  if (!enabled()) return Status::Ok();
  auto parsed = ParseAddress(address);
  if (!parsed.ok()) return parsed.error();
  if (!IsLoopback(parsed->host) && !remote) {
    return Status::Error(fmt::format(
        "--http {} is not a loopback address: anyone on that network could reach the station; "
        "add --http-remote (requests then need the token)",
        address));
  }
  return Status::Ok();
}

WebServer::WebServer(boost::asio::io_context& io, WebOptions options, std::string rover_id,
                     std::string recording_directory, WebBackend& backend, Logger& log)
    : io_(io),
      options_(std::move(options)),
      rover_id_(std::move(rover_id)),
      recording_directory_(std::move(recording_directory)),
      backend_(backend),
      log_(log) {}

WebServer::~WebServer() = default;

Status WebServer::Start() {
  if (!options_.enabled()) return Status::Ok();
  if (Status s = options_.Validate(); !s.ok()) return s;
  const Address address = *ParseAddress(options_.address);
  HttpOptions o;
  o.log = &log_;
  o.address = address.host;
  o.port = address.port;
  // Remote access always needs the token; on loopback an explicit --http-token asks for it too
  // (other users of a shared ground-station host can reach loopback).
  if (!IsLoopback(address.host) || !options_.token_path.empty()) {
    if (Status s = transport::PrepareControlDirectory(transport::DefaultControlDirectory());
        !s.ok() && options_.token_path.empty()) {
      return s;
    }
    const std::string path =
        options_.token_path.empty()
            ? fmt::format("{}/{}.http-token", transport::DefaultControlDirectory(), rover_id_)
            : options_.token_path;
    auto token = transport::CreateControlToken(path);
    if (!token.ok()) return token.error();
    token_ = std::move(*token);
    log_.Info("HTTP token in {}", path);
  }
  feed_ = std::make_unique<RealtimeFeed>(options_.realtime.packets_per_stream_per_batch);
  realtime_ = std::make_unique<RealtimeServer>(io_, *feed_, options_.realtime);
  if (!recording_directory_.empty()) {
    history_ = std::make_unique<HistoryStore>(recording_directory_, rover_id_, log_);
  }
  files_ = std::make_unique<StaticFiles>(std::vector<StaticFiles::Mount>{
      {"/", options_.web_root.empty() ? std::string(LGS_WEB_DIR) : options_.web_root, "no-cache"},
      {"/openmct/",
       options_.openmct_root.empty() ? std::string(LGS_OPENMCT_DIR) : options_.openmct_root,
       "max-age=3600"}});
  http_ = std::make_unique<HttpServer>(
      io_, o, [this](const HttpRequest& r) { return Handle(r); },
      [this](const HttpRequest& r, boost::beast::tcp_stream& stream, HttpServer::Request& request) {
        return Upgrade(r, stream, request);
      });
  if (Status s = http_->Start(); !s.ok()) {
    http_.reset();
    realtime_.reset();
    feed_.reset();
    if (options_.address_explicit) return s;
    log_.Warn("{}; running without the web endpoint (give --http another port)", s.message());
    return Status::Ok();
  }
  realtime_->Start();
  log_.Info("serving HTTP on http://{}:{}/", o.address, http_->port());
  return Status::Ok();
}

void WebServer::Stop() {
  if (http_) http_->Stop();
  if (realtime_) realtime_->Stop();
}

}  // namespace lgs::station
