// Text and JSON renderings of decoded telemetry, shared by the station and gsctl.
//
// FormatTelemetryLine: one compact, human-readable line per packet for the terminal.
// AppendPacketJson: the JSON-lines shape of `--jsonl` and `gsctl cat --json`:
//   {"stream","apid","seq","size","onboard_time_ns","ground_time_ns","data":{protobuf JSON}}
// with `data` in protobuf's JSON mapping (proto field names, defaults included).
#pragma once

#include <string>

#include "protocol/telemetry_decoder.h"

namespace lgs::station {

std::string FormatTelemetryLine(const protocol::DecodedPacket& packet);

void AppendPacketJson(const protocol::DecodedPacket& packet, protocol::TimestampNs ground_ns,
                      std::string& out);

}  // namespace lgs::station
