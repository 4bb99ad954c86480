// HttpServer over its listener (listener.h) and sessions (http_session.h).
#include "listener.h"

#include <fmt/format.h>

#include "http_session.h"

namespace lgs::station {

void HttpListener::Accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
    if (!ec) self->Admit(std::move(socket));
    self->Accept();
  });
}

void HttpListener::Admit(tcp::socket socket) {
  beast::error_code ec;
  const auto peer = socket.remote_endpoint(ec).address();
  if (ec) return;
  std::erase_if(sessions, [](const std::weak_ptr<HttpSession>& w) { return w.expired(); });
  const auto now = std::chrono::steady_clock::now();
  const auto grace = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(options.eviction_grace_s));
  // The longest-waiting connection (of `only` when given) past its grace, if any.
  const auto longest_waiting = [&](const asio::ip::address* only) {
    std::shared_ptr<HttpSession> pick;
    for (const auto& w : sessions) {
      auto s = w.lock();
      if (!s || !s->waiting() || now - s->waiting_since() < grace) continue;
      if (only != nullptr && s->peer() != *only) continue;
      if (!pick || s->waiting_since() < pick->waiting_since()) pick = std::move(s);
    }
    return pick;
  };
  std::shared_ptr<HttpSession> evict;
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
  auto session = std::make_shared<HttpSession>(shared_from_this(), std::move(socket), peer);
  sessions.push_back(session);
  session->Read();
}

void HttpListener::Refuse(tcp::socket& socket) {
  ++stats.refused_connections;
  static constexpr char kBusy[] =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  beast::error_code ignored;
  asio::write(socket, asio::buffer(kBusy, sizeof kBusy - 1), ignored);
}

HttpServer::HttpServer(asio::io_context& io, HttpOptions options, Handler handler,
                       UpgradeHandler upgrade)
    : impl_(std::make_shared<HttpListener>(io, std::move(options), std::move(handler),
                                           std::move(upgrade))) {}

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
