// VerifyMcap: checks every byte of an MCAP file that can be checked — magic, record framing,
// chunk CRCs and compression, message indexes against the chunks they index, the data section
// CRC, the summary CRC, and the summary's statistics and chunk indexes against what the data
// section really holds. Used by `gsctl verify` and the tests.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "protocol/mcap_reader.h"

namespace lgs::protocol {

struct McapVerifyReport {
  std::vector<std::string> problems;  // empty = sound
  uint64_t messages = 0;
  uint64_t chunks = 0;
  std::map<uint16_t, uint64_t> channel_message_counts;
  bool complete = false;  // has a valid footer and summary
  bool sound() const { return problems.empty(); }
};

McapVerifyReport VerifyMcap(const McapFile& file);

}  // namespace lgs::protocol
