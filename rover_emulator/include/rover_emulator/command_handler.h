// CommandHandler: the rover's on-board telecommand handling. Checks each TC packet that reached
// the rover (structure, CRC, APID, known command, arguments), executes it at most once per
// (source id, request sequence) and answers with PUS service 1 verification reports
// (acceptance, completion) as the ground asked in the acknowledgement flags.
//
// A request seen again (the ground resent it because a report was lost, or the link duplicated
// it) is not executed again: its earlier reports are sent again instead. Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <span>
#include <vector>

#include "protocol/cuc_time.h"
#include "protocol/telecommand.h"
#include "rover/v1/verification.pb.h"
#include "rover_emulator/link_model.h"

namespace lgs::emulator {

struct CommandStats {
  uint64_t received = 0;
  uint64_t rejected = 0;  // unparsable, wrong APID, unknown command or bad arguments
  uint64_t executed = 0;  // first arrival of a request
  uint64_t repeated = 0;  // a request already executed: reports sent again, nothing done
  uint64_t too_old = 0;   // older than the at-most-once window: refused
};

class CommandHandler {
 public:
  explicit CommandHandler(LinkModel& link) : link_(link) {}

  // One TC packet as it arrived on board; appends the verification reports to send.
  void Handle(std::span<const uint8_t> packet,
              std::vector<rover::v1::CommandVerification>& reports);

  const CommandStats& stats() const { return stats_; }

 private:
  struct SourceHistory {
    uint32_t highest = 0;
    bool any = false;
    std::map<uint32_t, std::vector<rover::v1::CommandVerification>> done;  // recent requests
  };
  void Execute(const protocol::CommandInfo& command, std::span<const uint8_t> payload,
               rover::v1::CommandVerification& completion);
  void ExecuteRetransmit(std::span<const uint8_t> payload,
                         rover::v1::CommandVerification& completion);

  LinkModel& link_;
  std::map<uint16_t, SourceHistory> sources_;
  CommandStats stats_;
};

}  // namespace lgs::emulator
