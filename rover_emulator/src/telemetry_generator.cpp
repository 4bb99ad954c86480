#include "rover_emulator/telemetry_generator.h"

#include <fmt/format.h>

#include <algorithm>

#include "protocol/space_packet.h"
#include "rover/v1/file_delivery.pb.h"

namespace lgs::emulator {

using protocol::StreamId;
using protocol::StreamInfo;
using protocol::TimestampNs;

namespace {

RoverModelOptions ModelOptions(uint64_t seed, TimestampNs mission_start_ns,
                               const Scenario& scenario) {
  RoverModelOptions o;
  o.seed = seed;
  o.mission_start_ns = mission_start_ns;
  o.scenario = scenario;
  return o;
}

}  // namespace

TelemetryGenerator::TelemetryGenerator(uint64_t seed, std::string rover_id,
                                       TimestampNs mission_start_ns, const Scenario& scenario)
    : model_(ModelOptions(seed, mission_start_ns, scenario)) {
  for (const StreamInfo& info : protocol::AllStreams()) {
    StreamState& s = streams_[static_cast<size_t>(info.id)];
    s.info = &info;
    s.topic = protocol::TelemetryTopic(rover_id, info);
    s.message.reset(info.prototype->New());
    s.period_ns = info.nominal_rate_hz > 0
                      ? static_cast<int64_t>(1'000'000'000 / info.nominal_rate_hz)
                      : 0;  // events and command reports are sent when they happen
    s.next_due_ns = mission_start_ns;
  }
}

TelemetryGenerator::~TelemetryGenerator() = default;

size_t TelemetryGenerator::Due() const {
  size_t due = streams_.size();
  for (size_t i = 0; i < streams_.size(); ++i) {
    const StreamState& s = streams_[i];
    if (s.period_ns > 0 && (due == streams_.size() || s.next_due_ns < streams_[due].next_due_ns)) {
      due = i;
    }
  }
  return due;
}

void TelemetryGenerator::SetRate(StreamId stream, double rate_hz, TimestampNs now) {
  StreamState& s = streams_[static_cast<size_t>(stream)];
  if (s.period_ns == 0 || rate_hz <= 0.0) return;  // events and reports have no rate
  s.period_ns = static_cast<int64_t>(1e9 / rate_hz);
  s.next_due_ns = std::max(now, std::min(s.next_due_ns, now + s.period_ns));
}

double TelemetryGenerator::rate_hz(StreamId stream) const {
  const StreamState& s = streams_[static_cast<size_t>(stream)];
  return s.period_ns > 0 ? 1e9 / static_cast<double>(s.period_ns) : 0.0;
}

TimestampNs TelemetryGenerator::next_due_ns() const {
  return streams_[Due()].next_due_ns;
}

Status TelemetryGenerator::Emit(StreamState& s, TimestampNs onboard_ns, GeneratedPacket& out) {
  payload_.clear();
  if (!s.message->AppendToString(&payload_)) {
    return Status::Error(fmt::format("cannot serialise {}", s.info->name));
  }
  out.stream = s.info;
  out.topic = &s.topic;
  out.sequence = s.next_seq++;
  out.onboard_time_ns = protocol::UnixNsFromCuc(*protocol::CucFromUnixNs(onboard_ns));
  return protocol::EncodeTmPacket(s.info->apid, out.sequence, onboard_ns,
                                  protocol::AsBytes(payload_), out.packet);
}

Status TelemetryGenerator::EmitReport(const rover::v1::CommandVerification& report,
                                      TimestampNs onboard_ns, GeneratedPacket& out) {
  StreamState& s = streams_[static_cast<size_t>(StreamId::kCommandVerification)];
  s.message->CopyFrom(report);
  return Emit(s, onboard_ns, out);
}

Status TelemetryGenerator::EmitFilePdu(std::string_view pdu, TimestampNs onboard_ns,
                                       GeneratedPacket& out) {
  StreamState& s = streams_[static_cast<size_t>(StreamId::kFileDelivery)];
  auto& message = static_cast<rover::v1::FilePdu&>(*s.message);
  message.set_pdu(pdu.data(), pdu.size());
  return Emit(s, onboard_ns, out);
}

Status TelemetryGenerator::EmitEvent(const rover::v1::Event& event, TimestampNs onboard_ns,
                                     GeneratedPacket& out) {
  StreamState& s = streams_[static_cast<size_t>(StreamId::kEvent)];
  s.message->CopyFrom(event);
  return Emit(s, onboard_ns, out);
}

Status TelemetryGenerator::Next(std::vector<GeneratedPacket>& out) {
  StreamState& due = streams_[Due()];
  const TimestampNs now = due.next_due_ns;
  due.message->Clear();
  // The mode decides what is sent (ModeEmits); the model runs on either way.
  model_.Advance(now);
  bool emit = ModeEmits(model_.mode(), due.info->id);
  if (emit) switch (due.info->id) {
      case StreamId::kHousekeeping:
        model_.FillHousekeeping(now, static_cast<rover::v1::Housekeeping&>(*due.message));
        break;
      case StreamId::kNavigationPose:
        model_.FillNavigationPose(now, static_cast<rover::v1::NavigationPose&>(*due.message));
        break;
      case StreamId::kTerrainTile:
        model_.FillTerrainTile(now, static_cast<rover::v1::TerrainTile&>(*due.message));
        break;
      case StreamId::kCameraFrame:
        model_.FillCameraFrame(now, static_cast<rover::v1::CameraFrame&>(*due.message));
        break;
      case StreamId::kSoilMeasurement:
        emit =
            model_.FillSoilMeasurement(now, static_cast<rover::v1::SoilMeasurement&>(*due.message));
        break;
      case StreamId::kRadiation:
        model_.FillRadiation(now, static_cast<rover::v1::Radiation&>(*due.message));
        break;
      case StreamId::kEvent:                // emitted below when the model raises one
      case StreamId::kCommandVerification:  // emitted when a command is handled
      case StreamId::kFileDelivery:         // emitted as the file downlink sends
        break;
    }
  std::vector<rover::v1::Event> events = model_.TakeEvents();
  std::vector<rover::v1::CameraFrame> frames = model_.TakeCommandedFrames();
  std::vector<rover::v1::SoilMeasurement> soil = model_.TakeCommandedSoil();
  out.resize((emit ? 1 : 0) + events.size() + frames.size() + soil.size());
  size_t next = 0;
  if (emit) {
    if (Status s = Emit(due, now, out[next++]); !s.ok()) return s;
  }
  due.next_due_ns += due.period_ns;
  const auto emit_all = [&](StreamId id, auto& messages) {
    StreamState& stream = streams_[static_cast<size_t>(id)];
    for (auto& m : messages) {
      stream.message->GetReflection()->Swap(stream.message.get(), &m);
      if (Status s = Emit(stream, now, out[next++]); !s.ok()) return s;
    }
    return Status::Ok();
  };
  if (Status s = emit_all(StreamId::kEvent, events); !s.ok()) return s;
  if (Status s = emit_all(StreamId::kCameraFrame, frames); !s.ok()) return s;
  return emit_all(StreamId::kSoilMeasurement, soil);
}

}  // namespace lgs::emulator
