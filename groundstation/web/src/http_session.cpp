#include "http_session.h"

#include <fmt/format.h>

#include <boost/beast/websocket/rfc6455.hpp>
#include <nlohmann/json.hpp>

#include "protocol/text.h"

namespace lgs::station {

HttpSession::~HttpSession() {
  --server_->connections;
}

void HttpSession::Evict() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
}

void HttpSession::Read() {
  parser_.emplace();
  parser_->header_limit(kMaxHeaderBytes);
  parser_->body_limit(server_->options.max_body_bytes);
  waiting_ = true;
  waiting_since_ = std::chrono::steady_clock::now();
  stream_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(server_->options.request_timeout_s)));
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
}

void HttpSession::OnRead(beast::error_code ec) {
  waiting_ = false;
  if (ec == asio::error::bad_descriptor) return;  // evicted
  if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
      ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
    return Close();
  }
  if (ec) {
    // Malformed or oversized: say so, then close (the stream is out of sync).
    ++server_->stats.bad_requests;
    const unsigned status = ec == http::error::body_limit     ? 413
                            : ec == http::error::header_limit ? 431
                                                              : 400;
    HttpResponse r{status, "application/json",
                   ErrorBody(fmt::format("bad request: {}", ec.message()))};
    return Write(r, false, 11);
  }
  const auto& req = parser_->get();
  ++server_->stats.requests;
  HttpRequest request;
  request.method = std::string(req.method_string());
  request.target = std::string(req.target());
  const size_t q = request.target.find('?');
  request.path = request.target.substr(0, q);
  request.query = q == std::string::npos ? "" : request.target.substr(q + 1);
  request.body = req.body();
  if (auto auth = req.find(http::field::authorization); auth != req.end()) {
    request.authorization = std::string(auth->value());
  }
  if (auto cookie = req.find(http::field::cookie); cookie != req.end()) {
    request.cookie = std::string(cookie->value());
  }
  HttpResponse response;
  if (beast::websocket::is_upgrade(req)) {
    if (!server_->upgrade) {
      return Write({400, "application/json", ErrorBody("no WebSocket here")}, false, req.version());
    }
    Request taken = parser_->release();
    std::optional<HttpResponse> refusal;
    try {
      refusal = server_->upgrade(request, stream_, taken);
    } catch (const std::exception& e) {
      refusal = InternalError(e);
    }
    if (!refusal) return;  // the connection now belongs to the upgrade handler
    return Write(*refusal, false, taken.version());
  }
  try {
    response = server_->handler(request);
  } catch (const std::exception& e) {
    // The exception's text may carry what the client sent, and says nothing useful to it.
    response = InternalError(e);
  }
  if (response.status >= 400 && response.status < 500) ++server_->stats.bad_requests;
  Write(response, req.keep_alive(), req.version());
}

std::string HttpSession::ErrorBody(std::string_view text) {
  return text::JsonDump(nlohmann::json{{"error", text::SanitizeUtf8(text, 512)}});
}

HttpResponse HttpSession::InternalError(const std::exception& e) {
  ++server_->stats.internal_errors;
  const auto now = std::chrono::steady_clock::now();
  if (server_->stats.internal_errors == 1 ||
      now - server_->last_internal_log >= std::chrono::seconds(5)) {
    server_->last_internal_log = now;
    OrNull(server_->options.log)
        .Error("HTTP handler failed: {} ({} so far)", text::EscapeForTerminal(e.what(), 200),
               server_->stats.internal_errors);
  }
  return {500, "application/json", ErrorBody("internal error (the station logged it)")};
}

void HttpSession::Write(const HttpResponse& r, bool keep_alive, unsigned version) {
  auto res = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(r.status), version);
  res->set(http::field::server, "lunar-groundstation");
  res->set(http::field::content_type, r.content_type);
  res->set(http::field::cache_control, r.cache_control);
  for (const auto& [name, value] : r.headers) res->set(name, value);
  res->keep_alive(keep_alive);
  res->body() = r.body;
  res->prepare_payload();
  http::async_write(stream_, *res,
                    [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                      if (ec || !keep_alive) return self->Close();
                      self->Read();
                    });
}

void HttpSession::Close() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace lgs::station
