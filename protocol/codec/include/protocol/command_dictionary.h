// The command dictionary: every telecommand the rover knows, with its PUS (service, subtype),
// its protobuf arguments and, per argument, the name operators type, the unit and the valid
// range; each command's expected duration, the rover modes it may run in and whether it is
// hazardous. Everything else about commands — the station's validation and timeouts, the
// rover's on-board checks, `gsctl command` parsing and help, FORMAT.md's table — is derived from
// this one table. (service, subtype) pairs are wire values: never renumber, only add.
//
// Thread-safe (the table is immutable).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/status.h"
#include "rover/v1/camera.pb.h"
#include "rover/v1/common.pb.h"

namespace google::protobuf {
class Message;
}

namespace lgs::protocol {

enum class CommandId : uint8_t {
  kRetransmit = 0,
  kPing,
  kDrive,
  kStop,
  kTurn,
  kSoilMeasure,
  kCaptureImage,
  kSetInstrumentMode,
  kSetTelemetryRate,
  kHibernate,
  kWake,
  kFileDeliveryPdu,
};
inline constexpr size_t kCommandCount = 12;

// One argument as operators give it: `name=value`. Numbers are checked against [min, max];
// enumerations accept their value names (case-insensitive, with or without the type's prefix)
// and never the UNSPECIFIED zero; `stream` arguments accept periodic stream names.
struct ArgumentSpec {
  std::string_view name;
  std::string_view field_path;  // in the arguments message, e.g. "distance_heading.distance_m"
  std::string_view unit;        // "" for enumerations and names
  double min = 0.0;
  double max = 0.0;
  std::string_view default_value;  // "" = required (within its alternative, see below)
  std::string_view description;
};

// What the ground knows about the rover when it checks a command (from the latest telemetry).
struct RoverContext {
  rover::v1::RoverMode mode = rover::v1::ROVER_MODE_UNSPECIFIED;  // unknown: not checked
  bool position_known = false;
  double x_m = 0.0, y_m = 0.0;
};

// Speeds the expected durations assume (rover-models.md: Yutu-class rover).
inline constexpr double kDictionaryDriveSpeedMPerH = 200.0;
inline constexpr double kDictionaryTurnRateDegPerS = 5.0;
inline constexpr double kDictionaryFrameSeconds = 2.0;

struct CommandInfo {
  CommandId id;
  uint8_t service;
  uint8_t subtype;
  std::string_view name;
  std::string_view description;
  const google::protobuf::Message* prototype;  // the arguments
  std::span<const ArgumentSpec> arguments;
  bool hazardous;          // needs explicit confirmation
  bool operator_command;   // false: issued by the station itself (retransmit, CFDP PDUs)
  uint32_t allowed_modes;  // bit (1 << RoverMode) per mode it may run in
  // Seconds from start to completion on board for these arguments.
  double (*expected_duration_s)(const google::protobuf::Message& args, const RoverContext& rover);
};

std::span<const CommandInfo> AllCommands();
const CommandInfo& Command(CommandId id);
const CommandInfo* FindCommand(uint8_t service, uint8_t subtype);
const CommandInfo* FindCommandByName(std::string_view name);

using CommandArgument = std::pair<std::string, std::string>;  // name, value as typed

// Builds the arguments message from `name=value` pairs, filling defaults and checking every
// value; the error names the argument and the rule it broke.
Result<std::unique_ptr<google::protobuf::Message>> BuildArguments(
    const CommandInfo& command, std::span<const CommandArgument> arguments);
// Checks a decoded arguments message against the dictionary's ranges (the rover does this on
// board with the same table).
Status CheckArguments(const CommandInfo& command, const google::protobuf::Message& args);
// Whether the command may run in the rover's current mode (unknown mode: yes).
Status CheckMode(const CommandInfo& command, rover::v1::RoverMode mode);
// "distance_m=5 m heading_deg=90 deg": the arguments as the dictionary names them.
std::string DescribeArguments(const CommandInfo& command, const google::protobuf::Message& args);
// The values an enumeration or stream argument accepts ("apxs", "vnis", ...); empty for numbers.
std::vector<std::string> ArgumentChoices(const CommandInfo& command, const ArgumentSpec& argument);
// A one-line summary per argument for --help and error messages.
std::string DescribeCommand(const CommandInfo& command);
std::string_view ModeName(rover::v1::RoverMode mode);  // "SAFE"
// "navcam_left" from CAMERA_NAVCAM_LEFT: the name capture_image takes, and the one images are
// filed under (product names, image channels, frame_id).
std::string CameraName(rover::v1::Camera camera);

}  // namespace lgs::protocol
