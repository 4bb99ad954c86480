#include "protocol/telecommand.h"

#include <gtest/gtest.h>

#include "protocol/crc16.h"
#include "rover/v1/command.pb.h"

namespace lgs::protocol {
namespace {

std::string Encode(const TcHeader& h, std::string_view payload = "args") {
  std::string out;
  EXPECT_TRUE(EncodeTcPacket(h, AsBytes(payload), out).ok());
  return out;
}

TcHeader Retransmit(uint32_t request_sequence) {
  const CommandInfo& c = Command(CommandId::kRetransmit);
  TcHeader h;
  h.service = c.service;
  h.subtype = c.subtype;
  h.source_id = 7;
  h.request_sequence = request_sequence;
  return h;
}

TEST(Telecommand, RoundTripKeepsEveryHeaderField) {
  const std::string packet = Encode(Retransmit(0x12345678), "hello");
  ASSERT_EQ(packet.size(), kTcOverheadSize + 5);
  auto parsed = ParseTcPacket(AsBytes(packet));
  ASSERT_TRUE(parsed.ok()) << parsed.error().detail;
  const TcPacketView& v = parsed.value();
  EXPECT_EQ(v.header.apid, kRoverTcApid);
  EXPECT_EQ(v.header.ack_flags, kAckAcceptance | kAckCompletion);
  EXPECT_EQ(v.header.service, 15);
  EXPECT_EQ(v.header.subtype, 128);
  EXPECT_EQ(v.header.source_id, 7);
  EXPECT_EQ(v.header.request_sequence, 0x12345678u);
  EXPECT_EQ(std::string(v.payload.begin(), v.payload.end()), "hello");
  // Wire layout (FORMAT.md): TC type bit and secondary header flag, APID 0x180, sequence flags
  // 11 and the low 14 bits of the request sequence, PUS version 2 in the secondary header.
  const auto* b = reinterpret_cast<const uint8_t*>(packet.data());
  EXPECT_EQ(b[0], 0x19);  // 000 1 1 001
  EXPECT_EQ(b[1], 0x80);
  EXPECT_EQ(b[2], 0xC0 | ((0x5678 >> 8) & 0x3F));
  EXPECT_EQ(b[3], 0x78);
  EXPECT_EQ((b[4] << 8 | b[5]) + 7, static_cast<int>(packet.size()));
  EXPECT_EQ(b[6], 0x29);  // PUS version 2, ack flags 1001
  EXPECT_EQ(v.request_id, (uint32_t{b[0]} << 24) | (b[1] << 16) | (b[2] << 8) | b[3]);
  EXPECT_EQ(Crc16CcittFalse(AsBytes(packet)), 0);  // the CRC covers everything before it
}

TEST(Telecommand, DamagedPacketsAreRejectedWithTheirReason) {
  const std::string good = Encode(Retransmit(99));
  std::string flipped = good;
  flipped[12] ^= 0x01;
  EXPECT_EQ(ParseTcPacket(AsBytes(flipped)).error().reason, RejectReason::kCrcMismatch);
  EXPECT_EQ(ParseTcPacket(AsBytes(good.substr(0, 10))).error().reason, RejectReason::kTooShort);
  EXPECT_EQ(ParseTcPacket(AsBytes(good + "x")).error().reason, RejectReason::kLengthMismatch);

  // A telemetry packet is not a telecommand.
  std::string tm;
  ASSERT_TRUE(EncodeTmPacket(0x101, 1, 1'800'000'000'000'000'000, AsBytes("x"), tm).ok());
  auto as_tc = ParseTcPacket(AsBytes(tm));
  ASSERT_FALSE(as_tc.ok());
  EXPECT_EQ(as_tc.error().reason, RejectReason::kBadHeader);

  // The 14-bit count must be the low bits of the request sequence (CRC recomputed).
  std::string mismatch = good;
  mismatch[3] = static_cast<char>(mismatch[3] ^ 0x01);
  const uint16_t crc = Crc16CcittFalse(AsBytes(mismatch).first(mismatch.size() - 2));
  mismatch[mismatch.size() - 2] = static_cast<char>(crc >> 8);
  mismatch[mismatch.size() - 1] = static_cast<char>(crc);
  EXPECT_EQ(ParseTcPacket(AsBytes(mismatch)).error().reason, RejectReason::kSequenceMismatch);
}

TEST(Telecommand, RegistryFindsCommandsByServiceAndSubtype) {
  const CommandInfo* c = FindCommand(15, 128);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->id, CommandId::kRetransmit);
  EXPECT_EQ(c->name, "retransmit");
  EXPECT_EQ(c->prototype->GetDescriptor()->full_name(), "rover.v1.RetransmitRequest");
  EXPECT_EQ(FindCommand(15, 9), nullptr);
  TcHeader bad = Retransmit(1);
  bad.apid = 0x800;
  std::string out;
  EXPECT_FALSE(EncodeTcPacket(bad, {}, out).ok());
}

}  // namespace
}  // namespace lgs::protocol
