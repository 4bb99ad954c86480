#include "support/http.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace lgs::test {

Reply Get(int port, const std::string& target,
          const std::vector<std::pair<boost::beast::http::field, std::string>>& headers) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  beast::error_code ec;
  socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)}, ec);
  if (ec) return {};
  http::request<http::empty_body> req(http::verb::get, target, 11);
  req.set(http::field::host, "localhost");
  for (const auto& [name, value] : headers) req.set(name, value);
  http::write(socket, req, ec);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  http::read(socket, buffer, parser, ec);
  if (ec) return {};
  Reply r{parser.get().result_int(), parser.get().body(), {}};
  for (const auto& field : parser.get()) {
    r.headers[std::string(field.name_string())] = std::string(field.value());
  }
  return r;
}

}  // namespace lgs::test
