#include "protocol/mcap_recover.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>

#include "protocol/bytes.h"

namespace lgs::protocol {

Result<McapRecoverReport> RecoverMcap(const McapFile& input, ByteSink& out,
                                      McapWriterOptions options,
                                      const std::function<void(uint64_t)>& progress) {
  McapReadOptions read_options;
  read_options.skip_damaged_chunks = true;
  McapMessageReader reader(input, read_options);
  McapWriter writer(out, std::move(options));
  if (Status s = writer.Open(); !s.ok()) return s;
  std::map<uint16_t, uint16_t> schema_ids, channel_ids;  // old id -> new id
  const auto channel_for = [&](uint16_t old_id) -> Result<uint16_t> {
    if (auto it = channel_ids.find(old_id); it != channel_ids.end()) return it->second;
    const McapChannel& c = reader.channels().at(old_id);
    uint16_t schema = 0;
    if (c.schema_id != 0) {
      if (auto it = schema_ids.find(c.schema_id); it != schema_ids.end()) {
        schema = it->second;
      } else {
        const McapSchema& s = reader.schemas().at(c.schema_id);
        auto added = writer.AddSchema(s.name, s.encoding, AsBytes(s.data));
        if (!added.ok()) return added.error();
        schema = schema_ids[c.schema_id] = *added;
      }
    }
    auto added = writer.AddChannel(c.topic, c.message_encoding, schema, c.metadata);
    if (!added.ok()) return added.error();
    return channel_ids[old_id] = *added;
  };
  McapRecoverReport report;
  McapMessage m;
  while (reader.Next(m)) {
    auto channel = channel_for(m.channel_id);
    if (!channel.ok()) return channel.error();
    if (Status s = writer.Write(*channel, m.sequence, m.log_time, m.publish_time, m.data);
        !s.ok()) {
      return s;
    }
    report.last_log_time = std::max(report.last_log_time, m.log_time);
    ++report.messages;
    if (progress) progress(report.messages);
  }
  if (Status s = writer.Close(); !s.ok()) return s;
  const uint64_t size = input.bytes().size();
  report.channels = channel_ids.size();
  report.input_state = reader.end();
  const bool early = reader.end() != McapMessageReader::End::kComplete;
  report.stopped_at_offset = early ? reader.intact_offset() : size;
  report.lost_tail_bytes = early ? size - reader.intact_offset() : 0;
  report.reason = reader.problem().reason;
  report.skipped_chunks = reader.skipped_chunks();
  return report;
}

Result<std::optional<McapRecoverReport>> RecoverMcapInPlace(const std::string& path,
                                                            McapWriterOptions options) {
  namespace fs = std::filesystem;
  const std::string temporary = path + ".recovering";
  McapRecoverReport report;
  {
    auto opened = McapFile::Open(path);
    if (!opened.ok()) return opened.error();
    if ((*opened)->ReadSummary().ok()) return std::optional<McapRecoverReport>();
    auto sink = FileSink::Create(temporary);
    if (!sink.ok()) return sink.error();
    options.sync_on_chunk = true;
    auto recovered = RecoverMcap(**opened, **sink, std::move(options));
    if (!recovered.ok()) {
      std::error_code ignored;
      fs::remove(temporary, ignored);
      return recovered.error();
    }
    report = std::move(*recovered);
  }
  std::error_code ec;
  fs::rename(temporary, path, ec);
  if (ec) {
    return Status::Error(
        fmt::format("cannot replace '{}' with its recovered copy: {}", path, ec.message()));
  }
  return std::optional<McapRecoverReport>(std::move(report));
}

}  // namespace lgs::protocol
