// The realtime hub: the state every WebSocket session of the realtime feed shares (Beast's
// chat-multi "shared state") — the sessions, what each subscribed to, the batch timer — and the
// fan-out that turns one tick of the feed into one body per distinct set of subscriptions.
// Internal to gs_web; the Asio thread only.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "groundstation/realtime.h"
#include "groundstation/telemetry_fields.h"

namespace lgs::station {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using Request = RealtimeServer::Request;

class WebSocketSession;

inline size_t FieldIndex(const TelemetryField* field) {
  return static_cast<size_t>(field - AllTelemetryFields().data());
}

struct RealtimeHub : std::enable_shared_from_this<RealtimeHub> {
  RealtimeHub(asio::io_context& io, RealtimeFeed& feed, RealtimeOptions options)
      : io(io), feed(feed), options(options), timer(io) {}

  void Accept(beast::tcp_stream stream, Request request);

  void Remove(WebSocketSession* session);

  void SubscriptionsChanged();

  void Tick();

  // Every sample of the tick is formatted once; every distinct set of subscriptions gets one
  // body, shared by all clients with that set (twenty browsers on the same layout cost little
  // more than one).
  void Deliver();

  asio::io_context& io;
  RealtimeFeed& feed;
  RealtimeOptions options;
  asio::steady_timer timer;
  std::map<WebSocketSession*, std::shared_ptr<WebSocketSession>> sessions;
  std::array<std::vector<const TelemetryField*>, protocol::kStreamCount> by_stream;
  struct TickSample {
    size_t field, begin, end;  // field index; its datum in `text`
  };
  std::vector<TickSample> tick;
  std::string text;
  RealtimeStats stats;
};

}  // namespace lgs::station
