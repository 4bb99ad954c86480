#include "groundstation/ingest_sinks.h"

#include <cerrno>
#include <cstring>

#include "groundstation/telemetry_format.h"
#include "protocol/text.h"

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

TerminalSink::TerminalSink(BoundedQueue<std::string>& view, double print_interval_s)
    : view_(view),
      interval_(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>(print_interval_s))) {}

void TerminalSink::OnAccepted(const AcceptedPacket& a) {
  const protocol::DecodedPacket& p = a.packet;
  const bool always = p.stream->nominal_rate_hz == 0.0;  // events and command reports
  auto& last = last_printed_[static_cast<size_t>(p.stream->id)];
  const auto now = std::chrono::steady_clock::now();
  if (always || now - last >= interval_) {
    last = now;
    view_.Push(FormatTelemetryLine(p));
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
