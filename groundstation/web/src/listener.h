// The HTTP listener (Beast's chat-multi "listener" and the state its sessions share): it accepts
// connections, admits each (at most max_connections, 16 per non-loopback address; when full the
// connection that has waited longest for a request is evicted, and only when every one is busy
// is a new one refused with 503), and holds the handlers and counters every HTTP session uses.
// Internal to gs_web; the Asio thread only.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <chrono>
#include <memory>
#include <vector>

#include "groundstation/http_server.h"

namespace lgs::station {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Handler = HttpServer::Handler;
using UpgradeHandler = HttpServer::UpgradeHandler;
using Request = HttpServer::Request;

// Request headers beyond this are refused (431) before any body is read.
inline constexpr size_t kMaxHeaderBytes = 16 * 1024;

class HttpSession;

struct HttpListener : std::enable_shared_from_this<HttpListener> {
  HttpListener(asio::io_context& io, HttpOptions o, Handler h, UpgradeHandler u)
      : io(io), options(std::move(o)), handler(std::move(h)), upgrade(std::move(u)), acceptor(io) {}

  void Accept();

  // A new connection: admitted, if need be in place of the one that has waited longest for a
  // request (of its own address first, when that address holds too many), or refused with 503.
  void Admit(tcp::socket socket);

  void Refuse(tcp::socket& socket);

  asio::io_context& io;
  HttpOptions options;
  Handler handler;
  UpgradeHandler upgrade;
  tcp::acceptor acceptor;
  size_t connections = 0;
  std::vector<std::weak_ptr<HttpSession>> sessions;
  HttpStats stats;
  std::chrono::steady_clock::time_point last_internal_log{};
};

}  // namespace lgs::station
