// libFuzzer target: the telemetry decoder (space packet framing, CRC, registry, topic, sequence,
// protobuf) must reject anything malformed with a reason and never crash, hang or read out of
// bounds. What it accepts then goes where the station sends it: the link accounting (wild
// sequence numbers: bounded state, no overflow) and the terminal line (no control character
// may reach the terminal). Input: one byte choosing the topic, then the packet.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "groundstation/link_accounting.h"
#include "groundstation/telemetry_format.h"
#include "protocol/space_packet.h"
#include "protocol/stream_registry.h"
#include "protocol/telemetry_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lgs::protocol;
  static TelemetryDecoder decoder("rover1");
  if (size == 0) return 0;
  const auto streams = AllStreams();
  // Topic: any registered stream's (so packets get past the topic check), or a wrong one.
  std::string topic = data[0] < streams.size() * 2
                          ? TelemetryTopic("rover1", streams[data[0] % streams.size()])
                          : std::string("tm.rover1.unknown.");
  const std::span<const uint8_t> packet(data + 1, size - 1);
  auto decoded = decoder.Decode(topic, packet);
  if (decoded.ok()) {
    // Anything accepted is consistent with itself.
    const DecodedPacket& p = decoded.value();
    if (p.stream == nullptr || p.message == nullptr || p.packet.bytes.size() != packet.size()) {
      __builtin_trap();
    }
    // One accounting for the whole run, as in a station: every input is another packet.
    static lgs::station::LinkAccounting accounting;
    static std::vector<lgs::station::Expired> expired;
    static int64_t ground_ns = 1'800'000'000'000'000'000;
    ground_ns += 1'000'000;
    static_cast<void>(accounting.Observe(p.stream->id, p.packet.extended_sequence,
                                         p.packet.bytes.size(), p.packet.onboard_time_ns,
                                         ground_ns));
    expired.clear();
    accounting.Expire(ground_ns, expired);
    // State grows with the gaps, never with what a sequence claims: ranges are few.
    if (accounting.MissingRanges(p.stream->id, 100'000).size() > 50'000) __builtin_trap();
    for (const unsigned char c : lgs::station::FormatTelemetryLine(p)) {
      if (c < 0x20 || c == 0x7F) __builtin_trap();
    }
  } else if (decoded.error().detail.empty()) {
    __builtin_trap();  // every rejection says why
  }
  static_cast<void>(ParseTmPacket(packet));
  return 0;
}
