// gsctl keygen: CurveZMQ key pairs for the rover and the ground stations.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "protocol/text.h"
#include "transport/curve_keys.h"

namespace lgs::gsctl {

int RunKeygen(const KeygenOptions& o) {
  // 1-64 of A-Z a-z 0-9 . _ -, not starting with '.': a file name on any file system.
  const bool name_ok =
      !o.name.empty() && o.name.size() <= 64 && !o.name.starts_with('.') &&
      std::all_of(o.name.begin(), o.name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
      });
  if (!name_ok) {
    fmt::print(stderr,
               "gsctl keygen: '{}' is not a key name (1-64 letters, digits, '.', '_' or '-', "
               "e.g. rover)\n",
               text::EscapeForTerminal(o.name, 80));
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
