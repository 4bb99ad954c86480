// The telemetry dictionary the web UI builds its tree from: every stream of the registry with
// every field of its protobuf message — key, name, unit (from the field name), format, and the
// limits that apply — generated from the descriptors and the limit set, never written by hand.
// Thread-safe (a pure function).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "groundstation/limits.h"

namespace lgs::station {

// {"rover","subsystems":[{"key","name","apid","rate_hz","measurements":[{"key","name","unit",
//  "format","limits"?,"enumerations"?}]}]}. Keys are "<stream>.<field>[.<field>]"; repeated
// numeric fields have format "array"; bytes fields are left out.
nlohmann::json TelemetryDictionaryJson(const std::string& rover_id, const LimitSet* limits);

// The command dictionary for forms: [{"name","description","hazardous","modes",
// "arguments":[{"name","unit","min","max","default","description","choices"?}]}], operator
// commands only.
nlohmann::json CommandDictionaryJson();

}  // namespace lgs::station
