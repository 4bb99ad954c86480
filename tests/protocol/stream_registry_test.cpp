#include "protocol/stream_registry.h"

#include <google/protobuf/message.h>
#include <gtest/gtest.h>

#include <set>

#include "protocol/packet_format.h"

namespace lgs::protocol {
namespace {

TEST(StreamRegistry, ApidsNamesAndTypesAreUnique) {
  std::set<uint16_t> apids;
  std::set<std::string_view> names;
  std::set<const google::protobuf::Descriptor*> types;
  for (const StreamInfo& s : AllStreams()) {
    EXPECT_TRUE(apids.insert(s.apid).second) << s.name;
    EXPECT_TRUE(names.insert(s.name).second) << s.name;
    EXPECT_TRUE(types.insert(s.prototype->GetDescriptor()).second) << s.name;
    EXPECT_LE(s.apid, kApidMask);
    EXPECT_NE(s.apid, kIdleApid);
    EXPECT_LE(s.max_payload_bytes, kMaxTmPayloadSize);
  }
  EXPECT_EQ(AllStreams().size(), kStreamCount);
}

TEST(StreamRegistry, LookupsAgree) {
  for (const StreamInfo& s : AllStreams()) {
    EXPECT_EQ(&Stream(s.id), &s);
    EXPECT_EQ(FindStreamByApid(s.apid), &s);
    EXPECT_EQ(FindStreamByName(s.name), &s);
  }
  EXPECT_EQ(FindStreamByApid(0x7FE), nullptr);
  EXPECT_EQ(FindStreamByName("nope"), nullptr);
}

TEST(StreamRegistry, TopicsAreNotPrefixesOfOneAnother) {
  for (const StreamInfo& a : AllStreams()) {
    const std::string ta = TelemetryTopic("rover1", a);
    EXPECT_TRUE(ta.starts_with(TelemetryTopicPrefix("rover1")));
    EXPECT_EQ(ta.back(), '.');
    for (const StreamInfo& b : AllStreams()) {
      if (&a != &b) {
        EXPECT_FALSE(TelemetryTopic("rover1", b).starts_with(ta));
      }
    }
  }
  EXPECT_FALSE(TelemetryTopic("rover10", Stream(StreamId::kEvent))
                   .starts_with(TelemetryTopicPrefix("rover1")));
}

TEST(StreamRegistry, RoverIdsCannotContainTheSeparator) {
  EXPECT_TRUE(IsValidRoverId("rover1"));
  EXPECT_TRUE(IsValidRoverId("pk-rover_2"));
  EXPECT_FALSE(IsValidRoverId(""));
  EXPECT_FALSE(IsValidRoverId("rover.1"));
  EXPECT_FALSE(IsValidRoverId("Rover"));
  EXPECT_FALSE(IsValidRoverId(std::string(33, 'a')));
}

}  // namespace
}  // namespace lgs::protocol
