#include "support/recording.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "protocol/recording_profile.h"
#include "support/process.h"

namespace lgs::test {

std::vector<const RecordedMessage*> Recording::OnTopic(const std::string& topic) const {
  std::vector<const RecordedMessage*> out;
  for (const RecordedMessage& m : messages) {
    if (m.topic == topic) out.push_back(&m);
  }
  return out;
}

size_t Recording::RoverMessages() const {
  return static_cast<size_t>(std::count_if(messages.begin(), messages.end(),
                                           [](const RecordedMessage& m) { return m.stream; }));
}

Recording ReadRecording(const std::filesystem::path& directory) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    if (entry.path().extension() == ".mcap") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end(), [](const std::string& a, const std::string& b) {
    return protocol::recording::RecordingOrder(a, b);  // "_2" before "_10"
  });
  return ReadRecordingFiles(files);
}

Recording ReadRecordingFiles(const std::vector<std::string>& files) {
  Recording r;
  for (const std::string& path : files) {
    ++r.files;
    auto file = protocol::McapFile::Open(path);
    if (!file.ok()) {
      r.incomplete[path] = file.error().message();
      continue;
    }
    protocol::McapMessageReader reader(**file);
    protocol::McapMessage m;
    while (reader.Next(m)) {
      const protocol::McapChannel& channel = reader.channels().at(m.channel_id);
      RecordedMessage out;
      out.file = path;
      out.topic = channel.topic;
      out.channel_id = m.channel_id;
      out.sequence = m.sequence;
      out.log_time = m.log_time;
      out.publish_time = m.publish_time;
      out.data.assign(reinterpret_cast<const char*>(m.data.data()), m.data.size());
      if (const auto apid = channel.metadata.find("apid"); apid != channel.metadata.end()) {
        out.rover_channel = true;
        out.stream = protocol::FindStreamByApid(static_cast<uint16_t>(std::stoi(apid->second)));
      }
      r.messages.push_back(std::move(out));
    }
    r.ends[path] = reader.end();
    if (reader.end() != protocol::McapMessageReader::End::kComplete) {
      r.incomplete[path] =
          reader.problem().reason.empty() ? "did not read to its end" : reader.problem().reason;
    }
  }
  return r;
}

Truth ReadTruth(const std::filesystem::path& path) {
  Truth truth;
  if (!std::filesystem::exists(path)) return truth;
  for (const std::string& line : ReadLines(path)) {
    const nlohmann::json t = nlohmann::json::parse(line, nullptr, false);
    EXPECT_TRUE(t.is_object()) << path << ": " << line;
    if (!t.is_object()) continue;
    if (t.value("telecommand", false)) {
      truth.telecommands.push_back(TruthTelecommand{
          t.value("source", uint16_t{0}), t.value("request", 0u), t.value("command", ""),
          t.value("outcome", ""), t.value("onboard_ns", int64_t{0})});
      continue;
    }
    truth.packets.push_back(
        TruthPacket{t.value("stream", ""), t.value("apid", uint16_t{0}), t.value("seq", 0u),
                    t.value("size", size_t{0}), t.value("onboard_time_ns", int64_t{0}),
                    t.value("crc", 0u), t.value("fate", ""), t.value("stored", false),
                    t.value("reordered", false), t.value("retransmit", false),
                    t.value("sent_ns", int64_t{0}), t.value("arrival_ns", int64_t{0})});
  }
  return truth;
}

}  // namespace lgs::test
