#include "groundstation/commanding.h"

#include <fmt/format.h>

namespace lgs::station {

Commanding::Commanding(CommandTrackerOptions options, Uplink& uplink, ControlServer& control,
                       Publish publish)
    : uplink_(uplink),
      control_(control),
      publish_(std::move(publish)),
      tracker_(std::move(options), [this] { return uplink_.NextRequestSequence(); }) {}

std::pair<uint64_t, ground::v1::GroundCommand> Commanding::Submit(const CommandRequest& command,
                                                                  const std::string& peer) {
  CommandTracker::Transitions transitions;
  const uint64_t id = tracker_.Submit(command, rover_, Clock::now(), transitions);
  if (!peer.empty()) clients_[id] = peer;
  Announce(transitions);
  return {id, transitions.back()};
}

void Commanding::Tick() {
  std::vector<Transmission> transmit;
  CommandTracker::Transitions transitions;
  const auto now = Clock::now();
  tracker_.Poll(now, transmit, transitions);
  for (const Transmission& t : transmit) {
    if (uplink_.Send(*t.packet)) {
      tracker_.OnSent(t.command_id, now, transitions);
    } else {
      tracker_.OnSendFailed(t.command_id);
    }
  }
  Announce(transitions);
}

bool Commanding::OnReport(const rover::v1::CommandVerification& report) {
  CommandTracker::Transitions transitions;
  const bool ours = tracker_.OnReport(report, Clock::now(), transitions);
  Announce(transitions);
  return ours;
}

control::StatusReply Commanding::Status() const {
  return control::StatusReply{control::RecentCommands(tracker_),
                              std::string(protocol::ModeName(rover_.mode)), tracker_.active()};
}

std::string Commanding::Line(const ground::v1::GroundCommand& t) {
  std::string line =
      fmt::format("CMD   #{} {}{}{}: {}", t.command_id(), t.name(),
                  t.arguments().empty() ? "" : " ", t.arguments(), StageName(t.stage()));
  if (t.stage() == ground::v1::COMMAND_STAGE_PROGRESS) {
    line += fmt::format(" {}", t.progress_step());
  } else if (!t.detail().empty()) {
    line += fmt::format(" ({})", t.detail());
  }
  return line;
}

void Commanding::Announce(const CommandTracker::Transitions& transitions) {
  if (transitions.empty()) return;
  for (const ground::v1::GroundCommand& t : transitions) {
    if (auto client = clients_.find(t.command_id()); client != clients_.end()) {
      const control::CommandUpdate update = control::UpdateOf(t);
      control_.Reply(client->second, update);
      if (update.final) clients_.erase(client);
    }
  }
  publish_(transitions);
}

}  // namespace lgs::station
