// Test support: the emulator and the station under test, each described by one builder — the
// endpoints, the keys or --insecure, and the flags the tests use — so an argument list is not
// written out by hand in every test. Args() gives the command line; the test starts it with
// ChildProcess. Anything without a named setter goes through Arg().
//
// Plain values; not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "support/process.h"

namespace lgs::test {

// A number as the programs' options take it ("0.5", "60").
std::string FormatNumber(double v);

// Flags and values, in the order given. `Self` is the builder: every setter returns it.
template <class Self>
class ArgList {
 public:
  Self& Arg(std::string flag, std::string value) {
    args_.push_back(std::move(flag));
    args_.push_back(std::move(value));
    return static_cast<Self&>(*this);
  }
  Self& Flag(std::string flag) {
    args_.push_back(std::move(flag));
    return static_cast<Self&>(*this);
  }
  // Arguments a test was handed as they are.
  Self& Append(const std::vector<std::string>& more) {
    args_.insert(args_.end(), more.begin(), more.end());
    return static_cast<Self&>(*this);
  }

 protected:
  std::vector<std::string> args_;
};

// rover_emulator. By default: --insecure (Keys() replaces it) and no command endpoint.
class EmulatorArgs : public ArgList<EmulatorArgs> {
 public:
  EmulatorArgs() = default;

  EmulatorArgs& Bind(std::string endpoint) { return Arg("--bind", std::move(endpoint)); }
  EmulatorArgs& CommandBind(std::string endpoint) {
    command_bind_ = std::move(endpoint);
    return *this;
  }
  // CurveZMQ: the rover's key pair and the stations it lets in.
  EmulatorArgs& Keys(std::string secret_key, std::vector<std::string> allowed_keys);
  EmulatorArgs& Scenario(std::string name) { return Arg("--scenario", std::move(name)); }
  EmulatorArgs& Speed(double speed) { return Arg("--speed", FormatNumber(speed)); }
  EmulatorArgs& Duration(double seconds) { return Arg("--duration", FormatNumber(seconds)); }
  EmulatorArgs& Until(std::string mission_time) { return Arg("--until", std::move(mission_time)); }
  EmulatorArgs& Seed(uint64_t seed) { return Arg("--seed", std::to_string(seed)); }
  EmulatorArgs& IdealLink() { return Flag("--ideal-link"); }
  EmulatorArgs& WaitForSubscribers(int count = 1) {
    return Arg("--wait-for-subscribers", std::to_string(count));
  }
  EmulatorArgs& Truth(std::string path) { return Arg("--truth", std::move(path)); }
  EmulatorArgs& MissionStart(int64_t unix_s) {
    return Arg("--mission-start", std::to_string(unix_s));
  }
  EmulatorArgs& ServeAfterEnd(double seconds) {
    return Arg("--serve-after-end", FormatNumber(seconds));
  }

  std::vector<std::string> Args() const;

 private:
  std::vector<std::string> keys_;
  std::string command_bind_ = "none";
};

// groundstation. By default: --insecure (Keys() replaces it).
class StationArgs : public ArgList<StationArgs> {
 public:
  StationArgs() = default;

  StationArgs& Connect(std::string endpoint) { return Arg("--connect", std::move(endpoint)); }
  // CurveZMQ: this station's key pair and the rover's public key.
  StationArgs& Keys(std::string secret_key, std::string rover_key);
  StationArgs& Jsonl(std::string path) { return Arg("--jsonl", std::move(path)); }
  StationArgs& SummaryJson(std::string path) { return Arg("--summary-json", std::move(path)); }
  StationArgs& Record(std::string directory) { return Arg("--record", std::move(directory)); }
  StationArgs& Resume() { return Flag("--resume"); }
  StationArgs& GapFill(std::string uplink) {
    return Flag("--gap-fill").Arg("--uplink", std::move(uplink));
  }
  StationArgs& Uplink(std::string uplink) { return Arg("--uplink", std::move(uplink)); }
  // CFDP products into `directory`; NAKs and Finished resends every `retry_s` (tests run the
  // rover faster than real time, and the station's CFDP timers are wall-clock).
  StationArgs& Products(std::string directory, double retry_s) {
    return Arg("--products", std::move(directory)).Arg("--cfdp-retry", FormatNumber(retry_s));
  }
  StationArgs& Command() { return Flag("--command"); }
  // The control channel and its token, private to a test.
  StationArgs& Control(const ScratchDir& dir, const std::string& name = "control");
  StationArgs& Http(int port) { return Arg("--http", "127.0.0.1:" + std::to_string(port)); }
  StationArgs& NoHttp() { return Arg("--http", "none"); }
  StationArgs& StatsInterval(double seconds) {
    return Arg("--stats-interval", FormatNumber(seconds));
  }
  StationArgs& IdleExit(double seconds) { return Arg("--idle-exit", FormatNumber(seconds)); }
  StationArgs& Duration(double seconds) { return Arg("--duration", FormatNumber(seconds)); }
  StationArgs& LightTime(double seconds) { return Arg("--light-time", FormatNumber(seconds)); }
  StationArgs& Quiet() { return Flag("--quiet"); }

  std::vector<std::string> Args() const;

 private:
  std::vector<std::string> keys_;
};

// gsctl replay FILE...: a recording published again. By default: --insecure.
class ReplayArgs : public ArgList<ReplayArgs> {
 public:
  explicit ReplayArgs(std::vector<std::string> files) : files_(std::move(files)) {}

  ReplayArgs& Bind(std::string endpoint) { return Arg("--bind", std::move(endpoint)); }
  ReplayArgs& Max() { return Flag("--max"); }
  ReplayArgs& Speed(double speed) { return Arg("--speed", FormatNumber(speed)); }
  ReplayArgs& WaitForSubscribers(int count = 1) {
    return Arg("--wait-for-subscribers", std::to_string(count));
  }

  std::vector<std::string> Args() const;

 private:
  std::vector<std::string> files_;
};

}  // namespace lgs::test
