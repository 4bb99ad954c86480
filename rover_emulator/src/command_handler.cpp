#include "rover_emulator/command_handler.h"

#include <fmt/format.h>

#include <memory>

#include "protocol/command_dictionary.h"
#include "protocol/telecommand.h"
#include "rover/v1/command.pb.h"
#include "rover/v1/file_delivery.pb.h"

namespace lgs::emulator {
namespace {

using rover::v1::CommandVerification;

// Requests this far behind the newest from the same source are refused: the rover remembers
// this many, so anything older could be a repeat it can no longer recognise.
constexpr int64_t kAtMostOnceWindow = 4096;
// Request sequences are compared in serial-number arithmetic (RFC 1982): they are 32-bit and a
// station numbers them from its clock, so they wrap. A request further behind than this is no
// delayed copy of anything recent: the source's numbering started again (a station restarted
// with its clock set back, or a source that numbers from 0). It is taken as new, so one request
// near 2^32 cannot lock a source out.
constexpr int64_t kRenumberedDistance = int64_t{1} << 20;
// At most one log line per this many seconds for refused telecommands (counted all the same).
constexpr double kRefusalLogInterval_s = 5.0;

// seq - reference in serial-number arithmetic: positive when seq is newer.
int64_t SerialDistance(uint32_t seq, uint32_t reference) {
  return static_cast<int32_t>(seq - reference);
}

// Ranges of a retransmit request: known streams, first <= last.
Status CheckRetransmit(const rover::v1::RetransmitRequest& request) {
  for (const rover::v1::SequenceRange& range : request.ranges()) {
    const protocol::StreamInfo* stream =
        range.apid() <= 0xFFFF ? protocol::FindStreamByApid(static_cast<uint16_t>(range.apid()))
                               : nullptr;
    if (stream == nullptr || range.first() > range.last()) {
      return Status::Error(
          fmt::format("bad range: APID 0x{:X} {}..{}", range.apid(), range.first(), range.last()));
    }
  }
  return Status::Ok();
}

void Fail(CommandVerification& r, FailureCode code, std::string reason) {
  r.set_success(false);
  r.set_failure_code(code);
  r.set_failure_reason(std::move(reason));
}

}  // namespace

CommandVerification CommandHandler::Report(const Request& request,
                                           rover::v1::VerificationStage stage) const {
  CommandVerification r;
  r.set_request_id(request.request_id);
  r.set_source_id(request.source_id);
  r.set_request_sequence(request.sequence);
  r.set_stage(stage);
  r.set_success(true);
  return r;
}

void CommandHandler::Send(Request& request, CommandVerification report, uint8_t ack_flag,
                          std::vector<CommandVerification>& reports) {
  // Failures are reported whatever the flags say.
  if (!(request.ack_flags & ack_flag) && report.success()) return;
  reports.push_back(report);
  request.sent.push_back(std::move(report));
}

void CommandHandler::Handle(std::span<const uint8_t> packet, protocol::TimestampNs now,
                            std::vector<CommandVerification>& reports) {
  ++stats_.received;
  auto parsed = protocol::ParseTcPacket(packet);
  if (!parsed.ok()) {
    ++stats_.rejected;
    LogRefusal(now, fmt::format("telecommand rejected on board: {}: {}",
                                protocol::NameOf(parsed.error().reason), parsed.error().detail));
    return;
  }
  const protocol::TcPacketView& tc = parsed.value();
  Request request;
  request.request_id = tc.request_id;
  request.source_id = tc.header.source_id;
  request.sequence = tc.header.request_sequence;
  request.ack_flags = tc.header.ack_flags;
  CommandVerification acceptance = Report(request, rover::v1::VERIFICATION_STAGE_ACCEPTANCE);

  SourceHistory& history = sources_[tc.header.source_id];
  const uint32_t seq = tc.header.request_sequence;
  if (auto done = history.done.find(seq); done != history.done.end()) {
    ++stats_.repeated;
    for (const CommandVerification& r : done->second.sent) reports.push_back(r);
    return;
  }
  const int64_t behind = history.any ? -SerialDistance(seq, history.highest) : 0;
  if (behind >= kRenumberedDistance) {
    // Not a late copy of anything recent: the source numbers afresh (see kRenumberedDistance).
    ++stats_.renumbered;
    history = SourceHistory{};
  } else if (behind >= kAtMostOnceWindow) {
    ++stats_.too_old;
    ++stats_.rejected;
    Fail(acceptance, kTooOld,
         fmt::format("request {} is older than the last {} from source {}", seq, kAtMostOnceWindow,
                     tc.header.source_id));
    reports.push_back(std::move(acceptance));
    return;
  }

  const protocol::CommandInfo* command = nullptr;
  std::unique_ptr<google::protobuf::Message> args;
  if (tc.header.apid != protocol::kRoverTcApid) {
    Fail(acceptance, kUnknownCommand,
         fmt::format("APID 0x{:03X} is not the rover's (0x{:03X})", tc.header.apid,
                     protocol::kRoverTcApid));
  } else if (command = protocol::FindCommand(tc.header.service, tc.header.subtype);
             command == nullptr) {
    Fail(acceptance, kUnknownCommand,
         fmt::format("no command ST[{},{}]", tc.header.service, tc.header.subtype));
  } else {
    args.reset(command->prototype->New());
    if (!args->ParseFromArray(tc.payload.data(), static_cast<int>(tc.payload.size()))) {
      Fail(acceptance, kBadArguments,
           fmt::format("arguments do not parse as {}", args->GetDescriptor()->name()));
    } else if (Status s = protocol::CheckArguments(*command, *args); !s.ok()) {
      Fail(acceptance, kBadArguments, s.message());
    } else if (command->id == protocol::CommandId::kRetransmit) {
      if (Status r = CheckRetransmit(static_cast<const rover::v1::RetransmitRequest&>(*args));
          !r.ok()) {
        Fail(acceptance, kBadArguments, r.message());
      }
    }
  }
  if (!acceptance.success()) {
    ++stats_.rejected;
    LogRefusal(now, fmt::format("telecommand {} from source {} refused: {}", seq,
                                tc.header.source_id, acceptance.failure_reason()));
    reports.push_back(std::move(acceptance));
    return;  // not remembered: nothing was executed
  }
  ++stats_.executed;
  Request& stored = history.done.emplace(seq, std::move(request)).first->second;
  Send(stored, std::move(acceptance), protocol::kAckAcceptance, reports);
  Execute(stored, *command, *args, now, reports);

  if (!history.any || SerialDistance(seq, history.highest) > 0) history.highest = seq;
  history.any = true;
  // Forget what fell out of the window, in serial order (the map's order breaks at a wrap).
  std::erase_if(history.done, [&](const auto& entry) {
    return -SerialDistance(entry.first, history.highest) >= kAtMostOnceWindow;
  });
}

void CommandHandler::LogRefusal(protocol::TimestampNs now, const std::string& line) {
  // Mission time: the limit holds at any --speed.
  if (refusals_logged_ > 0 && now - last_refusal_log_ns_ <
                                  static_cast<protocol::TimestampNs>(kRefusalLogInterval_s * 1e9)) {
    ++refusals_suppressed_;
    return;
  }
  if (refusals_suppressed_ > 0) {
    log_.Warn("{} [and {} more refused since the last report]", line, refusals_suppressed_);
  } else {
    log_.Warn("{}", line);
  }
  ++refusals_logged_;
  refusals_suppressed_ = 0;
  last_refusal_log_ns_ = now;
}

void CommandHandler::Execute(Request& request, const protocol::CommandInfo& command,
                             const google::protobuf::Message& args, protocol::TimestampNs now,
                             std::vector<CommandVerification>& reports) {
  CommandVerification completion = Report(request, rover::v1::VERIFICATION_STAGE_COMPLETION);
  switch (command.id) {
    case protocol::CommandId::kRetransmit:
      Send(request, Report(request, rover::v1::VERIFICATION_STAGE_START), protocol::kAckStart,
           reports);
      ExecuteRetransmit(static_cast<const rover::v1::RetransmitRequest&>(args), completion);
      ++stats_.completed;
      Send(request, std::move(completion), protocol::kAckCompletion, reports);
      return;
    case protocol::CommandId::kFileDeliveryPdu: {
      // CFDP's own acknowledgements answer these; reports only when the ground asks for them.
      const std::string& pdu = static_cast<const rover::v1::FilePdu&>(args).pdu();
      const bool taken =
          files_ != nullptr &&
          files_->OnPdu({reinterpret_cast<const uint8_t*>(pdu.data()), pdu.size()}, now);
      if (!taken) {
        ++stats_.failed;
        Fail(completion, kExecutionFailed,
             files_ == nullptr ? "no file delivery on board" : "not a CFDP PDU");
      } else {
        ++stats_.completed;
      }
      Send(request, std::move(completion), protocol::kAckCompletion, reports);
      return;
    }
    case protocol::CommandId::kSetTelemetryRate: {
      const auto& rate = static_cast<const rover::v1::SetTelemetryRate&>(args);
      Send(request, Report(request, rover::v1::VERIFICATION_STAGE_START), protocol::kAckStart,
           reports);
      generator_.SetRate(protocol::FindStreamByName(rate.stream())->id, rate.rate_hz(), now);
      ++stats_.completed;
      Send(request, std::move(completion), protocol::kAckCompletion, reports);
      return;
    }
    default:
      break;
  }
  Collect(reports);  // whatever earlier activities did up to now comes first
  const Status started = generator_.model().StartActivity(Tag(request.source_id, request.sequence),
                                                          command, args, now);
  CommandVerification start = Report(request, rover::v1::VERIFICATION_STAGE_START);
  if (!started.ok()) {
    ++stats_.failed;
    Fail(start, kCannotStart, started.message());
    log_.Info("telecommand {} ({}) cannot start: {}", request.sequence, command.name,
              started.message());
  }
  Send(request, std::move(start), protocol::kAckStart, reports);
  Collect(reports);  // instant commands complete at once
}

void CommandHandler::Collect(std::vector<CommandVerification>& reports) {
  for (const ActivityReport& a : generator_.model().TakeActivityReports()) {
    const auto source = static_cast<uint16_t>(a.tag >> 32);
    const auto sequence = static_cast<uint32_t>(a.tag);
    auto history = sources_.find(source);
    if (history == sources_.end()) continue;
    auto found = history->second.done.find(sequence);
    if (found == history->second.done.end()) continue;  // forgotten: too old to matter
    Request& request = found->second;
    switch (a.kind) {
      case ActivityReport::Kind::kProgress: {
        CommandVerification r = Report(request, rover::v1::VERIFICATION_STAGE_PROGRESS);
        r.set_progress_step(a.step);
        Send(request, std::move(r), protocol::kAckProgress, reports);
        break;
      }
      case ActivityReport::Kind::kCompleted:
        ++stats_.completed;
        Send(request, Report(request, rover::v1::VERIFICATION_STAGE_COMPLETION),
             protocol::kAckCompletion, reports);
        break;
      case ActivityReport::Kind::kFailed: {
        ++stats_.failed;
        CommandVerification r = Report(request, rover::v1::VERIFICATION_STAGE_COMPLETION);
        Fail(r, kExecutionFailed, a.reason);
        Send(request, std::move(r), protocol::kAckCompletion, reports);
        break;
      }
    }
  }
}

void CommandHandler::ExecuteRetransmit(const rover::v1::RetransmitRequest& request,
                                       CommandVerification& completion) {
  uint32_t queued = 0;
  for (const rover::v1::SequenceRange& range : request.ranges()) {
    const protocol::StreamInfo* stream =
        protocol::FindStreamByApid(static_cast<uint16_t>(range.apid()));
    const RetransmitResult r = link_.Retransmit(stream->id, range.first(), range.last());
    queued += r.queued;
    for (const auto& [first, last] : r.unavailable) {
      rover::v1::SequenceRange* lost = completion.add_unavailable();
      lost->set_apid(range.apid());
      lost->set_first(first);
      lost->set_last(last);
    }
  }
  completion.set_packets_queued(queued);
}

}  // namespace lgs::emulator
