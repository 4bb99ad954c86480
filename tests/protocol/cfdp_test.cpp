// CFDP PDUs and file checksums against ground truth from outside this code: the reference
// encodings spacepackets-py (us-irs/spacepackets-py b9c6bb1) produced for these PDUs, and the
// published check values of the checksums (modular "123456789" = 0x9F686A6C as yamcs's
// ModularChecksumCalculator computes it; CRC-32 0xCBF43926, CRC-32C 0xE3069283).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/bytes.h"
#include "protocol/cfdp_checksum.h"
#include "protocol/cfdp_pdu.h"

namespace lgs::protocol::cfdp {
namespace {

std::string Hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i < hex.size();) {
    if (hex[i] == ' ') {
      ++i;
      continue;
    }
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    i += 2;
  }
  return out;
}

std::string Fss(std::initializer_list<uint32_t> values) {
  std::string out;
  for (uint32_t v : values) {
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  return out;
}

// Entity IDs 5 -> 11, sequence 1, one octet each, class 2: the reference PDUs' header.
PduHeader Reference(Direction direction = Direction::kTowardReceiver, bool crc = false) {
  PduHeader h;
  h.direction = direction;
  h.crc = crc;
  h.source = 5;
  h.sequence = 1;
  h.destination = 11;
  return h;
}

std::string Encode(const PduHeader& h, const PduBody& body) {
  std::string out;
  const Status s = EncodePdu(h, body, out);
  EXPECT_TRUE(s.ok()) << s.message();
  return out;
}

Pdu Decode(const std::string& bytes) {
  auto pdu = DecodePdu(AsBytes(bytes));
  EXPECT_TRUE(pdu.ok()) << (pdu.ok() ? "" : pdu.error().detail);
  return pdu.ok() ? *pdu : Pdu{};
}

TEST(CfdpPdu, EncodesTheReferencePdusOctetForOctet) {
  EXPECT_EQ(Encode(Reference(), EofPdu{ConditionCode::kNoError, 0x9F686A6C, 9, {}}),
            Hex("20 00 0a 00 05 01 0b 04 00 9f 68 6a 6c 00 00 00 09"));
  EXPECT_EQ(Encode(Reference(Direction::kTowardReceiver, true),
                   EofPdu{ConditionCode::kNoError, 0x9F686A6C, 9, {}}),
            Hex("22 00 0c 00 05 01 0b 04 00 9f 68 6a 6c 00 00 00 09 b1 a3"));
  MetadataPdu m;
  m.closure_requested = true;
  m.checksum_type = ChecksumType::kModular;
  m.file_size = 9;
  m.source_name = "/a";
  m.destination_name = "/b";
  EXPECT_EQ(Encode(Reference(), m),
            Hex("20 00 0c 00 05 01 0b 07 40 00 00 00 09 02 2f 61 02 2f 62"));
  const std::string data = "1234";
  FileDataPdu d;
  d.offset = 0;
  d.data = AsBytes(data);
  EXPECT_EQ(Encode(Reference(), d), Hex("30 00 08 00 05 01 0b 00 00 00 00 31 32 33 34"));
  EXPECT_EQ(
      Encode(Reference(Direction::kTowardSender),
             AckPdu{DirectiveCode::kEof, ConditionCode::kNoError, TransactionStatus::kActive}),
      Hex("28 00 03 00 05 01 0b 06 40 01"));
  EXPECT_EQ(Encode(Reference(Direction::kTowardSender), NakPdu{0, 9, {{0, 0}, {4, 8}}}),
            Hex("28 00 19 00 05 01 0b 08") + Fss({0, 9, 0, 0, 4, 8}));
  EXPECT_EQ(
      Encode(Reference(Direction::kTowardSender),
             FinishedPdu{
                 ConditionCode::kNoError, DeliveryCode::kComplete, FileStatus::kRetained, {}, {}}),
      Hex("28 00 02 00 05 01 0b 05 02"));
  EXPECT_EQ(Encode(Reference(), PromptPdu{true}), Hex("20 00 02 00 05 01 0b 09 80"));
  EXPECT_EQ(Encode(Reference(Direction::kTowardSender), KeepAlivePdu{9}),
            Hex("28 00 05 00 05 01 0b 0c 00 00 00 09"));
}

TEST(CfdpPdu, DecodesTheReferencePdusIntoTheirFields) {
  const Pdu eof = Decode(Hex("22 00 0c 00 05 01 0b 04 00 9f 68 6a 6c 00 00 00 09 b1 a3"));
  EXPECT_EQ(eof.header.source, 5u);
  EXPECT_EQ(eof.header.sequence, 1u);
  EXPECT_EQ(eof.header.destination, 11u);
  EXPECT_TRUE(eof.header.crc);
  EXPECT_EQ(eof.header.mode, TransmissionMode::kAcknowledged);
  EXPECT_EQ(eof.size, 19u);
  const auto& e = std::get<EofPdu>(eof.body);
  EXPECT_EQ(e.checksum, 0x9F686A6Cu);
  EXPECT_EQ(e.file_size, 9u);
  EXPECT_FALSE(e.fault_location.has_value());

  const auto m = std::get<MetadataPdu>(
      Decode(Hex("20 00 0c 00 05 01 0b 07 40 00 00 00 09 02 2f 61 02 2f 62")).body);
  EXPECT_TRUE(m.closure_requested);
  EXPECT_EQ(m.checksum_type, ChecksumType::kModular);
  EXPECT_EQ(m.file_size, 9u);
  EXPECT_EQ(m.source_name, "/a");
  EXPECT_EQ(m.destination_name, "/b");

  const std::string fd = Hex("30 00 08 00 05 01 0b 00 00 00 00 31 32 33 34");
  const Pdu data = Decode(fd);
  EXPECT_EQ(data.header.type, PduType::kFileData);
  const auto& d = std::get<FileDataPdu>(data.body);
  EXPECT_EQ(d.offset, 0u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(d.data.data()), d.data.size()), "1234");

  const auto ack = std::get<AckPdu>(Decode(Hex("28 00 03 00 05 01 0b 06 40 01")).body);
  EXPECT_EQ(ack.acknowledged, DirectiveCode::kEof);
  EXPECT_EQ(ack.status, TransactionStatus::kActive);
  const Pdu nak = Decode(Hex("28 00 19 00 05 01 0b 08") + Fss({0, 9, 0, 0, 4, 8}));
  EXPECT_EQ(nak.header.direction, Direction::kTowardSender);
  const auto& n = std::get<NakPdu>(nak.body);
  EXPECT_EQ(n.scope_end, 9u);
  EXPECT_EQ(n.segments, (std::vector<SegmentRequest>{{0, 0}, {4, 8}}));
  const auto fin = std::get<FinishedPdu>(Decode(Hex("28 00 02 00 05 01 0b 05 02")).body);
  EXPECT_EQ(fin.delivery, DeliveryCode::kComplete);
  EXPECT_EQ(fin.status, FileStatus::kRetained);
  EXPECT_TRUE(std::get<PromptPdu>(Decode(Hex("20 00 02 00 05 01 0b 09 80")).body).keep_alive);
  EXPECT_EQ(
      std::get<KeepAlivePdu>(Decode(Hex("28 00 05 00 05 01 0b 0c 00 00 00 09")).body).progress, 9u);
}

TEST(CfdpPdu, WhatOtherImplementationsWriteIsReadToo) {
  // nasa/CF puts "closure requested" in bit 7 of the Metadata flags.
  EXPECT_TRUE(std::get<MetadataPdu>(
                  Decode(Hex("20 00 0c 00 05 01 0b 07 80 00 00 00 09 02 2f 61 02 2f 62")).body)
                  .closure_requested);
  // yamcs sets B-4's "end system status" bit (0x08) in every Finished PDU.
  EXPECT_EQ(std::get<FinishedPdu>(Decode(Hex("28 00 02 00 05 01 0b 05 0a")).body).status,
            FileStatus::kRetained);
  // A space packet may carry trailer bytes after the PDU: the header says where it ends.
  const Pdu trailed = Decode(Hex("28 00 03 00 05 01 0b 06 40 01 de ad"));
  EXPECT_EQ(trailed.size, 10u);
}

TEST(CfdpPdu, EveryPduComesBackWithLargeFilesLongIdsAndACrc) {
  PduHeader h;
  h.mode = TransmissionMode::kUnacknowledged;
  h.crc = true;
  h.large_file = true;
  h.entity_id_length = 3;  // what nasa/CF writes: the fewest octets
  h.sequence_length = 5;
  h.source = 0xABCDEF;
  h.sequence = 0x123456789A;
  h.destination = 0x010203;
  const std::string bytes = "the file's bytes";
  MetadataPdu m{true,
                ChecksumType::kCrc32c,
                5'000'000'000ull,
                "navcam/0001.jpg",
                "products/navcam/0001.jpg",
                {{kTlvMessageToUser, "camera=navcam"}}};
  FileDataPdu d{3, "seg", 4'294'967'296ull, AsBytes(bytes)};
  EofPdu e{ConditionCode::kFileChecksumFailure, 0xDEADBEEF, 5'000'000'000ull, 0x010203};
  FinishedPdu f{ConditionCode::kCancelRequestReceived,
                DeliveryCode::kIncomplete,
                FileStatus::kDiscardedDeliberately,
                {{kTlvFilestoreResponse, "ok"}},
                0xABCDEF};
  NakPdu n{0, 6'000'000'000ull, {{0, 0}, {100, 5'000'000'000ull}}};
  for (PduBody body : std::vector<PduBody>{m, d, e, f, NakPdu(n),
                                           AckPdu{DirectiveCode::kFinished, ConditionCode::kNoError,
                                                  TransactionStatus::kTerminated},
                                           PromptPdu{false}, KeepAlivePdu{7'000'000'000ull}}) {
    PduHeader hh = h;
    hh.segment_metadata = std::holds_alternative<FileDataPdu>(body);
    const std::string wire = Encode(hh, body);
    const Pdu back = Decode(wire);
    EXPECT_EQ(back.size, wire.size());
    EXPECT_EQ(back.header.source, h.source);
    EXPECT_EQ(back.header.sequence, h.sequence);
    EXPECT_EQ(back.header.destination, h.destination);
    EXPECT_EQ(back.header.entity_id_length, 3);
    EXPECT_EQ(back.header.sequence_length, 5);
    EXPECT_TRUE(back.header.large_file);
    EXPECT_EQ(back.header.mode, TransmissionMode::kUnacknowledged);
    ASSERT_EQ(back.body.index(), body.index());
    std::string again;
    ASSERT_TRUE(EncodePdu(back.header, back.body, again).ok());
    EXPECT_EQ(again, wire) << "body " << body.index();
  }
  const Pdu md = Decode(Encode(h, m));
  const auto& mb = std::get<MetadataPdu>(md.body);
  EXPECT_EQ(mb.file_size, 5'000'000'000ull);
  EXPECT_EQ(mb.checksum_type, ChecksumType::kCrc32c);
  EXPECT_EQ(mb.options, m.options);
  PduHeader dh = h;
  dh.segment_metadata = true;
  const std::string dwire = Encode(dh, d);
  const Pdu dpdu = Decode(dwire);
  const auto& db = std::get<FileDataPdu>(dpdu.body);
  EXPECT_EQ(db.record_continuation, 3);
  EXPECT_EQ(db.segment_metadata, "seg");
  EXPECT_EQ(db.offset, 4'294'967'296ull);
  const Pdu epdu = Decode(Encode(h, e));
  const auto& eb = std::get<EofPdu>(epdu.body);
  EXPECT_EQ(eb.fault_location, std::optional<uint64_t>(0x010203));
  const Pdu fpdu = Decode(Encode(h, f));
  const auto& fb = std::get<FinishedPdu>(fpdu.body);
  EXPECT_EQ(fb.condition, ConditionCode::kCancelRequestReceived);
  EXPECT_EQ(fb.delivery, DeliveryCode::kIncomplete);
  EXPECT_EQ(fb.fault_location, std::optional<uint64_t>(0xABCDEF));
  EXPECT_EQ(fb.filestore_responses.size(), 1u);
}

TEST(CfdpPdu, EveryTruncationIsRefusedWithAReason) {
  for (const std::string& pdu : {Hex("22 00 0c 00 05 01 0b 04 00 9f 68 6a 6c 00 00 00 09 b1 a3"),
                                 Hex("20 00 0c 00 05 01 0b 07 40 00 00 00 09 02 2f 61 02 2f 62"),
                                 Hex("28 00 19 00 05 01 0b 08") + Fss({0, 9, 0, 0, 4, 8})}) {
    for (size_t n = 0; n < pdu.size(); ++n) {
      auto r = DecodePdu(AsBytes(pdu).first(n));
      ASSERT_FALSE(r.ok()) << n;
      EXPECT_EQ(r.error().reason, PduError::kTruncated) << n << ": " << r.error().detail;
      EXPECT_FALSE(r.error().detail.empty());
    }
  }
}

TEST(CfdpPdu, MalformedPdusAreRefusedByReason) {
  const auto reason = [](const std::string& bytes) {
    auto r = DecodePdu(AsBytes(bytes));
    return r.ok() ? std::string("accepted") : std::string(ErrorName(r.error().reason));
  };
  EXPECT_EQ(reason(Hex("40 00 02 00 05 01 0b 09 80")), "bad_version");
  std::string bad_crc = Hex("22 00 0c 00 05 01 0b 04 00 9f 68 6a 6c 00 00 00 09 b1 a3");
  bad_crc[10] ^= 0x01;
  EXPECT_EQ(reason(bad_crc), "crc_mismatch");
  EXPECT_EQ(reason(Hex("20 00 02 00 05 01 0b 0a 00")), "unknown_directive");
  EXPECT_EQ(reason(Hex("20 00 01 00 05 01 0b")), "truncated");  // no directive code
  // Metadata whose name claims more than the PDU holds.
  EXPECT_EQ(reason(Hex("20 00 0c 00 05 01 0b 07 40 00 00 00 09 ff 2f 61 02 2f 62")), "truncated");
  // NAK segments that are not whole pairs, a scope that ends before it starts.
  EXPECT_EQ(reason(Hex("28 00 0b 00 05 01 0b 08") + Fss({0, 9}) + Hex("00 00")), "bad_parameters");
  EXPECT_EQ(reason(Hex("28 00 09 00 05 01 0b 08") + Fss({9, 0})), "bad_parameters");
  EXPECT_EQ(reason(Hex("28 00 11 00 05 01 0b 08") + Fss({0, 9, 8, 4})), "bad_parameters");
  // ACK of a Metadata PDU, ACK of EOF with the FIN subtype.
  EXPECT_EQ(reason(Hex("28 00 03 00 05 01 0b 06 70 01")), "bad_parameters");
  EXPECT_EQ(reason(Hex("28 00 03 00 05 01 0b 06 41 01")), "bad_parameters");
  // A directive with the segment metadata flag; a CRC flag with no room for it.
  EXPECT_EQ(reason(Hex("20 00 02 08 05 01 0b 09 80")), "bad_parameters");
  EXPECT_EQ(reason(Hex("22 00 01 00 05 01 0b 09")), "truncated");
  // File Data ending past the largest 32-bit file (found by cfdp_pdu_fuzz), and at its edge.
  EXPECT_EQ(reason(Hex("30 00 05 00 05 01 0b ff ff ff ff 42")), "bad_parameters");
  EXPECT_EQ(reason(Hex("30 00 05 00 05 01 0b ff ff ff fe 42")), "accepted");
  EXPECT_EQ(reason(Hex("30 00 05 d5 00 00 ff ff ff ff ff ff ff ff 07 07 07 ff ff ff ff ff ff ff "
                       "ff ff ff")),
            "bad_parameters");
  // A Metadata PDU claiming a file of 4 GB decodes (nothing is allocated for it).
  EXPECT_EQ(reason(Hex("20 00 0c 00 05 01 0b 07 40 ff ff ff ff 02 2f 61 02 2f 62")), "accepted");
}

TEST(CfdpPdu, EncodingRefusesWhatTheLayoutCannotCarry) {
  std::string out;
  PduHeader h = Reference();
  h.entity_id_length = 9;
  EXPECT_FALSE(EncodePdu(h, PromptPdu{}, out).ok());
  h = Reference();
  h.source = 256;  // one octet
  EXPECT_FALSE(EncodePdu(h, PromptPdu{}, out).ok());
  h = Reference();
  MetadataPdu m;
  m.file_size = 5'000'000'000ull;  // needs the large-file flag
  EXPECT_FALSE(EncodePdu(h, m, out).ok());
  m.file_size = 1;
  m.source_name = std::string(256, 'x');
  EXPECT_FALSE(EncodePdu(h, m, out).ok());
  const std::string big(70'000, 'x');
  FileDataPdu d;
  d.data = AsBytes(big);
  EXPECT_FALSE(EncodePdu(h, d, out).ok());
  EXPECT_TRUE(out.empty());  // nothing half-written
}

TEST(CfdpPdu, OctetsForIsTheFewestThatHoldTheValue) {
  EXPECT_EQ(OctetsFor(0), 1);
  EXPECT_EQ(OctetsFor(255), 1);
  EXPECT_EQ(OctetsFor(256), 2);
  EXPECT_EQ(OctetsFor(0xFFFFFF), 3);
  EXPECT_EQ(OctetsFor(0x1000000), 4);
  EXPECT_EQ(OctetsFor(~uint64_t{0}), 8);
}

TEST(CfdpChecksum, ModularChecksumIsTheReferenceValueInAnyOrder) {
  const std::string text = "123456789";
  const auto b = AsBytes(text);
  ModularChecksum whole;
  whole.Add(0, b);
  EXPECT_EQ(whole.value(), 0x9F686A6Cu);  // 0x31323334 + 0x35363738 + 0x39000000
  ModularChecksum reordered;
  reordered.Add(5, b.subspan(5));
  reordered.Add(0, b.first(5));
  EXPECT_EQ(reordered.value(), 0x9F686A6Cu);
  ModularChecksum bytewise;
  for (size_t i = text.size(); i-- > 0;) bytewise.Add(i, b.subspan(i, 1));
  EXPECT_EQ(bytewise.value(), 0x9F686A6Cu);
}

TEST(CfdpChecksum, EachSupportedTypeGivesItsCheckValue) {
  const std::string text = "123456789";
  const auto value = [&](ChecksumType type) {
    FileChecksum c(type);
    c.Update(AsBytes(text).first(4));
    c.Update(AsBytes(text).subspan(4));
    return c.Finish();
  };
  EXPECT_EQ(value(ChecksumType::kModular), 0x9F686A6Cu);
  EXPECT_EQ(value(ChecksumType::kCrc32), 0xCBF43926u);
  EXPECT_EQ(value(ChecksumType::kCrc32c), 0xE3069283u);
  EXPECT_EQ(value(ChecksumType::kNull), 0u);
  EXPECT_TRUE(FileChecksum::Supported(ChecksumType::kModular));
  EXPECT_FALSE(FileChecksum::Supported(ChecksumType::kProximity1Crc32));
  EXPECT_FALSE(FileChecksum::Supported(static_cast<ChecksumType>(7)));
}

}  // namespace
}  // namespace lgs::protocol::cfdp
