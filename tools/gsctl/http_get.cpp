#include "http_get.h"

#include <fmt/format.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>

namespace lgs::gsctl {

Result<HttpAnswer> HttpGet(const std::string& base, const std::string& target,
                           const std::string& token, std::chrono::milliseconds timeout,
                           size_t max_body) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  std::string_view rest = base;
  if (rest.starts_with("http://")) rest.remove_prefix(7);
  if (rest.starts_with("https://")) {
    return Status::Error(
        fmt::format("'{}': the station serves plain HTTP (https is not spoken)", base));
  }
  while (rest.ends_with('/')) rest.remove_suffix(1);
  const size_t colon = rest.rfind(':');
  uint16_t port = 80;
  std::string host(rest);
  if (colon != std::string_view::npos) {
    host = std::string(rest.substr(0, colon));
    const std::string_view p = rest.substr(colon + 1);
    const auto r = std::from_chars(p.data(), p.data() + p.size(), port);
    if (r.ec != std::errc() || r.ptr != p.data() + p.size() || port == 0) {
      return Status::Error(fmt::format("'{}' has no valid port (HOST:PORT)", base));
    }
  }
  if (host.empty()) return Status::Error(fmt::format("'{}' names no host (HOST:PORT)", base));
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  beast::error_code ec;
  boost::asio::ip::tcp::resolver resolver(io);
  const auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return Status::Error(fmt::format("cannot resolve '{}': {}", host, ec.message()));
  stream.expires_after(timeout);
  // Asynchronous calls run to completion here so the timeout holds for every step.
  const auto run = [&] {
    io.restart();
    io.run();
  };
  stream.async_connect(endpoints, [&](beast::error_code e, const auto&) { ec = e; });
  run();
  if (ec) {
    return Status::Error(
        fmt::format("no station web endpoint at {}:{} ({})", host, port, ec.message()));
  }
  http::request<http::empty_body> request(http::verb::get, target, 11);
  request.set(http::field::host, host);
  if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
  http::async_write(stream, request, [&](beast::error_code e, size_t) { ec = e; });
  run();
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_body);
  if (!ec) {
    http::async_read(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
    run();
  }
  if (ec) {
    return Status::Error(
        fmt::format("no answer from {}:{}{}: {}", host, port, target, ec.message()));
  }
  HttpAnswer answer;
  answer.status = parser.get().result_int();
  answer.content_type = std::string(parser.get()[http::field::content_type]);
  answer.body = std::move(parser.get().body());
  return answer;
}

}  // namespace lgs::gsctl
