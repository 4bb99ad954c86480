// Telemetry fields by key ("housekeeping.battery_soc_percent", "soil.apxs.feo_wt_percent"): the
// one list of every displayable field of every stream, walked from the protobuf descriptors. The
// dictionary the web UI builds its tree from, the realtime feed and the history queries all use
// it, so a key that one of them knows every other one knows too. Thread-safe (built once).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/stream_registry.h"

namespace google::protobuf {
class FieldDescriptor;
class Message;
}  // namespace google::protobuf

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
// The value as a number (bool 0/1, enum number); nothing for strings and arrays.
std::optional<double> FieldNumber(const TelemetryField& field,
                                  const google::protobuf::Message& message);

// Readable name of a field or stream name: "battery_soc_percent" -> "battery soc".
std::string ReadableFieldName(const std::string& name);

}  // namespace lgs::station
