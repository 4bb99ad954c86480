// CommandTracker: the station's side of commanding. Validates each command against the command
// dictionary and what the latest telemetry says about the rover, queues it, releases it to the
// uplink as a TC packet, and follows it through the rover's PUS service 1 reports:
//
//   Queued -> Released -> Sent -> Accepted -> Started -> (Progress...) -> Completed
//                                                                     \-> Failed / Timed out
//
// Timeouts come from the light time and the dictionary's expected duration. A missing acceptance
// makes it send the same packet again (same request id: the rover executes a request at most
// once and answers a repeat with the reports it already sent); so does a missing completion, to
// ask for the reports again. Every transition is handed to the caller (printed, recorded on
// /ground/commands, streamed to whoever asked). No clock, socket or thread of its own: the
// station's Asio thread drives it. Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ground/v1/ground.pb.h"
#include "protocol/command_dictionary.h"
#include "protocol/status.h"
#include "rover/v1/verification.pb.h"

namespace lgs::station {

struct CommandTrackerOptions {
  uint16_t source_id = 1;
  double light_time_s = 1.28;        // one way
  double acceptance_margin_s = 3.0;  // beyond the round trip, before the packet is resent
  double duration_factor = 2.0;      // slip, slopes: the dictionary's duration is nominal
  double completion_margin_s = 10.0;
  int max_sends = 3;  // first send included
  // A command the uplink has not taken within this long times out (the rover's command endpoint
  // is down, or it refused this station's key).
  double uplink_timeout_s = 10.0;
  size_t history_limit = 10'000;  // finished commands remembered for `status`

  Status Validate() const;
};

struct CommandRequest {
  std::string name;
  std::vector<protocol::CommandArgument> arguments;
  bool confirmed = false;  // hazardous commands need it
  std::string origin;      // who asked, for the history
};

struct CommandTrackerStats {
  uint64_t submitted = 0, rejected = 0, sent = 0, resent = 0;
  uint64_t completed = 0, failed = 0, timed_out = 0;
};

// A packet to put on the uplink for command `command_id`.
struct Transmission {
  uint64_t command_id = 0;
  const std::string* packet = nullptr;  // owned by the tracker, valid until the next call
};

class CommandTracker {
 public:
  using Clock = std::chrono::steady_clock;
  using Transitions = std::vector<ground::v1::GroundCommand>;

  // `next_request_sequence` hands out the station's request numbers (shared with gap fill).
  CommandTracker(CommandTrackerOptions options, std::function<uint32_t()> next_request_sequence);

  // Validates and queues. The transition (QUEUED or REJECTED with the reason) is appended.
  // Returns the command's id (also for rejected ones: their history is kept too).
  uint64_t Submit(const CommandRequest& request, const protocol::RoverContext& rover,
                  Clock::time_point now, Transitions& out);
  // Releases queued commands, resends where reports are overdue, times out. Appends what to
  // transmit; the caller reports each back with OnSent / OnSendFailed.
  void Poll(Clock::time_point now, std::vector<Transmission>& transmit, Transitions& out);
  void OnSent(uint64_t command_id, Clock::time_point now, Transitions& out);
  void OnSendFailed(uint64_t command_id);
  // A verification report from the telemetry. Returns false when it is not about one of ours.
  bool OnReport(const rover::v1::CommandVerification& report, Clock::time_point now,
                Transitions& out);

  // Commands not finished yet.
  size_t active() const;
  const CommandTrackerStats& stats() const { return stats_; }
  // The latest transition of each command, newest last (at most `limit`).
  std::vector<ground::v1::GroundCommand> Recent(size_t limit) const;

 private:
  struct Tracked {
    ground::v1::GroundCommand state;  // the latest transition
    const protocol::CommandInfo* info = nullptr;
    std::string payload;
    std::string packet;
    double expected_s = 0.0;
    bool accepted = false, started = false, finished = false;
    bool awaiting_send = false;  // released, the uplink has not taken it yet
    Clock::time_point awaiting_since{};
    Clock::time_point deadline{};
    int sends = 0;
  };
  void Transition(Tracked& c, ground::v1::CommandStage stage, std::string detail, Transitions& out);
  void Finish(Tracked& c, ground::v1::CommandStage stage, std::string detail, Transitions& out);
  Clock::duration RoundTrip() const;
  Clock::duration CompletionBudget(const Tracked& c) const;

  CommandTrackerOptions options_;
  std::function<uint32_t()> next_request_sequence_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Tracked> commands_;
  std::map<uint32_t, uint64_t> by_sequence_;
  std::deque<uint64_t> queue_;
  CommandTrackerStats stats_;
};

std::string_view StageName(ground::v1::CommandStage stage);  // "queued", "timed_out", ...
bool IsFinal(ground::v1::CommandStage stage);
// IsFinal of the stage StageName calls `name` (a CommandSummary's stage); false for none.
bool IsFinalStageName(std::string_view name);

}  // namespace lgs::station
