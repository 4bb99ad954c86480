// Test support: gsctl run to its end, with what it printed. For the integration tests (it needs
// their LGS_GSCTL_BIN); its output files go beside the test's other logs in `dir`.
//
// Not thread-safe: one call at a time per name in a directory.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "support/process.h"

namespace lgs::test {

struct GsctlResult {
  int code = -1;  // -1: it did not end in time
  std::string out, err;
};

inline GsctlResult Gsctl(const ScratchDir& dir, std::vector<std::string> args,
                         std::chrono::seconds timeout = std::chrono::seconds(60)) {
  ChildProcess gsctl(LGS_GSCTL_BIN, std::move(args), dir.path(), "gsctl");
  GsctlResult r;
  r.code = gsctl.Wait(timeout).value_or(-1);
  r.out = gsctl.Stdout();
  r.err = gsctl.Stderr();
  return r;
}

}  // namespace lgs::test
