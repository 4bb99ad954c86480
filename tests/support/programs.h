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

// Flags and values, in the order given.
class ArgList {
 public:
  std::vector<std::string> Args() const { return args_; }

 protected:
  void Add(std::string flag) { args_.push_back(std::move(flag)); }
  void Add(std::string flag, std::string value) {
    args_.push_back(std::move(flag));
    args_.push_back(std::move(value));
  }
  std::vector<std::string> args_;
};

// rover_emulator. By default: --insecure (Keys() replaces it) and no command endpoint.
class EmulatorArgs : public ArgList {
 public:
  EmulatorArgs() = default;

  EmulatorArgs& Bind(std::string endpoint) { return Set("--bind", std::move(endpoint)); }
  EmulatorArgs& CommandBind(std::string endpoint) {
    command_bind_ = std::move(endpoint);
    return *this;
  }
  // CurveZMQ: the rover's key pair and the stations it lets in.
  EmulatorArgs& Keys(std::string secret_key, std::vector<std::string> allowed_keys);
  EmulatorArgs& Scenario(std::string name) { return Set("--scenario", std::move(name)); }
  EmulatorArgs& Speed(double speed) { return Set("--speed", Number(speed)); }
  EmulatorArgs& Duration(double seconds) { return Set("--duration", Number(seconds)); }
  EmulatorArgs& Until(std::string mission_time) { return Set("--until", std::move(mission_time)); }
  EmulatorArgs& Seed(uint64_t seed) { return Set("--seed", std::to_string(seed)); }
  EmulatorArgs& IdealLink() { return Flag("--ideal-link"); }
  EmulatorArgs& WaitForSubscribers(int count = 1) {
    return Set("--wait-for-subscribers", std::to_string(count));
  }
  EmulatorArgs& Truth(std::string path) { return Set("--truth", std::move(path)); }
  EmulatorArgs& MissionStart(int64_t unix_s) {
    return Set("--mission-start", std::to_string(unix_s));
  }
  EmulatorArgs& ServeAfterEnd(double seconds) { return Set("--serve-after-end", Number(seconds)); }
  EmulatorArgs& Arg(std::string flag, std::string value) {
    return Set(std::move(flag), std::move(value));
  }
  EmulatorArgs& Flag(std::string flag) {
    Add(std::move(flag));
    return *this;
  }
  // Arguments a test was handed as they are.
  EmulatorArgs& Append(const std::vector<std::string>& more) {
    args_.insert(args_.end(), more.begin(), more.end());
    return *this;
  }

  std::vector<std::string> Args() const;

 private:
  EmulatorArgs& Set(std::string flag, std::string value) {
    Add(std::move(flag), std::move(value));
    return *this;
  }
  static std::string Number(double v);
  std::vector<std::string> keys_;
  std::string command_bind_ = "none";
};

// groundstation. By default: --insecure (Keys() replaces it).
class StationArgs : public ArgList {
 public:
  StationArgs() = default;

  StationArgs& Connect(std::string endpoint) { return Set("--connect", std::move(endpoint)); }
  // CurveZMQ: this station's key pair and the rover's public key.
  StationArgs& Keys(std::string secret_key, std::string rover_key);
  StationArgs& Jsonl(std::string path) { return Set("--jsonl", std::move(path)); }
  StationArgs& SummaryJson(std::string path) { return Set("--summary-json", std::move(path)); }
  StationArgs& Record(std::string directory) { return Set("--record", std::move(directory)); }
  StationArgs& Resume() { return Flag("--resume"); }
  StationArgs& GapFill(std::string uplink) {
    return Flag("--gap-fill").Set("--uplink", std::move(uplink));
  }
  StationArgs& Uplink(std::string uplink) { return Set("--uplink", std::move(uplink)); }
  StationArgs& Command() { return Flag("--command"); }
  // The control channel and its token, private to a test.
  StationArgs& Control(const ScratchDir& dir, const std::string& name = "control");
  StationArgs& Http(int port) { return Set("--http", "127.0.0.1:" + std::to_string(port)); }
  StationArgs& NoHttp() { return Set("--http", "none"); }
  StationArgs& StatsInterval(double seconds) { return Set("--stats-interval", Number(seconds)); }
  StationArgs& IdleExit(double seconds) { return Set("--idle-exit", Number(seconds)); }
  StationArgs& Duration(double seconds) { return Set("--duration", Number(seconds)); }
  StationArgs& LightTime(double seconds) { return Set("--light-time", Number(seconds)); }
  StationArgs& Quiet() { return Flag("--quiet"); }
  StationArgs& Arg(std::string flag, std::string value) {
    return Set(std::move(flag), std::move(value));
  }
  StationArgs& Flag(std::string flag) {
    Add(std::move(flag));
    return *this;
  }
  // Arguments a test was handed as they are.
  StationArgs& Append(const std::vector<std::string>& more) {
    args_.insert(args_.end(), more.begin(), more.end());
    return *this;
  }

  std::vector<std::string> Args() const;

 private:
  StationArgs& Set(std::string flag, std::string value) {
    Add(std::move(flag), std::move(value));
    return *this;
  }
  static std::string Number(double v);
  std::vector<std::string> keys_;
};

// gsctl replay FILE...: a recording published again. By default: --insecure.
class ReplayArgs : public ArgList {
 public:
  explicit ReplayArgs(std::vector<std::string> files) : files_(std::move(files)) {}

  ReplayArgs& Bind(std::string endpoint) { return Set("--bind", std::move(endpoint)); }
  ReplayArgs& Max() { return Flag("--max"); }
  ReplayArgs& Speed(double speed);
  ReplayArgs& WaitForSubscribers(int count = 1) {
    return Set("--wait-for-subscribers", std::to_string(count));
  }
  ReplayArgs& Arg(std::string flag, std::string value) {
    return Set(std::move(flag), std::move(value));
  }
  ReplayArgs& Flag(std::string flag) {
    Add(std::move(flag));
    return *this;
  }
  // Arguments a test was handed as they are.
  ReplayArgs& Append(const std::vector<std::string>& more) {
    args_.insert(args_.end(), more.begin(), more.end());
    return *this;
  }

  std::vector<std::string> Args() const;

 private:
  ReplayArgs& Set(std::string flag, std::string value) {
    Add(std::move(flag), std::move(value));
    return *this;
  }
  std::vector<std::string> files_;
};

}  // namespace lgs::test
