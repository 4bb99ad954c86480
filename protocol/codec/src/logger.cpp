#include "protocol/logger.h"

namespace lgs {
namespace {

class Null final : public Logger {
 public:
  bool Enabled(LogLevel) const override { return false; }
  void Write(LogLevel, std::string_view) override {}
};

}  // namespace

Logger& NullLogger() {
  static Null null;
  return null;
}

}  // namespace lgs
