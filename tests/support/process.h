// Test support: real child processes (the emulator, the station) and scratch directories.
//
// ChildProcess starts a program (tools/process), captures its stdout and stderr into files in a
// scratch directory, and is always reaped: the destructor kills a process still running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "process/child_process.h"

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

// A program under test, its stdout and stderr captured as <output_dir>/<name>.stdout and
// .stderr (tools/process: the same child-process code gsctl bench uses).
class ChildProcess : public process::ChildProcess {
 public:
  ChildProcess(std::string program, std::vector<std::string> args,
               const std::filesystem::path& output_dir, const std::string& name)
      : process::ChildProcess(program, std::move(args), output_dir / (name + ".stdout"),
                              output_dir / (name + ".stderr")) {}

  std::string Stdout() const;
  std::string Stderr() const;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreeTcpPort();

std::string ReadFile(const std::filesystem::path& path);
std::vector<std::string> ReadLines(const std::filesystem::path& path);
// The file's SHA-256 as coreutils' sha256sum prints it (an outside judge of our own hashing);
// "" if it cannot be read.
std::string Sha256Sum(const std::filesystem::path& path);

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
