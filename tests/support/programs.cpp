#include "support/programs.h"

#include <fmt/format.h>

namespace lgs::test {

std::string FormatNumber(double v) {
  return fmt::format("{}", v);
}

EmulatorArgs& EmulatorArgs::Keys(std::string secret_key, std::vector<std::string> allowed_keys) {
  keys_ = {"--secret-key", std::move(secret_key)};
  for (std::string& key : allowed_keys) {
    keys_.push_back("--allow-key");
    keys_.push_back(std::move(key));
  }
  return *this;
}

std::vector<std::string> EmulatorArgs::Args() const {
  std::vector<std::string> args = keys_.empty() ? std::vector<std::string>{"--insecure"} : keys_;
  args.push_back("--command-bind");
  args.push_back(command_bind_);
  args.insert(args.end(), args_.begin(), args_.end());
  return args;
}

StationArgs& StationArgs::Keys(std::string secret_key, std::string rover_key) {
  keys_ = {"--secret-key", std::move(secret_key), "--rover-key", std::move(rover_key)};
  return *this;
}

StationArgs& StationArgs::Control(const ScratchDir& dir, const std::string& name) {
  return Arg("--control", dir.IpcEndpoint(name)).Arg("--control-token", dir.File(name + ".token"));
}

std::vector<std::string> StationArgs::Args() const {
  std::vector<std::string> args = keys_.empty() ? std::vector<std::string>{"--insecure"} : keys_;
  args.insert(args.end(), args_.begin(), args_.end());
  return args;
}

std::vector<std::string> ReplayArgs::Args() const {
  std::vector<std::string> args = {"replay"};
  args.insert(args.end(), files_.begin(), files_.end());
  args.push_back("--insecure");
  args.insert(args.end(), args_.begin(), args_.end());
  return args;
}

}  // namespace lgs::test
