#include "groundstation/telemetry_dictionary.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "protocol/command_dictionary.h"
#include "protocol/stream_registry.h"

namespace lgs::station {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// "battery_soc_percent" -> "battery soc"; the unit suffix is shown as the unit instead.
std::string Readable(const std::string& field) {
  std::string name = field;
  if (!UnitOfField(field).empty()) {
    bool cut = false;
    for (std::string_view suffix : {"_ugy_per_h", "_usv_per_h", "_m_per_h", "_per_s"}) {
      if (name.size() > suffix.size() && name.ends_with(suffix)) {
        name.resize(name.size() - suffix.size());
        cut = true;
        break;
      }
    }
    if (const size_t last = name.rfind('_'); !cut && last != std::string::npos) name.resize(last);
  }
  for (char& c : name) {
    if (c == '_') c = ' ';
  }
  return name;
}

nlohmann::json LimitsJson(const LimitSpec& spec) {
  nlohmann::json j = nlohmann::json::object();
  if (spec.red_low) j["red_low"] = *spec.red_low;
  if (spec.yellow_low) j["yellow_low"] = *spec.yellow_low;
  if (spec.yellow_high) j["yellow_high"] = *spec.yellow_high;
  if (spec.red_high) j["red_high"] = *spec.red_high;
  j["persistence"] = spec.persistence;
  return j;
}

void AddFields(const Descriptor* type, const std::string& prefix, const std::string& name_prefix,
               const LimitSet* limits, nlohmann::json& out) {
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* f = type->field(i);
    const std::string key = prefix + f->name();
    const std::string name = name_prefix + Readable(f->name());
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (f->is_repeated()) continue;  // lists of records (radiation channels): not plottable
      AddFields(f->message_type(), key + ".", name + " ", limits, out);
      continue;
    }
    if (f->type() == FieldDescriptor::TYPE_BYTES) continue;
    nlohmann::json m = {
        {"key", key}, {"name", name}, {"unit", std::string(UnitOfField(f->name()))}};
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_ENUM: {
        m["format"] = "enum";
        nlohmann::json values = nlohmann::json::array();
        for (int v = 0; v < f->enum_type()->value_count(); ++v) {
          values.push_back({{"value", f->enum_type()->value(v)->number()},
                            {"string", f->enum_type()->value(v)->name()}});
        }
        m["enumerations"] = values;
        break;
      }
      case FieldDescriptor::CPPTYPE_BOOL:
        m["format"] = "boolean";
        break;
      case FieldDescriptor::CPPTYPE_STRING:
        m["format"] = "string";
        break;
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64:
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64:
        m["format"] = "integer";
        break;
      default:
        m["format"] = "float";
    }
    if (f->is_repeated()) m["format"] = "array";
    if (limits != nullptr) {
      for (const LimitSpec& spec : limits->limits()) {
        if (spec.field == key) m["limits"] = LimitsJson(spec);
      }
    }
    out.push_back(std::move(m));
  }
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
    AddFields(stream.prototype->GetDescriptor(), std::string(stream.name) + ".", "", limits,
              measurements);
    subsystems.push_back({{"key", stream.name},
                          {"name", Readable(std::string(stream.name))},
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
                      {"name", Readable(spec.field.substr(5))},
                      {"unit", spec.unit},
                      {"format", "float"},
                      {"limits", LimitsJson(spec)}});
    }
  }
  subsystems.push_back({{"key", "link"}, {"name", "link"}, {"measurements", link}});
  return {{"rover", rover_id}, {"subsystems", subsystems}};
}

}  // namespace lgs::station
