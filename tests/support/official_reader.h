// Test support: the official TypeScript MCAP readers (npm @mcap/*) run on our files by
// tests/mcap/check_mcap.mjs, as an independent judge of what we write.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/process.h"

namespace lgs::test {

// One JSON object per file: {"file","ok","messages","decoded","chunks","topics"} or
// {"ok":false,"error"}.
inline std::vector<nlohmann::json> CheckWithOfficialReaders(const std::vector<std::string>& files) {
  ScratchDir dir;
  std::vector<std::string> args = {std::string(LGS_SOURCE_DIR) + "/tests/mcap/check_mcap.mjs"};
  args.insert(args.end(), files.begin(), files.end());
  ChildProcess node(LGS_NODE, args, dir.path(), "node");
  const auto code = node.Wait(std::chrono::seconds(120));
  std::vector<nlohmann::json> results;
  for (const std::string& line : ReadLines(dir.path() / "node.stdout")) {
    results.push_back(nlohmann::json::parse(line));
  }
  if (!code || results.size() != files.size()) {
    results.clear();
    results.push_back({{"ok", false}, {"error", "node failed: " + node.Stderr()}});
  }
  return results;
}

}  // namespace lgs::test
