#include "groundstation/telemetry_dictionary.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "groundstation/telemetry_fields.h"
#include "protocol/command_dictionary.h"
#include "protocol/stream_registry.h"

namespace lgs::station {
namespace {

nlohmann::json LimitsJson(const LimitSpec& spec) {
  nlohmann::json j = nlohmann::json::object();
  if (spec.red_low) j["red_low"] = *spec.red_low;
  if (spec.yellow_low) j["yellow_low"] = *spec.yellow_low;
  if (spec.yellow_high) j["yellow_high"] = *spec.yellow_high;
  if (spec.red_high) j["red_high"] = *spec.red_high;
  j["persistence"] = spec.persistence;
  return j;
}

const char* FormatName(FieldFormat format) {
  switch (format) {
    case FieldFormat::kInteger:
      return "integer";
    case FieldFormat::kBoolean:
      return "boolean";
    case FieldFormat::kEnum:
      return "enum";
    case FieldFormat::kString:
      return "string";
    case FieldFormat::kArray:
      return "array";
    default:
      return "float";
  }
}

nlohmann::json MeasurementJson(const TelemetryField& field, const LimitSet* limits) {
  nlohmann::json m = {{"key", field.key},
                      {"name", field.name},
                      {"unit", std::string(field.unit)},
                      {"format", FormatName(field.format)}};
  if (field.format == FieldFormat::kEnum) {
    const auto* type = field.path.back()->enum_type();
    nlohmann::json values = nlohmann::json::array();
    for (int v = 0; v < type->value_count(); ++v) {
      values.push_back({{"value", type->value(v)->number()}, {"string", type->value(v)->name()}});
    }
    m["enumerations"] = values;
  }
  if (limits != nullptr) {
    for (const LimitSpec& spec : limits->limits()) {
      if (spec.field == field.key) m["limits"] = LimitsJson(spec);
    }
  }
  return m;
}

}  // namespace

nlohmann::json CommandDictionaryJson() {
  nlohmann::json commands = nlohmann::json::array();
  for (const protocol::CommandInfo& c : protocol::AllCommands()) {
    if (!c.operator_command) continue;
    nlohmann::json args = nlohmann::json::array();
    for (const protocol::ArgumentSpec& a : c.arguments) {
      nlohmann::json arg = {
          {"name", a.name}, {"description", a.description}, {"default", a.default_value}};
      const auto choices = protocol::ArgumentChoices(c, a);
      if (choices.empty()) {
        arg["unit"] = a.unit;
        arg["min"] = a.min;
        arg["max"] = a.max;
      } else {
        arg["choices"] = choices;
      }
      args.push_back(std::move(arg));
    }
    nlohmann::json modes = nlohmann::json::array();
    for (int m = rover::v1::RoverMode_MIN + 1; m <= rover::v1::RoverMode_MAX; ++m) {
      if (c.allowed_modes & (1u << m)) {
        modes.push_back(std::string(protocol::ModeName(static_cast<rover::v1::RoverMode>(m))));
      }
    }
    commands.push_back({{"name", c.name},
                        {"description", c.description},
                        {"hazardous", c.hazardous},
                        {"modes", modes},
                        {"arguments", args}});
  }
  return commands;
}

nlohmann::json TelemetryDictionaryJson(const std::string& rover_id, const LimitSet* limits) {
  nlohmann::json subsystems = nlohmann::json::array();
  for (const protocol::StreamInfo& stream : protocol::AllStreams()) {
    nlohmann::json measurements = nlohmann::json::array();
    for (const TelemetryField* field : FieldsOfStream(stream.id)) {
      measurements.push_back(MeasurementJson(*field, limits));
    }
    subsystems.push_back({{"key", stream.name},
                          {"name", ReadableFieldName(std::string(stream.name))},
                          {"apid", stream.apid},
                          {"rate_hz", stream.nominal_rate_hz},
                          {"message", stream.prototype->GetDescriptor()->full_name()},
                          {"measurements", measurements}});
  }
  nlohmann::json link = nlohmann::json::array();
  if (limits != nullptr) {
    for (const LimitSpec& spec : limits->limits()) {
      if (spec.link == LinkMetric::kNone) continue;
      link.push_back({{"key", spec.field},
                      {"name", ReadableFieldName(spec.field.substr(5))},
                      {"unit", spec.unit},
                      {"format", "float"},
                      {"limits", LimitsJson(spec)}});
    }
  }
  subsystems.push_back({{"key", "link"}, {"name", "link"}, {"measurements", link}});
  return {{"rover", rover_id}, {"subsystems", subsystems}};
}

}  // namespace lgs::station
