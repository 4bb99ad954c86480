// Commanding: operators' commands from submission to the rover's completion report, on the
// station's Asio thread. It owns the command tracker, remembers which control-channel client
// asked for each command (and answers it every stage), releases commands to the uplink at every
// tick, and hands every transition to the station's `publish` hook (terminal line, recording).
//
// Not thread-safe: the Asio thread owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "groundstation/command_tracker.h"
#include "groundstation/control_protocol.h"
#include "groundstation/control_server.h"
#include "groundstation/uplink.h"

namespace lgs::station {

class Commanding {
 public:
  using Clock = std::chrono::steady_clock;
  using Publish = std::function<void(const CommandTracker::Transitions&)>;

  // `uplink` and `control` must outlive this.
  Commanding(CommandTrackerOptions options, Uplink& uplink, ControlServer& control,
             Publish publish);

  // A command from the control channel (`peer` is answered every stage) or the web (no peer).
  // Returns its id and its first transition (QUEUED, or REJECTED with the reason).
  std::pair<uint64_t, ground::v1::GroundCommand> Submit(const CommandRequest& command,
                                                        const std::string& peer = {});
  // Releases, resends, times out (every command tick).
  void Tick();
  // A verification report from the telemetry; false when it is not about one of ours.
  bool OnReport(const rover::v1::CommandVerification& report);
  void SetRover(const protocol::RoverContext& rover) { rover_ = rover; }

  control::StatusReply Status() const;
  std::vector<control::CommandSummary> Recent() const { return control::RecentCommands(tracker_); }
  size_t active() const { return tracker_.active(); }
  const CommandTrackerStats& stats() const { return tracker_.stats(); }

  // The line the terminal shows for one transition.
  static std::string Line(const ground::v1::GroundCommand& t);

 private:
  void Announce(const CommandTracker::Transitions& transitions);

  Uplink& uplink_;
  ControlServer& control_;
  Publish publish_;
  CommandTracker tracker_;
  protocol::RoverContext rover_;
  std::map<uint64_t, std::string> clients_;  // command id -> control channel peer
};

}  // namespace lgs::station
