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
#include "protocol/text.h"

namespace lgs::station {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {
size_t FieldIndex(const TelemetryField* field) {
  return static_cast<size_t>(field - AllTelemetryFields().data());
}
}  // namespace

namespace http = beast::http;
namespace websocket = beast::websocket;

std::unique_ptr<google::protobuf::Message> RealtimeFeed::Offer(
    protocol::StreamId stream, uint64_t ground_ns, uint64_t onboard_ns,
    std::unique_ptr<google::protobuf::Message> message) {
  const auto s = static_cast<size_t>(stream);
  std::unique_ptr<google::protobuf::Message> spare;
  std::lock_guard lock(mutex_);
  auto& queue = queues_[s];
  ++offered_;
  if (queue.size() >= depth_) {
    spare = std::move(queue.front().message);  // the oldest is dropped: its message is reused
    queue.pop_front();
    ++dropped_;
  } else if (!spare_[s].empty()) {
    spare = std::move(spare_[s].back());
    spare_[s].pop_back();
  }
  queue.push_back({stream, ground_ns, onboard_ns, std::move(message)});
  return spare;
}

void RealtimeFeed::Recycle(std::vector<Packet>& packets) {
  std::lock_guard lock(mutex_);
  for (Packet& p : packets) {
    auto& spare = spare_[static_cast<size_t>(p.stream)];
    if (p.message && spare.size() < depth_) spare.push_back(std::move(p.message));
  }
  packets.clear();
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
      : io(io), feed(feed), options(options), timer(io) {}

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

    // Queues one tick's samples of this client's fields (shared with every client that has the
    // same subscriptions); the oldest ticks go when the queue holds too many samples.
    void Push(std::shared_ptr<const std::string> body, size_t samples) {
      pending_.push_back({std::move(body), samples});
      pending_samples_ += samples;
      while (pending_samples_ > server_->options.max_queue_samples && pending_.size() > 1) {
        pending_samples_ -= pending_.front().samples;
        unreported_drops_ += pending_.front().samples;
        server_->stats.samples_dropped += pending_.front().samples;
        pending_.pop_front();
      }
    }

    void Pump() {
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

    void Close() {
      if (closed_) return;
      beast::error_code ignored;
      beast::get_lowest_layer(ws_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
      beast::get_lowest_layer(ws_).close();
      Gone();
    }

    const std::set<const TelemetryField*>& subscriptions() const { return subscriptions_; }
    // One bit per field of AllTelemetryFields(): clients with equal masks share their batches.
    const std::vector<bool>& mask() const { return mask_; }

   private:
    void Reply(nlohmann::json message) {
      // A client that asks faster than it reads is answered only so far.
      if (replies_.size() >= 64) return Close();
      replies_.push_back(text::JsonDump(message));
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
      if (ec == websocket::error::message_too_big)
        ++server_->stats.bad_messages;  // Beast sent 1009
      if (ec) return Gone();            // closed, reset, timed out, or oversized
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

    void Gone() {
      if (closed_) return;
      closed_ = true;
      server_->Remove(this);
    }

    std::shared_ptr<Impl> server_;
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
    std::set<const TelemetryField*> wanted;
    for (const auto& [raw, session] : sessions) {
      wanted.insert(session->subscriptions().begin(), session->subscriptions().end());
    }
    for (const TelemetryField* field : wanted) {
      const auto s = static_cast<size_t>(field->stream->id);
      by_stream[s].push_back(field);
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

  // Every sample of the tick is formatted once; every distinct set of subscriptions gets one
  // body, shared by all clients with that set (twenty browsers on the same layout cost little
  // more than one).
  void Deliver() {
    tick.clear();
    std::vector<RealtimeFeed::Packet> packets = feed.TakeAll();
    for (const RealtimeFeed::Packet& p : packets) {
      const auto s = static_cast<size_t>(p.stream);
      if (by_stream[s].empty()) continue;
      const google::protobuf::Message& m = *p.message;
      for (const TelemetryField* field : by_stream[s]) {
        if (!FieldPresent(*field, m)) continue;
        const size_t begin = text.size();
        fmt::format_to(std::back_inserter(text),
                       "{{\"key\":\"{}\",\"utc\":{:.3f},\"scet\":{:.3f},\"value\":", field->key,
                       static_cast<double>(p.ground_ns) / 1e6,
                       static_cast<double>(p.onboard_ns) / 1e6);
        AppendFieldJson(*field, m, text);
        text += '}';
        tick.push_back({FieldIndex(field), begin, text.size()});
      }
    }
    feed.Recycle(packets);
    if (!tick.empty()) {
      std::map<std::vector<bool>, std::pair<std::shared_ptr<const std::string>, size_t>> bodies;
      for (const auto& [raw, session] : sessions) {
        auto [it, fresh] = bodies.try_emplace(session->mask());
        if (fresh) {
          auto body = std::make_shared<std::string>();
          size_t samples = 0;
          for (const TickSample& t : tick) {
            if (!session->mask()[t.field]) continue;
            if (samples++ > 0) *body += ',';
            body->append(text, t.begin, t.end - t.begin);
          }
          it->second = {std::move(body), samples};
        }
        if (it->second.second > 0) session->Push(it->second.first, it->second.second);
      }
    }
    text.clear();
    for (const auto& [raw, session] : sessions) session->Pump();
  }

  asio::io_context& io;
  RealtimeFeed& feed;
  RealtimeOptions options;
  asio::steady_timer timer;
  std::map<Session*, std::shared_ptr<Session>> sessions;
  std::array<std::vector<const TelemetryField*>, protocol::kStreamCount> by_stream;
  struct TickSample {
    size_t field, begin, end;  // field index; its datum in `text`
  };
  std::vector<TickSample> tick;
  std::string text;
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
  auto sessions = std::move(impl_->sessions);
  impl_->sessions.clear();
  for (auto& [raw, session] : sessions) session->Close();
  // Sessions hold the server and the server held them: dropped here, not by the removals
  // Close() posts, which a stopping io_context may never run.
  impl_->feed.SetWanted(0);
}

RealtimeStats RealtimeServer::stats() const {
  RealtimeStats s = impl_->stats;
  s.clients = impl_->sessions.size();
  s.feed_dropped = impl_->feed.dropped();
  return s;
}

}  // namespace lgs::station
