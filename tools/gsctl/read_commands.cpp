// gsctl cat and export: decoded messages of a recording, as text, JSON lines or CSV.
#include <fmt/format.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "groundstation/product_sink.h"
#include "groundstation/telemetry_format.h"
#include "protocol/space_packet.h"
#include "protocol/telemetry_decoder.h"
#include "protocol/text.h"
#include "science.h"
#include "spdlog_logger.h"

namespace lgs::gsctl {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using protocol::McapFile;
using protocol::McapMessage;
using protocol::McapMessageReader;

namespace {

// What reading several files shares: the schemas decoded so far, counts, and the progress bar.
struct ReadState {
  protocol::SchemaDecoder schemas;
  std::string packet_bytes;
  size_t undecodable = 0;
  bool any_topic_matched = false;
  std::string known_channels;
  int code = kExitOk;
};

// One file's selected messages to `visit`; its problems said on stderr and kept in `state`.
void ReadOne(const std::string& what, const McapFile& file, const std::vector<std::string>& topics,
             const TimeRange& range, ReadState& state, ProgressBar& bar, uint64_t bytes_before,
             const std::function<void(const Decoded&)>& visit) {
  protocol::McapReadOptions read_options;
  read_options.start_ns = range.start_ns;
  read_options.end_ns = range.end_ns;
  McapMessageReader reader(file, read_options);
  std::map<uint16_t, std::optional<TelemetryChannel>> telemetry;
  McapMessage m;
  uint64_t seen = 0;
  while (reader.Next(m)) {
    if ((++seen & 0x3FFF) == 0) bar.Update(bytes_before + reader.intact_offset(), "bytes");
    const protocol::McapChannel& channel = reader.channels().at(m.channel_id);
    if (!TopicSelected(topics, channel)) continue;
    state.any_topic_matched = true;
    Decoded d;
    d.channel = &channel;
    d.record = &m;
    const auto schema = reader.schemas().find(channel.schema_id);
    if (schema == reader.schemas().end()) {
      if (state.undecodable++ == 0)
        fmt::print(stderr, "gsctl {}: '{}' has no schema\n", what, channel.topic);
      continue;
    }
    auto message = state.schemas.Decode(schema->second, m.data);
    if (!message.ok()) {
      if (state.undecodable++ == 0) {
        fmt::print(stderr, "gsctl {}: {}: {}\n", what, channel.topic, message.error().message());
      }
      continue;
    }
    d.message = *message;
    auto [it, inserted] = telemetry.try_emplace(m.channel_id);
    if (inserted) it->second = protocol::recording::ReadTelemetryChannel(channel);
    protocol::DecodedPacket packet;
    if (it->second && it->second->stream != nullptr &&
        d.message->GetDescriptor() == it->second->stream->prototype->GetDescriptor() &&
        protocol::recording::RebuildPacket(*it->second, m, state.packet_bytes).ok()) {
      auto view = protocol::ParseTmPacket(protocol::AsBytes(state.packet_bytes));
      if (view.ok()) {
        packet = {it->second->stream, *view, d.message};
        d.packet = &packet;
      }
    }
    visit(d);
  }
  state.known_channels.clear();
  for (const auto& [id, c] : reader.channels()) state.known_channels += " " + c.topic;
  if (reader.end() == McapMessageReader::End::kTorn ||
      reader.end() == McapMessageReader::End::kDamaged) {
    fmt::print(
        stderr, "gsctl {}: stopped at offset {} of {}: {}; everything before it was delivered{}\n",
        what, reader.problem().offset, file.bytes().size(), reader.problem().reason,
        reader.end() == McapMessageReader::End::kTorn ? " ('gsctl recover' completes the file)"
                                                      : "");
    state.code = kExitPartial;
  }
}

}  // namespace

int ForEachMessage(const std::string& what, const std::vector<std::string>& paths,
                   const std::vector<std::string>& topics, const std::optional<std::string>& start,
                   const std::optional<std::string>& end,
                   const std::function<void(const Decoded&)>& visit) {
  namespace fs = std::filesystem;
  // A directory stands for its recordings, in the order they were started.
  std::vector<std::string> files;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
      files.push_back(p);
      continue;
    }
    std::vector<std::string> in;
    for (fs::directory_iterator it(p, ec), stop; !ec && it != stop; it.increment(ec)) {
      if (it->path().extension() == ".mcap") in.push_back(it->path().string());
    }
    std::sort(in.begin(), in.end(), [](const std::string& a, const std::string& b) {
      return protocol::recording::RecordingOrder(a, b);
    });
    if (in.empty()) {
      fmt::print(stderr, "gsctl {}: no recordings (*.mcap) in {}\n", what, p);
      return kExitUsage;
    }
    files.insert(files.end(), in.begin(), in.end());
  }
  if (files.empty()) {
    fmt::print(stderr, "gsctl {}: no recording given\n", what);
    return kExitUsage;
  }
  uint64_t total = 0;
  for (const std::string& f : files) {
    std::error_code ec;
    total += fs::file_size(f, ec);
  }
  ReadState state;
  state.any_topic_matched = topics.empty();
  std::optional<TimeRange> range;
  ProgressBar bar(what, total);
  uint64_t done = 0;
  // One file mapped at a time: memory does not grow with the number of files.
  for (const std::string& path : files) {
    auto opened = McapFile::Open(path);
    if (!opened.ok()) {
      bar.Finish();
      fmt::print(stderr, "gsctl {}: {}\n", what, opened.error().message());
      return kExitFailure;
    }
    if (!range) {
      // +OFFSET times count from the first recording's first message.
      auto resolved = ResolveTimeRange(start, end, {opened->get()});
      if (!resolved.ok()) {
        fmt::print(stderr, "gsctl {}: {}\n", what, resolved.error().message());
        return kExitUsage;
      }
      range = *resolved;
    }
    ReadOne(what, **opened, topics, *range, state, bar, done, visit);
    done += (*opened)->bytes().size();
    bar.Update(done, "bytes");
  }
  bar.Finish();
  if (!state.any_topic_matched) {
    fmt::print(stderr, "gsctl {}: no channel matches {} (channels:{})\n", what,
               fmt::join(topics, ", "), state.known_channels);
    return kExitUsage;
  }
  if (state.undecodable > 1)
    fmt::print(stderr, "gsctl {}: {} messages could not be decoded\n", what, state.undecodable);
  return state.code;
}

int ForEachMessage(const std::string& what, const std::string& path,
                   const std::vector<std::string>& topics, const std::optional<std::string>& start,
                   const std::optional<std::string>& end,
                   const std::function<void(const Decoded&)>& visit) {
  return ForEachMessage(what, std::vector<std::string>{path}, topics, start, end, visit);
}

namespace {

std::string GroundJson(const Decoded& d) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string data;
  static_cast<void>(google::protobuf::util::MessageToJsonString(*d.message, &data, options));
  // The topic comes from the file: quoted as a JSON string (escaped, valid UTF-8).
  return fmt::format("{{\"channel\":{},\"seq\":{},\"ground_time_ns\":{},\"data\":{}}}\n",
                     text::JsonDump(nlohmann::json(d.channel->topic)), d.record->sequence,
                     d.record->log_time, data);
}

// CSV: one column per scalar field (nested messages flattened with '.'), repeated fields and
// maps as JSON cells; enum values by name.
void CsvColumns(const google::protobuf::Descriptor& type, const std::string& prefix,
                std::vector<std::pair<std::string, std::vector<const FieldDescriptor*>>>& out,
                std::vector<const FieldDescriptor*> path) {
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor* f = type.field(i);
    auto p = path;
    p.push_back(f);
    if (f->type() == FieldDescriptor::TYPE_MESSAGE && !f->is_repeated()) {
      CsvColumns(*f->message_type(), prefix + f->name() + ".", out, p);
    } else {
      out.emplace_back(prefix + f->name(), p);
    }
  }
}

std::string CsvEscape(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string CsvCell(const Message& root, const std::vector<const FieldDescriptor*>& path) {
  const Message* m = &root;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    if (!m->GetReflection()->HasField(*m, path[i])) return "";
    m = &m->GetReflection()->GetMessage(*m, path[i]);
  }
  const FieldDescriptor* f = path.back();
  const auto* r = m->GetReflection();
  if (f->is_repeated()) {
    nlohmann::json cell = nlohmann::json::array();
    const int n = r->FieldSize(*m, f);
    for (int i = 0; i < n; ++i) {
      switch (f->cpp_type()) {
        case FieldDescriptor::CPPTYPE_INT32:
          cell.push_back(r->GetRepeatedInt32(*m, f, i));
          break;
        case FieldDescriptor::CPPTYPE_INT64:
          cell.push_back(r->GetRepeatedInt64(*m, f, i));
          break;
        case FieldDescriptor::CPPTYPE_UINT32:
          cell.push_back(r->GetRepeatedUInt32(*m, f, i));
          break;
        case FieldDescriptor::CPPTYPE_UINT64:
          cell.push_back(r->GetRepeatedUInt64(*m, f, i));
          break;
        case FieldDescriptor::CPPTYPE_DOUBLE:
          cell.push_back(r->GetRepeatedDouble(*m, f, i));
          break;
        case FieldDescriptor::CPPTYPE_FLOAT:
          cell.push_back(r->GetRepeatedFloat(*m, f, i));
          break;
        case FieldDescriptor::CPPTYPE_BOOL:
          cell.push_back(r->GetRepeatedBool(*m, f, i));
          break;
        case FieldDescriptor::CPPTYPE_ENUM:
          cell.push_back(r->GetRepeatedEnum(*m, f, i)->name());
          break;
        case FieldDescriptor::CPPTYPE_STRING:
          cell.push_back(r->GetRepeatedString(*m, f, i));
          break;
        case FieldDescriptor::CPPTYPE_MESSAGE: {
          std::string json;
          static_cast<void>(
              google::protobuf::util::MessageToJsonString(r->GetRepeatedMessage(*m, f, i), &json));
          cell.push_back(nlohmann::json::parse(json, nullptr, false));
          break;
        }
      }
    }
    return CsvEscape(text::JsonDump(cell));
  }
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return std::to_string(r->GetInt32(*m, f));
    case FieldDescriptor::CPPTYPE_INT64:
      return std::to_string(r->GetInt64(*m, f));
    case FieldDescriptor::CPPTYPE_UINT32:
      return std::to_string(r->GetUInt32(*m, f));
    case FieldDescriptor::CPPTYPE_UINT64:
      return std::to_string(r->GetUInt64(*m, f));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return fmt::format("{}", r->GetDouble(*m, f));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return fmt::format("{}", r->GetFloat(*m, f));
    case FieldDescriptor::CPPTYPE_BOOL:
      return r->GetBool(*m, f) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_ENUM:
      return r->GetEnum(*m, f)->name();
    case FieldDescriptor::CPPTYPE_STRING:
      if (f->type() == FieldDescriptor::TYPE_BYTES) {
        return CsvEscape(nlohmann::json(r->GetString(*m, f).size()).dump() + " bytes");
      }
      return CsvEscape(r->GetString(*m, f));
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return "";
  }
  return "";
}

std::string FileNameForTopic(const std::string& topic) {
  std::string name;
  for (char c : topic)
    name += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  while (!name.empty() && name.front() == '_') name.erase(name.begin());
  return name.empty() ? "channel" : name;
}

}  // namespace

int RunCat(const CatOptions& o) {
  std::string line;
  const int code = ForEachMessage("cat", o.files, o.topics, o.start, o.end, [&](const Decoded& d) {
    line.clear();
    if (o.json) {
      if (d.packet) {
        station::AppendPacketJson(*d.packet, static_cast<int64_t>(d.record->log_time), line);
      } else {
        line = GroundJson(d);
      }
    } else {
      const std::string body = d.packet ? station::FormatTelemetryLine(*d.packet)
                                        : d.channel->topic + " " + d.message->ShortDebugString();
      line = fmt::format("{} #{:<6} {}\n", FormatUtc(d.record->log_time), d.record->sequence, body);
    }
    std::fwrite(line.data(), 1, line.size(), stdout);
  });
  std::fflush(stdout);
  return code;
}

namespace {

// The files of a recording, rebuilt by feeding its CFDP PDUs through a receiving entity that
// answers nobody: the same receiver and sidecars as the station's.
int ExportImages(const ExportOptions& o) {
  cli::SpdlogLogger log;
  station::ProductOptions options;
  options.directory = o.images;
  station::ProductSink sink(options, 0.0, nullptr, log);
  std::vector<std::string> topics = {"file_delivery", "camera_frame"};
  const int code = ForEachMessage("export", o.files, topics, o.start, o.end, [&](const Decoded& d) {
    if (d.packet == nullptr) return;
    sink.OnAccepted({*d.packet, static_cast<int64_t>(d.record->log_time), nullptr});
  });
  if (code == kExitUsage || code == kExitFailure) return code;
  size_t complete = 0, incomplete = 0;
  for (const protocol::cfdp::TransactionView& t : sink.Transactions()) {
    if (t.state == protocol::cfdp::TransactionState::kCompleted ||
        (t.state == protocol::cfdp::TransactionState::kFinishing &&
         t.condition == protocol::cfdp::ConditionCode::kNoError)) {
      ++complete;
      continue;
    }
    ++incomplete;
    fmt::print(stderr, "gsctl export: {} (transaction {}/{}) incomplete: {} of {} octets{}\n",
               t.destination_name.empty() ? std::string("unnamed file") : t.destination_name,
               t.id.source, t.id.sequence, t.received_bytes,
               t.file_size ? std::to_string(*t.file_size) : std::string("?"),
               t.path.empty() ? std::string() : ", what arrived is in " + t.path);
  }
  fmt::print(stderr, "gsctl export: {} file(s) complete in {}, {} incomplete\n", complete, o.images,
             incomplete);
  return code;
}

}  // namespace

int RunExport(const ExportOptions& o) {
  namespace fs = std::filesystem;
  if (o.out.empty() && o.images.empty() && o.science.empty()) {
    fmt::print(stderr,
               "gsctl export: say where: --out DIR (channels), --images DIR and/or --science "
               "DIR\n");
    return kExitUsage;
  }
  if (!o.images.empty()) {
    const int code = ExportImages(o);
    if (code != kExitOk || (o.out.empty() && o.science.empty())) return code;
  }
  if (!o.science.empty()) {
    if (const int code = ExportScience(o); code != kExitOk || o.out.empty()) return code;
  }
  if (o.format != "csv" && o.format != "jsonl") {
    fmt::print(stderr, "gsctl export: unknown format '{}' (csv or jsonl)\n", o.format);
    return kExitUsage;
  }
  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec || !fs::is_directory(o.out)) {
    fmt::print(stderr, "gsctl export: cannot create output directory '{}': {}\n", o.out,
               ec ? ec.message() : "not a directory");
    return kExitFailure;
  }
  struct Output {
    std::ofstream file;
    std::vector<std::pair<std::string, std::vector<const FieldDescriptor*>>> columns;
    uint64_t rows = 0;
  };
  std::map<std::string, Output> outputs;  // by channel topic
  bool write_failed = false;
  std::string line;
  const int code =
      ForEachMessage("export", o.files, o.topics, o.start, o.end, [&](const Decoded& d) {
        auto [it, inserted] = outputs.try_emplace(d.channel->topic);
        Output& out = it->second;
        if (inserted) {
          const fs::path path =
              fs::path(o.out) / (FileNameForTopic(d.channel->topic) + "." + o.format);
          out.file.open(path, std::ios::binary | std::ios::trunc);
          if (!out.file) {
            fmt::print(stderr, "gsctl export: cannot write '{}'\n", path.string());
            write_failed = true;
          }
          if (o.format == "csv") {
            CsvColumns(*d.message->GetDescriptor(), "", out.columns, {});
            out.file << "seq,onboard_time_ns,ground_time_ns";
            for (const auto& [name, path_] : out.columns) out.file << ',' << CsvEscape(name);
            out.file << '\n';
          }
        }
        if (o.format == "jsonl") {
          line.clear();
          if (d.packet) {
            station::AppendPacketJson(*d.packet, static_cast<int64_t>(d.record->log_time), line);
          } else {
            line = GroundJson(d);
          }
          out.file << line;
        } else {
          out.file << d.record->sequence << ',' << (d.packet ? d.record->publish_time : 0) << ','
                   << d.record->log_time;
          for (const auto& [name, path] : out.columns) out.file << ',' << CsvCell(*d.message, path);
          out.file << '\n';
        }
        ++out.rows;
      });
  for (auto& [topic, out] : outputs) {
    out.file.close();
    if (!out.file) write_failed = true;
    fmt::print(stderr, "{}: {} rows\n", topic, out.rows);
  }
  if (write_failed) {
    fmt::print(stderr, "gsctl export: writing the output failed\n");
    return kExitFailure;
  }
  return code;
}

}  // namespace lgs::gsctl
