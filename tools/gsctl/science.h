// gsctl's view of the soil instruments' results: the APXS oxides by name, and `gsctl export
// --science DIR` (one tidy CSV per measurement, and an index).
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "commands.h"
#include "rover/v1/soil.pb.h"

namespace lgs::gsctl {

// The oxides in the order the instrument reports them, by chemical formula ("SiO2", ...).
std::vector<std::pair<std::string_view, double>> Oxides(const rover::v1::ApxsOxides& apxs);
std::string_view InstrumentName(rover::v1::SoilInstrument instrument);  // "apxs", "vnis", ...

int ExportScience(const ExportOptions& options);

}  // namespace lgs::gsctl
