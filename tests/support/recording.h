// Test support: reading back what the programs under test wrote — the station's recordings
// (every message of every MCAP file, with its channel) and the emulator's truth file (what the
// rover sent, and what the link did with each packet). One reader each, so the tests compare
// against ground truth instead of each carrying a copy of an MCAP read loop.
//
// Pure functions of the files; thread-safe.
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "protocol/mcap_reader.h"
#include "protocol/stream_registry.h"

namespace lgs::test {

struct RecordedMessage {
  std::string file;   // the file it came from
  std::string topic;  // "/rover1/housekeeping", "/ground/alarms", ...
  uint16_t channel_id = 0;
  uint32_t sequence = 0;
  uint64_t log_time = 0, publish_time = 0;
  std::string data;
  bool rover_channel = false;  // the channel names an apid (a rover stream's channel)
  const protocol::StreamInfo* stream = nullptr;  // that apid's stream; null if unknown or ground

  // The message parsed as `M`; false when it does not parse.
  template <class M>
  bool ParseAs(M& out) const {
    return out.ParseFromArray(data.data(), static_cast<int>(data.size()));
  }
};

struct Recording {
  std::vector<RecordedMessage> messages;  // file by file (sorted by name), in file order
  size_t files = 0;
  // Files that did not read to their end (torn, damaged) or did not open: name -> why.
  std::map<std::string, std::string> incomplete;
  // How each file that opened ended (kComplete, kTorn, kDamaged).
  std::map<std::string, protocol::McapMessageReader::End> ends;

  std::vector<const RecordedMessage*> OnTopic(const std::string& topic) const;
  size_t RoverMessages() const;  // on a rover stream's channel
};

// Every .mcap file in `directory`.
Recording ReadRecording(const std::filesystem::path& directory);
// These files, in this order.
Recording ReadRecordingFiles(const std::vector<std::string>& files);

// One line of the emulator's --truth file.
struct TruthPacket {
  std::string stream;
  uint16_t apid = 0;
  uint32_t seq = 0;
  size_t size = 0;
  int64_t onboard_time_ns = 0;
  uint32_t crc = 0;
  std::string fate;  // "delivered", "dropped", "corrupted", "duplicated", ...
  bool stored = false, reordered = false, retransmit = false;
  int64_t sent_ns = 0, arrival_ns = 0;
};
struct TruthTelecommand {
  uint16_t source = 0;
  uint32_t request = 0;
  std::string command, outcome;
  int64_t onboard_ns = 0;
};
struct Truth {
  std::vector<TruthPacket> packets;
  std::vector<TruthTelecommand> telecommands;
};

// The truth file at `path` (a missing file is an empty truth; a bad line fails the test).
Truth ReadTruth(const std::filesystem::path& path);

}  // namespace lgs::test
