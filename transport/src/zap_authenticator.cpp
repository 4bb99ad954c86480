#include "transport/zap_authenticator.h"

#include <zmq.h>

#include <array>
#include <chrono>
#include <map>

namespace lgs::transport {
namespace {

// RFC 27: the well-known endpoint every socket of the context asks.
constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr auto kPoll = std::chrono::milliseconds(100);
constexpr auto kLogEvery = std::chrono::minutes(1);

}  // namespace

ZapAuthenticator::ZapAuthenticator(zmq::context_t& context, std::vector<std::string> allowed,
                                   std::string what, Logger& log)
    : socket_(context, zmq::socket_type::rep),
      allowed_(allowed.begin(), allowed.end()),
      what_(std::move(what)),
      log_(log) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind(kZapEndpoint);
  thread_ = std::thread([this] { Run(); });
}

ZapAuthenticator::~ZapAuthenticator() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ZapAuthenticator::Run() {
  std::map<std::string, std::chrono::steady_clock::time_point> last_logged;
  zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
  while (!stop_) {
    if (zmq::poll(&item, 1, kPoll) <= 0) continue;
    // Request: version, request id, domain, address, identity, mechanism, credentials...
    std::vector<zmq::message_t> frames;
    zmq::message_t frame;
    do {
      if (!socket_.recv(frame, zmq::recv_flags::none)) break;
      const bool more = frame.more();
      frames.push_back(std::move(frame));
      if (!more) break;
    } while (true);
    if (frames.size() < 6) continue;
    const std::string version = frames[0].to_string();
    const std::string request_id = frames[1].to_string();
    const std::string address = frames[3].to_string();
    const std::string mechanism = frames[5].to_string();
    std::string status = "400", text = "not allowed", client;
    if (version == "1.0" && mechanism == "CURVE" && frames.size() >= 7 && frames[6].size() == 32) {
      std::array<char, 41> z85{};
      zmq_z85_encode(z85.data(), static_cast<const uint8_t*>(frames[6].data()), 32);
      client = z85.data();
      if (allowed_.contains(client)) {
        status = "200";
        text = "OK";
      }
    }
    if (status == "200") {
      ++accepted_;
    } else {
      ++refused_;
      const auto now = std::chrono::steady_clock::now();
      auto& last = last_logged[client];
      if (last == std::chrono::steady_clock::time_point{} || now - last >= kLogEvery) {
        last = now;
        log_.Warn(
            "authentication failure: {} refused a {} client with key {} from {} (not "
            "on the allow list)",
            what_, mechanism, client.empty() ? "(none)" : client, address);
      }
    }
    // Reply: version, request id, status code, status text, user id, metadata.
    socket_.send(zmq::buffer(std::string("1.0")), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(status), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(text), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(status == "200" ? client : std::string()), zmq::send_flags::sndmore);
    socket_.send(zmq::str_buffer(""), zmq::send_flags::none);
  }
}

}  // namespace lgs::transport
