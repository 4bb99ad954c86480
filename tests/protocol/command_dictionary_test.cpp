// The command dictionary: consistent with the protobuf arguments it describes, and the one
// place argument parsing, ranges, modes and durations come from.
#include "protocol/command_dictionary.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <gtest/gtest.h>

#include <set>

#include "rover/v1/command.pb.h"

namespace lgs::protocol {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// Leaf fields of a message type as dotted paths.
void LeafPaths(const Descriptor* type, const std::string& prefix, std::set<std::string>& out) {
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* f = type->field(i);
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      LeafPaths(f->message_type(), prefix + f->name() + ".", out);
    } else {
      out.insert(prefix + f->name());
    }
  }
}

std::string Error(const CommandInfo& c, std::vector<CommandArgument> args) {
  auto built = BuildArguments(c, args);
  return built.ok() ? std::string("(accepted)") : built.error().message();
}

TEST(CommandDictionary, EveryOperatorCommandDescribesExactlyItsArgumentFields) {
  std::set<std::pair<int, int>> codes;
  std::set<std::string_view> names;
  ASSERT_EQ(AllCommands().size(), kCommandCount);
  for (size_t i = 0; i < AllCommands().size(); ++i) {
    const CommandInfo& c = AllCommands()[i];
    EXPECT_EQ(static_cast<size_t>(c.id), i) << c.name;
    EXPECT_TRUE(codes.insert({c.service, c.subtype}).second) << c.name;
    EXPECT_TRUE(names.insert(c.name).second) << c.name;
    EXPECT_EQ(FindCommand(c.service, c.subtype), &c);
    EXPECT_EQ(FindCommandByName(c.name), &c);
    EXPECT_NE(c.allowed_modes, 0u) << c.name;
    if (!c.operator_command) continue;
    std::set<std::string> fields, described;
    LeafPaths(c.prototype->GetDescriptor(), "", fields);
    for (const ArgumentSpec& a : c.arguments) {
      EXPECT_TRUE(described.insert(std::string(a.field_path)).second) << a.name;
      if (!a.unit.empty()) {
        EXPECT_LT(a.min, a.max) << c.name << " " << a.name;
      }
    }
    EXPECT_EQ(fields, described) << c.name << ": the dictionary and the .proto disagree";
  }
}

TEST(CommandDictionary, BuildsArgumentsWithDefaultsEnumNamesAndAlternatives) {
  const CommandInfo& drive = Command(CommandId::kDrive);
  auto by_heading = BuildArguments(drive, {{{"distance_m", "2.5"}, {"heading_deg", "90"}}});
  ASSERT_TRUE(by_heading.ok()) << by_heading.error().message();
  const auto& d = static_cast<const rover::v1::Drive&>(**by_heading);
  EXPECT_DOUBLE_EQ(d.distance_heading().distance_m(), 2.5);
  EXPECT_EQ(DescribeArguments(drive, d), "distance_m=2.5 m heading_deg=90 deg");
  auto by_waypoint = BuildArguments(drive, {{{"x_m", "-3"}, {"y_m", "4"}}});
  ASSERT_TRUE(by_waypoint.ok()) << by_waypoint.error().message();
  EXPECT_TRUE(static_cast<const rover::v1::Drive&>(**by_waypoint).has_waypoint());

  const CommandInfo& image = Command(CommandId::kCaptureImage);
  auto pano = BuildArguments(image, {{{"frames", "12"}, {"camera", "PANCAM_RIGHT"}}});
  ASSERT_TRUE(pano.ok()) << pano.error().message();
  const auto& c = static_cast<const rover::v1::CaptureImage&>(**pano);
  EXPECT_EQ(c.camera(), rover::v1::CAMERA_PANCAM_RIGHT);
  EXPECT_EQ(c.frames(), 12u);
  EXPECT_DOUBLE_EQ(c.pan_step_deg(), 30.0);  // default
  EXPECT_DOUBLE_EQ(c.tilt_deg(), -20.0);     // default

  auto soil = BuildArguments(Command(CommandId::kSoilMeasure),
                             {{{"instrument", "soil_instrument_neutron"}, {"duration_s", "60"}}});
  ASSERT_TRUE(soil.ok()) << soil.error().message();
  auto rate = BuildArguments(Command(CommandId::kSetTelemetryRate),
                             {{{"stream", "housekeeping"}, {"rate_hz", "2"}}});
  ASSERT_TRUE(rate.ok()) << rate.error().message();
  EXPECT_TRUE(BuildArguments(Command(CommandId::kPing), {}).ok());
}

TEST(CommandDictionary, RefusesWithTheArgumentAndTheRuleItBroke) {
  const CommandInfo& drive = Command(CommandId::kDrive);
  EXPECT_EQ(Error(drive, {{"distance_m", "80"}, {"heading_deg", "0"}}),
            "drive: argument distance_m='80' is outside 0.05..50 m");
  EXPECT_EQ(Error(drive, {{"distance_m", "ten"}, {"heading_deg", "0"}}),
            "drive: argument distance_m='ten' is not a number");
  EXPECT_NE(Error(drive, {{"distance_m", "2"}}).find("heading_deg is missing"), std::string::npos);
  EXPECT_NE(Error(drive, {}).find("distance_m is missing"), std::string::npos);
  EXPECT_NE(
      Error(drive, {{"distance_m", "2"}, {"heading_deg", "0"}, {"x_m", "1"}}).find("not both"),
      std::string::npos);
  EXPECT_NE(Error(drive, {{"speed", "2"}}).find("no argument 'speed'"), std::string::npos);
  EXPECT_NE(Error(drive, {{"distance_m", "1"}, {"distance_m", "2"}}).find("twice"),
            std::string::npos);
  EXPECT_NE(Error(Command(CommandId::kSoilMeasure), {{"instrument", "xrf"}, {"duration_s", "5"}})
                .find("is not one of apxs, vnis, neutron"),
            std::string::npos);
  EXPECT_NE(Error(Command(CommandId::kSetTelemetryRate), {{"stream", "event"}, {"rate_hz", "1"}})
                .find("is not a periodic stream"),
            std::string::npos);
  EXPECT_NE(Error(Command(CommandId::kCaptureImage), {{"frames", "2.5"}}).find("whole number"),
            std::string::npos);
  EXPECT_NE(Error(Command(CommandId::kCaptureImage), {{"frames", "-1"}}).find("outside 1..36"),
            std::string::npos);
  EXPECT_NE(Error(Command(CommandId::kTurn), {{"angle_deg", "nan"}}).find("not a number"),
            std::string::npos);
}

TEST(CommandDictionary, ModesAndExpectedDurations) {
  const CommandInfo& drive = Command(CommandId::kDrive);
  const Status safe = CheckMode(drive, rover::v1::ROVER_MODE_SAFE);
  ASSERT_FALSE(safe.ok());
  EXPECT_NE(safe.message().find("SAFE mode"), std::string::npos) << safe.message();
  EXPECT_TRUE(CheckMode(drive, rover::v1::ROVER_MODE_STANDBY).ok());
  EXPECT_TRUE(CheckMode(drive, rover::v1::ROVER_MODE_UNSPECIFIED).ok());  // not known yet
  EXPECT_TRUE(CheckMode(Command(CommandId::kWake), rover::v1::ROVER_MODE_HIBERNATE).ok());
  EXPECT_FALSE(CheckMode(Command(CommandId::kTurn), rover::v1::ROVER_MODE_HIBERNATE).ok());
  EXPECT_TRUE(Command(CommandId::kHibernate).hazardous);

  RoverContext rover;
  auto ten_m = BuildArguments(drive, {{{"distance_m", "10"}, {"heading_deg", "0"}}});
  ASSERT_TRUE(ten_m.ok());
  // A turn of up to half a circle at 5 deg/s, then 10 m at 200 m/h.
  EXPECT_DOUBLE_EQ(drive.expected_duration_s(**ten_m, rover), 36.0 + 180.0);
  rover.position_known = true;
  rover.x_m = 3.0;
  auto waypoint = BuildArguments(drive, {{{"x_m", "3"}, {"y_m", "4"}}});
  ASSERT_TRUE(waypoint.ok());
  EXPECT_DOUBLE_EQ(drive.expected_duration_s(**waypoint, rover), 36.0 + 4.0 * 18.0);
  auto turn = BuildArguments(Command(CommandId::kTurn), {{{"angle_deg", "-90"}}});
  ASSERT_TRUE(turn.ok());
  EXPECT_DOUBLE_EQ(Command(CommandId::kTurn).expected_duration_s(**turn, rover), 18.0);
}

}  // namespace
}  // namespace lgs::protocol
