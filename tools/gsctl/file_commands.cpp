// gsctl info, verify, recover: what a recording holds, whether it is sound, making it whole.
#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "protocol/mcap_recover.h"
#include "protocol/mcap_verify.h"
#include "protocol/mcap_writer.h"
#include "protocol/space_packet.h"
#include "protocol/text.h"

namespace lgs::gsctl {

using protocol::McapFile;
using protocol::McapMessage;
using protocol::McapMessageReader;

namespace {

struct ChannelFacts {
  uint64_t messages = 0;
  uint64_t bytes = 0;
  uint64_t gaps = 0, missing = 0, duplicates_or_reordered = 0;
  bool have_seq = false;
  uint32_t last_seq = 0;  // the highest so far
  // The sequences seen, as disjoint ranges first -> last: a packet recorded late (a
  // retransmission) fills its hole wherever it sits in the file. Memory follows the holes, not
  // the packets.
  std::map<uint32_t, uint32_t> seen;

  void Add(uint32_t seq) {
    if (have_seq && seq <= last_seq) ++duplicates_or_reordered;
    if (!have_seq || seq > last_seq) last_seq = seq;
    have_seq = true;
    auto next = seen.upper_bound(seq);
    if (next != seen.begin()) {
      auto prev = std::prev(next);
      if (seq <= prev->second) return;  // a copy
      if (uint64_t{prev->second} + 1 == seq) {
        prev->second = seq;
        if (next != seen.end() && uint64_t{seq} + 1 == next->first) {
          prev->second = next->second;
          seen.erase(next);
        }
        return;
      }
    }
    if (next != seen.end() && uint64_t{seq} + 1 == next->first) {
      const uint32_t last = next->second;
      seen.erase(next);
      seen.emplace(seq, last);
      return;
    }
    seen.emplace(seq, seq);
  }
  // Holes between the first and the newest sequence.
  void Finish() {
    gaps = seen.empty() ? 0 : seen.size() - 1;
    missing = 0;
    uint64_t previous_last = 0;
    bool first = true;
    for (const auto& [lo, hi] : seen) {
      if (!first) missing += lo - previous_last - 1;
      previous_last = hi;
      first = false;
    }
  }
};

const char* EndName(McapMessageReader::End end) {
  switch (end) {
    case McapMessageReader::End::kComplete:
      return "complete";
    case McapMessageReader::End::kTorn:
      return "torn";
    case McapMessageReader::End::kDamaged:
      return "damaged";
    case McapMessageReader::End::kNotYet:
      break;
  }
  return "unknown";
}

}  // namespace

namespace {

// One file: facts on stdout (text, or one JSON line); returns the exit code.
int RunInfoOne(const std::string& path, bool as_json) {
  auto opened = McapFile::Open(path);
  if (!opened.ok()) {
    fmt::print(stderr, "gsctl info: {}\n", opened.error().message());
    return kExitFailure;
  }
  const McapFile& file = **opened;
  auto summary = file.ReadSummary();

  // One pass over the messages gives bytes and sequence gaps per channel.
  McapMessageReader reader(file);
  std::map<uint16_t, ChannelFacts> facts;
  uint64_t first = UINT64_MAX, last = 0, total = 0;
  ProgressBar progress(
      "reading", summary.ok() && summary->statistics ? summary->statistics->message_count : 0);
  McapMessage m;
  while (reader.Next(m)) {
    ChannelFacts& f = facts[m.channel_id];
    ++f.messages;
    f.bytes += m.data.size();
    f.Add(m.sequence);
    first = std::min(first, m.log_time);
    last = std::max(last, m.log_time);
    progress.Update(++total);
  }
  progress.Finish();
  for (auto& [id, f] : facts) f.Finish();
  const double duration_s = total > 0 ? static_cast<double>(last - first) / 1e9 : 0.0;
  uint64_t compressed = 0, uncompressed = 0;
  if (summary.ok()) {
    for (const auto& ci : summary->chunk_indexes) {
      compressed += ci.compressed_size;
      uncompressed += ci.uncompressed_size;
    }
  }

  nlohmann::json j;
  j["file"] = path;
  j["size_bytes"] = file.bytes().size();
  j["state"] = EndName(reader.end());
  if (reader.end() != McapMessageReader::End::kComplete) j["problem"] = reader.problem().reason;
  j["indexed"] = summary.ok();
  if (summary.ok()) j["library"] = summary->library;
  j["messages"] = total;
  j["start"] = total ? FormatUtc(first) : "";
  j["end"] = total ? FormatUtc(last) : "";
  j["start_ns"] = total ? first : 0;
  j["end_ns"] = total ? last : 0;
  j["duration_s"] = duration_s;
  j["chunks"] = summary.ok() ? summary->chunk_indexes.size() : reader.chunks_read();
  j["compression_ratio"] = compressed > 0 ? static_cast<double>(uncompressed) / compressed : 1.0;
  nlohmann::json channels = nlohmann::json::array();
  for (const auto& [id, channel] : reader.channels()) {
    const ChannelFacts& f = facts[id];
    const auto schema = reader.schemas().find(channel.schema_id);
    channels.push_back({{"id", id},
                        {"topic", channel.topic},
                        {"schema", schema != reader.schemas().end() ? schema->second.name : ""},
                        {"messages", f.messages},
                        {"rate_hz", duration_s > 0 ? f.messages / duration_s : 0.0},
                        {"bytes", f.bytes},
                        {"sequence_gaps", f.gaps},
                        {"sequences_missing", f.missing},
                        {"sequences_repeated_or_reordered", f.duplicates_or_reordered},
                        {"metadata", channel.metadata}});
  }
  j["channels"] = channels;
  if (as_json) {
    fmt::print("{}\n", text::JsonDump(j));
  } else {
    fmt::print("file:        {} ({} bytes, {})\n", path, file.bytes().size(),
               j["state"].get<std::string>());
    if (reader.end() != McapMessageReader::End::kComplete) {
      fmt::print("problem:     {} (at offset {})\n", reader.problem().reason,
                 reader.problem().offset);
    }
    fmt::print("indexed:     {}\n",
               summary.ok() ? "yes" : "no (" + summary.error().message() + ")");
    if (total > 0) {
      fmt::print("start:       {}\nend:         {}\nduration:    {:.3f} s\n", FormatUtc(first),
                 FormatUtc(last), duration_s);
    }
    fmt::print("messages:    {}\nchunks:      {}\ncompression: {:.2f}x ({} -> {} bytes)\n", total,
               j["chunks"].get<uint64_t>(), j["compression_ratio"].get<double>(), uncompressed,
               compressed);
    fmt::print("\n  {:<28}{:>10}{:>10}{:>12}{:>7}{:>9}  {}\n", "channel", "messages", "rate/s",
               "bytes", "gaps", "missing", "schema");
    for (const auto& c : channels) {
      // Names come from the file: shown escaped, never as terminal commands.
      fmt::print("  {:<28}{:>10}{:>10.2f}{:>12}{:>7}{:>9}  {}\n",
                 text::EscapeForTerminal(c["topic"].get<std::string>(), 200),
                 c["messages"].get<uint64_t>(), c["rate_hz"].get<double>(),
                 c["bytes"].get<uint64_t>(), c["sequence_gaps"].get<uint64_t>(),
                 c["sequences_missing"].get<uint64_t>(),
                 text::EscapeForTerminal(c["schema"].get<std::string>(), 200));
    }
  }
  return kExitOk;
}

}  // namespace

int RunInfo(const InfoOptions& options) {
  // Several files (gsctl info recordings/*.mcap): each in turn; the worst exit code.
  int code = kExitOk;
  for (size_t i = 0; i < options.files.size(); ++i) {
    if (i > 0 && !options.json) fmt::print("\n");
    code = std::max(code, RunInfoOne(options.files[i], options.json));
  }
  return code;
}

int RunVerify(const VerifyOptions& o) {
  auto opened = McapFile::Open(o.file);
  if (!opened.ok()) {
    fmt::print(stderr, "gsctl verify: {}\n", opened.error().message());
    return kExitFailure;
  }
  const protocol::McapVerifyReport report = protocol::VerifyMcap(**opened);
  if (o.json) {
    fmt::print("{}\n", text::JsonDump(nlohmann::json{{"file", o.file},
                                                     {"sound", report.sound()},
                                                     {"messages", report.messages},
                                                     {"chunks", report.chunks},
                                                     {"problems", report.problems}}));
  } else if (report.sound()) {
    fmt::print("{}: sound ({} messages in {} chunks; every CRC, index and count checked)\n", o.file,
               report.messages, report.chunks);
  } else {
    fmt::print("{}: NOT sound ({} problem(s))\n", o.file, report.problems.size());
    for (const std::string& p : report.problems) fmt::print("  - {}\n", p);
  }
  return report.sound() ? kExitOk : kExitFailure;
}

int RunRecover(const RecoverOptions& o) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(o.out, ec) && fs::equivalent(o.broken, o.out, ec)) {
    fmt::print(stderr, "gsctl recover: the output must not be the broken file itself\n");
    return kExitUsage;
  }
  auto compression = protocol::ParseMcapCompression(o.compression);
  if (!compression.ok()) {
    fmt::print(stderr, "gsctl recover: {}\n", compression.error().message());
    return kExitUsage;
  }
  auto opened = McapFile::Open(o.broken);
  if (!opened.ok()) {
    fmt::print(stderr, "gsctl recover: {}\n", opened.error().message());
    return kExitFailure;
  }
  const McapFile& file = **opened;
  auto sink = protocol::FileSink::Create(o.out);
  if (!sink.ok()) {
    fmt::print(stderr, "gsctl recover: {}\n", sink.error().message());
    return kExitFailure;
  }
  protocol::McapWriterOptions writer_options;
  writer_options.compression = *compression;
  writer_options.library = "lunar-groundstation (gsctl recover)";
  ProgressBar progress("recovering", 0);
  auto recovered =
      protocol::RecoverMcap(file, **sink, writer_options, [&](uint64_t n) { progress.Update(n); });
  progress.Finish();
  if (!recovered.ok()) {
    fmt::print(stderr, "gsctl recover: {}\n", recovered.error().message());
    return kExitFailure;
  }
  const protocol::McapRecoverReport& r = *recovered;
  const uint64_t size = file.bytes().size();
  const bool torn_or_damaged = r.input_state != McapMessageReader::End::kComplete;
  nlohmann::json skipped = nlohmann::json::array();
  for (const auto& p : r.skipped_chunks) {
    skipped.push_back({{"offset", p.offset},
                       {"reason", p.reason},
                       {"start", FormatUtc(p.start_time)},
                       {"end", FormatUtc(p.end_time)}});
  }
  if (o.json) {
    fmt::print("{}\n", text::JsonDump(nlohmann::json{
                           {"input", o.broken},
                           {"output", o.out},
                           {"messages", r.messages},
                           {"channels", r.channels},
                           {"input_state", EndName(r.input_state)},
                           {"stopped_at_offset", r.stopped_at_offset},
                           {"lost_tail_bytes", r.lost_tail_bytes},
                           {"reason", r.reason},
                           {"skipped_chunks", skipped},
                           {"last_message", r.messages ? FormatUtc(r.last_log_time) : ""}}));
    return kExitOk;
  }
  fmt::print("recovered {} messages on {} channels into {}\n", r.messages, r.channels, o.out);
  if (r.messages > 0) fmt::print("last recovered message: {}\n", FormatUtc(r.last_log_time));
  if (torn_or_damaged) {
    fmt::print("lost: the last {} of {} bytes (from offset {}): {}\n", r.lost_tail_bytes, size,
               r.stopped_at_offset, r.reason);
  } else {
    fmt::print("lost: nothing after the data section (the input was complete)\n");
  }
  for (const auto& p : r.skipped_chunks) {
    fmt::print("lost: damaged chunk at offset {} ({} .. {}): {}\n", p.offset,
               FormatUtc(p.start_time), FormatUtc(p.end_time), p.reason);
  }
  return kExitOk;
}

}  // namespace lgs::gsctl
