#include "groundstation/telemetry_fields.h"

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <cmath>
#include <iterator>
#include <unordered_map>

#include "protocol/text.h"

namespace lgs::station {

std::string_view UnitOfField(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kSuffixes = {{
      {"_percent", "%"},
      {"_ugy_per_h", "uGy/h"},
      {"_usv_per_h", "uSv/h"},
      {"_m_per_h", "m/h"},
      {"_per_s", "/s"},
      {"_deg", "deg"},
      {"_ms", "ms"},
      {"_v", "V"},
      {"_a", "A"},
      {"_w", "W"},
      {"_c", "C"},
      {"_m", "m"},
      {"_s", "s"},
      {"_ugy", "uGy"},
  }};
  for (const auto& [suffix, unit] : kSuffixes) {
    if (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix) {
      return unit;
    }
  }
  return {};
}

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

FieldFormat FormatOf(const FieldDescriptor* f) {
  if (f->is_repeated()) return FieldFormat::kArray;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_ENUM:
      return FieldFormat::kEnum;
    case FieldDescriptor::CPPTYPE_BOOL:
      return FieldFormat::kBoolean;
    case FieldDescriptor::CPPTYPE_STRING:
      return FieldFormat::kString;
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      return FieldFormat::kInteger;
    default:
      return FieldFormat::kFloat;
  }
}

void AddFields(const protocol::StreamInfo& stream, const Descriptor* type,
               std::vector<const FieldDescriptor*>& path, const std::string& prefix,
               const std::string& name_prefix, std::vector<TelemetryField>& out) {
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* f = type->field(i);
    path.push_back(f);
    const std::string key = prefix + f->name();
    const std::string name = name_prefix + ReadableFieldName(f->name());
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (!f->is_repeated()) AddFields(stream, f->message_type(), path, key + ".", name + " ", out);
    } else if (f->type() != FieldDescriptor::TYPE_BYTES) {
      out.push_back({key, name, UnitOfField(f->name()), FormatOf(f), &stream, path});
    }
    path.pop_back();
  }
}

struct Catalogue {
  std::vector<TelemetryField> fields;
  std::unordered_map<std::string_view, const TelemetryField*> by_key;
  Catalogue() {
    for (const protocol::StreamInfo& stream : protocol::AllStreams()) {
      std::vector<const FieldDescriptor*> path;
      AddFields(stream, stream.prototype->GetDescriptor(), path, std::string(stream.name) + ".", "",
                fields);
    }
    for (const TelemetryField& f : fields) by_key.emplace(f.key, &f);
  }
};

const Catalogue& TheCatalogue() {
  static const Catalogue catalogue;
  return catalogue;
}

// The message holding the field's value (walks the nested messages of the path).
const Message& Holder(const TelemetryField& field, const Message& message) {
  const Message* m = &message;
  for (size_t i = 0; i + 1 < field.path.size(); ++i) {
    m = &m->GetReflection()->GetMessage(*m, field.path[i]);
  }
  return *m;
}

void AppendNumber(double v, std::string& out) {
  if (std::isfinite(v)) {
    fmt::format_to(std::back_inserter(out), "{}", v);
  } else {
    out += "null";  // JSON has no NaN or infinity
  }
}

void AppendString(const std::string& raw, std::string& out) {
  // Protobuf checks UTF-8 when it parses, but a string can come from anywhere (a recording
  // written by another tool): JSON must stay valid all the same.
  const std::string sanitized = text::IsValidUtf8(raw) ? std::string() : text::SanitizeUtf8(raw);
  const std::string& s = sanitized.empty() ? raw : sanitized;
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void AppendScalar(const Message& m, const FieldDescriptor* f, int index, std::string& out) {
  const Reflection* r = m.GetReflection();
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return AppendNumber(rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f), out);
    case FieldDescriptor::CPPTYPE_FLOAT:
      return AppendNumber(rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f), out);
    case FieldDescriptor::CPPTYPE_INT32:
      fmt::format_to(std::back_inserter(out), "{}",
                     rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
      return;
    case FieldDescriptor::CPPTYPE_INT64:
      fmt::format_to(std::back_inserter(out), "{}",
                     rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
      return;
    case FieldDescriptor::CPPTYPE_UINT32:
      fmt::format_to(std::back_inserter(out), "{}",
                     rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
      return;
    case FieldDescriptor::CPPTYPE_UINT64:
      fmt::format_to(std::back_inserter(out), "{}",
                     rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
      return;
    case FieldDescriptor::CPPTYPE_BOOL:
      out += (rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? "true" : "false";
      return;
    case FieldDescriptor::CPPTYPE_ENUM:
      fmt::format_to(std::back_inserter(out), "{}",
                     rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f));
      return;
    case FieldDescriptor::CPPTYPE_STRING:
      return AppendString(rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f), out);
    default:
      out += "null";
  }
}

}  // namespace

std::string ReadableFieldName(const std::string& field) {
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

const std::vector<TelemetryField>& AllTelemetryFields() {
  return TheCatalogue().fields;
}

const TelemetryField* FindTelemetryField(std::string_view key) {
  const auto& by_key = TheCatalogue().by_key;
  const auto it = by_key.find(key);
  return it == by_key.end() ? nullptr : it->second;
}

std::vector<const TelemetryField*> FieldsOfStream(protocol::StreamId stream) {
  std::vector<const TelemetryField*> out;
  for (const TelemetryField& f : AllTelemetryFields()) {
    if (f.stream->id == stream) out.push_back(&f);
  }
  return out;
}

bool FieldPresent(const TelemetryField& field, const Message& message) {
  const Message* m = &message;
  for (size_t i = 0; i + 1 < field.path.size(); ++i) {
    if (!m->GetReflection()->HasField(*m, field.path[i])) return false;
    m = &m->GetReflection()->GetMessage(*m, field.path[i]);
  }
  return true;
}

void AppendFieldJson(const TelemetryField& field, const Message& message, std::string& out) {
  const Message& m = Holder(field, message);
  const FieldDescriptor* f = field.path.back();
  if (!f->is_repeated()) return AppendScalar(m, f, -1, out);
  out += '[';
  const int n = m.GetReflection()->FieldSize(m, f);
  for (int i = 0; i < n; ++i) {
    if (i > 0) out += ',';
    AppendScalar(m, f, i, out);
  }
  out += ']';
}

std::optional<double> FieldNumber(const TelemetryField& field, const Message& message) {
  const FieldDescriptor* f = field.path.back();
  if (f->is_repeated()) return std::nullopt;
  const Message& holder = Holder(field, message);
  return NumericValue(holder.GetReflection(), holder, f, -1);
}

}  // namespace lgs::station
