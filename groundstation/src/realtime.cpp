#include "groundstation/realtime.h"

#include <fmt/format.h>
#include <google/protobuf/message.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "groundstation/telemetry_fields.h"

namespace lgs::station {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

void RealtimeFeed::Offer(protocol::StreamId stream, uint64_t ground_ns, uint64_t onboard_ns,
                         std::span<const uint8_t> payload) {
  Packet packet{stream, ground_ns, onboard_ns,
                std::string(reinterpret_cast<const char*>(payload.data()), payload.size())};
  std::lock_guard lock(mutex_);
  auto& queue = queues_[static_cast<size_t>(stream)];
  ++offered_;
  if (queue.size() >= depth_) {
    queue.pop_front();
    ++dropped_;
  }
  queue.push_back(std::move(packet));
}

std::vector<RealtimeFeed::Packet> RealtimeFeed::TakeAll() {
  std::vector<Packet> out;
  std::lock_guard lock(mutex_);
  for (auto& queue : queues_) {
    std::move(queue.begin(), queue.end(), std::back_inserter(out));
    queue.clear();
  }
  return out;
}

uint64_t RealtimeFeed::offered() const {
  std::lock_guard lock(mutex_);
  return offered_;
}

uint64_t RealtimeFeed::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

struct RealtimeServer::Impl : std::enable_shared_from_this<RealtimeServer::Impl> {
  Impl(asio::io_context& io, RealtimeFeed& feed, RealtimeOptions options)
      : io(io), feed(feed), options(options), timer(io) {
    for (const protocol::StreamInfo& s : protocol::AllStreams()) {
      messages[static_cast<size_t>(s.id)].reset(s.prototype->New());
    }
  }

  class Session : public std::enable_shared_from_this<Session> {
   public:
    Session(std::shared_ptr<Impl> server, beast::tcp_stream stream)
        : server_(std::move(server)), ws_(std::move(stream)) {}

    void Start(Request request) {
      ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
      ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
        res.set(http::field::server, "lunar-groundstation");
      }));
      ws_.read_message_max(server_->options.max_message_bytes);
      ws_.async_accept(request, [self = shared_from_this()](beast::error_code ec) {
        if (ec) return self->Gone();
        self->Read();
      });
    }

    void Read() {
      ws_.async_read(
          in_, [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
    }

    // Adds one sample; the oldest goes when the queue is full.
    void Push(const std::string& datum) {
      if (queue_.size() >= server_->options.max_queue_samples) {
        queue_.pop_front();
        ++unreported_drops_;
        ++server_->stats.samples_dropped;
      }
      queue_.push_back(datum);
    }

    void Pump() {
      if (writing_ || closed_) return;
      if (!replies_.empty()) {
        out_ = std::move(replies_.front());
        replies_.pop_front();
      } else if (!queue_.empty()) {
        const size_t n = std::min(queue_.size(), server_->options.max_batch_samples);
        out_ = fmt::format("{{\"type\":\"data\",\"dropped\":{},\"data\":[", unreported_drops_);
        for (size_t i = 0; i < n; ++i) {
          if (i > 0) out_ += ',';
          out_ += queue_.front();
          queue_.pop_front();
        }
        out_ += "]}";
        unreported_drops_ = 0;
        server_->stats.samples_sent += n;
      } else {
        return;
      }
      writing_ = true;
      ++server_->stats.messages_sent;
      ws_.text(true);
      ws_.async_write(asio::buffer(out_),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        self->writing_ = false;
                        if (ec) return self->Gone();
                        self->Pump();
                      });
    }

    void Close() {
      if (closed_) return;
      beast::error_code ignored;
      beast::get_lowest_layer(ws_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
      beast::get_lowest_layer(ws_).close();
      Gone();
    }

    const std::set<const TelemetryField*>& subscriptions() const { return subscriptions_; }

   private:
    void Reply(nlohmann::json message) {
      // A client that asks faster than it reads is answered only so far.
      if (replies_.size() >= 64) return Close();
      replies_.push_back(message.dump());
      Pump();
    }

    void Bad(const std::string& why, nlohmann::json extra = nlohmann::json::object()) {
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

    void OnRead(beast::error_code ec) {
      if (ec) return Gone();  // closed, reset, timed out, or an oversized frame (Beast sent 1009)
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

    void Handle(const std::string& text) {
      const nlohmann::json message = nlohmann::json::parse(text, nullptr, false);
      if (message.is_discarded() || !message.is_object()) {
        return Bad(
            "not a JSON object; expected {\"subscribe\": [keys]} or {\"unsubscribe\": [keys]}");
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
            unknown.push_back(key.is_string() ? key : nlohmann::json(key.dump()));
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

    void Gone() {
      if (closed_) return;
      closed_ = true;
      server_->Remove(this);
    }

    std::shared_ptr<Impl> server_;
    websocket::stream<beast::tcp_stream> ws_;
    beast::flat_buffer in_;
    std::set<const TelemetryField*> subscriptions_;
    std::deque<std::string> queue_, replies_;
    std::string out_;
    uint64_t unreported_drops_ = 0;
    size_t bad_ = 0;
    bool writing_ = false, closing_ = false, closed_ = false;
  };

  void Accept(beast::tcp_stream stream, Request request) {
    if (sessions.size() >= options.max_clients) {
      ++stats.refused;
      auto res = std::make_shared<http::response<http::string_body>>(
          http::status::service_unavailable, request.version());
      res->set(http::field::content_type, "application/json");
      res->body() = fmt::format("{{\"error\":\"too many realtime clients (at most {})\"}}",
                                options.max_clients);
      res->keep_alive(false);
      res->prepare_payload();
      auto s = std::make_shared<beast::tcp_stream>(std::move(stream));
      http::async_write(*s, *res, [s, res](beast::error_code, size_t) {
        beast::error_code ignored;
        s->socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
      });
      return;
    }
    auto session = std::make_shared<Session>(shared_from_this(), std::move(stream));
    sessions.emplace(session.get(), session);
    ++stats.clients_total;
    session->Start(std::move(request));
  }

  void Remove(Session* session) {
    // Deferred: the session may be inside one of its own handlers.
    asio::post(io, [self = shared_from_this(), session] {
      self->sessions.erase(session);
      self->SubscriptionsChanged();
    });
  }

  void SubscriptionsChanged() {
    uint32_t mask = 0;
    for (auto& index : by_stream) index.clear();
    std::map<const TelemetryField*, std::vector<Session*>> who;
    for (const auto& [raw, session] : sessions) {
      for (const TelemetryField* field : session->subscriptions()) who[field].push_back(raw);
    }
    for (auto& [field, list] : who) {
      const auto s = static_cast<size_t>(field->stream->id);
      by_stream[s].emplace_back(field, std::move(list));
      mask |= 1u << s;
    }
    feed.SetWanted(mask);
  }

  void Tick() {
    timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(options.batch_interval_s)));
    timer.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->Deliver();
      self->Tick();
    });
  }

  void Deliver() {
    std::string datum;
    for (const RealtimeFeed::Packet& p : feed.TakeAll()) {
      const auto s = static_cast<size_t>(p.stream);
      if (by_stream[s].empty()) continue;
      google::protobuf::Message& m = *messages[s];
      if (!m.ParseFromString(p.payload)) continue;  // verified by ingest; cannot happen
      for (const auto& [field, subscribers] : by_stream[s]) {
        datum.clear();
        fmt::format_to(std::back_inserter(datum),
                       "{{\"key\":\"{}\",\"utc\":{:.3f},\"scet\":{:.3f},\"value\":", field->key,
                       static_cast<double>(p.ground_ns) / 1e6,
                       static_cast<double>(p.onboard_ns) / 1e6);
        AppendFieldJson(*field, m, datum);
        datum += '}';
        for (Session* session : subscribers) session->Push(datum);
      }
    }
    for (const auto& [raw, session] : sessions) session->Pump();
  }

  asio::io_context& io;
  RealtimeFeed& feed;
  RealtimeOptions options;
  asio::steady_timer timer;
  std::map<Session*, std::shared_ptr<Session>> sessions;
  std::array<std::vector<std::pair<const TelemetryField*, std::vector<Session*>>>,
             protocol::kStreamCount>
      by_stream;
  std::array<std::unique_ptr<google::protobuf::Message>, protocol::kStreamCount> messages;
  RealtimeStats stats;
};

RealtimeServer::RealtimeServer(asio::io_context& io, RealtimeFeed& feed, RealtimeOptions options)
    : impl_(std::make_shared<Impl>(io, feed, options)) {}

RealtimeServer::~RealtimeServer() {
  Stop();
}

void RealtimeServer::Accept(beast::tcp_stream stream, Request request) {
  impl_->Accept(std::move(stream), std::move(request));
}

void RealtimeServer::Start() {
  impl_->Tick();
}

void RealtimeServer::Stop() {
  impl_->timer.cancel();
  auto sessions = impl_->sessions;  // Close() removes from the map
  for (auto& [raw, session] : sessions) session->Close();
  impl_->feed.SetWanted(0);
}

RealtimeStats RealtimeServer::stats() const {
  RealtimeStats s = impl_->stats;
  s.clients = impl_->sessions.size();
  s.feed_dropped = impl_->feed.dropped();
  return s;
}

}  // namespace lgs::station
