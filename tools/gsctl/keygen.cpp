// gsctl keygen: CurveZMQ key pairs for the rover and the ground stations.
#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "protocol/text.h"
#include "transport/curve_keys.h"

namespace lgs::gsctl {

int RunKeygen(const KeygenOptions& o) {
  if (o.name.empty() || o.name.find('/') != std::string::npos || o.name.starts_with('.')) {
    fmt::print(stderr, "gsctl keygen: '{}' is not a key name (a plain file name, e.g. rover)\n",
               o.name);
    return kExitUsage;
  }
  auto pair = transport::GenerateCurveKeyPair();
  if (!pair.ok()) {
    fmt::print(stderr, "gsctl keygen: {}\n", pair.error().message());
    return kExitFailure;
  }
  if (Status s = transport::WriteCurveKeyPair(*pair, o.dir, o.name, o.force); !s.ok()) {
    fmt::print(stderr, "gsctl keygen: {}\n", s.message());
    return kExitFailure;
  }
  const std::string secret = (std::filesystem::path(o.dir) / (o.name + ".key")).string();
  const std::string pub = (std::filesystem::path(o.dir) / (o.name + ".pub")).string();
  if (o.json) {
    fmt::print("{}\n", text::JsonDump(nlohmann::json{{"secret_file", secret},
                                                     {"public_file", pub},
                                                     {"public_key", pair->public_z85}}));
  } else {
    fmt::print("wrote {} (secret, mode 0600) and {} (public: give it to the other side)\n", secret,
               pub);
    fmt::print("public key: {}\n", pair->public_z85);
  }
  return kExitOk;
}

}  // namespace lgs::gsctl
