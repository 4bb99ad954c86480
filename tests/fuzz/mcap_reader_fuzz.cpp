// libFuzzer target: the MCAP reader, summary reader and verifier must turn any file — torn,
// corrupt, hostile lengths, bad compression — into a clean result or a reason, never a crash,
// hang, huge allocation or out-of-bounds read.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>

#include "protocol/mcap_reader.h"
#include "protocol/mcap_verify.h"
#include "protocol/text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lgs::protocol;
  auto file = McapFile::FromBytes(std::span<const uint8_t>(data, size), "fuzz.mcap");
  static_cast<void>(file->ReadSummary());
  for (bool skip : {false, true}) {
    McapReadOptions options;
    options.skip_damaged_chunks = skip;
    options.max_chunk_bytes = 64 << 20;
    McapMessageReader reader(*file, options);
    McapMessage m;
    uint64_t bytes = 0;
    while (reader.Next(m)) {
      for (uint8_t b : m.data) bytes += b;  // touch every byte handed out
    }
    if (reader.end() == McapMessageReader::End::kNotYet) __builtin_trap();
    if (reader.intact_offset() > size) __builtin_trap();
    static_cast<void>(bytes);
  }
  // Whatever names and metadata the file holds, gsctl's JSON of them cannot throw (invalid
  // UTF-8) and its text of them holds no control character.
  McapMessageReader reader(*file);
  McapMessage m;
  while (reader.Next(m)) {
  }
  nlohmann::json channels = nlohmann::json::array();
  for (const auto& [id, channel] : reader.channels()) {
    channels.push_back({{"topic", channel.topic}, {"metadata", channel.metadata}});
    for (const unsigned char c : lgs::text::EscapeForTerminal(channel.topic)) {
      if (c < 0x20 || c == 0x7F) __builtin_trap();
    }
  }
  static_cast<void>(lgs::text::JsonDump(channels));
  static_cast<void>(VerifyMcap(*file));
  return 0;
}
