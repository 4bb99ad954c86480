#include "groundstation/ingest_sinks.h"

#include <cerrno>
#include <cstring>

#include "groundstation/telemetry_format.h"
#include "protocol/text.h"
#include "rover/v1/soil.pb.h"

namespace lgs::station {

void JsonLinesSink::OnAccepted(const AcceptedPacket& a) {
  if (failed_) return;
  buffer_.clear();
  AppendPacketJson(a.packet, a.ground_ns, buffer_);
  if (!out_.Write(buffer_)) {
    failed_ = true;
    log_.Error("writing '{}' failed ({}); JSON lines output stopped, decoding goes on", out_.path(),
               std::strerror(errno));
  }
}

void JsonLinesSink::Flush() {
  if (failed_) return;
  if (!out_.Flush()) {
    failed_ = true;
    log_.Error("flushing '{}' failed ({}); JSON lines output stopped", out_.path(),
               std::strerror(errno));
  }
}

void JsonLinesSink::OnTick(const IngestTick& tick) {
  if (tick.idle) Flush();  // make the file current for anyone tailing it
}

Status JsonLinesSink::OnStop() {
  Flush();
  return Status::Ok();  // a failed output was reported when it failed; decoding went on
}

TerminalSink::TerminalSink(BoundedQueue<std::string>& view, double print_interval_s,
                           bool reports_shown_elsewhere)
    : view_(view),
      interval_(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>(print_interval_s))),
      reports_shown_elsewhere_(reports_shown_elsewhere) {}

void TerminalSink::OnAccepted(const AcceptedPacket& a) {
  const protocol::DecodedPacket& p = a.packet;
  if (reports_shown_elsewhere_ && p.stream->id == protocol::StreamId::kCommandVerification) return;
  const bool always = p.stream->nominal_rate_hz == 0.0;  // events and command reports
  size_t throttle = static_cast<size_t>(p.stream->id);
  if (p.stream->id == protocol::StreamId::kSoilMeasurement) {
    using Soil = rover::v1::SoilMeasurement;
    switch (static_cast<const Soil&>(*p.message).result_case()) {
      case Soil::kApxs:
        throttle = protocol::kStreamCount + 1;
        break;
      case Soil::kVnis:
        throttle = protocol::kStreamCount + 2;
        break;
      case Soil::kNeutron:
        throttle = protocol::kStreamCount + 3;
        break;
      case Soil::RESULT_NOT_SET:
        throttle = protocol::kStreamCount;
        break;
    }
  }
  auto& last = last_printed_[throttle];
  const auto now = std::chrono::steady_clock::now();
  if (always || now - last >= interval_) {
    last = now;
    view_.Push(TerminalLine(a.ground_ns, FormatTelemetryLine(p)));
  }
}

void TerminalView::Drain() {
  std::vector<std::string> lines = queue_.TakeAll();
  if (lines.empty()) return;
  std::string out;
  for (const std::string& line : lines) {
    // Every line may quote the link (event text, a rover's failure reason): one escape here,
    // where everything the station prints passes.
    out += text::EscapeForTerminal(line, 4096);
    out += '\n';
  }
  Print(out);
}

void TerminalView::Print(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

}  // namespace lgs::station
