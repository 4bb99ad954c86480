// gsctl export --science: every soil measurement of a recording as a file a scientist loads with
// one line of pandas (pd.read_csv), tidy (one observation a row, the measurement's time,
// position and settings on each), and index.csv with one row per measurement.
#include "science.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "common.h"

namespace lgs::gsctl {
namespace {

// Enough digits that a float and a double read back to the value sent.
std::string Num(double v) {
  return fmt::format("{:.17g}", v);
}
std::string Num(float v) {
  return fmt::format("{:.9g}", v);
}

}  // namespace

std::vector<std::pair<std::string_view, double>> Oxides(const rover::v1::ApxsOxides& a) {
  return {{"SiO2", a.sio2_wt_percent()},   {"Al2O3", a.al2o3_wt_percent()},
          {"CaO", a.cao_wt_percent()},     {"FeO", a.feo_wt_percent()},
          {"MgO", a.mgo_wt_percent()},     {"TiO2", a.tio2_wt_percent()},
          {"Na2O", a.na2o_wt_percent()},   {"K2O", a.k2o_wt_percent()},
          {"Cr2O3", a.cr2o3_wt_percent()}, {"MnO", a.mno_wt_percent()}};
}

std::string_view InstrumentName(rover::v1::SoilInstrument instrument) {
  switch (instrument) {
    case rover::v1::SOIL_INSTRUMENT_APXS:
      return "apxs";
    case rover::v1::SOIL_INSTRUMENT_VNIS:
      return "vnis";
    case rover::v1::SOIL_INSTRUMENT_NEUTRON:
      return "neutron";
    default:
      return "unknown";
  }
}

int ExportScience(const ExportOptions& o) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(o.science, ec);
  if (ec || !fs::is_directory(o.science)) {
    fmt::print(stderr, "gsctl export: cannot create science directory '{}': {}\n", o.science,
               ec ? ec.message() : "not a directory");
    return kExitFailure;
  }
  const fs::path dir(o.science);
  std::ofstream index(dir / "index.csv", std::ios::binary | std::ios::trunc);
  index << "measurement_id,instrument,onboard_time,onboard_ns,x_m,y_m,integration_s,in_shadow,"
           "file,bands,band_depth_1um,band_depth_2um,ice_band_depth_1_5um,total_wt_percent,"
           "hydrogen_weh_wt_percent\n";
  std::map<std::string, int> used;  // file names, for a measurement id seen twice
  std::map<std::string, size_t> counts;
  bool write_failed = !index;
  const int code =
      ForEachMessage("export", o.files, {"soil"}, o.start, o.end, [&](const Decoded& d) {
        rover::v1::SoilMeasurement m;
        if (!AsGenerated(d, m)) return;
        const std::string_view instrument = InstrumentName(m.instrument());
        const int64_t t = OnboardOrLogTime(d);
        std::string name = fmt::format("{}_{:06}", instrument, m.measurement_id());
        if (const int n = used[name]++; n > 0) name += fmt::format("-{}", n + 1);
        name += ".csv";
        ++counts[std::string(instrument)];
        // The columns every row of the measurement's file starts with.
        const std::string when = FormatUtc(static_cast<uint64_t>(t));
        const std::string common =
            fmt::format("{},{},{},{},{},{},{}", m.measurement_id(), when, t, Num(m.x_m()),
                        Num(m.y_m()), Num(m.integration_s()), m.in_shadow() ? "true" : "false");
        const char* header =
            "measurement_id,onboard_time,onboard_ns,x_m,y_m,integration_s,in_shadow";
        std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
        std::string bands, d1, d2, ice, total, weh;
        switch (m.result_case()) {
          case rover::v1::SoilMeasurement::kVnis: {
            const auto& v = m.vnis();
            out << header << ",wavelength_um,reflectance\n";
            for (int i = 0; i < v.reflectance_size(); ++i) {
              out << common << ',' << Num(v.start_wavelength_um() + i * v.step_um()) << ','
                  << Num(v.reflectance(i)) << '\n';
            }
            bands = std::to_string(v.reflectance_size());
            d1 = Num(v.band_depth_1um());
            d2 = Num(v.band_depth_2um());
            ice = Num(v.ice_band_depth_1_5um());
            break;
          }
          case rover::v1::SoilMeasurement::kApxs:
            out << header << ",oxide,wt_percent\n";
            for (const auto& [oxide, value] : Oxides(m.apxs())) {
              out << common << ',' << oxide << ',' << Num(value) << '\n';
            }
            total = Num(m.apxs().total_wt_percent());
            break;
          case rover::v1::SoilMeasurement::kNeutron: {
            const auto& n = m.neutron();
            out << header
                << ",thermal_counts_per_s,epithermal_counts_per_s,fast_counts_per_s,"
                   "hydrogen_weh_wt_percent\n"
                << common << ',' << Num(n.thermal_counts_per_s()) << ','
                << Num(n.epithermal_counts_per_s()) << ',' << Num(n.fast_counts_per_s()) << ','
                << Num(n.hydrogen_weh_wt_percent()) << '\n';
            weh = Num(n.hydrogen_weh_wt_percent());
            break;
          }
          default:
            out << header << '\n' << common << '\n';
        }
        out.close();
        if (!out) write_failed = true;
        index << m.measurement_id() << ',' << instrument << ',' << when << ',' << t << ','
              << Num(m.x_m()) << ',' << Num(m.y_m()) << ',' << Num(m.integration_s()) << ','
              << (m.in_shadow() ? "true" : "false") << ',' << name << ',' << bands << ',' << d1
              << ',' << d2 << ',' << ice << ',' << total << ',' << weh << '\n';
      });
  index.close();
  if (!index) write_failed = true;
  if (code == kExitUsage || code == kExitFailure) return code;
  size_t all = 0;
  std::string by;
  for (const auto& [instrument, n] : counts) {
    all += n;
    by += fmt::format("{}{} {}", by.empty() ? "" : ", ", n, instrument);
  }
  fmt::print(stderr, "gsctl export: {} soil measurement(s){} in {} (index.csv)\n", all,
             by.empty() ? "" : " (" + by + ")", o.science);
  if (write_failed) {
    fmt::print(stderr, "gsctl export: writing the science files in '{}' failed\n", o.science);
    return kExitFailure;
  }
  return code;
}

}  // namespace lgs::gsctl
