// HttpServer: the station's HTTP endpoint (Boost.Beast) on its Asio thread. It accepts
// connections, reads one request at a time per connection (bounded header and body sizes, an
// deadline for the whole request), hands each to the handler and writes the answer; a bad request
// gets a 4xx and the connection goes on or closes, never the server. At most `max_connections`
// at once: a new one then displaces the connection that has waited longest for a request
// (slowloris clients, idle keep-alives), and only when every connection is busy with a request
// is it refused with 503. A request asking for a WebSocket upgrade goes to the upgrade handler,
// which either takes the connection over or answers it. Not thread-safe: everything runs on the
// io_context's thread.
#pragma once

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "protocol/logger.h"
#include "protocol/status.h"

namespace lgs::station {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query as sent
  std::string path;    // without the query
  std::string query;
  std::string body;
  std::string authorization;  // the Authorization header, if any
  std::string cookie;         // the Cookie header, if any
};

struct HttpResponse {
  HttpResponse() = default;
  HttpResponse(unsigned status, std::string content_type, std::string body)
      : status(status), content_type(std::move(content_type)), body(std::move(body)) {}
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string cache_control = "no-store";
  std::vector<std::pair<std::string, std::string>> headers;  // extra: Location, Set-Cookie
};

struct HttpOptions {
  Logger* log = nullptr;  // handler failures; not owned; null = nothing logged
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0 = any free port (tests)
  size_t max_body_bytes = 64 * 1024;
  size_t max_connections = 64;
  // A request must arrive whole within this long of the connection opening or of the previous
  // answer (a kept-alive browser connection that idles longer is closed; it reconnects).
  double request_timeout_s = 10.0;
  // When all connections are taken, the one that has waited longest for its request is closed
  // to make room (after this much grace), so a few slow or idle clients cannot take the UI away;
  // one address other than loopback holds at most `max_connections_per_address`.
  double eviction_grace_s = 0.5;
  size_t max_connections_per_address = 16;
};

struct HttpStats {
  uint64_t requests = 0, bad_requests = 0, refused_connections = 0;
  uint64_t evicted_connections = 0;  // closed while waiting for a request, to make room
  uint64_t internal_errors = 0;      // handlers that threw: answered 500 without their text
};

struct HttpListener;  // the listener and the state its sessions share (web/src/listener.h)

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  // Takes the connection (moves `stream` and `request` out) and returns nothing, or returns the
  // answer to send instead (then the connection closes).
  using UpgradeHandler = std::function<std::optional<HttpResponse>(
      const HttpRequest&, boost::beast::tcp_stream& stream, Request& request)>;
  HttpServer(boost::asio::io_context& io, HttpOptions options, Handler handler,
             UpgradeHandler upgrade = {});
  ~HttpServer();

  // Binds and starts accepting; fails with the reason (address in use, bad address).
  Status Start();
  void Stop();
  uint16_t port() const;  // the bound port
  const HttpStats& stats() const;

 private:
  std::shared_ptr<HttpListener> impl_;
};

}  // namespace lgs::station
