// gsctl scene: a copy of a recording with the Foxglove channels (/<rover>/tf, /pose, /scene,
// /log) a station of this build records beside the raw ones, made from the recording's own
// telemetry, alarms and command stages by the station's code (groundstation/scene_products.h).
// Every other record is copied as it is, so replay stays byte for byte; channels of those
// names already there are replaced, so running it twice gives the same file.
#include <fmt/format.h>
#include <google/protobuf/message.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "groundstation/scene_products.h"
#include "protocol/byte_sink.h"
#include "protocol/bytes.h"
#include "protocol/mcap_format.h"
#include "protocol/mcap_reader.h"
#include "protocol/mcap_writer.h"
#include "protocol/protobuf_schema.h"
#include "protocol/recording_profile.h"
#include "protocol/text.h"

namespace lgs::gsctl {

int RunScene(const SceneOptions& o) {
  using protocol::McapFile;
  using protocol::McapMessageReader;
  if (o.in == o.out) {
    fmt::print(stderr, "gsctl scene: --out must be another file than the input\n");
    return kExitUsage;
  }
  auto opened = McapFile::Open(o.in);
  if (!opened.ok()) {
    fmt::print(stderr, "gsctl scene: {}\n", opened.error().message());
    return kExitFailure;
  }
  auto sink = protocol::FileSink::Create(o.out);
  if (!sink.ok()) {
    fmt::print(stderr, "gsctl scene: {}\n", sink.error().message());
    return kExitFailure;
  }
  protocol::McapWriterOptions writer_options;
  writer_options.library = "lunar-groundstation (gsctl scene)";
  protocol::McapWriter writer(**sink, writer_options);
  if (Status s = writer.Open(); !s.ok()) {
    fmt::print(stderr, "gsctl scene: {}\n", s.message());
    return kExitFailure;
  }
  McapMessageReader reader(**opened);
  // A channel /<rover>/<product> of a scene product (recording_profile.h).
  const auto is_product = [](const std::string& topic) {
    const size_t slash = topic.find('/', 1);
    if (topic.size() < 2 || topic[0] != '/' || slash == std::string::npos) return false;
    const std::string_view rest = std::string_view(topic).substr(slash + 1);
    for (std::string_view p : protocol::recording::kSceneProducts) {
      if (rest == p) return true;
    }
    return false;
  };

  struct Source {
    int channel = -1;  // new channel id, -1: dropped (an old product channel)
    const protocol::StreamInfo* stream = nullptr;
    std::string rover;
    enum { kOther, kTelemetry, kAlarms, kCommands } kind = kOther;
  };
  std::map<uint16_t, Source> sources;
  std::map<uint16_t, uint16_t> schema_ids;
  std::map<std::string, std::unique_ptr<station::SceneProducts>> products;  // by rover
  std::map<std::string, uint16_t> product_channels;
  std::map<std::string, uint32_t> product_sequences;
  std::map<std::string, uint64_t> added;
  std::map<const google::protobuf::Descriptor*, uint16_t> product_schemas;
  std::string only_rover;  // ground channels belong to the one rover of the file
  Status failed;

  const auto source_of = [&](uint16_t id) -> Source& {
    auto [it, fresh] = sources.try_emplace(id);
    if (!fresh) return it->second;
    Source& src = it->second;
    const protocol::McapChannel& c = reader.channels().at(id);
    if (is_product(c.topic)) return src;
    uint16_t schema = 0;
    if (c.schema_id != 0) {
      if (auto known = schema_ids.find(c.schema_id); known != schema_ids.end()) {
        schema = known->second;
      } else {
        const protocol::McapSchema& s = reader.schemas().at(c.schema_id);
        auto a = writer.AddSchema(s.name, s.encoding, protocol::AsBytes(s.data));
        if (!a.ok()) failed = a.error();
        schema = schema_ids[c.schema_id] = a.ok() ? *a : 0;
      }
    }
    auto a = writer.AddChannel(c.topic, c.message_encoding, schema, c.metadata);
    if (!a.ok()) {
      failed = a.error();
      return src;
    }
    src.channel = *a;
    if (auto t = protocol::recording::ReadTelemetryChannel(c); t && t->stream != nullptr) {
      src.kind = Source::kTelemetry;
      src.stream = t->stream;
      src.rover = c.topic.substr(1, c.topic.find('/', 1) - 1);
      if (!products.contains(src.rover)) {
        products[src.rover] = std::make_unique<station::SceneProducts>(src.rover);
      }
      only_rover = products.size() == 1 ? src.rover : "";
    } else if (c.topic == protocol::recording::kAlarmsChannel) {
      src.kind = Source::kAlarms;
    } else if (c.topic == protocol::recording::kCommandsChannel) {
      src.kind = Source::kCommands;
    }
    return src;
  };
  const auto write_product = [&](const station::SceneMessage& m) {
    uint16_t channel = 0;
    if (auto it = product_channels.find(m.topic); it != product_channels.end()) {
      channel = it->second;
    } else {
      const google::protobuf::Descriptor* type = m.message->GetDescriptor();
      if (!product_schemas.contains(type)) {
        const std::string data = protocol::FileDescriptorSetOf(*type);
        auto a = writer.AddSchema(type->full_name(), protocol::mcap::kSchemaEncodingProtobuf,
                                  protocol::AsBytes(data));
        if (!a.ok()) {
          failed = a.error();
          return;
        }
        product_schemas[type] = *a;
      }
      auto a = writer.AddChannel(m.topic, protocol::mcap::kMessageEncodingProtobuf,
                                 product_schemas[type], {{"content", m.content}});
      if (!a.ok()) {
        failed = a.error();
        return;
      }
      channel = product_channels[m.topic] = *a;
    }
    std::string bytes;
    m.message->SerializeToString(&bytes);
    if (Status s =
            writer.Write(channel, product_sequences[m.topic]++, static_cast<uint64_t>(m.log_ns),
                         static_cast<uint64_t>(m.publish_ns), protocol::AsBytes(bytes));
        !s.ok()) {
      failed = s;
    }
    ++added[m.topic];
  };

  std::map<const protocol::StreamInfo*, std::unique_ptr<google::protobuf::Message>> decoded;
  std::vector<station::SceneMessage> out;
  ground::v1::GroundAlarm alarm;
  ground::v1::GroundCommand command;
  uint64_t copied = 0, dropped = 0, undecodable = 0;
  ProgressBar progress("adding scene", 0);
  protocol::McapMessage m;
  while (failed.ok() && reader.Next(m)) {
    Source& src = source_of(m.channel_id);
    if (!failed.ok()) break;
    if (src.channel < 0) {
      ++dropped;
      continue;
    }
    if (Status s = writer.Write(static_cast<uint16_t>(src.channel), m.sequence, m.log_time,
                                m.publish_time, m.data);
        !s.ok()) {
      failed = s;
      break;
    }
    ++copied;
    const int n = static_cast<int>(m.data.size());
    out.clear();
    if (src.kind == Source::kTelemetry) {
      auto& msg = decoded[src.stream];
      if (!msg) msg.reset(src.stream->prototype->New());
      if (msg->ParseFromArray(m.data.data(), n)) {
        products[src.rover]->OnTelemetry(src.stream->id, *msg, static_cast<int64_t>(m.publish_time),
                                         static_cast<int64_t>(m.log_time), out);
      } else {
        ++undecodable;
      }
    } else if (src.kind == Source::kAlarms && !only_rover.empty() &&
               alarm.ParseFromArray(m.data.data(), n)) {
      products[only_rover]->OnAlarm(alarm, static_cast<int64_t>(m.log_time), out);
    } else if (src.kind == Source::kCommands && !only_rover.empty() &&
               command.ParseFromArray(m.data.data(), n)) {
      products[only_rover]->OnCommand(command, static_cast<int64_t>(m.log_time), out);
    }
    for (const station::SceneMessage& p : out) write_product(p);
    progress.Update(copied);
  }
  progress.Finish();
  if (failed.ok()) failed = writer.Close();
  if (!failed.ok()) {
    fmt::print(stderr, "gsctl scene: {}: {}\n", o.out, failed.message());
    return kExitFailure;
  }
  if (reader.end() != McapMessageReader::End::kComplete) {
    fmt::print(stderr,
               "gsctl scene: {} stopped early ({}); what was read is in {} (gsctl recover "
               "first to keep all that can be)\n",
               o.in, reader.problem().reason, o.out);
  }
  uint64_t total = 0;
  for (const auto& [topic, count] : added) total += count;
  if (o.json) {
    fmt::print("{}\n", text::JsonDump(nlohmann::json{
                           {"input", o.in},
                           {"output", o.out},
                           {"copied", copied},
                           {"replaced", dropped},
                           {"undecodable", undecodable},
                           {"added", added},
                           {"complete", reader.end() == McapMessageReader::End::kComplete}}));
  } else {
    fmt::print("{}: copied {} messages, added {} on {} Foxglove channel(s){}\n", o.out, copied,
               total, added.size(),
               dropped ? fmt::format(" (replacing {} older ones)", dropped) : "");
    for (const auto& [topic, count] : added) fmt::print("  {} {}\n", topic, count);
  }
  return reader.end() == McapMessageReader::End::kComplete ? kExitOk : kExitFailure;
}

}  // namespace lgs::gsctl
