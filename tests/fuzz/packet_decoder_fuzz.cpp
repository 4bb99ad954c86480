// libFuzzer target: the telemetry decoder (space packet framing, CRC, registry, topic, sequence,
// protobuf) must reject anything malformed with a reason and never crash, hang or read out of
// bounds. Input: one byte choosing the topic, then the packet.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

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
  } else if (decoded.error().detail.empty()) {
    __builtin_trap();  // every rejection says why
  }
  static_cast<void>(ParseTmPacket(packet));
  return 0;
}
