// A real station facing every kind of garbage on its telemetry link, interleaved with good
// packets: the good ones all arrive, each kind of garbage is counted under its own reason and
// logged once, and the station exits cleanly.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <zmq.hpp>

#include "protocol/stream_registry.h"
#include "rover/v1/event.pb.h"
#include "support/packets.h"
#include "support/process.h"

namespace lgs::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using protocol::AsBytes;
using protocol::StreamId;

std::string Topic(StreamId id) {
  return protocol::TelemetryTopic("rover1", protocol::Stream(id));
}

struct Garbage {
  std::string reason;  // the reason the station must count it under
  std::vector<std::string> frames;
};

std::vector<Garbage> EveryKindOfGarbage(uint32_t seq, std::mt19937& rng) {
  const std::string hk = Topic(StreamId::kHousekeeping);
  const std::string good = HousekeepingPacket(seq);
  std::vector<Garbage> g;
  std::string random_bytes(rng() % 200 + 20, '\0');
  for (char& c : random_bytes) c = static_cast<char>(rng());
  random_bytes[0] = static_cast<char>(0xE0 | (rng() & 0x1F));  // version 7
  g.push_back({"bad_header", {hk, random_bytes}});
  std::string short_random(rng() % 18 + 1, '\0');
  for (char& c : short_random) c = static_cast<char>(rng());
  g.push_back({"too_short", {hk, short_random}});
  g.push_back({"length_mismatch", {hk, good.substr(0, good.size() / 2 + 10)}});
  std::string corrupted = good;
  corrupted[20] ^= static_cast<char>(1 << (rng() % 8));
  g.push_back({"crc_mismatch", {hk, corrupted}});
  g.push_back({"topic_mismatch", {Topic(StreamId::kRadiation), good}});
  g.push_back({"wrong_frame_count", {hk}});
  g.push_back({"wrong_frame_count", {hk, good, "trailing frame"}});
  std::string unknown;
  EXPECT_TRUE(protocol::EncodeTmPacket(0x555, seq, kSomeTimeNs, {}, unknown).ok());
  g.push_back({"unknown_apid", {hk, unknown}});
  std::string bad_proto;
  EXPECT_TRUE(protocol::EncodeTmPacket(protocol::Stream(StreamId::kHousekeeping).apid, seq,
                                       kSomeTimeNs, AsBytes("\xFF\xFF\xFF\xFF\x0F"), bad_proto)
                  .ok());
  g.push_back({"protobuf_parse", {hk, bad_proto}});
  std::string oversized_payload;
  EXPECT_TRUE(protocol::EncodeTmPacket(protocol::Stream(StreamId::kHousekeeping).apid, seq,
                                       kSomeTimeNs, AsBytes(std::string(5000, '\0')),
                                       oversized_payload)
                  .ok());
  g.push_back({"payload_too_large", {hk, oversized_payload}});
  std::string bad_count = good;
  bad_count[3] ^= 0x02;
  RecomputeCrc(bad_count);
  g.push_back({"sequence_mismatch", {hk, bad_count}});
  return g;
}

TEST(BadInput, GarbageIsCountedByReasonAndEveryGoodPacketArrives) {
  ScratchDir dir;
  const std::string endpoint = dir.IpcEndpoint("tm");
  zmq::context_t context;
  zmq::socket_t publisher(context, zmq::socket_type::xpub);
  publisher.set(zmq::sockopt::sndhwm, 0);  // the test must not drop what it sends
  publisher.set(zmq::sockopt::linger, 5000);
  publisher.bind(endpoint);

  ChildProcess station(
      LGS_STATION_BIN,
      {"--insecure", "--connect", endpoint, "--jsonl", dir.File("station.jsonl"), "--summary-json",
       dir.File("summary.json"), "--quiet", "--reject-log-interval", "600"},
      dir.path(), "station");
  ASSERT_TRUE(station.started());
  zmq::message_t subscription;
  publisher.set(zmq::sockopt::rcvtimeo, 20'000);
  ASSERT_TRUE(publisher.recv(subscription)) << "station never subscribed";

  std::mt19937 rng(1234);
  std::map<std::string, int> expected;
  constexpr uint32_t kGood = 200;
  for (uint32_t seq = 0; seq < kGood; ++seq) {
    const std::string good = HousekeepingPacket(seq, 50.0 + seq * 0.1);
    publisher.send(zmq::buffer(Topic(StreamId::kHousekeeping)), zmq::send_flags::sndmore);
    publisher.send(zmq::buffer(good));
    if (seq % 10 != 5) continue;
    for (Garbage& g : EveryKindOfGarbage(seq, rng)) {
      ++expected[g.reason];
      for (size_t i = 0; i < g.frames.size(); ++i) {
        publisher.send(zmq::buffer(g.frames[i]),
                       i + 1 < g.frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
      }
    }
  }
  // One 100 MB message: far over any packet, under the station's hard transport limit.
  {
    const std::string huge(100'000'000, '\x42');
    publisher.send(zmq::buffer(Topic(StreamId::kHousekeeping)), zmq::send_flags::sndmore);
    publisher.send(zmq::buffer(huge));
    ++expected["message_too_large"];
  }
  // Good packets after the huge one must still arrive.
  constexpr uint32_t kAfter = 20;
  for (uint32_t seq = kGood; seq < kGood + kAfter; ++seq) {
    const std::string good = HousekeepingPacket(seq);
    publisher.send(zmq::buffer(Topic(StreamId::kHousekeeping)), zmq::send_flags::sndmore);
    publisher.send(zmq::buffer(good));
  }

  ASSERT_TRUE(
      WaitUntil([&] { return ReadLines(dir.File("station.jsonl")).size() >= kGood + kAfter; }, 30s))
      << station.Stderr();
  ASSERT_TRUE(station.Running()) << station.Stderr();
  station.Signal(SIGINT);
  ASSERT_EQ(station.Wait(20s), 0) << station.Stderr();

  const auto lines = ReadLines(dir.File("station.jsonl"));
  ASSERT_EQ(lines.size(), kGood + kAfter);
  for (uint32_t i = 0; i < lines.size(); ++i) {
    const json j = json::parse(lines[i]);
    ASSERT_EQ(j["seq"], i);
    ASSERT_EQ(j["stream"], "housekeeping");
  }
  const json summary = json::parse(ReadFile(dir.File("summary.json")));
  int expected_total = 0;
  for (const auto& [reason, count] : expected) {
    EXPECT_EQ(summary["rejected"][reason], count) << reason;
    expected_total += count;
  }
  EXPECT_EQ(summary["totals"]["rejected"], expected_total);
  EXPECT_EQ(summary["totals"]["received"], kGood + kAfter);
  EXPECT_EQ(summary["totals"]["missing"], 0);

  // Each reason is reported once (the interval is longer than the test), in a readable line.
  const std::string log = station.Stderr();
  for (const auto& [reason, count] : expected) {
    const std::string marker = "rejected (" + reason + ")";
    size_t occurrences = 0;
    for (size_t at = log.find(marker); at != std::string::npos; at = log.find(marker, at + 1)) {
      ++occurrences;
    }
    EXPECT_EQ(occurrences, 1u) << reason << " in:\n" << log;
  }
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Event text is the rover's (or whoever forged a packet): escape sequences in it must reach
// neither the station's terminal nor gsctl's, and invalid UTF-8 in it (which protobuf refuses
// to parse, logging a line of its own each time) costs one line per interval.
TEST(BadInput, TextFromTheLinkIsEscapedAndProtobufComplaintsAreRateLimited) {
  ScratchDir dir;
  const std::string endpoint = dir.IpcEndpoint("tm");
  zmq::context_t context;
  zmq::socket_t publisher(context, zmq::socket_type::xpub);
  publisher.set(zmq::sockopt::sndhwm, 0);
  publisher.set(zmq::sockopt::linger, 5000);
  publisher.bind(endpoint);
  ChildProcess station(LGS_STATION_BIN,
                       {"--insecure", "--connect", endpoint, "--record", dir.File("rec"),
                        "--summary-json", dir.File("summary.json"), "--print-interval", "0",
                        "--stats-interval", "0", "--reject-log-interval", "600"},
                       dir.path(), "station");
  zmq::message_t subscription;
  publisher.set(zmq::sockopt::rcvtimeo, 20'000);
  ASSERT_TRUE(publisher.recv(subscription)) << "station never subscribed";
  const std::string topic = Topic(StreamId::kEvent);
  const auto send = [&](const std::string& packet) {
    publisher.send(zmq::buffer(topic), zmq::send_flags::sndmore);
    publisher.send(zmq::buffer(packet));
  };
  rover::v1::Event event;
  event.set_severity(rover::v1::EVENT_SEVERITY_WARNING);
  event.set_kind(rover::v1::EVENT_KIND_THERMAL_LIMIT);
  const std::string forged =
      "\x1b[2J\x1b]0;owned\x07\nLINK  999999 packets\r\xc2\x9b"
      "31m";
  uint32_t seq = 0;
  for (int i = 0; i < 3; ++i) {
    event.set_message(forged + std::to_string(i));
    send(StreamPacket(StreamId::kEvent, event, seq++));
  }
  // Invalid UTF-8 in a string field: protobuf refuses the message (counted as protobuf_parse).
  constexpr int kInvalid = 202;
  // (Patched into the serialized bytes: protobuf will not serialize invalid UTF-8 itself.)
  event.set_message("bad @@ text");
  std::string payload = event.SerializeAsString();
  payload.replace(payload.find("@@"), 2, "\xff\xfe");
  for (int i = 0; i < kInvalid; ++i) {
    std::string packet;
    ASSERT_TRUE(protocol::EncodeTmPacket(protocol::Stream(StreamId::kEvent).apid, seq++,
                                         kSomeTimeNs, AsBytes(payload), packet)
                    .ok());
    send(packet);
  }
  event.set_message(
      "clean 23 \xc2\xb0"
      "C");
  send(StreamPacket(StreamId::kEvent, event, seq++));
  ASSERT_TRUE(WaitUntil([&] { return Count(station.Stdout(), "clean 23") == 1; }, 20s))
      << station.Stdout() << station.Stderr();
  station.Signal(SIGINT);
  ASSERT_EQ(station.Wait(20s), 0) << station.Stderr();

  const json summary = json::parse(ReadFile(dir.File("summary.json")));
  EXPECT_EQ(summary["rejected"]["protobuf_parse"], kInvalid);
  EXPECT_EQ(summary["streams"]["event"]["received"], 4);
  const std::string out = station.Stdout(), err = station.Stderr();
  for (const std::string& text : {out, err}) {
    EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
    EXPECT_EQ(text.find('\x07'), std::string::npos);
    EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos);
  }
  EXPECT_EQ(Count(out, "\\e[2J\\e]0;owned\\x07\\nLINK  999999 packets\\r\\u009B31m"), 3u) << out;
  EXPECT_EQ(Count(out, "\nLINK"), 0u) << out;  // no forged line of its own
  EXPECT_EQ(Count(err, "[libprotobuf"), 0u) << err;
  EXPECT_LE(Count(err, "protobuf: "), 1u) << err;
  EXPECT_EQ(Count(err, "rejected (protobuf_parse)"), 1u) << err;

  // gsctl cat shows the recorded events escaped too, and its JSON lines parse.
  std::string file;
  for (const auto& entry : std::filesystem::directory_iterator(dir.File("rec"))) {
    file = entry.path().string();
  }
  ChildProcess cat(LGS_GSCTL_BIN, {"cat", file, "--topics", "event"}, dir.path(), "cat");
  ASSERT_EQ(cat.Wait(20s), 0) << cat.Stderr();
  EXPECT_EQ(cat.Stdout().find('\x1b'), std::string::npos) << cat.Stdout();
  EXPECT_EQ(Count(cat.Stdout(), "\\e[2J"), 3u) << cat.Stdout();
  ChildProcess cat_json(LGS_GSCTL_BIN, {"cat", file, "--topics", "event", "--json"}, dir.path(),
                        "cat-json");
  ASSERT_EQ(cat_json.Wait(20s), 0) << cat_json.Stderr();
  EXPECT_EQ(cat_json.Stdout().find('\x1b'), std::string::npos);
  size_t lines = 0;
  for (const std::string& line : ReadLines(dir.path() / "cat-json.stdout")) {
    EXPECT_FALSE(json::parse(line, nullptr, false).is_discarded()) << line;
    ++lines;
  }
  EXPECT_EQ(lines, 4u);
}

}  // namespace
}  // namespace lgs::test
