// Test support: real child processes (the emulator, the station) and scratch directories.
//
// ChildProcess starts a program with posix_spawn, captures its stdout and stderr into files in a
// scratch directory, and is always reaped: the destructor kills a process still running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace lgs::test {

// A fresh directory under the system temp dir, removed with everything in it at destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string File(const std::string& name) const { return (path_ / name).string(); }
  // "ipc://<dir>/<name>.ipc": a private endpoint nobody else can collide with.
  std::string IpcEndpoint(const std::string& name) const;

 private:
  std::filesystem::path path_;
};

class ChildProcess {
 public:
  ChildProcess(std::string program, std::vector<std::string> args,
               const std::filesystem::path& output_dir, const std::string& name);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  void Signal(int signal);
  // Exit code, or empty if it did not exit within the timeout. A death by signal gives 128+sig.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  bool Running();

  std::string Stdout() const;
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::filesystem::path stdout_path_, stderr_path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreeTcpPort();

std::string ReadFile(const std::filesystem::path& path);
std::vector<std::string> ReadLines(const std::filesystem::path& path);

// Polls `condition` every 20 ms until it holds or the timeout passes; returns its last value.
template <typename F>
bool WaitUntil(F condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace lgs::test
