#include "groundstation/limits.h"

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "builtin_limits.h"
#include "protocol/regular_file.h"

namespace lgs::station {
namespace {

using google::protobuf::FieldDescriptor;

bool IsNumeric(const FieldDescriptor* f) {
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT64:
      return true;
    default:
      return false;
  }
}

std::string FieldNames(const google::protobuf::Descriptor* type) {
  std::string out;
  for (int i = 0; i < type->field_count(); ++i) {
    if (!IsNumeric(type->field(i)) &&
        type->field(i)->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      continue;
    }
    if (!out.empty()) out += ", ";
    out += type->field(i)->name();
  }
  return out;
}

Status Resolve(LimitSpec& spec) {
  const size_t dot = spec.field.find('.');
  if (dot == std::string::npos) {
    return Status::Error(fmt::format("'{}' is not <stream>.<field> or link.<metric>", spec.field));
  }
  const std::string_view head = std::string_view(spec.field).substr(0, dot);
  std::string_view rest = std::string_view(spec.field).substr(dot + 1);
  if (head == "link") {
    if (rest == "latency_ms") {
      spec.link = LinkMetric::kLatencyMs;
    } else if (rest == "gap_rate_per_min") {
      spec.link = LinkMetric::kGapRatePerMin;
    } else if (rest == "silence_s") {
      spec.link = LinkMetric::kSilenceS;
    } else {
      return Status::Error(
          fmt::format("no link metric '{}' (latency_ms, gap_rate_per_min, silence_s)", rest));
    }
    spec.unit = spec.link == LinkMetric::kLatencyMs       ? "ms"
                : spec.link == LinkMetric::kGapRatePerMin ? "/min"
                                                          : "s";
    return Status::Ok();
  }
  spec.stream = protocol::FindStreamByName(head);
  if (spec.stream == nullptr) return Status::Error(fmt::format("no stream '{}'", head));
  const google::protobuf::Descriptor* type = spec.stream->prototype->GetDescriptor();
  while (true) {
    const size_t next = rest.find('.');
    const std::string name(rest.substr(0, next));
    const FieldDescriptor* f = type->FindFieldByName(name);
    if (f == nullptr) {
      return Status::Error(fmt::format("{} has no field '{}' (numeric fields: {})",
                                       type->full_name(), name, FieldNames(type)));
    }
    spec.path.push_back(f);
    if (next == std::string_view::npos) {
      if (!IsNumeric(f)) return Status::Error(fmt::format("'{}' is not a number", spec.field));
      spec.unit = std::string(UnitOfField(f->name()));
      return Status::Ok();
    }
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || f->is_repeated()) {
      return Status::Error(
          fmt::format("'{}': only the last field may be repeated or a number", spec.field));
    }
    type = f->message_type();
    rest.remove_prefix(next + 1);
  }
}

}  // namespace

Result<LimitSet> LimitSet::Parse(std::string_view yaml, std::string_view source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return Status::Error(fmt::format("{}: {}", source, e.what()));
  }
  const YAML::Node list = root.IsMap() ? root["limits"] : YAML::Node();
  if (!list || !list.IsSequence()) {
    return Status::Error(fmt::format("{}: needs 'limits:', a list of limits", source));
  }
  LimitSet set;
  std::set<std::string> seen;
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node n = list[i];
    const std::string where = fmt::format("{}: limits[{}]", source, i);
    if (!n.IsMap() || !n["field"] || !n["field"].IsScalar()) {
      return Status::Error(where + ": needs 'field: <stream>.<field>'");
    }
    LimitSpec spec;
    spec.field = n["field"].as<std::string>();
    try {
      for (const auto& entry : n) {
        const std::string key = entry.first.as<std::string>();
        std::optional<double>* bound = key == "red_low"       ? &spec.red_low
                                       : key == "yellow_low"  ? &spec.yellow_low
                                       : key == "yellow_high" ? &spec.yellow_high
                                       : key == "red_high"    ? &spec.red_high
                                                              : nullptr;
        if (bound != nullptr) {
          *bound = entry.second.as<double>();
        } else if (key == "persistence") {
          spec.persistence = entry.second.as<int>();
        } else if (key != "field") {
          return Status::Error(fmt::format(
              "{} ({}): unknown key '{}' (field, red_low, yellow_low, yellow_high, red_high, "
              "persistence)",
              where, spec.field, key));
        }
      }
    } catch (const YAML::Exception& e) {
      return Status::Error(fmt::format("{} ({}): {}", where, spec.field, e.what()));
    }
    if (Status s = Resolve(spec); !s.ok()) {
      return Status::Error(fmt::format("{}: {}", where, s.message()));
    }
    if (!spec.red_low && !spec.yellow_low && !spec.yellow_high && !spec.red_high) {
      return Status::Error(fmt::format("{} ({}): no bound given", where, spec.field));
    }
    if (spec.persistence < 1 || spec.persistence > 10'000) {
      return Status::Error(fmt::format("{} ({}): persistence must be 1..10000", where, spec.field));
    }
    // Bounds must nest: red_low <= yellow_low < yellow_high <= red_high.
    std::vector<double> ordered;
    for (const auto& b : {spec.red_low, spec.yellow_low, spec.yellow_high, spec.red_high}) {
      if (b) ordered.push_back(*b);
    }
    for (size_t k = 1; k < ordered.size(); ++k) {
      if (ordered[k] < ordered[k - 1]) {
        return Status::Error(fmt::format(
            "{} ({}): bounds must satisfy red_low <= yellow_low < yellow_high <= red_high", where,
            spec.field));
      }
    }
    if (!seen.insert(spec.field).second) {
      return Status::Error(fmt::format("{}: '{}' has limits twice", where, spec.field));
    }
    const size_t index = set.limits_.size();
    if (spec.stream != nullptr)
      set.by_stream_[static_cast<size_t>(spec.stream->id)].push_back(index);
    if (spec.link == LinkMetric::kLatencyMs) set.latency_.push_back(index);
    if (spec.link == LinkMetric::kGapRatePerMin) set.gap_rate_.push_back(index);
    if (spec.link == LinkMetric::kSilenceS) set.silence_.push_back(index);
    set.limits_.push_back(std::move(spec));
  }
  return set;
}

Result<LimitSet> LimitSet::Load(const std::string& path) {
  if (path.empty()) return Parse(kBuiltinLimitsYaml, "built-in limits");
  auto text = protocol::ReadRegularFile(path, "limits file", 1 << 20);
  if (!text.ok()) return text.error();
  return Parse(*text, path);
}

}  // namespace lgs::station
