// The CFDP receiving entity against files it must reproduce byte for byte: a sender in the test
// cuts a known file into PDUs (losing, repeating and reordering some), and the receiver's file on
// disk, its answers (ACK, NAK, Finished) and its events are checked against what was sent.
#include "protocol/cfdp_receiver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <random>
#include <set>

#include "protocol/bytes.h"
#include "support/process.h"

namespace lgs::protocol::cfdp {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kRover = 7, kStation = 1;

std::string FileOf(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

// The sending side of one transaction, as PDUs.
struct TestSender {
  explicit TestSender(std::string f, uint64_t seq = 1,
                      TransmissionMode m = TransmissionMode::kAcknowledged,
                      ChecksumType c = ChecksumType::kModular, size_t piece = 1000)
      : file(std::move(f)), sequence(seq), mode(m), checksum_type(c), chunk(piece) {}
  std::string file;
  uint64_t sequence = 1;
  TransmissionMode mode = TransmissionMode::kAcknowledged;
  ChecksumType checksum_type = ChecksumType::kModular;
  size_t chunk = 1000;

  PduHeader Header() const {
    PduHeader h;
    h.mode = mode;
    h.source = kRover;
    h.sequence = sequence;
    h.destination = kStation;
    h.entity_id_length = 1;
    h.sequence_length = 2;
    return h;
  }
  Pdu Wrap(PduBody body) const {
    std::string wire;
    EXPECT_TRUE(EncodePdu(Header(), body, wire).ok());
    wires.push_back(std::move(wire));  // the decoded File Data points into it
    auto pdu = DecodePdu(AsBytes(wires.back()));
    EXPECT_TRUE(pdu.ok());
    return *pdu;
  }
  Pdu Metadata(uint64_t size_claimed = ~uint64_t{0}) const {
    MetadataPdu m;
    m.checksum_type = checksum_type;
    m.file_size = size_claimed == ~uint64_t{0} ? file.size() : size_claimed;
    m.source_name = "navcam/0001.jpg";
    m.destination_name = "navcam/0001.jpg";
    return Wrap(m);
  }
  Pdu Data(uint64_t offset, size_t length) const {
    FileDataPdu d;
    d.offset = offset;
    d.data = AsBytes(file).subspan(offset, length);
    return Wrap(d);
  }
  std::vector<Pdu> AllData() const {
    std::vector<Pdu> out;
    for (size_t at = 0; at < file.size(); at += chunk) {
      out.push_back(Data(at, std::min(chunk, file.size() - at)));
    }
    return out;
  }
  Pdu Eof(std::optional<uint32_t> checksum = std::nullopt) const {
    FileChecksum c(checksum_type);
    c.Update(AsBytes(file));
    return Wrap(EofPdu{ConditionCode::kNoError, checksum.value_or(c.Finish()), file.size(), {}});
  }
  Pdu AckOfFinished() const {
    PduHeader h = Header();
    std::string wire;
    EXPECT_TRUE(EncodePdu(h,
                          AckPdu{DirectiveCode::kFinished, ConditionCode::kNoError,
                                 TransactionStatus::kTerminated},
                          wire)
                    .ok());
    wires.push_back(std::move(wire));
    return *DecodePdu(AsBytes(wires.back()));
  }
  mutable std::deque<std::string> wires;
};

struct Harness {
  explicit Harness(ReceiverOptions o = {})
      : files(dir.path().string()), receiver(Options(o), files.Factory()) {}
  static ReceiverOptions Options(ReceiverOptions o) {
    o.entity_id = kStation;
    return o;
  }
  void Feed(const Pdu& pdu) { receiver.OnPdu(pdu, now, out, events); }
  void Tick(Clock::duration dt) {
    now += dt;
    receiver.Tick(now, out, events);
  }
  std::vector<Pdu> Sent() {
    std::vector<Pdu> pdus;
    for (const std::string& w : out) {
      auto p = DecodePdu(AsBytes(w));
      EXPECT_TRUE(p.ok());
      EXPECT_EQ(p->header.direction, Direction::kTowardSender);
      EXPECT_EQ(p->header.source, kRover);  // the transaction's source, never swapped
      EXPECT_EQ(p->header.destination, kStation);
      pdus.push_back(*p);
    }
    out.clear();
    return pdus;
  }
  template <class T>
  std::vector<T> SentOf() {
    std::vector<T> of;
    for (const Pdu& p : Sent()) {
      if (const auto* x = std::get_if<T>(&p.body)) of.push_back(*x);
    }
    return of;
  }
  test::ScratchDir dir;
  DiskFiles files;
  Receiver receiver;
  Clock::time_point now = Clock::time_point() + 1000s;
  std::vector<std::string> out;
  std::vector<ReceiverEvent> events;
};

TEST(CfdpReceiver, AFileInOrderIsKeptByteForByteAndFinishedOnceAcked) {
  Harness h;
  TestSender s{FileOf(10'500, 1)};
  h.Feed(s.Metadata());
  for (const Pdu& d : s.AllData()) h.Feed(d);
  h.Feed(s.Eof());
  const auto sent = h.Sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(std::get<AckPdu>(sent[0].body).acknowledged, DirectiveCode::kEof);
  const auto& fin = std::get<FinishedPdu>(sent[1].body);
  EXPECT_EQ(fin.condition, ConditionCode::kNoError);
  EXPECT_EQ(fin.delivery, DeliveryCode::kComplete);
  EXPECT_EQ(fin.status, FileStatus::kRetained);
  ASSERT_EQ(h.events.size(), 2u);
  EXPECT_EQ(h.events[1].kind, ReceiverEvent::Kind::kCompleted);
  EXPECT_EQ(test::ReadFile(h.events[1].path), s.file);
  EXPECT_EQ(h.events[1].path, (h.dir.path() / "navcam/0001.jpg").string());
  // Until its ACK the Finished PDU is repeated; after it, nothing more.
  h.Tick(7s);
  EXPECT_EQ(h.SentOf<FinishedPdu>().size(), 1u);
  h.Feed(s.AckOfFinished());
  h.Tick(7s);
  EXPECT_TRUE(h.Sent().empty());
  EXPECT_EQ(h.receiver.stats().completed, 1u);
  EXPECT_EQ(h.receiver.Transactions().at(0).state, TransactionState::kCompleted);
}

TEST(CfdpReceiver, WhatTheLinkLostIsNakedExactlyAndTheFileCompletesWhenResent) {
  Harness h;
  TestSender s{FileOf(20'000, 2)};
  const auto data = s.AllData();
  h.Feed(s.Metadata());
  const std::set<size_t> lost = {0, 3, 4, 19};  // the first, two in a row, the last
  for (size_t i = 0; i < data.size(); ++i) {
    if (!lost.contains(i)) h.Feed(data[i]);
  }
  h.Feed(s.Eof());
  h.Tick(10ms);
  const auto naks = h.SentOf<NakPdu>();
  ASSERT_EQ(naks.size(), 1u);
  EXPECT_EQ(naks[0].scope_end, 20'000u);
  EXPECT_EQ(naks[0].segments,
            (std::vector<SegmentRequest>{{0, 1000}, {3000, 5000}, {19'000, 20'000}}));
  // Nothing new: the NAK comes again after the interval, not before.
  h.Tick(3s);
  EXPECT_TRUE(h.SentOf<NakPdu>().empty());
  h.Tick(4s);
  EXPECT_EQ(h.SentOf<NakPdu>().size(), 1u);
  for (size_t i : lost) h.Feed(data[i]);
  EXPECT_EQ(h.SentOf<FinishedPdu>().size(), 1u);
  EXPECT_EQ(h.events.back().kind, ReceiverEvent::Kind::kCompleted);
  EXPECT_EQ(test::ReadFile(h.events.back().path), s.file);
}

TEST(CfdpReceiver, DuplicatesAndReorderingCostNothingButTheirCount) {
  Harness h;
  TestSender s{FileOf(9'999, 3)};
  auto data = s.AllData();
  std::mt19937 rng(3);
  std::shuffle(data.begin(), data.end(), rng);
  h.Feed(s.Eof());  // first: the Metadata lost, the data late
  EXPECT_EQ(h.SentOf<AckPdu>().size(), 1u);
  h.Tick(10ms);
  const auto naks = h.SentOf<NakPdu>();
  ASSERT_EQ(naks.size(), 1u);
  EXPECT_EQ(naks[0].segments, (std::vector<SegmentRequest>{{0, 0}, {0, 9'999}}));
  for (const Pdu& d : data) h.Feed(d);
  const size_t repeated = std::get<FileDataPdu>(data[2].body).data.size();
  h.Feed(data[2]);
  h.Feed(data[2]);
  h.Feed(s.Data(500, 2000));  // overlaps two chunks
  EXPECT_EQ(h.receiver.stats().duplicate_bytes, 2 * repeated + 2000);
  EXPECT_TRUE(h.SentOf<FinishedPdu>().empty());  // the Metadata is still missing
  h.Feed(s.Metadata());
  // The modular checksum took every byte once, whatever the order and the repeats.
  const auto fins = h.SentOf<FinishedPdu>();
  ASSERT_EQ(fins.size(), 1u);
  EXPECT_EQ(fins[0].condition, ConditionCode::kNoError);
  EXPECT_EQ(test::ReadFile(h.events.back().path), s.file);
}

TEST(CfdpReceiver, DataBeforeTheMetadataIsKeptAndTheMetadataAskedFor) {
  Harness h;
  TestSender s{FileOf(3'000, 4)};
  const auto data = s.AllData();
  h.Feed(data[0]);
  h.Tick(500ms);
  EXPECT_TRUE(h.SentOf<NakPdu>().empty());  // a moment for reordering
  h.Tick(600ms);
  const auto naks = h.SentOf<NakPdu>();
  ASSERT_EQ(naks.size(), 1u);
  EXPECT_EQ(naks[0].segments.front(), (SegmentRequest{0, 0}));
  h.Feed(s.Metadata());
  h.Feed(data[1]);
  h.Feed(data[2]);
  h.Feed(s.Eof());
  EXPECT_EQ(h.events.back().kind, ReceiverEvent::Kind::kCompleted);
  EXPECT_EQ(test::ReadFile(h.events.back().path), s.file);
}

TEST(CfdpReceiver, AWrongChecksumFailsTheTransactionAndKeepsNothingAsComplete) {
  Harness h;
  TestSender s{FileOf(4'000, 5)};
  h.Feed(s.Metadata());
  for (const Pdu& d : s.AllData()) h.Feed(d);
  h.Feed(s.Eof(0x12345678));
  const auto fins = h.SentOf<FinishedPdu>();
  ASSERT_EQ(fins.size(), 1u);
  EXPECT_EQ(fins[0].condition, ConditionCode::kFileChecksumFailure);
  EXPECT_EQ(fins[0].delivery, DeliveryCode::kIncomplete);
  EXPECT_EQ(fins[0].fault_location, std::optional<uint64_t>(kStation));
  EXPECT_EQ(h.events.back().kind, ReceiverEvent::Kind::kFailed);
  EXPECT_NE(h.events.back().detail.find("0x12345678"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(h.dir.path() / "navcam/0001.jpg"));
}

TEST(CfdpReceiver, AClaimOfFourGigabytesIsRefusedWithoutCostingItsSize) {
  Harness h;
  TestSender s{FileOf(100, 6)};
  h.Feed(s.Metadata(4'000'000'000ull));
  const auto fins = h.SentOf<FinishedPdu>();
  ASSERT_EQ(fins.size(), 1u);
  EXPECT_EQ(fins[0].condition, ConditionCode::kFileSizeError);
  EXPECT_NE(h.events.back().detail.find("4000000000"), std::string::npos);
  const auto partial = h.dir.path() / ".partial" / "7-1.part";
  EXPECT_EQ(std::filesystem::file_size(partial), 0u);
  // Data past the end of a file is a file size error too, not a write past its end.
  Harness h2;
  TestSender s2{FileOf(1'000, 7)};
  h2.Feed(s2.Metadata(500));
  h2.Feed(s2.Data(0, 1000));
  EXPECT_EQ(h2.SentOf<FinishedPdu>().at(0).condition, ConditionCode::kFileSizeError);
  EXPECT_EQ(std::filesystem::file_size(h2.dir.path() / ".partial" / "7-1.part"), 0u);
}

TEST(CfdpReceiver, PdusOfNoKnownTransactionAreCountedAndAnswerNothing) {
  Harness h;
  TestSender s{FileOf(100, 8)};
  h.Feed(s.AckOfFinished());
  EXPECT_EQ(h.receiver.stats().unknown_transaction, 1u);
  PduHeader other = s.Header();
  other.destination = 99;  // another station's
  std::string wire;
  ASSERT_TRUE(EncodePdu(other, MetadataPdu{}, wire).ok());
  h.Feed(*DecodePdu(AsBytes(wire)));
  EXPECT_EQ(h.receiver.stats().not_for_us, 1u);
  EXPECT_TRUE(h.Sent().empty());
  EXPECT_TRUE(h.receiver.Transactions().empty());
}

TEST(CfdpReceiver, AnOutageStopsTheNaksAndUsesUpNothingUntilTheSenderIsBack) {
  ReceiverOptions o;
  o.nak_limit = 3;
  o.inactivity = 30s;
  Harness h(o);
  TestSender s{FileOf(5'000, 9)};
  auto data = s.AllData();
  h.Feed(s.Metadata());
  h.Feed(data[0]);
  h.Feed(s.Eof());
  h.Tick(10ms);
  EXPECT_EQ(h.SentOf<NakPdu>().size(), 1u);
  // Silence for ten minutes (loss of signal): NAKs stop once the sender is quiet for 30 s.
  size_t naks = 0;
  for (int i = 0; i < 100; ++i) {
    h.Tick(6s);
    naks += h.SentOf<NakPdu>().size();
  }
  EXPECT_LE(naks, 5u);
  EXPECT_TRUE(h.receiver.Transactions().at(0).stalled);
  EXPECT_EQ(h.receiver.stats().failed, 0u);
  // The sender again: NAKs resume, the data comes, the file completes.
  h.Feed(s.Eof());
  h.Tick(7s);
  EXPECT_FALSE(h.SentOf<NakPdu>().empty());
  for (size_t i = 1; i < data.size(); ++i) h.Feed(data[i]);
  EXPECT_EQ(h.events.back().kind, ReceiverEvent::Kind::kCompleted);
  EXPECT_EQ(test::ReadFile(h.events.back().path), s.file);
}

TEST(CfdpReceiver, NaksWithoutNewDataEndInNakLimitReached) {
  ReceiverOptions o;
  o.nak_limit = 3;
  o.inactivity = 1h;
  Harness h(o);
  TestSender s{FileOf(5'000, 10)};
  h.Feed(s.Metadata());
  h.Feed(s.Eof());
  // The sender is heard (its EOF again, on its ACK timer) but never sends the data.
  for (int i = 0; i < 5; ++i) {
    h.Tick(7s);
    h.Feed(s.Eof());
  }
  ASSERT_FALSE(h.events.empty());
  EXPECT_EQ(h.events.back().kind, ReceiverEvent::Kind::kFailed);
  EXPECT_EQ(h.events.back().condition, ConditionCode::kNakLimitReached);
}

TEST(CfdpReceiver, ClassOneCompletesWithoutAnswersOrFailsAtTheCheckLimit) {
  Harness h;
  TestSender s{FileOf(3'000, 11), 1, TransmissionMode::kUnacknowledged};
  h.Feed(s.Metadata());
  for (const Pdu& d : s.AllData()) h.Feed(d);
  h.Feed(s.Eof());
  EXPECT_TRUE(h.Sent().empty());  // no closure requested: nothing goes back
  EXPECT_EQ(h.events.back().kind, ReceiverEvent::Kind::kCompleted);
  EXPECT_EQ(test::ReadFile(h.events.back().path), s.file);

  TestSender lossy{FileOf(3'000, 12), 2, TransmissionMode::kUnacknowledged};
  h.Feed(lossy.Metadata());
  h.Feed(lossy.AllData()[0]);
  h.Feed(lossy.Eof());
  for (int i = 0; i < 4; ++i) h.Tick(6s);
  EXPECT_TRUE(h.Sent().empty());
  EXPECT_EQ(h.events.back().kind, ReceiverEvent::Kind::kFailed);
  EXPECT_EQ(h.events.back().condition, ConditionCode::kCheckLimitReached);
}

TEST(CfdpReceiver, CrcChecksumsAreVerifiedFromTheFileOnDisk) {
  for (const ChecksumType type : {ChecksumType::kCrc32, ChecksumType::kCrc32c}) {
    Harness h;
    TestSender s{FileOf(2'500'000, 13), 1, TransmissionMode::kAcknowledged, type, 60'000};
    h.Feed(s.Metadata());
    for (const Pdu& d : s.AllData()) h.Feed(d);
    h.Feed(s.Eof());
    EXPECT_EQ(h.SentOf<FinishedPdu>().at(0).condition, ConditionCode::kNoError);
    EXPECT_EQ(test::ReadFile(h.events.back().path), s.file);
  }
}

TEST(CfdpReceiver, TheSamePdusFedToANewReceiverRebuildTheTransaction) {
  TestSender s{FileOf(8'000, 14)};
  const auto data = s.AllData();
  test::ScratchDir dir;
  DiskFiles files(dir.path().string());
  std::vector<Pdu> recorded = {s.Metadata(), data[0], data[1], data[5]};
  ReceiverOptions o;
  o.entity_id = kStation;
  std::vector<std::string> out;
  std::vector<ReceiverEvent> events;
  {
    Receiver first(o, files.Factory());
    for (const Pdu& p : recorded) first.OnPdu(p, Clock::now(), out, events);
  }  // the station stops
  Receiver again(o, files.Factory());
  for (const Pdu& p : recorded) again.OnPdu(p, Clock::now(), out, events);
  const TransactionView v = again.Transactions().at(0);
  EXPECT_EQ(v.received_bytes, 3'000u);
  EXPECT_EQ(v.missing, (std::vector<Extent>{{2'000, 5'000}, {6'000, 8'000}}));
  for (const size_t i : {2, 3, 4, 6, 7}) again.OnPdu(data[i], Clock::now(), out, events);
  again.OnPdu(s.Eof(), Clock::now(), out, events);
  EXPECT_EQ(events.back().kind, ReceiverEvent::Kind::kCompleted);
  EXPECT_EQ(test::ReadFile(events.back().path), s.file);
}

TEST(CfdpExtents, PiecesMergeAndEveryByteIsNewOnce) {
  ExtentSet e;
  uint64_t fresh = 0;
  const auto count = [&](uint64_t a, uint64_t b) { fresh += b - a; };
  EXPECT_EQ(e.Add(10, 20, count), 10u);
  EXPECT_EQ(e.Add(30, 40, count), 10u);
  EXPECT_EQ(e.Add(15, 35, count), 10u);  // only 20..30 is new
  EXPECT_EQ(e.pieces(), 1u);
  EXPECT_EQ(e.covered(), 30u);
  EXPECT_EQ(fresh, 30u);
  EXPECT_EQ(e.Add(40, 50, count), 10u);  // touching: merged
  EXPECT_EQ(e.pieces(), 1u);
  EXPECT_TRUE(e.Contains(12, 48));
  EXPECT_FALSE(e.Contains(5, 12));
  EXPECT_EQ(e.Missing(60, 10), (std::vector<Extent>{{0, 10}, {50, 60}}));
  EXPECT_EQ(e.MissingBytes(60), 20u);
  EXPECT_EQ(e.Add(0, 100, count), 60u);
  EXPECT_TRUE(e.Missing(100, 10).empty());
}

}  // namespace
}  // namespace lgs::protocol::cfdp
