// Text and JSON renderings of decoded telemetry, shared by the station and gsctl.
//
// FormatTelemetryLine: one compact, human-readable line per packet for the terminal.
// TerminalLine: a line as the terminal view shows it, stamped with the UTC time it is about.
// FormatVerificationLine: a command verification report, labelled with whose request it answers.
// Stateless functions: thread-safe.
// AppendPacketJson: the JSON-lines shape of `--jsonl` and `gsctl cat --json`:
//   {"stream","apid","seq","size","onboard_time_ns","ground_time_ns","data":{protobuf JSON}}
// with `data` in protobuf's JSON mapping (proto field names, defaults included).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "protocol/telemetry_decoder.h"
#include "rover/v1/common.pb.h"

namespace rover::v1 {
class CommandVerification;
class Event;
}  // namespace rover::v1

namespace lgs::station {

// "ROVER_MODE_DRIVE" -> "DRIVE": an enum value's name without its type prefix (a view of `name`).
std::string_view ShortEnum(const std::string& name, std::string_view prefix);

// The mode a MODE_CHANGE event says the rover went into (its value), if it is one and names a
// mode. A hibernating rover sends no housekeeping: the event is the last word on its mode.
std::optional<rover::v1::RoverMode> ModeChangedTo(const rover::v1::Event& event);

std::string FormatTelemetryLine(const protocol::DecodedPacket& packet);

// "14:03:27.512 " (UTC, milliseconds) and `text`.
std::string TerminalLine(protocol::TimestampNs utc_ns, std::string_view text);

// Whose request a verification report answers, as the station knows it.
enum class RequestOwner {
  kUnknown,  // not known here (the uplink is off, or the report is for another station)
  kCommand,  // an operator's command (its stages are also shown as "CMD   #id name: stage")
  kGapFill,  // the station's own retransmit request (gap fill)
};
// "CMD   request 289244823 COMPLETION success", "GAPFILL request 289244823 COMPLETION success:
// 12 packets queued", ...: the request named by its sequence (decimal), as the command tracker
// names it.
std::string FormatVerificationLine(const rover::v1::CommandVerification& report,
                                   RequestOwner owner);

void AppendPacketJson(const protocol::DecodedPacket& packet, protocol::TimestampNs ground_ns,
                      std::string& out);

}  // namespace lgs::station
