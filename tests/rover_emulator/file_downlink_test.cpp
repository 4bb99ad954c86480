// The on-board file store and its CFDP sending entity, against the ground's receiving entity
// (protocol/cfdp_receiver.h) writing to disk, and sha256sum as the outside judge of the files.
#include "rover_emulator/file_downlink.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "protocol/cfdp_receiver.h"
#include "protocol/sha256.h"
#include "support/process.h"

namespace lgs::emulator {
namespace {

constexpr protocol::TimestampNs kStart = 1'800'000'000LL * 1'000'000'000;
constexpr protocol::TimestampNs kMs = 1'000'000;

ImageProduct Product(std::string name, size_t size, uint32_t priority, uint8_t seed) {
  ImageProduct p;
  p.name = std::move(name);
  p.priority = priority;
  p.bytes.resize(size);
  for (size_t i = 0; i < size; ++i) p.bytes[i] = static_cast<char>((i * 131 + seed) & 0xFF);
  return p;
}

TEST(Sha256, MatchesTheFipsExamples) {
  const std::string abc = "abc";
  EXPECT_EQ(protocol::Sha256Hex({reinterpret_cast<const uint8_t*>(abc.data()), abc.size()}),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(protocol::Sha256Hex({reinterpret_cast<const uint8_t*>(two.data()), two.size()}),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  protocol::Sha256 million;
  const std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) {
    million.Update({reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size()});
  }
  EXPECT_EQ(million.FinalHex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(FileDownlink, FullStoreEvictsLowestPriorityOldestFirstAndSaysWhich) {
  FileDeliverySpec spec;
  spec.store_capacity_bytes = 300'000;
  FileDownlink d(spec, 1.3, kStart);
  // The first two go into transfer at once (two transactions at a time) and stay.
  d.Store(Product("a.jpg", 100'000, 5, 1));
  d.Store(Product("b.jpg", 100'000, 5, 2));
  d.Store(Product("c.jpg", 50'000, 9, 3));
  d.Store(Product("d.jpg", 40'000, 9, 4));
  d.Store(Product("e.jpg", 60'000, 1, 5));  // needs room: c (priority 9, oldest) goes
  std::vector<std::string> evicted, stored;
  for (const FileReport& r : d.TakeReports()) {
    (r.kind == FileReport::Kind::kEvicted ? evicted : stored).push_back(r.name);
    if (r.kind == FileReport::Kind::kEvicted) {
      EXPECT_EQ(r.size, 50'000u);
      EXPECT_EQ(r.sha256.size(), 64u);
    }
  }
  EXPECT_EQ(evicted, std::vector<std::string>{"c.jpg"});
  EXPECT_EQ(stored.size(), 5u);
  // A low-priority newcomer that does not fit is itself the one lost.
  d.Store(Product("f.jpg", 90'000, 9, 6));
  const auto reports = d.TakeReports();
  ASSERT_EQ(reports.size(), 2u);  // d goes (priority 9, oldest), then f still does not fit
  EXPECT_EQ(reports[0].name, "d.jpg");
  EXPECT_EQ(reports[1].name, "f.jpg");
  EXPECT_EQ(reports[1].kind, FileReport::Kind::kEvicted);
  EXPECT_EQ(d.stats().evicted, 3u);
}

TEST(FileDownlink, FilesReachAGroundReceiverByteForByteInPriorityOrder) {
  test::ScratchDir dir;
  protocol::cfdp::DiskFiles disk(dir.path().string());
  protocol::cfdp::ReceiverOptions ro;
  protocol::cfdp::Receiver receiver(ro, disk.Factory());
  FileDeliverySpec spec;
  FileDownlink d(spec, 1.3, kStart);
  // The first two start at once (two transactions at a time); of the two that wait, the one of
  // higher priority (lower number) goes first though it came later.
  const std::vector<ImageProduct> products = {
      Product("a.jpg", 12'345, 7, 1), Product("b.png", 54'321, 7, 2),
      Product("last.jpg", 30'000, 9, 3), Product("urgent.jpg", 20'000, 1, 4)};
  for (const ImageProduct& p : products) d.Store(p);
  std::vector<std::string> completed;
  std::vector<std::string> back;
  std::vector<protocol::cfdp::ReceiverEvent> events;
  protocol::TimestampNs now = kStart;
  for (int step = 0; step < 20'000 && !d.idle(); ++step, now += 5 * kMs) {
    const auto ground = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(now));
    if (auto pdu = d.NextPdu(now)) {
      auto decoded =
          protocol::cfdp::DecodePdu({reinterpret_cast<const uint8_t*>(pdu->data()), pdu->size()});
      ASSERT_TRUE(decoded.ok());
      receiver.OnPdu(*decoded, ground, back, events);
    }
    receiver.Tick(ground, back, events);
    for (const std::string& b : back) {
      EXPECT_TRUE(d.OnPdu({reinterpret_cast<const uint8_t*>(b.data()), b.size()}, now));
    }
    back.clear();
    d.Tick(now);
    for (const auto& e : events) {
      if (e.kind == protocol::cfdp::ReceiverEvent::Kind::kCompleted) completed.push_back(e.path);
    }
    events.clear();
  }
  ASSERT_TRUE(d.idle());
  ASSERT_EQ(completed.size(), 4u);
  std::vector<std::string> delivered;
  for (const FileReport& r : d.TakeReports()) {
    if (r.kind == FileReport::Kind::kDelivered) delivered.push_back(r.name);
  }
  ASSERT_EQ(delivered.size(), 4u);
  EXPECT_EQ(delivered.back(), "last.jpg");
  EXPECT_EQ(d.stats().delivered, 4u);
  for (const ImageProduct& p : products) {
    const std::string path = (dir.path() / p.name).string();
    EXPECT_EQ(
        test::Sha256Sum(path),
        protocol::Sha256Hex({reinterpret_cast<const uint8_t*>(p.bytes.data()), p.bytes.size()}))
        << p.name;
  }
}

}  // namespace
}  // namespace lgs::emulator
