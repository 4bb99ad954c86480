// The product archive as readers see it: the files the station kept in --products DIR with their
// JSON sidecars (newest first), the transfers in flight as JSON, and what may be served from the
// directory. The web's /api/products and /api/images and `gsctl products` read it.
//
// Thread-safe: functions of their arguments and the files (a file being written may be missed
// or seen without its sidecar: it is listed again at the next call).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "groundstation/product_sink.h"
#include "protocol/status.h"

namespace lgs::station {

struct KeptProduct {
  std::string name;        // the file's name in the directory ("navcam_left_000012.jpg")
  nlohmann::json sidecar;  // as ProductSink wrote it
};

// The newest `max` kept products (by when they were kept); a sidecar that does not parse is
// left out. An absent directory is an empty archive.
[[nodiscard]] Result<std::vector<KeptProduct>> ListKeptProducts(const std::string& directory,
                                                                size_t max);

// A name a client may ask for: a plain file name of the directory (no path, not hidden).
bool IsProductName(std::string_view name);
// The path of a transfer's partial file ("7-12" -> DIR/.partial/7-12.part), or none for an ID
// that is not "<source>-<sequence>".
std::optional<std::string> PartialPath(const std::string& directory, std::string_view id);

// A transfer for the API: id "<source>-<sequence>", name, state, size, received, missing
// (octets and the first gaps), progress 0..1, rate, ETA, camera.
nlohmann::json ProgressJson(const ProductProgress& progress);

}  // namespace lgs::station
