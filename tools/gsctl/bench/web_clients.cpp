#include "bench/web_clients.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "groundstation/telemetry_fields.h"
#include "http_get.h"

namespace lgs::gsctl::bench {

using Clock = std::chrono::steady_clock;

std::pair<unsigned, std::string> HttpGet(int port, const std::string& target) {
  auto answer = gsctl::HttpGet(fmt::format("127.0.0.1:{}", port), target);
  if (!answer.ok()) return {0, {}};
  return {answer->status, std::move(answer->body)};
}

WebClients::WebClients(int port, size_t count) {
  nlohmann::json keys = nlohmann::json::array();
  for (const station::TelemetryField& f : station::AllTelemetryFields()) keys.push_back(f.key);
  subscribe_ = nlohmann::json{{"subscribe", keys}}.dump();
  for (size_t i = 0; i < count; ++i) threads_.emplace_back([this, port] { Run(port); });
}

bool WebClients::WaitConnected(size_t count, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (connected_ < count && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return connected_ >= count;
}

void WebClients::Stop() {
  stop_ = true;
  {
    std::lock_guard lock(mutex_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void WebClients::Run(int port) {
  namespace websocket = boost::beast::websocket;
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19);
  boost::asio::io_context io;
  websocket::stream<boost::asio::ip::tcp::socket> ws(io);
  boost::beast::error_code ec;
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  do {
    ec = {};
    ws.next_layer().close(ec);
    ws.next_layer().connect(
        {boost::asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)}, ec);
    if (!ec) ws.handshake("localhost", "/api/realtime", ec);
    if (ec) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (ec && !stop_ && Clock::now() < deadline);
  if (ec) return;
  {
    std::lock_guard lock(mutex_);
    fds_.push_back(ws.next_layer().native_handle());
  }
  ws.read_message_max(256u << 20);
  ws.write(boost::asio::buffer(subscribe_), ec);
  boost::beast::flat_buffer buffer;
  while (!ec && buffer.size() == 0) {  // counted as connected once subscribed
    ws.read(buffer, ec);
    const std::string_view reply(static_cast<const char*>(buffer.data().data()),
                                 buffer.data().size());
    if (reply.find("\"subscribed\"") == std::string_view::npos) buffer.consume(buffer.size());
  }
  buffer.consume(buffer.size());
  ++connected_;
  while (!stop_ && !ec) {
    ws.read(buffer, ec);
    if (ec) break;
    ++messages_;
    bytes_ += buffer.size();
    buffer.consume(buffer.size());
  }
}

}  // namespace lgs::gsctl::bench
