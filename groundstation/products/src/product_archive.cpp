#include "groundstation/product_archive.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace lgs::station {

namespace fs = std::filesystem;
namespace cfdp = protocol::cfdp;

namespace {

// Sidecars are a few kB; anything much larger is not one of ours.
constexpr uintmax_t kMaxSidecarBytes = 1 << 20;

bool EndsWith(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

}  // namespace

Result<std::vector<KeptProduct>> ListKeptProducts(const std::string& directory, size_t max) {
  std::vector<KeptProduct> out;
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) return out;
  struct Found {
    fs::file_time_type time;
    fs::path sidecar;
  };
  std::vector<Found> found;
  for (const auto& entry : fs::directory_iterator(directory, ec)) {
    const std::string name = entry.path().filename().string();
    if (!EndsWith(name, ".json") || !IsProductName(name)) continue;
    std::error_code e;
    if (!entry.is_regular_file(e)) continue;
    // Only sidecars of a file beside them: a product named "x.json" has "x.json.json".
    const fs::path file = entry.path().parent_path() / name.substr(0, name.size() - 5);
    if (!fs::is_regular_file(file, e)) continue;
    found.push_back({entry.last_write_time(e), entry.path()});
  }
  if (ec) return Status::Error(fmt::format("cannot list '{}': {}", directory, ec.message()));
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
    return a.time != b.time ? a.time > b.time : a.sidecar > b.sidecar;
  });
  for (const Found& f : found) {
    if (out.size() >= max) break;
    std::error_code e;
    if (fs::file_size(f.sidecar, e) > kMaxSidecarBytes || e) continue;
    std::ifstream in(f.sidecar);
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    const std::string sidecar = f.sidecar.filename().string();
    out.push_back({sidecar.substr(0, sidecar.size() - 5), std::move(j)});
  }
  return out;
}

bool IsProductName(std::string_view name) {
  return !name.empty() && name.size() <= 255 && name.front() != '.' &&
         name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

std::optional<std::string> PartialPath(const std::string& directory, std::string_view id) {
  const size_t dash = id.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == id.size()) return std::nullopt;
  uint64_t source = 0, sequence = 0;
  const char* end = id.data() + id.size();
  const auto a = std::from_chars(id.data(), id.data() + dash, source);
  const auto b = std::from_chars(id.data() + dash + 1, end, sequence);
  if (a.ec != std::errc() || a.ptr != id.data() + dash || b.ec != std::errc() || b.ptr != end) {
    return std::nullopt;
  }
  return fmt::format("{}/.partial/{}-{}.part", directory, source, sequence);
}

nlohmann::json ProgressJson(const ProductProgress& p) {
  const cfdp::TransactionView& t = p.view;
  nlohmann::json j;
  j["id"] = fmt::format("{}-{}", t.id.source, t.id.sequence);
  j["name"] = t.destination_name;
  j["state"] = cfdp::StateName(t.state);
  if (t.state == cfdp::TransactionState::kFailed) {
    j["condition"] = cfdp::ConditionName(t.condition);
    j["detail"] = t.detail;
  }
  j["mode"] = t.mode == cfdp::TransmissionMode::kAcknowledged ? "acknowledged" : "unacknowledged";
  if (t.file_size) {
    j["size"] = *t.file_size;
    j["progress"] =
        *t.file_size == 0
            ? 1.0
            : static_cast<double>(std::min(t.received_bytes, *t.file_size)) / *t.file_size;
  } else {
    j["size"] = nullptr;
    j["progress"] = nullptr;
  }
  j["received"] = t.received_bytes;
  j["missing"] = t.missing_bytes;
  nlohmann::json gaps = nlohmann::json::array();
  for (const cfdp::Extent& e : t.missing) gaps.push_back({e.start, e.end});
  j["gaps"] = std::move(gaps);
  j["naks_sent"] = t.naks_sent;
  j["stalled"] = t.stalled;
  j["rate_bps"] = p.rate_bps;
  j["eta_s"] = p.eta_s ? nlohmann::json(*p.eta_s) : nlohmann::json(nullptr);
  j["camera"] = p.camera;
  return j;
}

}  // namespace lgs::station
