#include "groundstation/command_tracker.h"

#include <fmt/format.h>
#include <google/protobuf/message.h>

#include <algorithm>

#include "protocol/telecommand.h"

namespace lgs::station {
namespace {

using ground::v1::CommandStage;
using ground::v1::GroundCommand;

std::chrono::steady_clock::duration Seconds(double s) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(s));
}

double SecondsOf(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

std::string KnownCommands() {
  std::string out;
  for (const protocol::CommandInfo& c : protocol::AllCommands()) {
    if (!c.operator_command) continue;
    if (!out.empty()) out += ", ";
    out += c.name;
  }
  return out;
}

}  // namespace

std::string_view StageName(CommandStage stage) {
  switch (stage) {
    case ground::v1::COMMAND_STAGE_REJECTED:
      return "rejected";
    case ground::v1::COMMAND_STAGE_QUEUED:
      return "queued";
    case ground::v1::COMMAND_STAGE_RELEASED:
      return "released";
    case ground::v1::COMMAND_STAGE_SENT:
      return "sent";
    case ground::v1::COMMAND_STAGE_ACCEPTED:
      return "accepted";
    case ground::v1::COMMAND_STAGE_STARTED:
      return "started";
    case ground::v1::COMMAND_STAGE_PROGRESS:
      return "progress";
    case ground::v1::COMMAND_STAGE_COMPLETED:
      return "completed";
    case ground::v1::COMMAND_STAGE_FAILED:
      return "failed";
    case ground::v1::COMMAND_STAGE_TIMED_OUT:
      return "timed_out";
    default:
      return "unknown";
  }
}

bool IsFinal(CommandStage stage) {
  return stage == ground::v1::COMMAND_STAGE_REJECTED ||
         stage == ground::v1::COMMAND_STAGE_COMPLETED ||
         stage == ground::v1::COMMAND_STAGE_FAILED || stage == ground::v1::COMMAND_STAGE_TIMED_OUT;
}

bool IsFinalStageName(std::string_view name) {
  for (int s = ground::v1::CommandStage_MIN; s <= ground::v1::CommandStage_MAX; ++s) {
    const auto stage = static_cast<CommandStage>(s);
    if (ground::v1::CommandStage_IsValid(s) && StageName(stage) == name) return IsFinal(stage);
  }
  return false;
}

Status CommandTrackerOptions::Validate() const {
  if (light_time_s < 0.0 || light_time_s > 60.0) {
    return Status::Error(fmt::format("light time {} s is outside 0..60", light_time_s));
  }
  if (!(acceptance_margin_s > 0.0) || !(completion_margin_s > 0.0) || !(duration_factor >= 1.0)) {
    return Status::Error("command margins must be positive and the duration factor at least 1");
  }
  if (max_sends < 1 || max_sends > 20) return Status::Error("command sends must be 1..20");
  if (!(uplink_timeout_s > 0.0)) return Status::Error("the uplink timeout must be positive");
  return Status::Ok();
}

CommandTracker::CommandTracker(CommandTrackerOptions options,
                               std::function<uint32_t()> next_request_sequence)
    : options_(options), next_request_sequence_(std::move(next_request_sequence)) {}

CommandTracker::Clock::duration CommandTracker::RoundTrip() const {
  return Seconds(2.0 * options_.light_time_s + options_.acceptance_margin_s);
}

CommandTracker::Clock::duration CommandTracker::CompletionBudget(const Tracked& c) const {
  return Seconds(c.expected_s * options_.duration_factor + 2.0 * options_.light_time_s +
                 options_.completion_margin_s);
}

void CommandTracker::Transition(Tracked& c, CommandStage stage, std::string detail,
                                Transitions& out) {
  c.state.set_stage(stage);
  c.state.set_detail(std::move(detail));
  if (stage != ground::v1::COMMAND_STAGE_SENT) c.state.clear_packet();
  if (stage != ground::v1::COMMAND_STAGE_PROGRESS) c.state.clear_progress_step();
  out.push_back(c.state);
}

void CommandTracker::Finish(Tracked& c, CommandStage stage, std::string detail, Transitions& out) {
  const bool after_timeout = c.finished && c.state.stage() == ground::v1::COMMAND_STAGE_TIMED_OUT;
  if (after_timeout) detail += " (after the time-out)";
  c.finished = true;
  c.awaiting_send = false;
  switch (stage) {
    case ground::v1::COMMAND_STAGE_COMPLETED:
      ++stats_.completed;
      break;
    case ground::v1::COMMAND_STAGE_FAILED:
      ++stats_.failed;
      break;
    case ground::v1::COMMAND_STAGE_TIMED_OUT:
      ++stats_.timed_out;
      break;
    case ground::v1::COMMAND_STAGE_REJECTED:
      ++stats_.rejected;
      break;
    default:
      break;
  }
  Transition(c, stage, std::move(detail), out);
  // Forget the oldest finished commands beyond the history limit.
  while (commands_.size() > options_.history_limit) {
    auto oldest = std::find_if(commands_.begin(), commands_.end(),
                               [](const auto& entry) { return entry.second.finished; });
    if (oldest == commands_.end()) break;
    by_sequence_.erase(oldest->second.state.request_sequence());
    commands_.erase(oldest);
  }
}

uint64_t CommandTracker::Submit(const CommandRequest& request, const protocol::RoverContext& rover,
                                Clock::time_point, Transitions& out) {
  ++stats_.submitted;
  const uint64_t id = next_id_++;
  Tracked& c = commands_[id];
  c.state.set_command_id(id);
  c.state.set_name(request.name);
  c.state.set_origin(request.origin);
  c.state.set_source_id(options_.source_id);
  const auto reject = [&](std::string reason) {
    std::string typed;
    for (const auto& [name, value] : request.arguments) typed += fmt::format(" {}={}", name, value);
    c.state.set_arguments(typed.empty() ? typed : typed.substr(1));
    Finish(c, ground::v1::COMMAND_STAGE_REJECTED, std::move(reason), out);
    return id;
  };
  c.info = protocol::FindCommandByName(request.name);
  if (c.info == nullptr) {
    return reject(fmt::format("unknown command '{}' (known: {})", request.name, KnownCommands()));
  }
  if (!c.info->operator_command) {
    return reject(
        fmt::format("{} is issued by the station itself, not by operators", c.info->name));
  }
  auto args = protocol::BuildArguments(*c.info, request.arguments);
  if (!args.ok()) return reject(args.error().message());
  c.state.set_arguments(protocol::DescribeArguments(*c.info, **args));
  if (Status s = protocol::CheckMode(*c.info, rover.mode); !s.ok()) {
    return reject(s.message() + " (latest housekeeping)");
  }
  if (c.info->hazardous && !request.confirmed) {
    return reject(
        fmt::format("{} is hazardous: it needs explicit confirmation (--confirm)", c.info->name));
  }
  if (!(*args)->SerializeToString(&c.payload)) return reject("arguments do not serialise");
  c.expected_s = c.info->expected_duration_s(**args, rover);
  c.state.set_expected_duration_s(c.expected_s);
  queue_.push_back(id);
  Transition(c, ground::v1::COMMAND_STAGE_QUEUED,
             fmt::format("expected to take {:.0f} s on board", c.expected_s), out);
  return id;
}

void CommandTracker::Poll(Clock::time_point now, std::vector<Transmission>& transmit,
                          Transitions& out) {
  while (!queue_.empty()) {
    Tracked& c = commands_.at(queue_.front());
    queue_.pop_front();
    protocol::TcHeader header;
    header.service = c.info->service;
    header.subtype = c.info->subtype;
    header.source_id = options_.source_id;
    header.ack_flags = protocol::kAckAcceptance | protocol::kAckStart | protocol::kAckProgress |
                       protocol::kAckCompletion;
    header.request_sequence = next_request_sequence_();
    if (Status s = protocol::EncodeTcPacket(header, protocol::AsBytes(c.payload), c.packet);
        !s.ok()) {
      Finish(c, ground::v1::COMMAND_STAGE_FAILED, "cannot build the packet: " + s.message(), out);
      continue;
    }
    c.state.set_request_sequence(header.request_sequence);
    by_sequence_[header.request_sequence] = c.state.command_id();
    c.awaiting_send = true;
    c.awaiting_since = now;
    Transition(c, ground::v1::COMMAND_STAGE_RELEASED,
               fmt::format("request {} from source {}", header.request_sequence, header.source_id),
               out);
  }
  for (auto& [id, c] : commands_) {
    if (c.finished) continue;
    if (!c.awaiting_send && c.sends > 0 && now >= c.deadline) {
      if (c.sends < options_.max_sends) {
        c.awaiting_send = true;  // the same packet again: the rover executes it at most once
        c.awaiting_since = now;
      } else {
        Finish(c, ground::v1::COMMAND_STAGE_TIMED_OUT,
               c.accepted ? fmt::format("no completion report after {} sends", c.sends)
                          : fmt::format("no acceptance report after {} sends", c.sends),
               out);
        continue;
      }
    }
    if (c.awaiting_send && now - c.awaiting_since >= Seconds(options_.uplink_timeout_s)) {
      Finish(c, ground::v1::COMMAND_STAGE_TIMED_OUT,
             fmt::format("the uplink did not take it within {:.0f} s: the rover's command "
                         "endpoint is down or refuses this station's key",
                         options_.uplink_timeout_s),
             out);
      continue;
    }
    if (c.awaiting_send) transmit.push_back({id, &c.packet});
  }
}

void CommandTracker::OnSent(uint64_t command_id, Clock::time_point now, Transitions& out) {
  auto it = commands_.find(command_id);
  if (it == commands_.end() || it->second.finished) return;
  Tracked& c = it->second;
  c.awaiting_send = false;
  ++c.sends;
  ++stats_.sent;
  c.state.set_attempt(static_cast<uint32_t>(c.sends));
  std::string detail;
  if (c.sends == 1) {
    c.deadline = now + RoundTrip();
    detail = fmt::format("acceptance expected within {:.1f} s", SecondsOf(RoundTrip()));
  } else {
    ++stats_.resent;
    detail = fmt::format("resent (attempt {} of {}): no {} report in time", c.sends,
                         options_.max_sends, c.accepted ? "completion" : "acceptance");
    c.deadline = now + RoundTrip();
  }
  c.state.set_packet(c.packet);
  Transition(c, ground::v1::COMMAND_STAGE_SENT, std::move(detail), out);
}

void CommandTracker::OnSendFailed(uint64_t) {
  // Stays awaiting_send: offered again on the next Poll.
}

bool CommandTracker::OnReport(const rover::v1::CommandVerification& report, Clock::time_point now,
                              Transitions& out) {
  if (report.source_id() != options_.source_id) return false;
  const auto found = by_sequence_.find(report.request_sequence());
  if (found == by_sequence_.end()) return false;
  Tracked& c = commands_.at(found->second);
  const bool timed_out = c.finished && c.state.stage() == ground::v1::COMMAND_STAGE_TIMED_OUT;
  if (c.finished && !timed_out) return true;  // a repeat of a report already seen
  const auto failed = [&](std::string_view when) {
    Finish(c, ground::v1::COMMAND_STAGE_FAILED,
           fmt::format("{}: {} (code {})", when, report.failure_reason(), report.failure_code()),
           out);
  };
  const auto accepted = [&](std::string detail) {
    if (c.accepted) return;
    c.accepted = true;
    Transition(c, ground::v1::COMMAND_STAGE_ACCEPTED, std::move(detail), out);
  };
  switch (report.stage()) {
    case rover::v1::VERIFICATION_STAGE_ACCEPTANCE:
      if (!report.success()) return failed("rejected on board"), true;
      if (timed_out) return true;
      accepted("on board");
      c.deadline = now + CompletionBudget(c);
      return true;
    case rover::v1::VERIFICATION_STAGE_START:
      if (!report.success()) return failed("could not start"), true;
      if (timed_out) return true;
      accepted("implied by the start report (the acceptance report was lost)");
      if (!c.started) {
        c.started = true;
        Transition(
            c, ground::v1::COMMAND_STAGE_STARTED,
            fmt::format("completion expected within {:.0f} s", SecondsOf(CompletionBudget(c))),
            out);
      }
      c.deadline = now + CompletionBudget(c);
      return true;
    case rover::v1::VERIFICATION_STAGE_PROGRESS:
      if (timed_out || report.progress_step() <= c.state.progress_step()) return true;
      c.state.set_progress_step(report.progress_step());
      Transition(c, ground::v1::COMMAND_STAGE_PROGRESS,
                 fmt::format("step {}", report.progress_step()), out);
      c.state.set_progress_step(report.progress_step());  // remembered for ordering
      c.deadline = std::max(c.deadline, now + CompletionBudget(c) / 2);
      return true;
    case rover::v1::VERIFICATION_STAGE_COMPLETION:
      if (!report.success()) return failed("failed on board"), true;
      Finish(c, ground::v1::COMMAND_STAGE_COMPLETED, "success", out);
      return true;
    default:
      return true;
  }
}

size_t CommandTracker::active() const {
  return static_cast<size_t>(std::count_if(commands_.begin(), commands_.end(),
                                           [](const auto& e) { return !e.second.finished; }));
}

std::vector<GroundCommand> CommandTracker::Recent(size_t limit) const {
  std::vector<GroundCommand> out;
  const size_t skip = commands_.size() > limit ? commands_.size() - limit : 0;
  size_t i = 0;
  for (const auto& [id, c] : commands_) {
    if (i++ < skip) continue;
    out.push_back(c.state);
    out.back().clear_packet();
  }
  return out;
}

}  // namespace lgs::station
