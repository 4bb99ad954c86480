#include "groundstation/static_files.h"

#include <fmt/format.h>

#include <array>
#include <fstream>
#include <sstream>

namespace lgs::station {
namespace {

namespace fs = std::filesystem;

// Each file is bounded so a stray large file in a mount cannot fill the station's memory.
constexpr uintmax_t kMaxFileBytes = 32u << 20;

bool SafeRelative(std::string_view rest) {
  if (rest.find('\\') != std::string_view::npos || rest.find('\0') != std::string_view::npos ||
      rest.find('%') != std::string_view::npos) {
    return false;
  }
  size_t start = 0;
  while (start <= rest.size()) {
    const size_t end = std::min(rest.find('/', start), rest.size());
    const std::string_view segment = rest.substr(start, end - start);
    if (segment.starts_with('.')) return false;  // "..", ".hidden"
    start = end + 1;
  }
  return true;
}

HttpResponse Error(unsigned status, const std::string& why) {
  return {status, "application/json", fmt::format("{{\"error\":\"{}\"}}", why)};
}

}  // namespace

std::string_view ContentTypeOf(std::string_view path) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".ico", "image/x-icon"},
      {".woff", "font/woff"},
      {".ttf", "font/ttf"},
  }};
  for (const auto& [ext, type] : kTypes) {
    if (path.ends_with(ext)) return type;
  }
  return "application/octet-stream";
}

StaticFiles::StaticFiles(std::vector<Mount> mounts) : mounts_(std::move(mounts)) {
  // Longest prefix first, so "/openmct/" wins over "/".
  std::sort(mounts_.begin(), mounts_.end(),
            [](const Mount& a, const Mount& b) { return a.prefix.size() > b.prefix.size(); });
}

std::optional<HttpResponse> StaticFiles::Serve(const std::string& path) {
  for (const Mount& mount : mounts_) {
    if (!path.starts_with(mount.prefix)) continue;
    std::string rest = path.substr(mount.prefix.size());
    if (rest.empty()) rest = "index.html";
    if (!SafeRelative(rest)) return Error(400, "bad path");
    std::error_code ec;
    const fs::path base = fs::weakly_canonical(mount.directory, ec);
    const fs::path file = fs::weakly_canonical(base / rest, ec);
    // A symlink inside the mount must not lead out of it.
    const std::string base_text = base.string() + "/";
    if (ec || !file.string().starts_with(base_text)) return Error(404, "no such file");
    if (!fs::is_regular_file(file, ec)) {
      if (!fs::exists(mount.directory, ec)) {
        return Error(503, fmt::format("the web files are not installed ({} is missing); run "
                                      "tools/setup",
                                      mount.directory));
      }
      return Error(404, "no such file");
    }
    const auto modified = fs::last_write_time(file, ec);
    const uintmax_t size = fs::file_size(file, ec);
    if (ec) return Error(404, "no such file");
    if (size > kMaxFileBytes) return Error(413, "file too large to serve");
    Cached& cached = cache_[file.string()];
    if (cached.body.empty() || cached.modified != modified) {
      std::ifstream in(file, std::ios::binary);
      std::ostringstream content;
      content << in.rdbuf();
      if (!in && !in.eof()) return Error(500, "cannot read the file");
      cached = {modified, content.str()};
    }
    HttpResponse response{200, std::string(ContentTypeOf(rest)), cached.body};
    response.cache_control = mount.cache_control;
    return response;
  }
  return std::nullopt;
}

}  // namespace lgs::station
