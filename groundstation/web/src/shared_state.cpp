#include "shared_state.h"

#include <fmt/format.h>
#include <google/protobuf/message.h>

#include <iterator>
#include <set>

#include "websocket_session.h"

namespace lgs::station {

void RealtimeHub::Accept(beast::tcp_stream stream, Request request) {
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
  auto session = std::make_shared<WebSocketSession>(shared_from_this(), std::move(stream));
  sessions.emplace(session.get(), session);
  ++stats.clients_total;
  session->Start(std::move(request));
}

void RealtimeHub::Remove(WebSocketSession* session) {
  // Deferred: the session may be inside one of its own handlers.
  asio::post(io, [self = shared_from_this(), session] {
    self->sessions.erase(session);
    self->SubscriptionsChanged();
  });
}

void RealtimeHub::SubscriptionsChanged() {
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

void RealtimeHub::Tick() {
  timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(options.batch_interval_s)));
  timer.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec) return;
    self->Deliver();
    self->Tick();
  });
}

void RealtimeHub::Deliver() {
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

}  // namespace lgs::station
