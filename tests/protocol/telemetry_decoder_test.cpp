#include "protocol/telemetry_decoder.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "rover/v1/camera.pb.h"
#include "rover/v1/event.pb.h"
#include "rover/v1/file_delivery.pb.h"
#include "rover/v1/navigation.pb.h"
#include "rover/v1/radiation.pb.h"
#include "rover/v1/soil.pb.h"
#include "rover/v1/terrain.pb.h"
#include "rover/v1/verification.pb.h"
#include "support/packets.h"

namespace lgs::protocol {
namespace {

constexpr const char* kRover = "rover1";

std::string TopicOf(StreamId id) {
  return TelemetryTopic(kRover, Stream(id));
}

// A message with non-default values for every stream, so the round trip proves something.
std::unique_ptr<google::protobuf::Message> SampleMessage(StreamId id) {
  switch (id) {
    case StreamId::kHousekeeping: {
      auto m = std::make_unique<rover::v1::Housekeeping>();
      m->set_mode(rover::v1::ROVER_MODE_SCIENCE);
      m->set_battery_soc_percent(71.5);
      m->set_temp_battery_c(-3.25);
      m->set_uptime_s(123456789012ULL);
      return m;
    }
    case StreamId::kNavigationPose: {
      auto m = std::make_unique<rover::v1::NavigationPose>();
      m->set_x_m(-12.5);
      m->set_heading_deg(271.0);
      for (int i = 0; i < 6; ++i) m->add_wheel_current_a(0.4 + i * 0.01);
      m->set_visual_fix(true);
      return m;
    }
    case StreamId::kTerrainTile: {
      auto m = std::make_unique<rover::v1::TerrainTile>();
      m->set_tile_x(-3);
      m->set_width_cells(32);
      m->set_height_cells(32);
      for (int i = 0; i < 1024; ++i) m->add_elevation_m(0.001f * i);
      m->set_hazard_mask(std::string(1024, '\x01'));
      return m;
    }
    case StreamId::kCameraFrame: {
      auto m = std::make_unique<rover::v1::CameraFrame>();
      m->set_camera(rover::v1::CAMERA_PANCAM_RIGHT);
      m->set_frame_id(99);
      m->set_exposure_ms(12.5);
      return m;
    }
    case StreamId::kSoilMeasurement: {
      auto m = std::make_unique<rover::v1::SoilMeasurement>();
      m->set_instrument(rover::v1::SOIL_INSTRUMENT_VNIS);
      for (int i = 0; i < 196; ++i) m->mutable_vnis()->add_reflectance(0.1f + 0.001f * i);
      return m;
    }
    case StreamId::kRadiation: {
      auto m = std::make_unique<rover::v1::Radiation>();
      m->set_dose_rate_ugy_per_h(13.2);
      auto* c = m->add_channels();
      c->set_name("gcr_protons");
      c->set_flux_per_cm2_s_sr(2.1);
      for (int i = 0; i < 30; ++i) m->add_let_counts(1000 / (i + 1));
      return m;
    }
    case StreamId::kEvent: {
      auto m = std::make_unique<rover::v1::Event>();
      m->set_severity(rover::v1::EVENT_SEVERITY_WARNING);
      m->set_kind(rover::v1::EVENT_KIND_HAZARD_STOP);
      m->set_message("rock 18 cm ahead");
      return m;
    }
    case StreamId::kCommandVerification: {
      auto m = std::make_unique<rover::v1::CommandVerification>();
      m->set_request_id(0x1801C016);
      m->set_stage(rover::v1::VERIFICATION_STAGE_COMPLETION);
      m->set_success(true);
      return m;
    }
    case StreamId::kFileDelivery: {
      auto m = std::make_unique<rover::v1::FilePdu>();
      m->set_pdu(std::string("\x24\x00\x05\x11\x07\x00\x00\x00\x01\x01\x04", 11));
      return m;
    }
  }
  return nullptr;
}

std::string Encode(const StreamInfo& stream, uint32_t seq, const google::protobuf::Message& m) {
  std::string payload = m.SerializeAsString();
  std::string packet;
  EXPECT_TRUE(EncodeTmPacket(stream.apid, seq, test::kSomeTimeNs, AsBytes(payload), packet).ok());
  return packet;
}

TEST(TelemetryDecoder, EveryStreamRoundTrips) {
  TelemetryDecoder decoder(kRover);
  for (const StreamInfo& stream : AllStreams()) {
    SCOPED_TRACE(std::string(stream.name));
    auto message = SampleMessage(stream.id);
    ASSERT_NE(message, nullptr);
    ASSERT_EQ(message->GetDescriptor(), stream.prototype->GetDescriptor());
    const std::string packet = Encode(stream, 4242, *message);
    auto decoded = decoder.Decode(TopicOf(stream.id), AsBytes(packet));
    ASSERT_TRUE(decoded.ok()) << decoded.error().detail;
    EXPECT_EQ(decoded->stream, &stream);
    EXPECT_EQ(decoded->packet.extended_sequence, 4242u);
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*decoded->message, *message));
  }
}

TEST(TelemetryDecoder, ADecodedMessageCanBeTakenWithoutACopyAndAnotherGivenInItsPlace) {
  TelemetryDecoder decoder(kRover);
  const StreamInfo& stream = Stream(StreamId::kRadiation);
  auto first = SampleMessage(stream.id);
  const std::string packet = Encode(stream, 1, *first);
  auto decoded = decoder.Decode(TopicOf(stream.id), AsBytes(packet));
  ASSERT_TRUE(decoded.ok());
  const google::protobuf::Message* filled = decoded->message;
  auto taken = decoder.TakeMessage(stream.id);
  EXPECT_EQ(taken.get(), filled);  // the same object: the packet's pointer stays valid
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*taken, *first));
  decoder.GiveMessage(stream.id, nullptr);  // none to give: the decoder makes one
  auto again = decoder.Decode(TopicOf(stream.id), AsBytes(packet));
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->message, filled);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*again->message, *first));
  // A used message given back is decoded into afresh.
  decoder.GiveMessage(stream.id, std::move(taken));
  rover::v1::Radiation other;
  other.set_dose_rate_ugy_per_h(12.5);
  auto third = decoder.Decode(TopicOf(stream.id), AsBytes(Encode(stream, 2, other)));
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->message, filled);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*third->message, other));
}

class Rejects : public ::testing::Test {
 protected:
  RejectReason ReasonFor(std::string_view topic, const std::string& packet) {
    auto decoded = decoder_.Decode(topic, AsBytes(packet));
    EXPECT_FALSE(decoded.ok());
    if (decoded.ok()) return RejectReason::kWrongFrameCount;  // any: the EXPECT already failed
    EXPECT_FALSE(decoded.error().detail.empty());
    return decoded.error().reason;
  }
  RejectReason ReasonFor(const std::string& packet) {
    return ReasonFor(TopicOf(StreamId::kHousekeeping), packet);
  }
  TelemetryDecoder decoder_{kRover};
  std::string good_ = test::HousekeepingPacket(7);
};

TEST_F(Rejects, GoodPacketIsAccepted) {
  EXPECT_TRUE(decoder_.Decode(TopicOf(StreamId::kHousekeeping), AsBytes(good_)).ok());
}

TEST_F(Rejects, MessageLargerThanAnySpacePacket) {
  EXPECT_EQ(ReasonFor(std::string(kMaxPacketSize + 1, '\0')), RejectReason::kMessageTooLarge);
}

TEST_F(Rejects, TooShort) {
  EXPECT_EQ(ReasonFor(good_.substr(0, kMinTmPacketSize - 1)), RejectReason::kTooShort);
  EXPECT_EQ(ReasonFor(std::string()), RejectReason::kTooShort);
}

TEST_F(Rejects, BadVersion) {
  std::string p = good_;
  p[0] = static_cast<char>(p[0] | 0x20);  // version 001
  test::RecomputeCrc(p);
  EXPECT_EQ(ReasonFor(p), RejectReason::kBadHeader);
}

TEST_F(Rejects, TelecommandTypeOnTelemetryLink) {
  std::string p = good_;
  p[0] = static_cast<char>(p[0] | 0x10);
  test::RecomputeCrc(p);
  EXPECT_EQ(ReasonFor(p), RejectReason::kBadHeader);
}

TEST_F(Rejects, MissingSecondaryHeaderFlag) {
  std::string p = good_;
  p[0] = static_cast<char>(p[0] & ~0x08);
  test::RecomputeCrc(p);
  EXPECT_EQ(ReasonFor(p), RejectReason::kBadHeader);
}

TEST_F(Rejects, SegmentedSequenceFlags) {
  std::string p = good_;
  p[2] = static_cast<char>((p[2] & 0x3F) | 0x40);  // 01 = first segment
  test::RecomputeCrc(p);
  EXPECT_EQ(ReasonFor(p), RejectReason::kBadHeader);
}

TEST_F(Rejects, LengthFieldDisagreesWithSize) {
  std::string longer = good_ + "x";
  EXPECT_EQ(ReasonFor(longer), RejectReason::kLengthMismatch);
  std::string shorter = good_.substr(0, good_.size() - 1);
  EXPECT_EQ(ReasonFor(shorter), RejectReason::kLengthMismatch);
}

TEST_F(Rejects, CrcMismatch) {
  std::string p = good_;
  p[kPrimaryHeaderSize + kSecondaryHeaderSize] ^= 0x04;  // one bit of user data
  EXPECT_EQ(ReasonFor(p), RejectReason::kCrcMismatch);
}

TEST_F(Rejects, UnknownApid) {
  std::string p;
  ASSERT_TRUE(EncodeTmPacket(0x7FE, 1, test::kSomeTimeNs, {}, p).ok());
  EXPECT_EQ(ReasonFor(p), RejectReason::kUnknownApid);
}

TEST_F(Rejects, TopicAndApidDisagree) {
  EXPECT_EQ(ReasonFor(TopicOf(StreamId::kRadiation), good_), RejectReason::kTopicMismatch);
  EXPECT_EQ(ReasonFor("tm.rover1.housekeeping", good_), RejectReason::kTopicMismatch);
  EXPECT_EQ(ReasonFor("tm.rover2.housekeeping.", good_), RejectReason::kTopicMismatch);
}

TEST_F(Rejects, SequenceCountDisagreesWithExtendedSequence) {
  std::string p = good_;
  p[3] = static_cast<char>(p[3] ^ 0x01);
  test::RecomputeCrc(p);
  EXPECT_EQ(ReasonFor(p), RejectReason::kSequenceMismatch);
}

TEST_F(Rejects, PayloadOverTheStreamLimit) {
  const auto& hk = Stream(StreamId::kHousekeeping);
  std::string payload(hk.max_payload_bytes + 1, '\0');
  std::string p;
  ASSERT_TRUE(EncodeTmPacket(hk.apid, 1, test::kSomeTimeNs, AsBytes(payload), p).ok());
  EXPECT_EQ(ReasonFor(p), RejectReason::kPayloadTooLarge);
}

TEST_F(Rejects, GarbageProtobuf) {
  // 0xFF... is a field number with wire type 7, which does not exist.
  const std::string payload = "\xFF\xFF\xFF\xFF\x0F";
  std::string p;
  ASSERT_TRUE(EncodeTmPacket(Stream(StreamId::kHousekeeping).apid, 1, test::kSomeTimeNs,
                             AsBytes(payload), p)
                  .ok());
  EXPECT_EQ(ReasonFor(p), RejectReason::kProtobufParse);
}

TEST(RejectReasons, NamesAreUniqueAndRoundTrip) {
  for (size_t i = 0; i < kRejectReasonCount; ++i) {
    EXPECT_EQ(static_cast<size_t>(kRejectReasons[i].reason), i);
    const auto back = RejectReasonFromName(kRejectReasons[i].name);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, kRejectReasons[i].reason);
  }
  EXPECT_FALSE(RejectReasonFromName("no_such_reason"));
}

}  // namespace
}  // namespace lgs::protocol
