#include "rover_emulator/command_handler.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "protocol/telecommand.h"
#include "rover/v1/command.pb.h"

namespace lgs::emulator {
namespace {

using rover::v1::CommandVerification;

// Requests this far behind the newest from the same source are refused: the rover remembers
// this many, so anything older could be a replay it can no longer recognise.
constexpr uint32_t kAtMostOnceWindow = 4096;

// Failure codes of the verification reports (rover/v1/verification.proto).
enum FailureCode : uint32_t {
  kUnknownCommand = 1,
  kBadArguments = 2,
  kTooOld = 3,
};

CommandVerification Report(const protocol::TcPacketView& tc, rover::v1::VerificationStage stage) {
  CommandVerification r;
  r.set_request_id(tc.request_id);
  r.set_source_id(tc.header.source_id);
  r.set_request_sequence(tc.header.request_sequence);
  r.set_stage(stage);
  r.set_success(true);
  return r;
}

void Fail(CommandVerification& r, FailureCode code, std::string reason) {
  r.set_success(false);
  r.set_failure_code(code);
  r.set_failure_reason(std::move(reason));
}

}  // namespace

void CommandHandler::Handle(std::span<const uint8_t> packet,
                            std::vector<CommandVerification>& reports) {
  ++stats_.received;
  auto parsed = protocol::ParseTcPacket(packet);
  if (!parsed.ok()) {
    ++stats_.rejected;
    spdlog::warn("telecommand rejected on board: {}: {}", protocol::NameOf(parsed.error().reason),
                 parsed.error().detail);
    return;
  }
  const protocol::TcPacketView& tc = parsed.value();
  const uint8_t ack = tc.header.ack_flags;
  CommandVerification acceptance = Report(tc, rover::v1::VERIFICATION_STAGE_ACCEPTANCE);
  CommandVerification completion = Report(tc, rover::v1::VERIFICATION_STAGE_COMPLETION);

  SourceHistory& history = sources_[tc.header.source_id];
  const uint32_t seq = tc.header.request_sequence;
  if (auto done = history.done.find(seq); done != history.done.end()) {
    ++stats_.repeated;
    for (const CommandVerification& r : done->second) reports.push_back(r);
    return;
  }
  if (history.any && uint64_t{seq} + kAtMostOnceWindow <= history.highest) {
    ++stats_.too_old;
    ++stats_.rejected;
    Fail(acceptance, kTooOld,
         fmt::format("request {} is older than the last {} from source {}", seq, kAtMostOnceWindow,
                     tc.header.source_id));
    reports.push_back(std::move(acceptance));
    return;
  }

  std::vector<CommandVerification> sent;
  const protocol::CommandInfo* command = nullptr;
  if (tc.header.apid != protocol::kRoverTcApid) {
    Fail(acceptance, kUnknownCommand,
         fmt::format("APID 0x{:03X} is not the rover's (0x{:03X})", tc.header.apid,
                     protocol::kRoverTcApid));
  } else if (command = protocol::FindCommand(tc.header.service, tc.header.subtype);
             command == nullptr) {
    Fail(acceptance, kUnknownCommand,
         fmt::format("no command ST[{},{}]", tc.header.service, tc.header.subtype));
  }
  if (!acceptance.success()) {
    ++stats_.rejected;
    spdlog::warn("telecommand {} from source {} refused: {}", seq, tc.header.source_id,
                 acceptance.failure_reason());
    reports.push_back(std::move(acceptance));
    return;  // not remembered: nothing was executed
  }
  ++stats_.executed;
  Execute(*command, tc.payload, completion);
  if (!completion.success()) {
    // Arguments that do not parse are an acceptance failure in PUS terms.
    Fail(acceptance, static_cast<FailureCode>(completion.failure_code()),
         completion.failure_reason());
    ++stats_.rejected;
    sent.push_back(std::move(acceptance));
  } else {
    if (ack & protocol::kAckAcceptance) sent.push_back(std::move(acceptance));
    if (ack & protocol::kAckCompletion) sent.push_back(std::move(completion));
  }
  for (const CommandVerification& r : sent) reports.push_back(r);

  history.done.emplace(seq, std::move(sent));
  if (!history.any || seq > history.highest) history.highest = seq;
  history.any = true;
  while (!history.done.empty() &&
         history.done.begin()->first + kAtMostOnceWindow <= history.highest) {
    history.done.erase(history.done.begin());
  }
}

void CommandHandler::Execute(const protocol::CommandInfo& command, std::span<const uint8_t> payload,
                             CommandVerification& completion) {
  switch (command.id) {
    case protocol::CommandId::kRetransmit:
      ExecuteRetransmit(payload, completion);
      return;
  }
  Fail(completion, kUnknownCommand, fmt::format("command '{}' has no handler", command.name));
}

void CommandHandler::ExecuteRetransmit(std::span<const uint8_t> payload,
                                       CommandVerification& completion) {
  rover::v1::RetransmitRequest request;
  if (!request.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    Fail(completion, kBadArguments, "arguments do not parse as RetransmitRequest");
    return;
  }
  for (const rover::v1::SequenceRange& range : request.ranges()) {
    const protocol::StreamInfo* stream =
        range.apid() <= 0xFFFF ? protocol::FindStreamByApid(static_cast<uint16_t>(range.apid()))
                               : nullptr;
    if (stream == nullptr || range.first() > range.last()) {
      Fail(completion, kBadArguments,
           fmt::format("bad range: APID 0x{:X} {}..{}", range.apid(), range.first(), range.last()));
      return;
    }
  }
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
