// The ingest folder's own sinks (groundstation/sink.h): JSON lines and the terminal view.
//
// JsonLinesSink writes every accepted packet as one JSON line (the shape of AppendPacketJson)
// to a file or stdout; it flushes when the link is idle, so anyone tailing the file is current.
// A write error stops the output (logged once); decoding goes on.
//
// TerminalSink puts one line per packet on the terminal view's queue: at most one per stream
// per print interval, every event and command report. The queue drops the oldest when the
// terminal is too slow (counted).
//
// RejectLogSink logs every rejected message readably without flooding the log (RejectReporter:
// the first of each reason at once, then one line per reason per interval).
//
// Not thread-safe: the ingest thread's, like every sink.
#pragma once

#include <array>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

#include "groundstation/bounded_queue.h"
#include "groundstation/output_file.h"
#include "groundstation/reject_reporter.h"
#include "groundstation/sink.h"
#include "protocol/stream_registry.h"

namespace lgs::station {

class JsonLinesSink final : public Sink {
 public:
  // `out` is open; the sink writes to it and owns nothing else.
  JsonLinesSink(OutputFile& out, Logger& log) : out_(out), log_(log) {}
  void OnAccepted(const AcceptedPacket& packet) override;
  void OnTick(const IngestTick& tick) override;
  Status OnStop() override;

 private:
  void Flush();
  OutputFile& out_;
  Logger& log_;
  bool failed_ = false;
  std::string buffer_;
};

class TerminalSink final : public Sink {
 public:
  // At most one line per `print_interval_s` of each stream, and of each soil instrument (they
  // report at very different rates: one budget for the three would show mostly one of them).
  // Events and verification reports always; with `reports_shown_elsewhere` (the station's
  // uplink labels them by owner, FormatVerificationLine) reports not at all.
  TerminalSink(BoundedQueue<std::string>& view, double print_interval_s,
               bool reports_shown_elsewhere = false);
  void OnAccepted(const AcceptedPacket& packet) override;

 private:
  // One throttle per stream, and the soil stream's per instrument after them.
  static constexpr size_t kSoilKinds = 4;  // the result: none, APXS, VNIS, neutron
  BoundedQueue<std::string>& view_;
  std::chrono::steady_clock::duration interval_;
  bool reports_shown_elsewhere_;
  std::array<std::chrono::steady_clock::time_point, protocol::kStreamCount + kSoilKinds>
      last_printed_{};
};

// Where the terminal lines the sinks queue (and the station's own) reach the operator: escaped,
// so nothing from the link reaches the terminal raw. The Asio thread drains it.
class TerminalView {
 public:
  TerminalView(BoundedQueue<std::string>& queue, std::FILE* out) : queue_(queue), out_(out) {}
  void Drain();
  void Print(std::string_view text);  // as it is: the station's own text
  void set_out(std::FILE* out) { out_ = out; }

 private:
  BoundedQueue<std::string>& queue_;
  std::FILE* out_;
};

class RejectLogSink final : public Sink {
 public:
  RejectLogSink(double interval_s, Logger& log)
      : reporter_(std::chrono::duration_cast<RejectReporter::Clock::duration>(
                      std::chrono::duration<double>(interval_s)),
                  log) {}
  void OnAccepted(const AcceptedPacket&) override {}
  void OnRejected(const RejectedMessage& m) override {
    reporter_.Report(m.reason, m.detail, RejectReporter::Clock::now());
  }

 private:
  RejectReporter reporter_;
};

}  // namespace lgs::station
