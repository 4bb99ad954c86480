// The CFDP sender and receiver talking to each other over a simulated lunar link: 1.3 s light
// time each way, a few hundred kbit/s down, losses, duplicates and reordering in both
// directions, an outage. Every file must arrive byte for byte, and both ends must agree on how
// each transaction ended.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "protocol/bytes.h"
#include "protocol/cfdp_receiver.h"
#include "protocol/cfdp_sender.h"
#include "support/process.h"

namespace lgs::protocol::cfdp {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Link {
  double loss = 0.0, duplicate = 0.0, reorder = 0.0;
  Clock::duration light_time = 1300ms;
  double downlink_bps = 285'000;
  std::optional<std::pair<Clock::time_point, Clock::time_point>> outage;
};

struct Outcome {
  std::map<std::string, std::string> received;  // name -> bytes kept by the receiver
  std::vector<SentTransaction> sent;
  ReceiverStats stats;
  Clock::duration took{};
};

Outcome Transfer(const std::vector<std::pair<std::string, std::string>>& files, bool acknowledged,
                 const Link& link, uint32_t seed) {
  test::ScratchDir dir;
  DiskFiles disk(dir.path().string());
  ReceiverOptions ro;
  ro.entity_id = 1;
  ro.nak_interval = 2 * link.light_time + 1s;
  ro.ack_interval = 2 * link.light_time + 1s;
  ro.inactivity = 60s;
  Receiver receiver(ro, disk.Factory());
  SenderOptions so;
  so.entity_id = 7;
  so.destination_id = 1;
  so.ack_interval = 2 * link.light_time + 1s;
  so.max_file_data = 1000;
  Sender sender(so);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  const Clock::time_point start = Clock::time_point() + 1h;
  Clock::time_point now = start;
  for (const auto& [name, bytes] : files) sender.Put(AsBytes(bytes), name, acknowledged);
  // In flight: arrival time -> PDU, per direction.
  std::multimap<Clock::time_point, std::string> down, up;
  const auto put = [&](std::multimap<Clock::time_point, std::string>& q, Clock::time_point at,
                       std::string pdu) {
    const bool dark = link.outage && at >= link.outage->first && at < link.outage->second;
    if (dark || u(rng) < link.loss) return;
    if (u(rng) < link.reorder) at += 200ms;
    if (u(rng) < link.duplicate) q.emplace(at + 50ms, pdu);
    q.emplace(at, std::move(pdu));
  };
  Clock::time_point link_free = now;
  std::vector<std::string> replies;
  std::vector<ReceiverEvent> events;
  std::vector<SentTransaction> finished;
  const auto step = 10ms;
  while (now - start < 2h) {
    // The rover knows when it has no link (its link model says so) and suspends.
    sender.SetLinkAvailable(
        !(link.outage && now >= link.outage->first && now < link.outage->second), now);
    // The sender fills the downlink as fast as the bandwidth lets it.
    while (link_free <= now) {
      auto pdu = sender.NextPdu(now);
      if (!pdu) break;
      link_free += std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(pdu->size() * 8 / link.downlink_bps));
      put(down, link_free + link.light_time, std::move(*pdu));
    }
    link_free = std::max(link_free, now);
    for (auto it = down.begin(); it != down.end() && it->first <= now; it = down.erase(it)) {
      auto pdu = DecodePdu(AsBytes(it->second));
      EXPECT_TRUE(pdu.ok());
      receiver.OnPdu(*pdu, it->first, replies, events);
    }
    receiver.Tick(now, replies, events);
    for (std::string& r : replies) put(up, now + link.light_time, std::move(r));
    replies.clear();
    for (auto it = up.begin(); it != up.end() && it->first <= now; it = up.erase(it)) {
      auto pdu = DecodePdu(AsBytes(it->second));
      EXPECT_TRUE(pdu.ok());
      sender.OnPdu(*pdu, it->first);
    }
    sender.Tick(now);
    for (const SentTransaction& t : sender.TakeFinished()) finished.push_back(t);
    if (finished.size() == files.size() && down.empty() && up.empty()) break;
    now += step;
  }
  Outcome o;
  o.took = now - start;
  for (const ReceiverEvent& e : events) {
    if (e.kind == ReceiverEvent::Kind::kCompleted) {
      o.received[std::filesystem::path(e.path).filename().string()] = test::ReadFile(e.path);
    }
  }
  o.sent = finished;
  o.stats = receiver.stats();
  return o;
}

std::vector<std::pair<std::string, std::string>> Panorama(size_t frames, size_t size) {
  std::vector<std::pair<std::string, std::string>> files;
  std::mt19937 rng(42);
  for (size_t i = 0; i < frames; ++i) {
    std::string bytes(size + i * 37, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    files.emplace_back("pan_" + std::to_string(i) + ".jpg", std::move(bytes));
  }
  return files;
}

void ExpectEveryFileArrived(const Outcome& o,
                            const std::vector<std::pair<std::string, std::string>>& files) {
  ASSERT_EQ(o.sent.size(), files.size());
  for (const SentTransaction& t : o.sent) {
    EXPECT_EQ(t.condition, ConditionCode::kNoError) << t.name << " " << ConditionName(t.condition);
    EXPECT_EQ(t.delivery, DeliveryCode::kComplete) << t.name;
  }
  for (const auto& [name, bytes] : files) {
    ASSERT_TRUE(o.received.contains(name)) << name;
    EXPECT_EQ(o.received.at(name), bytes) << name;
  }
}

TEST(CfdpLoopback, APanoramaOverACleanLinkTakesWhatTheBandwidthSays) {
  const auto files = Panorama(3, 40'000);
  const Outcome o = Transfer(files, true, Link{}, 1);
  ExpectEveryFileArrived(o, files);
  EXPECT_EQ(o.stats.naks_sent, 0u);
  // 120 kB at 285 kbit/s is 3.4 s of bytes, plus the round trip of the last EOF and FIN.
  EXPECT_LT(o.took, 10s);
}

TEST(CfdpLoopback, ALossyLinkBothWaysStillDeliversEveryByte) {
  const auto files = Panorama(4, 30'000);
  Link link;
  link.loss = 0.1;
  link.duplicate = 0.05;
  link.reorder = 0.1;
  for (uint32_t seed : {1u, 2u, 3u}) {
    const Outcome o = Transfer(files, true, link, seed);
    ExpectEveryFileArrived(o, files);
    EXPECT_GT(o.stats.naks_sent, 0u);
    EXPECT_GT(o.stats.duplicate_bytes, 0u);
  }
}

TEST(CfdpLoopback, AnOutageInTheMiddleIsRiddenOut) {
  const auto files = Panorama(2, 60'000);
  Link link;
  link.loss = 0.05;
  const Clock::time_point start = Clock::time_point() + 1h;
  link.outage = {start + 2s, start + 3min};  // loss of signal mid-transfer, both ways
  const Outcome o = Transfer(files, true, link, 4);
  ExpectEveryFileArrived(o, files);
  EXPECT_GT(o.took, 3min);
}

TEST(CfdpLoopback, ClassOneOverACleanLinkDeliversWithoutAnswers) {
  const auto files = Panorama(2, 20'000);
  const Outcome o = Transfer(files, false, Link{}, 5);
  ExpectEveryFileArrived(o, files);
  EXPECT_EQ(o.stats.eof_acks_sent + o.stats.naks_sent + o.stats.finished_sent, 0u);
}

}  // namespace
}  // namespace lgs::protocol::cfdp
