// A WebSocket session of the realtime feed (Beast's chat-multi "websocket session"): the
// client's subscriptions, its queue of batches (bounded: the oldest ticks go first and are
// counted), its replies, and the rules a client must keep. Internal to gs_web; the Asio thread
// only.
#pragma once

#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "shared_state.h"

namespace lgs::station {

class WebSocketSession : public std::enable_shared_from_this<WebSocketSession> {
 public:
  WebSocketSession(std::shared_ptr<RealtimeHub> server, beast::tcp_stream stream)
      : server_(std::move(server)), ws_(std::move(stream)) {}

  void Start(Request request);

  void Read();

  // Queues one tick's samples of this client's fields (shared with every client that has the
  // same subscriptions); the oldest ticks go when the queue holds too many samples.
  void Push(std::shared_ptr<const std::string> body, size_t samples);

  void Pump();

  void Close();

  const std::set<const TelemetryField*>& subscriptions() const { return subscriptions_; }
  // One bit per field of AllTelemetryFields(): clients with equal masks share their batches.
  const std::vector<bool>& mask() const { return mask_; }

 private:
  void Reply(nlohmann::json message);

  void Bad(const std::string& why, nlohmann::json extra = nlohmann::json::object());

  void OnRead(beast::error_code ec);

  void Handle(const std::string& text);

  void Gone();

  std::shared_ptr<RealtimeHub> server_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer in_;
  std::set<const TelemetryField*> subscriptions_;
  struct Pending {
    std::shared_ptr<const std::string> body;
    size_t samples = 0;
  };
  std::deque<Pending> pending_;
  size_t pending_samples_ = 0;
  std::vector<bool> mask_ = std::vector<bool>(AllTelemetryFields().size());
  std::deque<std::string> replies_;
  std::string out_;
  std::vector<asio::const_buffer> buffers_;
  std::vector<std::shared_ptr<const std::string>> sending_;  // kept alive while written
  uint64_t unreported_drops_ = 0;
  size_t bad_ = 0;
  bool writing_ = false, closing_ = false, closed_ = false;
};

}  // namespace lgs::station
