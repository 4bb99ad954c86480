// CommandHandler: the rover's on-board telecommand handling. Checks each TC packet that reached
// the rover (structure, CRC, APID, known command, arguments against the command dictionary),
// executes it at most once per (source id, request sequence) and answers with PUS service 1
// verification reports — acceptance, start, progress, completion — as the ground asked in the
// acknowledgement flags (failures are always reported).
//
// Activities that take time (drive, turn, soil measurement, images) run in the rover model;
// Collect() turns what they did since the last call into reports. A request seen again (the
// ground resent it because a report was lost, or the link duplicated it) is not executed again:
// the reports sent for it so far are sent again instead. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "protocol/cuc_time.h"
#include "protocol/logger.h"
#include "protocol/telecommand.h"
#include "rover/v1/verification.pb.h"
#include "rover_emulator/file_downlink.h"
#include "rover_emulator/link_model.h"
#include "rover_emulator/telemetry_generator.h"

namespace lgs::emulator {

struct CommandStats {
  uint64_t received = 0;
  uint64_t rejected = 0;    // unparsable, wrong APID, unknown command or bad arguments
  uint64_t executed = 0;    // first arrival of a request that passed acceptance
  uint64_t repeated = 0;    // a request already executed: reports sent again, nothing done
  uint64_t too_old = 0;     // older than the at-most-once window: refused
  uint64_t renumbered = 0;  // so far behind that the source numbers afresh: taken as new
  uint64_t completed = 0, failed = 0;  // activities' outcomes (start failures included)
};

// Failure codes of the verification reports (rover/v1/verification.proto, FORMAT.md).
enum FailureCode : uint32_t {
  kUnknownCommand = 1,
  kBadArguments = 2,
  kTooOld = 3,
  kCannotStart = 4,      // wrong mode, busy, instrument off, target outside the site
  kExecutionFailed = 5,  // hazard stop, stopped, interrupted by on-board autonomy
};

class CommandHandler {
 public:
  CommandHandler(LinkModel& link, TelemetryGenerator& generator, Logger& log = NullLogger())
      : link_(link), generator_(generator), log_(log) {}

  // One TC packet as it arrived on board at `now`; appends the verification reports to send.
  void Handle(std::span<const uint8_t> packet, protocol::TimestampNs now,
              std::vector<rover::v1::CommandVerification>& reports);
  // Where cfdp_pdu telecommands go (not owned; null = refused as unknown).
  void SetFileDownlink(FileDownlink* files) { files_ = files; }
  // Reports of activities that progressed or ended since the last call.
  void Collect(std::vector<rover::v1::CommandVerification>& reports);

  const CommandStats& stats() const { return stats_; }

 private:
  struct Request {
    uint32_t request_id = 0;
    uint16_t source_id = 0;
    uint32_t sequence = 0;
    uint8_t ack_flags = 0;
    std::vector<rover::v1::CommandVerification> sent;  // every report so far, for repeats
  };
  struct SourceHistory {
    uint32_t highest = 0;
    bool any = false;
    std::map<uint32_t, Request> done;  // recent requests
  };
  static uint64_t Tag(uint16_t source, uint32_t sequence) {
    return (uint64_t{source} << 32) | sequence;
  }
  rover::v1::CommandVerification Report(const Request& request,
                                        rover::v1::VerificationStage stage) const;
  // Adds a report to the request's history and to `reports` when the ground asked for it.
  void Send(Request& request, rover::v1::CommandVerification report, uint8_t ack_flag,
            std::vector<rover::v1::CommandVerification>& reports);
  void Execute(Request& request, const protocol::CommandInfo& command,
               const google::protobuf::Message& args, protocol::TimestampNs now,
               std::vector<rover::v1::CommandVerification>& reports);
  void ExecuteRetransmit(const rover::v1::RetransmitRequest& request,
                         rover::v1::CommandVerification& completion);

  // Refused telecommands are all counted, but logged at most once per interval.
  void LogRefusal(protocol::TimestampNs now, const std::string& line);

  LinkModel& link_;
  FileDownlink* files_ = nullptr;
  TelemetryGenerator& generator_;
  Logger& log_;
  std::map<uint16_t, SourceHistory> sources_;
  CommandStats stats_;
  uint64_t refusals_logged_ = 0, refusals_suppressed_ = 0;
  protocol::TimestampNs last_refusal_log_ns_ = 0;
};

}  // namespace lgs::emulator
