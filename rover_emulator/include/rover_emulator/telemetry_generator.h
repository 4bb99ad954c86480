// TelemetryGenerator: the rover's telemetry as a sequence of encoded space packets in mission
// order — every stream at its registry rate plus the events the model raises — without any
// clock or socket. The emulator paces and publishes it; benchmarks and tests use it directly
// as "the default stream mix".
//
// Same seed + rover id + mission start => the same packets, byte for byte. Not thread-safe.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "protocol/status.h"
#include "protocol/stream_registry.h"
#include "rover/v1/verification.pb.h"
#include "rover_emulator/rover_model.h"
#include "rover_emulator/scenario.h"

namespace lgs::emulator {

struct GeneratedPacket {
  const protocol::StreamInfo* stream = nullptr;
  const std::string* topic = nullptr;  // owned by the generator
  uint32_t sequence = 0;
  protocol::TimestampNs onboard_time_ns = 0;  // as the packet carries it (CUC resolution)
  std::string packet;
};

class TelemetryGenerator {
 public:
  TelemetryGenerator(uint64_t seed, std::string rover_id, protocol::TimestampNs mission_start_ns,
                     const Scenario& scenario = Scenario());
  ~TelemetryGenerator();

  // Mission time at which the next packets are due.
  protocol::TimestampNs next_due_ns() const;
  // The packets due at next_due_ns(): one periodic packet, any events it raised and the products
  // of commanded activities (images, soil measurements). `out` is resized; its strings are
  // reused between calls to avoid allocations.
  Status Next(std::vector<GeneratedPacket>& out);

  // A command verification report, sent when a telecommand is handled at `onboard_ns`.
  Status EmitReport(const rover::v1::CommandVerification& report, protocol::TimestampNs onboard_ns,
                    GeneratedPacket& out);

  // One CFDP PDU of the file downlink, on the file_delivery stream.
  Status EmitFilePdu(std::string_view pdu, protocol::TimestampNs onboard_ns, GeneratedPacket& out);
  // An event raised outside the rover model (the file store), on the event stream.
  Status EmitEvent(const rover::v1::Event& event, protocol::TimestampNs onboard_ns,
                   GeneratedPacket& out);

  // A periodic stream's rate from `now` on (a telecommand); the next packet is due within one
  // new period.
  void SetRate(protocol::StreamId stream, double rate_hz, protocol::TimestampNs now);
  double rate_hz(protocol::StreamId stream) const;

  RoverModel& model() { return model_; }

 private:
  struct StreamState {
    const protocol::StreamInfo* info = nullptr;
    std::string topic;
    std::unique_ptr<google::protobuf::Message> message;
    uint32_t next_seq = 0;
    protocol::TimestampNs next_due_ns = 0;
    int64_t period_ns = 0;
  };
  Status Emit(StreamState& s, protocol::TimestampNs onboard_ns, GeneratedPacket& out);
  // The periodic stream due first (earliest next_due_ns; ties go to registry order).
  size_t Due() const;

  RoverModel model_;
  std::array<StreamState, protocol::kStreamCount> streams_;
  std::string payload_;
};

}  // namespace lgs::emulator
