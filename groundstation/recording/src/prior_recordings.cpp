#include "groundstation/prior_recordings.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>

#include "groundstation/parameter_archive.h"
#include "protocol/mcap_reader.h"
#include "protocol/mcap_recover.h"
#include "protocol/recording_profile.h"

namespace lgs::station {

namespace {

// Sorted disjoint ranges of every range given (overlapping or adjacent ones merged).
std::vector<SequenceRange> MergeRanges(std::vector<SequenceRange> ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const SequenceRange& a, const SequenceRange& b) { return a.first < b.first; });
  std::vector<SequenceRange> out;
  for (const SequenceRange& r : ranges) {
    if (!out.empty() && uint64_t{r.first} <= uint64_t{out.back().last} + 1) {
      out.back().last = std::max(out.back().last, r.last);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

// A file whose valid archive was made from it complete: what the scan needs, from the archive
// (and the `full_streams` from the file's chunks that hold them). False: read the file instead.
bool FromArchive(const std::string& path, std::string_view rover_id, bool learn_sequences,
                 const RecordedMessageVisitor& visit,
                 const std::vector<protocol::StreamId>& full_streams, PriorRecordings& prior,
                 std::array<std::vector<SequenceRange>, protocol::kStreamCount>& ranges,
                 Logger& log) {
  namespace fs = std::filesystem;
  auto opened = ArchiveReader::Open(ArchivePathFor(path));
  auto* reader = std::get_if<0>(&opened);
  if (reader == nullptr || !(*reader)->header().recording_complete) return false;
  std::error_code ec;
  const uint64_t size = fs::file_size(path, ec);
  if (ec || (*reader)->Matches(path, size, RecordingMtimeNs(path)) != ArchiveState::kValid) {
    return false;
  }
  ArchiveReader::Sequences sequences;
  if (learn_sequences) {
    auto s = (*reader)->RecordedSequences();
    if (!s.ok()) {
      log.Warn("prior recordings: {}; reading the recording instead", s.error().message());
      return false;
    }
    sequences = std::move(*s);
    auto newest = (*reader)->NewestOnboard();
    if (!newest.ok()) {
      log.Warn("prior recordings: {}; reading the recording instead", newest.error().message());
      return false;
    }
    if (*newest) {
      for (size_t i = 0; i < prior.newest_onboard_ns.size(); ++i) {
        prior.newest_onboard_ns[i] = std::max(prior.newest_onboard_ns[i], (**newest)[i]);
      }
    } else {
      prior.newest_onboard_known = false;
    }
  }
  std::vector<ArchivedMessage> tiles;
  std::optional<ArchivedMessage> pose;
  std::unique_ptr<protocol::McapFile> file;
  std::optional<protocol::McapSummary> summary;
  if (visit) {
    auto t = (*reader)->Tiles();
    auto p = (*reader)->NewestPose();
    if (!t.ok() || !p.ok()) {
      log.Warn("prior recordings: {}; reading the recording instead",
               t.ok() ? p.error().message() : t.error().message());
      return false;
    }
    tiles = std::move(*t);
    pose = std::move(*p);
    if (!full_streams.empty()) {
      auto f = protocol::McapFile::Open(path);
      if (!f.ok()) return false;
      auto sum = (*f)->ReadSummary();
      if (!sum.ok()) return false;
      file = std::move(*f);
      summary = std::move(*sum);
    }
  }
  // Everything needed is at hand: from here on, the archive answers for the file.
  ++prior.archived_files;
  prior.messages += sequences.messages;
  for (size_t i = 0; i < ranges.size(); ++i) {
    ranges[i].insert(ranges[i].end(), sequences.ranges[i].begin(), sequences.ranges[i].end());
  }
  if (!visit) return true;
  const auto show = [&](protocol::StreamId stream, const ArchivedMessage& m) {
    protocol::McapMessage message;
    message.sequence = m.sequence;
    message.log_time = m.ground_ns;
    message.publish_time = m.onboard_ns;
    message.data = {reinterpret_cast<const uint8_t*>(m.data.data()), m.data.size()};
    visit(stream, message);
  };
  for (const ArchivedMessage& t : tiles) show(protocol::StreamId::kTerrainTile, t);
  if (pose) show(protocol::StreamId::kNavigationPose, *pose);
  if (!file) return true;
  std::map<uint16_t, protocol::StreamId> wanted;
  for (const auto& [id, channel] : summary->channels) {
    const protocol::StreamInfo* s = protocol::recording::StreamOfChannel(channel.topic, rover_id);
    if (s != nullptr &&
        std::find(full_streams.begin(), full_streams.end(), s->id) != full_streams.end()) {
      wanted.emplace(id, s->id);
    }
  }
  std::vector<uint64_t> chunks;
  for (const protocol::McapChunkIndex& c : summary->chunk_indexes) {
    bool holds = c.message_index_offsets.empty();
    for (const auto& [id, stream] : wanted) holds = holds || c.message_index_offsets.contains(id);
    if (holds && !wanted.empty()) chunks.push_back(c.chunk_start_offset);
  }
  protocol::McapMessageReader messages(*file);
  messages.ReadOnlyChunks(*summary, std::move(chunks));
  protocol::McapMessage m;
  while (messages.Next(m)) {
    if (const auto it = wanted.find(m.channel_id); it != wanted.end()) visit(it->second, m);
  }
  return true;
}

}  // namespace

Result<PriorRecordings> ScanPriorRecordings(const std::string& directory, std::string_view rover_id,
                                            bool learn_sequences,
                                            const protocol::McapWriterOptions& recovery_writer,
                                            Logger& log, const RecordedMessageVisitor& visit,
                                            const std::vector<protocol::StreamId>& full_streams) {
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
  std::sort(paths.begin(), paths.end(), [](const std::string& a, const std::string& b) {
    return protocol::recording::RecordingOrder(a, b);
  });
  prior.files = paths.size();

  std::array<std::vector<uint32_t>, protocol::kStreamCount> sequences;
  std::array<std::vector<SequenceRange>, protocol::kStreamCount> archived_ranges;
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
    if (learn_sequences || visit) {
      if (auto used = FromArchive(path, rover_id, learn_sequences, visit, full_streams, prior,
                                  archived_ranges, log);
          used) {
        continue;
      }
    }
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
        const auto index = static_cast<size_t>(it->second);
        sequences[index].push_back(m.sequence);
        prior.newest_onboard_ns[index] = std::max(prior.newest_onboard_ns[index], m.publish_time);
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
    std::vector<SequenceRange> ranges = std::move(archived_ranges[i]);
    for (uint32_t s : seqs) {
      if (!ranges.empty() && ranges.back().last + 1ULL == s) {
        ranges.back().last = s;
      } else {
        ranges.push_back({s, s});
      }
    }
    prior.recorded[i] = MergeRanges(std::move(ranges));
  }
  return prior;
}

void SeedAccounting(const PriorRecordings& prior, const std::string& directory, bool gap_fill,
                    LinkAccounting& accounting, Logger& log) {
  for (const protocol::StreamInfo& info : protocol::AllStreams()) {
    const auto& recorded = prior.recorded[static_cast<size_t>(info.id)];
    const uint64_t newest =
        prior.newest_onboard_known ? prior.newest_onboard_ns[static_cast<size_t>(info.id)] : 0;
    if (const uint64_t left_out = accounting.SeedRecorded(info.id, recorded, newest);
        left_out > 0) {
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
