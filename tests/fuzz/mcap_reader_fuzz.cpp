// libFuzzer target: the MCAP reader, summary reader and verifier must turn any file — torn,
// corrupt, hostile lengths, bad compression — into a clean result or a reason, never a crash,
// hang, huge allocation or out-of-bounds read.
#include <cstddef>
#include <cstdint>
#include <span>

#include "protocol/mcap_reader.h"
#include "protocol/mcap_verify.h"

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
  static_cast<void>(VerifyMcap(*file));
  return 0;
}
