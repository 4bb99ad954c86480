#include "groundstation/http_server.h"

#include <fmt/format.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>

#include "protocol/text.h"

namespace lgs::station {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Request headers beyond this are refused (431) before any body is read.
constexpr size_t kMaxHeaderBytes = 16 * 1024;

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& io, HttpOptions o, Handler h, UpgradeHandler u)
      : io(io), options(std::move(o)), handler(std::move(h)), upgrade(std::move(u)), acceptor(io) {}

  class Session : public std::enable_shared_from_this<Session> {
   public:
    Session(std::shared_ptr<Impl> server, tcp::socket socket, asio::ip::address peer)
        : server_(std::move(server)), stream_(std::move(socket)), peer_(peer) {}
    ~Session() { --server_->connections; }

    // Waiting for a request (not handling or answering one) since when.
    bool waiting() const { return waiting_; }
    std::chrono::steady_clock::time_point waiting_since() const { return waiting_since_; }
    const asio::ip::address& peer() const { return peer_; }
    // Closes a connection that waits for a request, to make room for another.
    void Evict() {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream_.socket().close(ignored);
    }

    void Read() {
      parser_.emplace();
      parser_->header_limit(kMaxHeaderBytes);
      parser_->body_limit(server_->options.max_body_bytes);
      waiting_ = true;
      waiting_since_ = std::chrono::steady_clock::now();
      stream_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>(server_->options.request_timeout_s)));
      http::async_read(
          stream_, buffer_, *parser_,
          [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
    }

   private:
    void OnRead(beast::error_code ec) {
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
          return Write({400, "application/json", ErrorBody("no WebSocket here")}, false,
                       req.version());
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

    static std::string ErrorBody(std::string_view text) {
      return text::JsonDump(nlohmann::json{{"error", text::SanitizeUtf8(text, 512)}});
    }

    HttpResponse InternalError(const std::exception& e) {
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

    void Write(const HttpResponse& r, bool keep_alive, unsigned version) {
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

    void Close() {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

    std::shared_ptr<Impl> server_;
    beast::tcp_stream stream_;
    asio::ip::address peer_;
    bool waiting_ = false;
    std::chrono::steady_clock::time_point waiting_since_{};
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
  };

  void Accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) self->Admit(std::move(socket));
      self->Accept();
    });
  }

  // A new connection: admitted, if need be in place of the one that has waited longest for a
  // request (of its own address first, when that address holds too many), or refused with 503.
  void Admit(tcp::socket socket) {
    beast::error_code ec;
    const auto peer = socket.remote_endpoint(ec).address();
    if (ec) return;
    std::erase_if(sessions, [](const std::weak_ptr<Session>& w) { return w.expired(); });
    const auto now = std::chrono::steady_clock::now();
    const auto grace = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(options.eviction_grace_s));
    // The longest-waiting connection (of `only` when given) past its grace, if any.
    const auto longest_waiting = [&](const asio::ip::address* only) {
      std::shared_ptr<Session> pick;
      for (const auto& w : sessions) {
        auto s = w.lock();
        if (!s || !s->waiting() || now - s->waiting_since() < grace) continue;
        if (only != nullptr && s->peer() != *only) continue;
        if (!pick || s->waiting_since() < pick->waiting_since()) pick = std::move(s);
      }
      return pick;
    };
    std::shared_ptr<Session> evict;
    if (!peer.is_loopback()) {
      size_t same = 0;
      for (const auto& w : sessions) {
        if (auto s = w.lock(); s && s->peer() == peer) ++same;
      }
      if (same >= options.max_connections_per_address) {
        evict = longest_waiting(&peer);
        if (!evict) return Refuse(socket);
      }
    }
    if (!evict && connections >= options.max_connections) {
      evict = longest_waiting(nullptr);
      if (!evict) return Refuse(socket);
    }
    if (evict) {
      ++stats.evicted_connections;
      evict->Evict();
    }
    ++connections;
    auto session = std::make_shared<Session>(shared_from_this(), std::move(socket), peer);
    sessions.push_back(session);
    session->Read();
  }

  void Refuse(tcp::socket& socket) {
    ++stats.refused_connections;
    static constexpr char kBusy[] =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    beast::error_code ignored;
    asio::write(socket, asio::buffer(kBusy, sizeof kBusy - 1), ignored);
  }

  asio::io_context& io;
  HttpOptions options;
  Handler handler;
  UpgradeHandler upgrade;
  tcp::acceptor acceptor;
  size_t connections = 0;
  std::vector<std::weak_ptr<Session>> sessions;
  HttpStats stats;
  std::chrono::steady_clock::time_point last_internal_log{};
};

HttpServer::HttpServer(asio::io_context& io, HttpOptions options, Handler handler,
                       UpgradeHandler upgrade)
    : impl_(
          std::make_shared<Impl>(io, std::move(options), std::move(handler), std::move(upgrade))) {}

HttpServer::~HttpServer() {
  Stop();
}

Status HttpServer::Start() {
  beast::error_code ec;
  const auto address = asio::ip::make_address(impl_->options.address, ec);
  if (ec) {
    return Status::Error(fmt::format("'{}' is not an IP address", impl_->options.address));
  }
  const tcp::endpoint endpoint(address, impl_->options.port);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Error(fmt::format("cannot serve HTTP on {}:{}: {}", impl_->options.address,
                                     impl_->options.port, ec.message()));
  }
  impl_->Accept();
  return Status::Ok();
}

void HttpServer::Stop() {
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

uint16_t HttpServer::port() const {
  beast::error_code ec;
  const auto endpoint = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

const HttpStats& HttpServer::stats() const {
  return impl_->stats;
}

}  // namespace lgs::station
