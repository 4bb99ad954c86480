// StaticFiles: serves the web UI's files (our page and plugin, and Open MCT's distribution) from
// directories mounted under URL prefixes. Only regular files inside a mount are served: no
// "..", no hidden files, no symlinks out. Files are read once and kept in memory (the whole UI
// is a few MB); a file changed on disk is read again. Not thread-safe (the Asio thread owns it).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "groundstation/http_server.h"

namespace lgs::station {

class StaticFiles {
 public:
  struct Mount {
    std::string prefix;  // "/", "/openmct/"
    std::string directory;
    std::string cache_control;  // "no-cache" for ours, "max-age=3600" for a library
  };
  explicit StaticFiles(std::vector<Mount> mounts);

  // The answer for a GET of `path`, or nothing when no mount covers it. "/" serves index.html.
  std::optional<HttpResponse> Serve(const std::string& path);

 private:
  struct Cached {
    std::filesystem::file_time_type modified;
    std::string body;
  };
  std::vector<Mount> mounts_;
  std::map<std::string, Cached> cache_;
};

// "text/javascript" for "x.js", ...; "application/octet-stream" when unknown.
std::string_view ContentTypeOf(std::string_view path);

}  // namespace lgs::station
