// An HTTP session (Beast's chat-multi "http session"): one connection, one request at a time,
// bounded header and body, a deadline for the whole request; it hands each request to the
// handler, or a WebSocket upgrade to the upgrade handler, and writes the answer. A bad request
// gets a 4xx and the connection goes on or closes, never the server. Internal to gs_web; the
// Asio thread only.
#pragma once

#include <boost/beast/http.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "listener.h"

namespace lgs::station {

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(std::shared_ptr<HttpListener> server, tcp::socket socket, asio::ip::address peer)
      : server_(std::move(server)), stream_(std::move(socket)), peer_(peer) {}
  ~HttpSession();

  // Waiting for a request (not handling or answering one) since when.
  bool waiting() const { return waiting_; }
  std::chrono::steady_clock::time_point waiting_since() const { return waiting_since_; }
  const asio::ip::address& peer() const { return peer_; }
  // Closes a connection that waits for a request, to make room for another.
  void Evict();

  void Read();

 private:
  void OnRead(beast::error_code ec);

  static std::string ErrorBody(std::string_view text);

  HttpResponse InternalError(const std::exception& e);

  void Write(const HttpResponse& r, bool keep_alive, unsigned version);

  void Close();

  std::shared_ptr<HttpListener> server_;
  beast::tcp_stream stream_;
  asio::ip::address peer_;
  bool waiting_ = false;
  std::chrono::steady_clock::time_point waiting_since_{};
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

}  // namespace lgs::station
