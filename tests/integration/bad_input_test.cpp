// A real station facing every kind of garbage on its telemetry link, interleaved with good
// packets: the good ones all arrive, each kind of garbage is counted under its own reason and
// logged once, and the station exits cleanly.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <zmq.hpp>

#include "protocol/cfdp_checksum.h"
#include "protocol/cfdp_pdu.h"
#include "protocol/stream_registry.h"
#include "protocol/telecommand.h"
#include "rover/v1/command.pb.h"
#include "rover/v1/event.pb.h"
#include "rover/v1/file_delivery.pb.h"
#include "rover/v1/radiation.pb.h"
#include "rover/v1/verification.pb.h"
#include "support/packets.h"
#include "support/process.h"
#include "support/programs.h"

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

  ChildProcess station(LGS_STATION_BIN,
                       StationArgs()
                           .Connect(endpoint)
                           .Jsonl(dir.File("station.jsonl"))
                           .SummaryJson(dir.File("summary.json"))
                           .Quiet()
                           .Arg("--reject-log-interval", "600")
                           .Args(),
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
  // One 900 kB message: far over any packet, under the station's hard transport limit (1 MiB;
  // beyond it the connection goes, see AfterAMessageOverTheTransportLimit...).
  {
    const std::string huge(900'000, '\x42');
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

// A publisher the station subscribes to, standing in for the rover.
class FakeRover {
 public:
  explicit FakeRover(const std::string& endpoint) : publisher_(context_, zmq::socket_type::xpub) {
    publisher_.set(zmq::sockopt::sndhwm, 0);
    // Every subscription, a reconnecting station's repeat of one it already had included.
    publisher_.set(zmq::sockopt::xpub_verbose, 1);
    publisher_.set(zmq::sockopt::linger, 5000);
    publisher_.bind(endpoint);
  }
  // Waits for a subscription (an earlier station's unsubscription does not count).
  bool WaitForSubscriber() {
    zmq::message_t subscription;
    publisher_.set(zmq::sockopt::rcvtimeo, 20'000);
    while (publisher_.recv(subscription)) {
      if (subscription.size() > 0 && static_cast<const uint8_t*>(subscription.data())[0] == 1) {
        return true;
      }
    }
    return false;
  }
  // Housekeeping at 1 Hz on-board: sequence `seq` at on-board second `seq` (so a real outage's
  // jump is explained by the clock, and a corrupted one is not).
  void Hk(uint32_t seq, protocol::TimestampNs onboard_ns = -1) {
    const protocol::TimestampNs t =
        onboard_ns >= 0 ? onboard_ns : kSomeTimeNs + int64_t{seq % 100'000} * 1'000'000'000;
    Send(Topic(StreamId::kHousekeeping), HousekeepingPacket(seq, 50.0, t));
  }
  void Send(const std::string& topic, const std::string& packet) {
    publisher_.send(zmq::buffer(topic), zmq::send_flags::sndmore);
    publisher_.send(zmq::buffer(packet));
  }
  zmq::context_t& context() { return context_; }

 private:
  zmq::context_t context_;
  zmq::socket_t publisher_;
};

std::vector<uint32_t> JsonlSequences(const std::string& path) {
  std::vector<uint32_t> seqs;
  for (const std::string& line : ReadLines(path)) seqs.push_back(json::parse(line)["seq"]);
  return seqs;
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
  FakeRover rover(endpoint);
  ChildProcess station(LGS_STATION_BIN,
                       StationArgs()
                           .Connect(endpoint)
                           .Record(dir.File("rec"))
                           .SummaryJson(dir.File("summary.json"))
                           .Arg("--print-interval", "0")
                           .StatsInterval(0)
                           .Arg("--reject-log-interval", "600")
                           .Args(),
                       dir.path(), "station");
  ASSERT_TRUE(rover.WaitForSubscriber()) << "station never subscribed";
  const auto send = [&](const std::string& packet) { rover.Send(Topic(StreamId::kEvent), packet); };
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
    if (entry.path().extension() == ".mcap") file = entry.path().string();  // not archive/
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

// One packet with a wild extended sequence (what a CRC-16 lets through once in 65 536 damaged
// packets) must not poison the stream: arriving first it cannot be doubted, but the genuine ones
// after it are not "duplicates"; arriving later it is held, never confirmed, and set aside
// (recorded as rejected, not as telemetry); a station resumed from the recording is not poisoned
// by it either.
TEST(BadInput, AFarSequenceNumberIsHeldAndSetAsideNotBelieved) {
  ScratchDir dir;
  const std::string endpoint = dir.IpcEndpoint("tm");
  FakeRover rover(endpoint);
  const auto station_args = [&](const std::string& name, bool resume) {
    StationArgs args;
    args.Connect(endpoint)
        .Jsonl(dir.File(name + ".jsonl"))
        .SummaryJson(dir.File(name + ".json"))
        .Record(dir.File("rec"))
        .Quiet()
        .Arg("--reject-log-interval", "600");
    if (resume) args.Resume();
    return args.Args();
  };
  {
    ChildProcess station(LGS_STATION_BIN, station_args("first", false), dir.path(), "first");
    ASSERT_TRUE(rover.WaitForSubscriber());
    rover.Hk(4'000'000'000u, kSomeTimeNs);  // corrupted, and first
    for (uint32_t seq = 0; seq < 100; ++seq) rover.Hk(seq);
    rover.Hk(3'999'999'850u, kSomeTimeNs + 100'000'000'000);  // corrupted, later
    for (uint32_t seq = 100; seq < 200; ++seq) rover.Hk(seq);
    ASSERT_TRUE(WaitUntil([&] { return ReadLines(dir.File("first.jsonl")).size() >= 201; }, 20s))
        << station.Stderr();
    station.Signal(SIGINT);
    ASSERT_EQ(station.Wait(20s), 0) << station.Stderr();
    std::vector<uint32_t> expected = {4'000'000'000u};
    for (uint32_t seq = 0; seq < 200; ++seq) expected.push_back(seq);
    EXPECT_EQ(JsonlSequences(dir.File("first.jsonl")), expected);
    const json summary = json::parse(ReadFile(dir.File("first.json")));
    const json& hk = summary["streams"]["housekeeping"];
    EXPECT_EQ(hk["duplicates"], 0);
    EXPECT_EQ(hk["missing"], 0);
    EXPECT_EQ(hk["out_of_order"], 0);
    EXPECT_EQ(hk["highest_seq"], 199);
    EXPECT_EQ(hk["implausible"], 1);
    EXPECT_EQ(summary["rejected"]["implausible_sequence"], 1);
    EXPECT_NE(station.Stderr().find("rejected (implausible_sequence)"), std::string::npos)
        << station.Stderr();
  }
  {
    // The recording holds 4 000 000 000 and 0..199: resumed, the stream is at 199.
    ChildProcess station(LGS_STATION_BIN, station_args("resumed", true), dir.path(), "resumed");
    ASSERT_TRUE(rover.WaitForSubscriber());
    for (uint32_t seq = 200; seq < 210; ++seq) rover.Hk(seq);
    ASSERT_TRUE(WaitUntil([&] { return ReadLines(dir.File("resumed.jsonl")).size() >= 10; }, 20s))
        << station.Stderr();
    station.Signal(SIGINT);
    ASSERT_EQ(station.Wait(20s), 0) << station.Stderr();
    const json hk = json::parse(ReadFile(dir.File("resumed.json")))["streams"]["housekeeping"];
    EXPECT_EQ(hk["duplicates"], 0);
    EXPECT_EQ(hk["missing"], 0);
    EXPECT_EQ(hk["highest_seq"], 209);
    EXPECT_NE(station.Stderr().find("far from the rest of the stream"), std::string::npos)
        << station.Stderr();
  }
}

// With gap fill the station commands the rover from what it believes: a wild sequence must not
// turn into retransmit requests for billions of packets, the tail probe of a stream at the last
// sequence must not wrap round to "everything", and a report to a request the station never sent
// must not declare anything lost.
TEST(BadInput, GapFillAsksOnlyForWhatIsPlausiblyMissingAndTrustsOnlyReportsToItsRequests) {
  ScratchDir dir;
  const std::string endpoint = dir.IpcEndpoint("tm");
  FakeRover rover(endpoint);
  zmq::socket_t uplink(rover.context(), zmq::socket_type::router);
  uplink.set(zmq::sockopt::linger, 0);
  uplink.bind(dir.IpcEndpoint("tc"));
  ChildProcess station(LGS_STATION_BIN,
                       StationArgs()
                           .Connect(endpoint)
                           .GapFill(dir.IpcEndpoint("tc"))
                           .LightTime(0)
                           .Arg("--tail-probe", "1")
                           .SummaryJson(dir.File("summary.json"))
                           .Quiet()
                           .Arg("--limits", "none")
                           .NoHttp()
                           .Args(),
                       dir.path(), "station");
  ASSERT_TRUE(rover.WaitForSubscriber());
  for (uint32_t seq = 0; seq < 50; ++seq) rover.Hk(seq);
  rover.Hk(4'000'000'000u, kSomeTimeNs + 50'000'000'000);
  for (uint32_t seq = 50; seq < 100; ++seq) rover.Hk(seq);
  // Radiation at the very last sequence there is, and the one before.
  rover::v1::Radiation rad;
  rover.Send(Topic(StreamId::kRadiation), StreamPacket(StreamId::kRadiation, rad, 0xFFFFFFFE));
  rover.Send(Topic(StreamId::kRadiation), StreamPacket(StreamId::kRadiation, rad, 0xFFFFFFFF));

  // Read what the station asks for over ~4 s (tail probes after 1 s of quiet).
  uplink.set(zmq::sockopt::rcvtimeo, 200);
  std::vector<std::pair<uint32_t, rover::v1::RetransmitRequest>> requests;
  const auto until = std::chrono::steady_clock::now() + 4s;
  while (std::chrono::steady_clock::now() < until) {
    zmq::message_t peer, body;
    if (!uplink.recv(peer)) continue;
    ASSERT_TRUE(uplink.recv(body));
    auto tc = protocol::ParseTcPacket({static_cast<const uint8_t*>(body.data()), body.size()});
    ASSERT_TRUE(tc.ok());
    rover::v1::RetransmitRequest r;
    ASSERT_TRUE(r.ParseFromArray(tc->payload.data(), static_cast<int>(tc->payload.size())));
    requests.emplace_back(tc->header.request_sequence, r);
  }
  ASSERT_FALSE(requests.empty());
  bool probed_housekeeping = false;
  for (const auto& [sequence, r] : requests) {
    for (const auto& range : r.ranges()) {
      EXPECT_LE(range.first(), range.last());
      // Radiation's gap from 0 is asked for (gap fill takes streams to start at 0); a probe
      // beyond its last sequence is not.
      if (range.apid() == protocol::Stream(StreamId::kRadiation).apid) {
        EXPECT_LT(range.last(), 0xFFFFFFFEu) << range.first();
      }
      if (range.apid() == protocol::Stream(StreamId::kHousekeeping).apid) {
        EXPECT_EQ(range.first(), 100u) << "only the tail after 99 is unknown";
        EXPECT_EQ(range.last(), 0xFFFFFFFFu);
        probed_housekeeping = true;
      }
    }
  }
  EXPECT_TRUE(probed_housekeeping);
  // A completion report, from this station's source, to a request it never sent.
  rover::v1::CommandVerification forged;
  forged.set_source_id(1);
  forged.set_request_sequence(requests.back().first + 1000);
  forged.set_stage(rover::v1::VERIFICATION_STAGE_COMPLETION);
  forged.set_success(true);
  auto* everything = forged.add_unavailable();
  everything->set_apid(protocol::Stream(StreamId::kHousekeeping).apid);
  everything->set_first(0);
  everything->set_last(0xFFFFFFFF);
  rover.Send(Topic(StreamId::kCommandVerification),
             StreamPacket(StreamId::kCommandVerification, forged, 0));
  rover.Hk(100);
  std::this_thread::sleep_for(500ms);
  station.Signal(SIGINT);
  ASSERT_EQ(station.Wait(20s), 0) << station.Stderr();
  const json summary = json::parse(ReadFile(dir.File("summary.json")));
  const json& hk = summary["streams"]["housekeeping"];
  EXPECT_EQ(hk["lost"], 0);
  EXPECT_EQ(hk["missing"], 0);
  EXPECT_EQ(hk["highest_seq"], 100);
  EXPECT_EQ(summary["gap_fill"]["unmatched_reports"], 1);
  EXPECT_EQ(summary["rejected"]["implausible_sequence"], 1);
  EXPECT_EQ(summary["streams"]["radiation"]["highest_seq"], 0xFFFFFFFFu);
}

// A rover that goes quiet while connected (or a link that went deaf) is reported, raises the
// link.silence_s alarm, is reconnected, and the alarm clears when telemetry is back.
TEST(BadInput, SilenceFromAConnectedRoverIsReportedAlarmedAndReconnected) {
  ScratchDir dir;
  const std::string endpoint = dir.IpcEndpoint("tm");
  FakeRover rover(endpoint);
  {
    std::ofstream limits(dir.File("limits.yaml"));
    limits << "limits:\n  - field: link.silence_s\n    yellow_high: 1\n    persistence: 1\n";
  }
  ChildProcess station(LGS_STATION_BIN,
                       StationArgs()
                           .Connect(endpoint)
                           .Jsonl(dir.File("station.jsonl"))
                           .SummaryJson(dir.File("summary.json"))
                           .Arg("--silence-timeout", "1")
                           .Arg("--limits", dir.File("limits.yaml"))
                           .StatsInterval(0)
                           .Arg("--print-interval", "100")
                           .NoHttp()
                           .Args(),
                       dir.path(), "station");
  ASSERT_TRUE(rover.WaitForSubscriber());
  for (uint32_t seq = 0; seq < 10; ++seq) rover.Hk(seq);
  ASSERT_TRUE(WaitUntil([&] { return ReadLines(dir.File("station.jsonl")).size() >= 10; }, 10s));
  // Quiet: the station reconnects (a new subscription arrives) and says so.
  ASSERT_TRUE(rover.WaitForSubscriber()) << station.Stderr();
  EXPECT_TRUE(
      WaitUntil([&] { return station.Stdout().find("LINK  SILENT") != std::string::npos; }, 5s))
      << station.Stdout();
  for (uint32_t seq = 10; seq < 20; ++seq) rover.Hk(seq);
  ASSERT_TRUE(WaitUntil([&] { return ReadLines(dir.File("station.jsonl")).size() >= 20; }, 10s));
  EXPECT_TRUE(WaitUntil(
      [&] { return station.Stdout().find("link.silence_s cleared") != std::string::npos; }, 5s))
      << station.Stdout();
  station.Signal(SIGINT);
  ASSERT_EQ(station.Wait(20s), 0) << station.Stderr();
  const std::string out = station.Stdout();
  EXPECT_NE(out.find("ALARM WARNING  link.silence_s raised"), std::string::npos) << out;
  EXPECT_NE(out.find("LINK  telemetry is back"), std::string::npos) << out;
  const json summary = json::parse(ReadFile(dir.File("summary.json")));
  EXPECT_GE(summary["link"]["silences"].get<int>(), 1);
  EXPECT_GE(summary["link"]["reconnects"].get<int>(), 1);
  EXPECT_EQ(summary["streams"]["housekeeping"]["missing"], 0);
}

// A field of /proc/<pid>/status in kB (VmRSS, VmHWM), or -1.
long ProcStatusKb(pid_t pid, const std::string& field) {
  for (const std::string& line : ReadLines("/proc/" + std::to_string(pid) + "/status")) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

uint64_t DirectoryBytes(const std::string& path) {
  uint64_t total = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
    if (entry.is_regular_file()) total += entry.file_size();
  }
  return total;
}

// A flood of garbage (20 000 messages of 65 000 bytes, as fast as the socket takes them) is
// counted in full, but costs neither memory that stays nor a recording that grows with it:
// /link/rejected keeps a bounded sample and says how many it did not keep.
TEST(BadInput, AGarbageFloodIsCountedButCostsBoundedMemoryAndRecording) {
  ScratchDir dir;
  const std::string endpoint = dir.IpcEndpoint("tm");
  FakeRover rover(endpoint);
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer's allocator keeps freed memory in quarantine and never gives it back by
  // default: RSS would measure the sanitizer. Its options for the station: no quarantine, and
  // free pages back to the system as glibc does.
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string options = std::string(asan ? asan : "") +
                              ":quarantine_size_mb=0:allocator_release_to_os_interval_ms=100";
  ::setenv("ASAN_OPTIONS", options.c_str(), 1);
#endif
  ChildProcess station(LGS_STATION_BIN,
                       StationArgs()
                           .Connect(endpoint)
                           .Record(dir.File("rec"))
                           .SummaryJson(dir.File("summary.json"))
                           .Jsonl(dir.File("station.jsonl"))
                           .Quiet()
                           .NoHttp()
                           .Args(),
                       dir.path(), "station");
  ASSERT_TRUE(rover.WaitForSubscriber());
  rover.Hk(0);
  ASSERT_TRUE(WaitUntil([&] { return ReadLines(dir.File("station.jsonl")).size() >= 1; }, 10s));
  const long rss_before_kb = ProcStatusKb(station.pid(), "VmRSS");
  const auto flood_start = std::chrono::steady_clock::now();
  constexpr int kFlood = 20'000;
  // Incompressible, each one different (xorshift: cheap enough for 1.3 GB).
  std::vector<uint64_t> words(65'000 / 8);
  uint64_t x = 88172645463325252ULL;
  const std::string topic = Topic(StreamId::kHousekeeping);
  for (int i = 0; i < kFlood; ++i) {
    for (uint64_t& w : words) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      w = x;
    }
    rover.Send(topic, std::string(reinterpret_cast<const char*>(words.data()), 65'000));
  }
  rover.Hk(1);
  ASSERT_TRUE(WaitUntil([&] { return ReadLines(dir.File("station.jsonl")).size() >= 2; }, 30s))
      << station.Stderr();
  const double flood_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - flood_start).count();
  std::this_thread::sleep_for(1500ms);  // past the trim after a burst
  const long rss_after_kb = ProcStatusKb(station.pid(), "VmRSS");
  const long peak_kb = ProcStatusKb(station.pid(), "VmHWM");
  station.Signal(SIGINT);
  ASSERT_EQ(station.Wait(20s), 0) << station.Stderr();
  const json summary = json::parse(ReadFile(dir.File("summary.json")));
  EXPECT_EQ(summary["totals"]["rejected"], kFlood);
  EXPECT_EQ(summary["totals"]["received"], 2);
  const uint64_t recorded = DirectoryBytes(dir.File("rec"));
  std::cout << "flood: RSS " << rss_before_kb << " kB before, peak " << peak_kb << " kB, "
            << rss_after_kb << " kB after; recording " << recorded << " bytes; not kept "
            << summary["recording"]["rejected_not_kept"] << "\n";
  EXPECT_GT(summary["recording"]["rejected_not_kept"].get<int>(), kFlood / 2);
  // At most 1 MiB of samples a second (and the file's own records), not 1.3 GB.
  EXPECT_LT(static_cast<double>(recorded), (flood_s + 2.0) * 1.1 * (1 << 20) + (256 << 10))
      << flood_s << " s";
  EXPECT_LT(rss_after_kb, rss_before_kb + 64 * 1024) << "memory kept after the flood";
}

// One message over the transport limit makes libzmq drop the connection, and after such a
// protocol error it does not reconnect by itself: the station must notice, say so and connect
// again, so the good packets after it arrive.
TEST(BadInput, AfterAMessageOverTheTransportLimitTheStationReconnectsAndGoesOn) {
  ScratchDir dir;
  const std::string endpoint = dir.IpcEndpoint("tm");
  FakeRover rover(endpoint);
  ChildProcess station(LGS_STATION_BIN,
                       StationArgs()
                           .Connect(endpoint)
                           .Jsonl(dir.File("station.jsonl"))
                           .SummaryJson(dir.File("summary.json"))
                           .Quiet()
                           .Arg("--max-message-size", "1MiB")
                           .NoHttp()
                           .Args(),
                       dir.path(), "station");
  ASSERT_TRUE(rover.WaitForSubscriber());
  for (uint32_t seq = 0; seq < 50; ++seq) rover.Hk(seq);
  ASSERT_TRUE(WaitUntil([&] { return ReadLines(dir.File("station.jsonl")).size() >= 50; }, 10s));
  rover.Send(Topic(StreamId::kHousekeeping), std::string(2 << 20, '\x42'));  // over 1 MiB
  ASSERT_TRUE(rover.WaitForSubscriber()) << "the station never came back\n" << station.Stderr();
  for (uint32_t seq = 50; seq < 300; ++seq) rover.Hk(seq);
  ASSERT_TRUE(WaitUntil([&] { return ReadLines(dir.File("station.jsonl")).size() >= 300; }, 10s))
      << station.Stderr();
  station.Signal(SIGINT);
  ASSERT_EQ(station.Wait(20s), 0) << station.Stderr();
  EXPECT_EQ(JsonlSequences(dir.File("station.jsonl")).back(), 299u);
  const json summary = json::parse(ReadFile(dir.File("summary.json")));
  EXPECT_GE(summary["link"]["reconnects"].get<int>(), 1);
  EXPECT_NE(station.Stderr().find("reconnecting"), std::string::npos) << station.Stderr();
}

// CFDP PDUs from a hostile or broken rover, around one good file (some of its PDUs duplicated
// and late, and all of it again once it is complete): malformed PDUs are counted by reason and
// logged once, a claim of 4 GB, data past the end of a file and a wrong checksum each fail their
// own transaction without costing what they claim, a PDU of no transaction answers nothing, and the
// good file is kept byte for byte.
TEST(BadInput, HostileCfdpPdusAreCountedByReasonAndTheGoodFileIsKept) {
  namespace cfdp = protocol::cfdp;
  ScratchDir dir;
  const std::string endpoint = dir.IpcEndpoint("tm");
  FakeRover rover(endpoint);
  ChildProcess station(LGS_STATION_BIN,
                       StationArgs()
                           .Connect(endpoint)
                           .Products(dir.File("products"), 1)
                           .SummaryJson(dir.File("summary.json"))
                           .Arg("--print-interval", "0")
                           .StatsInterval(0)
                           .Arg("--reject-log-interval", "600")
                           .NoHttp()
                           .Args(),
                       dir.path(), "station");
  ASSERT_TRUE(rover.WaitForSubscriber());
  const long rss_before_kb = ProcStatusKb(station.pid(), "VmRSS");
  uint32_t seq = 0;
  const auto send = [&](const std::string& pdu) {
    rover::v1::FilePdu m;
    m.set_pdu(pdu);
    rover.Send(Topic(StreamId::kFileDelivery), StreamPacket(StreamId::kFileDelivery, m, seq++));
  };
  const auto header = [](uint64_t sequence) {
    cfdp::PduHeader h;
    h.source = 7;
    h.destination = 1;
    h.sequence = sequence;
    h.entity_id_length = 1;
    h.sequence_length = 4;
    return h;
  };
  const auto encode = [&](uint64_t sequence, const cfdp::PduBody& body) {
    std::string wire;
    EXPECT_TRUE(cfdp::EncodePdu(header(sequence), body, wire).ok());
    return wire;
  };
  const auto metadata = [&](uint64_t sequence, uint64_t size, const std::string& name) {
    cfdp::MetadataPdu m;
    m.checksum_type = cfdp::ChecksumType::kModular;
    m.file_size = size;
    m.source_name = m.destination_name = name;
    return encode(sequence, m);
  };
  const auto data = [&](uint64_t sequence, uint64_t offset, std::string_view bytes) {
    cfdp::FileDataPdu d;
    d.offset = offset;
    d.data = AsBytes(bytes);
    return encode(sequence, d);
  };
  const auto eof = [&](uint64_t sequence, const std::string& file, std::optional<uint32_t> sum) {
    cfdp::FileChecksum c(cfdp::ChecksumType::kModular);
    c.Update(AsBytes(file));
    return encode(
        sequence,
        cfdp::EofPdu{cfdp::ConditionCode::kNoError, sum.value_or(c.Finish()), file.size(), {}});
  };
  std::mt19937 rng(18);
  std::string good(40'000, '\0');
  for (char& c : good) c = static_cast<char>(rng());
  std::vector<std::string> good_pdus = {metadata(1, good.size(), "good.bin")};
  for (size_t at = 0; at < good.size(); at += 1000) {
    good_pdus.push_back(data(1, at, std::string_view(good).substr(at, 1000)));
  }
  good_pdus.push_back(eof(1, good, std::nullopt));
  const std::string small(500, 'x');

  std::map<std::string, int> malformed;
  size_t duplicated = 0;
  for (size_t i = 0; i < good_pdus.size(); ++i) {
    send(good_pdus[i]);
    // Every third File Data PDU comes again, late (behind the next one).
    if (i >= 2 && i + 1 < good_pdus.size() && i % 3 == 0) {
      send(good_pdus[i - 1]);
      duplicated += 1000;
    }
    if (i % 8 == 0) {
      send(good_pdus[i].substr(0, 3 + i % 5));  // cut inside the header
      ++malformed["truncated"];
      std::string v2 = good_pdus[i];
      v2[0] = static_cast<char>((v2[0] & 0x1F) | (2 << 5));  // version 2
      send(v2);
      ++malformed["bad_version"];
    }
  }
  send(metadata(2, 4'000'000'000ull, "huge.bin"));  // a claim of 4 GB
  send(metadata(3, small.size(), "past.bin"));
  send(data(3, 100'000, small));  // data far past the end it declared
  send(metadata(4, small.size(), "bad_sum.bin"));
  send(data(4, 0, small));
  send(eof(4, small, 12345));  // a checksum that is not the file's
  send(encode(5, cfdp::AckPdu{cfdp::DirectiveCode::kFinished, cfdp::ConditionCode::kNoError,
                              cfdp::TransactionStatus::kTerminated}));  // no such transaction
  for (auto it = good_pdus.rbegin(); it != good_pdus.rend(); ++it) send(*it);  // all again

  ASSERT_TRUE(
      WaitUntil([&] { return std::filesystem::exists(dir.File("products/good.bin.json")); }, 20s))
      << station.Stderr();
  const long rss_after_kb = ProcStatusKb(station.pid(), "VmRSS");
  station.Signal(SIGTERM);
  ASSERT_EQ(station.Wait(20s), 0) << station.Stderr();
  EXPECT_EQ(ReadFile(dir.File("products/good.bin")), good);
  for (const char* name : {"huge.bin", "past.bin", "bad_sum.bin"}) {
    EXPECT_FALSE(std::filesystem::exists(dir.File(std::string("products/") + name))) << name;
  }
  const json products = json::parse(ReadFile(dir.File("summary.json")))["products"];
  EXPECT_EQ(products["completed"], 1) << products;
  EXPECT_EQ(products["failed"], 3) << products;
  for (const auto& [reason, n] : malformed) {
    EXPECT_EQ(products["bad_by_reason"].value(reason, 0), n) << reason << " " << products;
    EXPECT_EQ(Count(station.Stderr(), "bad CFDP PDU refused (" + reason + ")"), 1u) << reason;
  }
  EXPECT_EQ(products["unknown_transaction"], 1) << products;
  EXPECT_EQ(products["duplicate_bytes"], duplicated) << products;
  // The 4 GB claim cost nothing like its size (the station's whole memory grew by less than a
  // few megabytes).
  std::cout << "hostile CFDP: RSS " << rss_before_kb << " kB before, " << rss_after_kb
            << " kB after\n";
  EXPECT_LT(rss_after_kb, rss_before_kb + 16 * 1024);
  EXPECT_NE(station.Stderr().find("4000000000"), std::string::npos) << station.Stderr();
}

}  // namespace
}  // namespace lgs::test
