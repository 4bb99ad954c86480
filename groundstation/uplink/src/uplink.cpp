#include "groundstation/uplink.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "protocol/bytes.h"
#include "protocol/clock.h"
#include "protocol/command_dictionary.h"
#include "protocol/telecommand.h"
#include "rover/v1/file_delivery.pb.h"

namespace lgs::station {

namespace {

// Request sequences count tenths of a second since this epoch (2026-01-01T00:00:00Z) at start,
// so they keep growing across station restarts for 13 years; requests go out at most once per
// tick, well under ten a second.
constexpr int64_t kRequestSequenceEpochS = 1'767'225'600;

}  // namespace

Status Uplink::Open(const std::string& endpoint,
                    const std::optional<transport::CurveClient>& curve) {
  endpoint_ = endpoint;
  socket_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
  if (curve) curve->Apply(*socket_);
  socket_->set(zmq::sockopt::linger, 0);
  // Only hand requests to a connected rover; otherwise the sender retries them later.
  socket_->set(zmq::sockopt::immediate, 1);
  socket_->set(zmq::sockopt::sndhwm, 100);
  try {
    socket_->connect(endpoint);
  } catch (const zmq::error_t& e) {
    return Status::Error(fmt::format("cannot connect the uplink to '{}': {}", endpoint, e.what()));
  }
  const int64_t now_ds = protocol::WallNowNs() / 100'000'000;  // tenths of a second
  next_request_sequence_ =
      static_cast<uint32_t>(std::max<int64_t>(0, now_ds - kRequestSequenceEpochS * 10));
  return Status::Ok();
}

bool Uplink::Send(std::string_view packet) {
  try {
    return socket_->send(zmq::buffer(packet.data(), packet.size()), zmq::send_flags::dontwait)
        .has_value();
  } catch (const zmq::error_t&) {
    return false;
  }
}

void Uplink::SendRetransmit(const rover::v1::RetransmitRequest& request, GapFiller& filler,
                            uint16_t source_id) {
  protocol::TcHeader header;
  const protocol::CommandInfo& command = protocol::Command(protocol::CommandId::kRetransmit);
  header.service = command.service;
  header.subtype = command.subtype;
  header.source_id = source_id;
  // Only the completion report: it carries what was queued and what is gone; an acceptance
  // report would be one more packet to lose. Failures are always reported.
  header.ack_flags = protocol::kAckCompletion;
  header.request_sequence = NextRequestSequence();
  tc_payload_.clear();
  if (!request.AppendToString(&tc_payload_) ||
      !protocol::EncodeTcPacket(header, protocol::AsBytes(tc_payload_), tc_buffer_).ok()) {
    log_.Error("cannot encode a retransmit request of {} ranges", request.ranges_size());
    filler.OnSendFailed(request);
    return;
  }
  if (Send(tc_buffer_)) {
    filler.OnSent(header.request_sequence, request);
  } else {
    if (filler.stats().send_failures % 100 == 0) {
      log_.Warn("uplink {} not connected: retransmit request held back (retried)", endpoint_);
    }
    filler.OnSendFailed(request);
  }
}

bool Uplink::SendFilePdu(std::string_view pdu, uint16_t source_id) {
  protocol::TcHeader header;
  const protocol::CommandInfo& command = protocol::Command(protocol::CommandId::kFileDeliveryPdu);
  header.service = command.service;
  header.subtype = command.subtype;
  header.source_id = source_id;
  header.ack_flags = 0;
  header.request_sequence = NextRequestSequence();
  rover::v1::FilePdu message;
  message.set_pdu(pdu.data(), pdu.size());
  tc_payload_.clear();
  if (!message.AppendToString(&tc_payload_) ||
      !protocol::EncodeTcPacket(header, protocol::AsBytes(tc_payload_), tc_buffer_).ok()) {
    log_.Error("cannot encode a CFDP PDU of {} octets as a telecommand", pdu.size());
    return false;
  }
  return Send(tc_buffer_);
}

}  // namespace lgs::station
