// Uplink: the DEALER socket that carries telecommands to the rover (CURVE client when keys are
// given), the numbering of requests, and the sending of gap fill's retransmit requests.
//
// Not thread-safe: the Asio thread owns it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "groundstation/gap_filler.h"
#include "protocol/logger.h"
#include "protocol/status.h"
#include "transport/curve_client.h"

namespace lgs::station {

class Uplink {
 public:
  Uplink(zmq::context_t& context, Logger& log) : context_(context), log_(log) {}

  // Connects to the rover's command endpoint. Request sequences start from the wall clock, so
  // they keep growing across station restarts (the rover executes each at most once).
  [[nodiscard]] Status Open(const std::string& endpoint,
                            const std::optional<transport::CurveClient>& curve);
  // False when the rover is not connected or the queue is full: the caller retries later.
  bool Send(std::string_view packet);
  uint32_t NextRequestSequence() { return next_request_sequence_++; }
  const std::string& endpoint() const { return endpoint_; }

  // Encodes `request` as a retransmit telecommand from `source_id`, sends it and tells `filler`
  // whether it went.
  void SendRetransmit(const rover::v1::RetransmitRequest& request, GapFiller& filler,
                      uint16_t source_id);
  // One CFDP PDU of the station's receiving entity as a cfdp_pdu telecommand, asking for no
  // verification reports (CFDP acknowledges on its own). False when it could not go: CFDP's
  // timers send again.
  bool SendFilePdu(std::string_view pdu, uint16_t source_id);

 private:
  zmq::context_t& context_;
  Logger& log_;
  std::string endpoint_;
  std::unique_ptr<zmq::socket_t> socket_;
  uint32_t next_request_sequence_ = 0;
  std::string tc_buffer_, tc_payload_;
};

}  // namespace lgs::station
