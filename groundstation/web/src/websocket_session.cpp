#include "websocket_session.h"

#include <fmt/format.h>

#include "protocol/text.h"

namespace lgs::station {

void WebSocketSession::Start(Request request) {
  ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "lunar-groundstation"); }));
  ws_.read_message_max(server_->options.max_message_bytes);
  ws_.async_accept(request, [self = shared_from_this()](beast::error_code ec) {
    if (ec) return self->Gone();
    self->Read();
  });
}

void WebSocketSession::Read() {
  ws_.async_read(in_,
                 [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
}

void WebSocketSession::Push(std::shared_ptr<const std::string> body, size_t samples) {
  pending_.push_back({std::move(body), samples});
  pending_samples_ += samples;
  while (pending_samples_ > server_->options.max_queue_samples && pending_.size() > 1) {
    pending_samples_ -= pending_.front().samples;
    unreported_drops_ += pending_.front().samples;
    server_->stats.samples_dropped += pending_.front().samples;
    pending_.pop_front();
  }
}

void WebSocketSession::Pump() {
  if (writing_ || closed_) return;
  buffers_.clear();
  if (!replies_.empty()) {
    out_ = std::move(replies_.front());
    replies_.pop_front();
    buffers_.push_back(asio::buffer(out_));
  } else if (!pending_.empty()) {
    // One message: our header, then the shared bodies as they are (no copies).
    out_ = fmt::format("{{\"type\":\"data\",\"dropped\":{},\"data\":[", unreported_drops_);
    buffers_.push_back(asio::buffer(out_));
    size_t samples = 0;
    sending_.clear();
    while (!pending_.empty() && (samples == 0 || samples + pending_.front().samples <=
                                                     server_->options.max_batch_samples)) {
      if (samples > 0) buffers_.push_back(asio::buffer(",", 1));
      samples += pending_.front().samples;
      pending_samples_ -= pending_.front().samples;
      sending_.push_back(std::move(pending_.front().body));
      buffers_.push_back(asio::buffer(*sending_.back()));
      pending_.pop_front();
    }
    buffers_.push_back(asio::buffer("]}", 2));
    unreported_drops_ = 0;
    server_->stats.samples_sent += samples;
  } else {
    return;
  }
  writing_ = true;
  ++server_->stats.messages_sent;
  ws_.text(true);
  ws_.async_write(buffers_, [self = shared_from_this()](beast::error_code ec, size_t) {
    self->writing_ = false;
    self->sending_.clear();
    if (ec) return self->Gone();
    self->Pump();
  });
}

void WebSocketSession::Close() {
  if (closed_) return;
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(ws_).close();
  Gone();
}

void WebSocketSession::Reply(nlohmann::json message) {
  // A client that asks faster than it reads is answered only so far.
  if (replies_.size() >= 64) return Close();
  replies_.push_back(text::JsonDump(message));
  Pump();
}

void WebSocketSession::Bad(const std::string& why, nlohmann::json extra) {
  ++server_->stats.bad_messages;
  extra["type"] = "error";
  extra["error"] = why;
  Reply(std::move(extra));
  if (++bad_ > server_->options.max_bad_messages && !closed_) {
    // Policy violation: say why in the close frame, then let the read loop end.
    closing_ = true;
    ws_.async_close(
        websocket::close_reason(websocket::close_code::policy_error, "too many bad messages"),
        [self = shared_from_this()](beast::error_code) { self->Gone(); });
  }
}

void WebSocketSession::OnRead(beast::error_code ec) {
  if (ec == websocket::error::message_too_big) ++server_->stats.bad_messages;  // Beast sent 1009
  if (ec) return Gone();  // closed, reset, timed out, or oversized
  const std::string text = beast::buffers_to_string(in_.data());
  in_.consume(in_.size());
  if (closing_) return;
  if (!ws_.got_text()) {
    Bad("binary messages are not understood; send JSON text");
  } else {
    Handle(text);
  }
  if (!closing_) Read();
}

void WebSocketSession::Handle(const std::string& text) {
  const nlohmann::json message = nlohmann::json::parse(text, nullptr, false);
  if (message.is_discarded() || !message.is_object()) {
    return Bad("not a JSON object; expected {\"subscribe\": [keys]} or {\"unsubscribe\": [keys]}");
  }
  const bool subscribe = message.contains("subscribe");
  const bool unsubscribe = message.contains("unsubscribe");
  if (subscribe == unsubscribe) {
    return Bad("expected exactly one of \"subscribe\" or \"unsubscribe\"");
  }
  const nlohmann::json& keys = message[subscribe ? "subscribe" : "unsubscribe"];
  if (!keys.is_array()) return Bad("the keys must be an array of field keys");
  nlohmann::json accepted = nlohmann::json::array(), unknown = nlohmann::json::array();
  bool over_limit = false;
  for (const nlohmann::json& key : keys) {
    const TelemetryField* field =
        key.is_string() ? FindTelemetryField(key.get_ref<const std::string&>()) : nullptr;
    if (field == nullptr) {
      if (unknown.size() < 20)
        unknown.push_back(text::SanitizeUtf8(
            key.is_string() ? key.get_ref<const std::string&>() : text::JsonDump(key), 100));
      continue;
    }
    if (subscribe) {
      if (!subscriptions_.contains(field) &&
          subscriptions_.size() >= server_->options.max_subscriptions) {
        over_limit = true;
        continue;
      }
      subscriptions_.insert(field);
    } else {
      subscriptions_.erase(field);
    }
    mask_[FieldIndex(field)] = subscribe;
    accepted.push_back(field->key);
  }
  if (!accepted.empty()) server_->SubscriptionsChanged();
  if (!accepted.empty() || keys.empty()) {
    Reply({{"type", subscribe ? "subscribed" : "unsubscribed"}, {"keys", accepted}});
  }
  if (!unknown.empty()) Bad("unknown field", {{"keys", unknown}});
  if (over_limit) {
    Bad(fmt::format("too many subscriptions (at most {} per client)",
                    server_->options.max_subscriptions));
  }
}

void WebSocketSession::Gone() {
  if (closed_) return;
  closed_ = true;
  server_->Remove(this);
}

}  // namespace lgs::station
