#include "groundstation/prior_recordings.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "protocol/mcap_reader.h"
#include "protocol/mcap_recover.h"
#include "protocol/recording_profile.h"

namespace lgs::station {

Result<PriorRecordings> ScanPriorRecordings(const std::string& directory, std::string_view rover_id,
                                            bool learn_sequences,
                                            const protocol::McapWriterOptions& recovery_writer,
                                            Logger& log, const RecordedMessageVisitor& visit) {
  namespace fs = std::filesystem;
  PriorRecordings prior;
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) return prior;
  std::vector<std::string> paths;
  for (const auto& entry : fs::directory_iterator(directory, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file(ec) && protocol::recording::IsRecordingOf(name, rover_id)) {
      paths.push_back(entry.path().string());
    }
  }
  if (ec) return Status::Error(fmt::format("cannot list '{}': {}", directory, ec.message()));
  std::sort(paths.begin(), paths.end());
  prior.files = paths.size();

  std::array<std::vector<uint32_t>, protocol::kStreamCount> sequences;
  // A file that is not a recording at all: renamed out of the way (never deleted: it is
  // someone's), reported, and the station goes on.
  const auto set_aside = [&](const std::string& path, const std::string& why) -> Status {
    const std::string to = path + ".unreadable";
    std::error_code rename_error;
    fs::rename(path, to, rename_error);
    if (rename_error) {
      return Status::Error(
          fmt::format("'{}' is not a readable recording ({}) and cannot be set "
                      "aside as '{}': {}",
                      path, why, to, rename_error.message()));
    }
    log.Warn("'{}' is not a readable recording ({}): set aside as '{}'", path, why, to);
    prior.set_aside.push_back(to);
    --prior.files;
    return Status::Ok();
  };
  for (const std::string& path : paths) {
    auto recovered = protocol::RecoverMcapInPlace(path, recovery_writer);
    if (!recovered.ok()) {
      if (Status s = set_aside(path, recovered.error().message()); !s.ok()) return s;
      continue;
    }
    if (recovered->has_value()) {
      const protocol::McapRecoverReport& r = **recovered;
      ++prior.recovered_files;
      prior.recovered_messages += r.messages;
      prior.lost_tail_bytes += r.lost_tail_bytes;
      log.Warn(
          "recording {} was left open (a crash?): recovered {} messages in place; {} "
          "bytes of its torn tail held nothing intact",
          path, r.messages, r.lost_tail_bytes);
    }
    if (!learn_sequences && !visit) continue;
    auto file = protocol::McapFile::Open(path);
    if (!file.ok()) {
      if (Status s = set_aside(path, file.error().message()); !s.ok()) return s;
      continue;
    }
    protocol::McapMessageReader reader(**file);
    protocol::McapMessage m;
    // Channel id -> stream index, or -1 for ground products and other rovers.
    std::map<uint16_t, int> stream_of;
    while (reader.Next(m)) {
      auto [it, added] = stream_of.try_emplace(m.channel_id, -1);
      if (added) {
        const protocol::McapChannel& c = reader.channels().at(m.channel_id);
        if (const auto* s = protocol::recording::StreamOfChannel(c.topic, rover_id)) {
          it->second = static_cast<int>(s->id);
        }
      }
      if (it->second < 0) continue;
      if (learn_sequences) {
        sequences[static_cast<size_t>(it->second)].push_back(m.sequence);
        ++prior.messages;
      }
      if (visit) visit(static_cast<protocol::StreamId>(it->second), m);
    }
    if (reader.end() != protocol::McapMessageReader::End::kComplete) {
      log.Warn(
          "recording {}: read stopped early ({}); what it holds after that is asked for "
          "again",
          path, reader.problem().reason);
    }
  }
  for (size_t i = 0; i < sequences.size(); ++i) {
    std::vector<uint32_t>& seqs = sequences[i];
    std::sort(seqs.begin(), seqs.end());
    seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
    for (uint32_t s : seqs) {
      auto& ranges = prior.recorded[i];
      if (!ranges.empty() && ranges.back().last + 1ULL == s) {
        ranges.back().last = s;
      } else {
        ranges.push_back({s, s});
      }
    }
  }
  return prior;
}

void SeedAccounting(const PriorRecordings& prior, const std::string& directory, bool gap_fill,
                    LinkAccounting& accounting, Logger& log) {
  for (const protocol::StreamInfo& info : protocol::AllStreams()) {
    const auto& recorded = prior.recorded[static_cast<size_t>(info.id)];
    if (const uint64_t left_out = accounting.SeedRecorded(info.id, recorded); left_out > 0) {
      log.Warn(
          "resuming {}: {} recorded sequence(s) lie far from the rest of the stream (a corrupted "
          "packet an older station believed?) and are not taken as its newest",
          info.name, left_out);
    }
  }
  const LinkSnapshot seeded = accounting.Snapshot();
  log.Info("resuming {}: {} packets already recorded in {} file(s); {} missing in {} gaps{}",
           directory, prior.messages, prior.files, seeded.total_missing(), seeded.total_gaps(),
           gap_fill ? " (gap fill will ask for them)" : "");
}

}  // namespace lgs::station
