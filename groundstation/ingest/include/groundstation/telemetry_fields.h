// Telemetry fields by key ("housekeeping.battery_soc_percent", "soil.apxs.feo_wt_percent"): the
// one list of every displayable field of every stream, walked from the protobuf descriptors. The
// dictionary the web UI builds its tree from, the realtime feed and the history queries all use
// it, so a key that one of them knows every other one knows too. Thread-safe (built once).
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/stream_registry.h"

namespace lgs::station {

enum class FieldFormat { kFloat, kInteger, kBoolean, kEnum, kString, kArray };

struct TelemetryField {
  std::string key;   // "<stream>.<field>[.<field>]"
  std::string name;  // readable: "battery soc"
  std::string_view unit;
  FieldFormat format = FieldFormat::kFloat;
  const protocol::StreamInfo* stream = nullptr;
  std::vector<const google::protobuf::FieldDescriptor*> path;  // the last one holds the value
};

// Every field of every stream, stream by stream in registry order. Repeated messages (lists of
// records) and bytes fields are not displayable and not listed.
const std::vector<TelemetryField>& AllTelemetryFields();
// nullptr when no stream has that field.
const TelemetryField* FindTelemetryField(std::string_view key);
// The fields of one stream.
std::vector<const TelemetryField*> FieldsOfStream(protocol::StreamId stream);

// Whether `message` carries the field at all: a field inside a sub-message that is not set (the
// other branch of a oneof, like soil.apxs.* in a VNIS measurement) has no sample, not a zero.
bool FieldPresent(const TelemetryField& field, const google::protobuf::Message& message);

// The field's value in `message` (of the field's stream) as JSON text appended to `out`:
// numbers, true/false, enum numbers, escaped strings, arrays for repeated fields.
void AppendFieldJson(const TelemetryField& field, const google::protobuf::Message& message,
                     std::string& out);
// A numeric field's value in `m` (the message that has the field; element `index` of a
// repeated one, -1 for a single one): numbers, bool 0/1, enum numbers; nothing for strings,
// bytes and messages. `r` is m's reflection (hot paths keep it). Inline: the alarm check calls
// it for every limited sample on the ingest thread.
inline std::optional<double> NumericValue(const google::protobuf::Reflection* r,
                                          const google::protobuf::Message& m,
                                          const google::protobuf::FieldDescriptor* f, int index) {
  using google::protobuf::FieldDescriptor;
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f);
    case FieldDescriptor::CPPTYPE_FLOAT:
      return rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f);
    case FieldDescriptor::CPPTYPE_INT32:
      return rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f);
    case FieldDescriptor::CPPTYPE_UINT32:
      return rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f);
    case FieldDescriptor::CPPTYPE_INT64:
      return static_cast<double>(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
    case FieldDescriptor::CPPTYPE_UINT64:
      return static_cast<double>(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
    case FieldDescriptor::CPPTYPE_BOOL:
      return (rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? 1.0 : 0.0;
    case FieldDescriptor::CPPTYPE_ENUM:
      return rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f);
    default:
      return std::nullopt;
  }
}

// The value as a number (bool 0/1, enum number); nothing for strings and arrays.
std::optional<double> FieldNumber(const TelemetryField& field,
                                  const google::protobuf::Message& message);

// Readable name of a field or stream name: "battery_soc_percent" -> "battery soc".
std::string ReadableFieldName(const std::string& name);

// The unit a field name's suffix declares ("battery_soc_percent" -> "%"), "" if none.
std::string_view UnitOfField(std::string_view field_name);

}  // namespace lgs::station
