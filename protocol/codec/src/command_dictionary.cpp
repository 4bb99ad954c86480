#include "protocol/command_dictionary.h"

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>

#include "protocol/stream_registry.h"
#include "rover/v1/command.pb.h"
#include "rover/v1/file_delivery.pb.h"

namespace lgs::protocol {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using rover::v1::RoverMode;

constexpr uint32_t Modes(std::initializer_list<RoverMode> modes) {
  uint32_t bits = 0;
  for (RoverMode m : modes) bits |= 1u << m;
  return bits;
}
// Any mode but hibernation (only the wake-up receiver listens then).
constexpr uint32_t kAwake = Modes({rover::v1::ROVER_MODE_DRIVE, rover::v1::ROVER_MODE_SCIENCE,
                                   rover::v1::ROVER_MODE_STANDBY, rover::v1::ROVER_MODE_SAFE});
// Working modes: not safe mode, not hibernation.
constexpr uint32_t kWorking = Modes(
    {rover::v1::ROVER_MODE_DRIVE, rover::v1::ROVER_MODE_SCIENCE, rover::v1::ROVER_MODE_STANDBY});
constexpr uint32_t kAnyMode = kAwake | Modes({rover::v1::ROVER_MODE_HIBERNATE});

double Instant(const Message&, const RoverContext&) {
  return 0.0;
}

double DriveDuration(const Message& m, const RoverContext& rover) {
  const auto& drive = static_cast<const rover::v1::Drive&>(m);
  double metres = 0.0;
  if (drive.has_distance_heading()) {
    metres = drive.distance_heading().distance_m();
  } else {
    const double x = drive.waypoint().x_m(), y = drive.waypoint().y_m();
    // Without a known position, assume the rover is as far from the origin on the other side.
    metres =
        rover.position_known ? std::hypot(x - rover.x_m, y - rover.y_m) : 2.0 * std::hypot(x, y);
  }
  // The rover first turns to the heading (at most half a turn), then drives.
  return 180.0 / kDictionaryTurnRateDegPerS + metres / kDictionaryDriveSpeedMPerH * 3600.0;
}

double TurnDuration(const Message& m, const RoverContext&) {
  return std::abs(static_cast<const rover::v1::Turn&>(m).angle_deg()) / kDictionaryTurnRateDegPerS;
}

double SoilDuration(const Message& m, const RoverContext&) {
  return static_cast<const rover::v1::SoilMeasure&>(m).duration_s();
}

double ImageDuration(const Message& m, const RoverContext&) {
  return static_cast<const rover::v1::CaptureImage&>(m).frames() * kDictionaryFrameSeconds;
}

constexpr ArgumentSpec kDriveArgs[] = {
    {"distance_m", "distance_heading.distance_m", "m", 0.05, 50.0, "",
     "distance to drive (or give x_m and y_m)"},
    {"heading_deg", "distance_heading.heading_deg", "deg", 0.0, 360.0, "",
     "heading to drive along, 0 = north, clockwise"},
    {"x_m", "waypoint.x_m", "m", -120.0, 120.0, "", "waypoint, metres east of the landing site"},
    {"y_m", "waypoint.y_m", "m", -120.0, 120.0, "", "waypoint, metres north of the landing site"},
};
constexpr ArgumentSpec kTurnArgs[] = {
    {"angle_deg", "angle_deg", "deg", -360.0, 360.0, "", "turn in place, positive = clockwise"},
};
constexpr ArgumentSpec kSoilArgs[] = {
    {"instrument", "instrument", "", 0, 0, "", "apxs, vnis or neutron"},
    {"duration_s", "duration_s", "s", 1.0, 7200.0, "", "integration time"},
};
constexpr ArgumentSpec kImageArgs[] = {
    {"camera", "camera", "", 0, 0, "pancam_left", "navcam_left, pancam_left, hazcam_front, ..."},
    {"frames", "frames", "", 1.0, 36.0, "1", "1 = one image, more = a panorama"},
    {"pan_step_deg", "pan_step_deg", "deg", 0.0, 60.0, "30", "pan between panorama frames"},
    {"tilt_deg", "tilt_deg", "deg", -60.0, 30.0, "-20", "camera mast tilt"},
    {"format", "format", "", 0, 0, "jpeg", "jpeg, or png for lossless"},
    {"priority", "priority", "", 0.0, 9.0, "5", "downlink priority: 0 first .. 9 last"},
};
constexpr ArgumentSpec kInstrumentModeArgs[] = {
    {"instrument", "instrument", "", 0, 0, "", "apxs, vnis or neutron"},
    {"mode", "mode", "", 0, 0, "", "off, standby or on"},
};
constexpr ArgumentSpec kTelemetryRateArgs[] = {
    {"stream", "stream", "", 0, 0, "", "a periodic stream: housekeeping, navigation_pose, ..."},
    {"rate_hz", "rate_hz", "Hz", 0.01, 20.0, "", "packets per second"},
};

const std::array<CommandInfo, kCommandCount>& Registry() {
  static const std::array<CommandInfo, kCommandCount> registry = {{
      {CommandId::kRetransmit,
       15,
       128,
       "retransmit",
       "send packets again from the on-board store (issued by the station's gap fill)",
       &rover::v1::RetransmitRequest::default_instance(),
       {},
       false,
       false,
       kAwake,
       Instant},
      {CommandId::kPing,
       17,
       1,
       "ping",
       "are you alive: completes at once",
       &rover::v1::Ping::default_instance(),
       {},
       false,
       true,
       kAnyMode,
       Instant},
      {CommandId::kDrive, 200, 1, "drive",
       "drive a distance along a heading, or to a waypoint; stops at hazards",
       &rover::v1::Drive::default_instance(), kDriveArgs, false, true, kWorking, DriveDuration},
      {CommandId::kStop,
       200,
       2,
       "stop",
       "end any motion or activity at once and hold",
       &rover::v1::Stop::default_instance(),
       {},
       false,
       true,
       kAwake,
       Instant},
      {CommandId::kTurn, 200, 3, "turn", "turn in place", &rover::v1::Turn::default_instance(),
       kTurnArgs, false, true, kWorking, TurnDuration},
      {CommandId::kSoilMeasure, 200, 10, "soil_measurement",
       "measure the soil under the rover with one instrument",
       &rover::v1::SoilMeasure::default_instance(), kSoilArgs, false, true, kWorking, SoilDuration},
      {CommandId::kCaptureImage, 200, 11, "capture_image", "take an image or a panorama",
       &rover::v1::CaptureImage::default_instance(), kImageArgs, false, true, kWorking,
       ImageDuration},
      {CommandId::kSetInstrumentMode, 200, 12, "instrument_mode", "switch a soil instrument",
       &rover::v1::SetInstrumentMode::default_instance(), kInstrumentModeArgs, false, true, kAwake,
       Instant},
      {CommandId::kSetTelemetryRate, 3, 131, "telemetry_rate",
       "set the rate of one periodic telemetry stream",
       &rover::v1::SetTelemetryRate::default_instance(), kTelemetryRateArgs, false, true, kAwake,
       Instant},
      {CommandId::kHibernate,
       200,
       20,
       "hibernate",
       "power down to the wake-up receiver and survival heater (no telemetry but events)",
       &rover::v1::Hibernate::default_instance(),
       {},
       true,
       true,
       kAwake,
       Instant},
      {CommandId::kWake,
       200,
       21,
       "wake",
       "wake from hibernation into standby",
       &rover::v1::Wake::default_instance(),
       {},
       false,
       true,
       kAnyMode,
       Instant},
      {CommandId::kFileDeliveryPdu,
       23,
       128,
       "cfdp_pdu",
       "one CFDP PDU from the ground's receiving entity (issued by the station's file delivery)",
       &rover::v1::FilePdu::default_instance(),
       {},
       false,
       false,
       kAnyMode,
       Instant},
  }};
  return registry;
}

// The field a dotted path names, and the message that holds it (created when `mutable_`).
struct FieldRef {
  const FieldDescriptor* field = nullptr;
  const Message* holder = nullptr;
  Message* mutable_holder = nullptr;
};

const FieldDescriptor* FieldAt(const Descriptor* type, std::string_view path,
                               std::string_view* first = nullptr) {
  const FieldDescriptor* field = nullptr;
  bool is_first = true;
  while (true) {
    const size_t dot = path.find('.');
    const std::string part(path.substr(0, dot));
    if (is_first && first != nullptr) *first = path.substr(0, dot);
    is_first = false;
    field = type->FindFieldByName(part);
    if (field == nullptr || dot == std::string_view::npos) return field;
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return nullptr;
    type = field->message_type();
    path.remove_prefix(dot + 1);
  }
}

// Reads the holder of a field path without creating anything; nullptr when a parent is unset.
const Message* ConstHolder(const Message& root, std::string_view path) {
  const Message* m = &root;
  size_t dot;
  while ((dot = path.find('.')) != std::string_view::npos) {
    const FieldDescriptor* f =
        m->GetDescriptor()->FindFieldByName(std::string(path.substr(0, dot)));
    if (!m->GetReflection()->HasField(*m, f)) return nullptr;
    m = &m->GetReflection()->GetMessage(*m, f);
    path.remove_prefix(dot + 1);
  }
  return m;
}

Message* MutableHolder(Message& root, std::string_view path) {
  Message* m = &root;
  size_t dot;
  while ((dot = path.find('.')) != std::string_view::npos) {
    const FieldDescriptor* f =
        m->GetDescriptor()->FindFieldByName(std::string(path.substr(0, dot)));
    m = m->GetReflection()->MutableMessage(m, f);
    path.remove_prefix(dot + 1);
  }
  return m;
}

// The oneof member a path starts in, or "" when the argument is not part of an alternative.
std::string_view AlternativeOf(const CommandInfo& command, const ArgumentSpec& arg) {
  std::string_view first;
  const FieldDescriptor* top = command.prototype->GetDescriptor()->FindFieldByName(
      std::string(arg.field_path.substr(0, arg.field_path.find('.'))));
  (void)FieldAt(command.prototype->GetDescriptor(), arg.field_path, &first);
  if (top == nullptr || top->containing_oneof() == nullptr) return {};
  return first;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// "APXS" from SOIL_INSTRUMENT_APXS: the part after the enum type's own prefix.
std::string_view ShortEnumName(const google::protobuf::EnumValueDescriptor* value) {
  const std::string& name = value->name();
  const std::string& type = value->type()->name();
  // SoilInstrument -> SOIL_INSTRUMENT_
  std::string prefix;
  for (size_t i = 0; i < type.size(); ++i) {
    if (i > 0 && std::isupper(static_cast<unsigned char>(type[i]))) prefix += '_';
    prefix += static_cast<char>(std::toupper(static_cast<unsigned char>(type[i])));
  }
  prefix += '_';
  std::string_view view(name);
  if (view.substr(0, prefix.size()) == prefix) view.remove_prefix(prefix.size());
  return view;
}

std::string EnumChoices(const google::protobuf::EnumDescriptor* type) {
  std::string out;
  for (int i = 1; i < type->value_count(); ++i) {
    if (!out.empty()) out += ", ";
    out += Lower(ShortEnumName(type->value(i)));
  }
  return out;
}

std::string PeriodicStreamNames() {
  std::string out;
  for (const StreamInfo& s : AllStreams()) {
    if (s.nominal_rate_hz <= 0.0) continue;
    if (!out.empty()) out += ", ";
    out += s.name;
  }
  return out;
}

Status SetValue(const CommandInfo& command, const ArgumentSpec& arg, std::string_view text,
                Message& root) {
  const FieldDescriptor* field = FieldAt(root.GetDescriptor(), arg.field_path);
  Message* holder = MutableHolder(root, arg.field_path);
  const Reflection* r = holder->GetReflection();
  const auto bad = [&](std::string_view why) {
    return Status::Error(fmt::format("{}: argument {}='{}' {}", command.name, arg.name, text, why));
  };
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_INT32: {
      double value = 0.0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
        return bad("is not a number");
      }
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
        r->SetDouble(holder, field, value);
      } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT) {
        r->SetFloat(holder, field, static_cast<float>(value));
      } else {
        if (value != std::floor(value)) return bad("is not a whole number");
        // Range-checked below; clamp only so the cast itself is defined.
        const double clamped = std::clamp(value, -2e9, 4e9);
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_UINT32) {
          if (value < 0)
            return bad(fmt::format("is outside {}..{} {}", arg.min, arg.max, arg.unit));
          r->SetUInt32(holder, field, static_cast<uint32_t>(clamped));
        } else {
          r->SetInt32(holder, field, static_cast<int32_t>(std::clamp(value, -2e9, 2e9)));
        }
      }
      if (value < arg.min || value > arg.max) {
        return bad(fmt::format("is outside {}..{}{}{}", arg.min, arg.max,
                               arg.unit.empty() ? "" : " ", arg.unit));
      }
      return Status::Ok();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const std::string wanted = Lower(text);
      const google::protobuf::EnumDescriptor* type = field->enum_type();
      for (int i = 1; i < type->value_count(); ++i) {
        const auto* value = type->value(i);
        if (Lower(value->name()) == wanted || Lower(ShortEnumName(value)) == wanted) {
          r->SetEnum(holder, field, value);
          return Status::Ok();
        }
      }
      return bad(fmt::format("is not one of {}", EnumChoices(type)));
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      const StreamInfo* stream = FindStreamByName(text);
      if (stream == nullptr || stream->nominal_rate_hz <= 0.0) {
        return bad(fmt::format("is not a periodic stream ({})", PeriodicStreamNames()));
      }
      r->SetString(holder, field, std::string(text));
      return Status::Ok();
    }
    default:
      return bad("has a type the dictionary cannot set");
  }
}

std::string FormatNumber(double v) {
  return fmt::format("{:g}", v);
}

}  // namespace

std::span<const CommandInfo> AllCommands() {
  return Registry();
}

const CommandInfo& Command(CommandId id) {
  return Registry()[static_cast<size_t>(id)];
}

const CommandInfo* FindCommand(uint8_t service, uint8_t subtype) {
  for (const CommandInfo& c : Registry()) {
    if (c.service == service && c.subtype == subtype) return &c;
  }
  return nullptr;
}

const CommandInfo* FindCommandByName(std::string_view name) {
  for (const CommandInfo& c : Registry()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string_view ModeName(RoverMode mode) {
  const std::string& name = rover::v1::RoverMode_Name(mode);
  return std::string_view(name).substr(sizeof("ROVER_MODE_") - 1);
}

Status CheckMode(const CommandInfo& command, RoverMode mode) {
  if (mode == rover::v1::ROVER_MODE_UNSPECIFIED) return Status::Ok();
  if (command.allowed_modes & (1u << mode)) return Status::Ok();
  std::string allowed;
  for (int m = rover::v1::RoverMode_MIN + 1; m <= rover::v1::RoverMode_MAX; ++m) {
    if (!(command.allowed_modes & (1u << m))) continue;
    if (!allowed.empty()) allowed += ", ";
    allowed += ModeName(static_cast<RoverMode>(m));
  }
  return Status::Error(fmt::format("{} is not allowed while the rover is in {} mode (only in {})",
                                   command.name, ModeName(mode), allowed));
}

Result<std::unique_ptr<Message>> BuildArguments(const CommandInfo& command,
                                                std::span<const CommandArgument> arguments) {
  std::unique_ptr<Message> args(command.prototype->New());
  std::vector<bool> given(command.arguments.size(), false);
  std::string_view alternative;  // the oneof member the given arguments chose
  for (const CommandArgument& argument : arguments) {
    const std::string& name = argument.first;
    const std::string& value = argument.second;
    const auto it = std::find_if(command.arguments.begin(), command.arguments.end(),
                                 [&](const ArgumentSpec& a) { return a.name == name; });
    if (it == command.arguments.end()) {
      std::string known;
      for (const ArgumentSpec& a : command.arguments) known += fmt::format(" {}", a.name);
      return Status::Error(fmt::format("{}: no argument '{}' (it takes:{})", command.name, name,
                                       known.empty() ? " none" : known));
    }
    const size_t index = static_cast<size_t>(it - command.arguments.begin());
    if (given[index]) {
      return Status::Error(fmt::format("{}: argument {} given twice", command.name, name));
    }
    given[index] = true;
    if (const std::string_view alt = AlternativeOf(command, *it); !alt.empty()) {
      if (!alternative.empty() && alt != alternative) {
        return Status::Error(fmt::format("{}: give either the {} or the {} arguments, not both",
                                         command.name, alternative, alt));
      }
      alternative = alt;
    }
    if (Status s = SetValue(command, *it, value, *args); !s.ok()) return s;
  }
  for (size_t i = 0; i < command.arguments.size(); ++i) {
    const ArgumentSpec& arg = command.arguments[i];
    if (given[i]) continue;
    const std::string_view alt = AlternativeOf(command, arg);
    if (!alt.empty() && alt != alternative) {
      if (!alternative.empty()) continue;  // the other alternative was chosen
      // No alternative chosen: name the first one's arguments as what is missing.
      if (alt != AlternativeOf(command, command.arguments[0])) continue;
    }
    if (arg.default_value.empty()) {
      return Status::Error(fmt::format(
          "{}: argument {} is missing ({}{}{})", command.name, arg.name, arg.description,
          arg.unit.empty() ? "" : ", ",
          arg.unit.empty() ? "" : fmt::format("{}..{} {}", arg.min, arg.max, arg.unit)));
    }
    if (Status s = SetValue(command, arg, arg.default_value, *args); !s.ok()) return s;
  }
  if (Status s = CheckArguments(command, *args); !s.ok()) return s;
  return args;
}

Status CheckArguments(const CommandInfo& command, const Message& args) {
  if (args.GetDescriptor() != command.prototype->GetDescriptor()) {
    return Status::Error(fmt::format("{}: arguments are a {}, not a {}", command.name,
                                     args.GetDescriptor()->full_name(),
                                     command.prototype->GetDescriptor()->full_name()));
  }
  std::string_view alternative;
  for (const ArgumentSpec& arg : command.arguments) {
    const std::string_view alt = AlternativeOf(command, arg);
    const Message* holder = ConstHolder(args, arg.field_path);
    if (!alt.empty()) {
      if (holder == nullptr) continue;  // the other alternative
      alternative = alt;
    }
    const FieldDescriptor* field = FieldAt(args.GetDescriptor(), arg.field_path);
    const Reflection* r = holder->GetReflection();
    const auto bad = [&](const std::string& value, std::string_view why) {
      return Status::Error(
          fmt::format("{}: argument {}={} {}", command.name, arg.name, value, why));
    };
    double value = 0.0;
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_DOUBLE:
        value = r->GetDouble(*holder, field);
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        value = r->GetFloat(*holder, field);
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        value = r->GetUInt32(*holder, field);
        break;
      case FieldDescriptor::CPPTYPE_INT32:
        value = r->GetInt32(*holder, field);
        break;
      case FieldDescriptor::CPPTYPE_ENUM: {
        const int number = r->GetEnumValue(*holder, field);
        if (number == 0 || field->enum_type()->FindValueByNumber(number) == nullptr) {
          return bad(std::to_string(number),
                     fmt::format("is not one of {}", EnumChoices(field->enum_type())));
        }
        continue;
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        const std::string text = r->GetString(*holder, field);
        const StreamInfo* stream = FindStreamByName(text);
        if (stream == nullptr || stream->nominal_rate_hz <= 0.0) {
          return bad("'" + text + "'",
                     fmt::format("is not a periodic stream ({})", PeriodicStreamNames()));
        }
        continue;
      }
      default:
        return bad("?", "has a type the dictionary cannot check");
    }
    if (!std::isfinite(value) || value < arg.min || value > arg.max) {
      return bad(FormatNumber(value), fmt::format("is outside {}..{}{}{}", arg.min, arg.max,
                                                  arg.unit.empty() ? "" : " ", arg.unit));
    }
  }
  // A command with alternatives needs one of them.
  for (const ArgumentSpec& arg : command.arguments) {
    if (!AlternativeOf(command, arg).empty() && alternative.empty()) {
      return Status::Error(fmt::format("{}: no target given", command.name));
    }
  }
  return Status::Ok();
}

std::string DescribeArguments(const CommandInfo& command, const Message& args) {
  std::string out;
  for (const ArgumentSpec& arg : command.arguments) {
    const Message* holder = ConstHolder(args, arg.field_path);
    if (holder == nullptr) continue;
    const FieldDescriptor* field = FieldAt(args.GetDescriptor(), arg.field_path);
    const Reflection* r = holder->GetReflection();
    std::string value;
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_DOUBLE:
        value = FormatNumber(r->GetDouble(*holder, field));
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        value = FormatNumber(r->GetFloat(*holder, field));
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        value = std::to_string(r->GetUInt32(*holder, field));
        break;
      case FieldDescriptor::CPPTYPE_INT32:
        value = std::to_string(r->GetInt32(*holder, field));
        break;
      case FieldDescriptor::CPPTYPE_ENUM: {
        const auto* v = r->GetEnum(*holder, field);
        value = Lower(ShortEnumName(v));
        break;
      }
      case FieldDescriptor::CPPTYPE_STRING:
        value = r->GetString(*holder, field);
        break;
      default:
        value = "?";
    }
    if (!out.empty()) out += ' ';
    out += fmt::format("{}={}{}{}", arg.name, value, arg.unit.empty() ? "" : " ", arg.unit);
  }
  return out;
}

std::vector<std::string> ArgumentChoices(const CommandInfo& command, const ArgumentSpec& argument) {
  std::vector<std::string> out;
  const FieldDescriptor* field = FieldAt(command.prototype->GetDescriptor(), argument.field_path);
  if (field == nullptr) return out;
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
    for (int i = 1; i < field->enum_type()->value_count(); ++i) {
      out.push_back(Lower(ShortEnumName(field->enum_type()->value(i))));
    }
  } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
    for (const StreamInfo& s : AllStreams()) {
      if (s.nominal_rate_hz > 0.0) out.emplace_back(s.name);
    }
  }
  return out;
}

std::string DescribeCommand(const CommandInfo& command) {
  std::string out = fmt::format("{:<17}{}{}\n", command.name, command.description,
                                command.hazardous ? " [hazardous: needs --confirm]" : "");
  for (const ArgumentSpec& arg : command.arguments) {
    std::string rule;
    const FieldDescriptor* field = FieldAt(command.prototype->GetDescriptor(), arg.field_path);
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
      rule = EnumChoices(field->enum_type());
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      rule = PeriodicStreamNames();
    } else {
      rule = fmt::format("{}..{}{}{}", arg.min, arg.max, arg.unit.empty() ? "" : " ", arg.unit);
    }
    out += fmt::format(
        "    {:<15}{} ({}{})\n", arg.name, arg.description, rule,
        arg.default_value.empty() ? "" : fmt::format(", default {}", arg.default_value));
  }
  return out;
}

std::string CameraName(rover::v1::Camera camera) {
  const auto* value = rover::v1::Camera_descriptor()->FindValueByNumber(camera);
  return value == nullptr ? fmt::format("camera_{}", static_cast<int>(camera))
                          : Lower(ShortEnumName(value));
}

}  // namespace lgs::protocol
