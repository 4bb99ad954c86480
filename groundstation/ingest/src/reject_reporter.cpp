#include "groundstation/reject_reporter.h"

#include "protocol/text.h"

namespace lgs::station {

void RejectReporter::Report(protocol::RejectReason reason, std::string_view detail,
                            Clock::time_point now) {
  PerReason& s = state_[static_cast<size_t>(reason)];
  if (s.logged && now - s.last_log < interval_) {
    ++s.suppressed;
    return;
  }
  const auto& info = protocol::InfoOf(reason);
  // The detail can quote the offending bytes (a topic): never raw to a terminal.
  const std::string shown = text::EscapeForTerminal(detail, 200);
  if (s.suppressed > 0) {
    log_.Warn("rejected ({}): {}: {} [and {} more since the last report]", info.name,
              info.description, shown, s.suppressed);
  } else {
    log_.Warn("rejected ({}): {}: {}", info.name, info.description, shown);
  }
  s.logged = true;
  s.last_log = now;
  s.suppressed = 0;
}

}  // namespace lgs::station
