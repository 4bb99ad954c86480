// ChildProcess: a program started with posix_spawn — stdin from /dev/null, stdout and stderr to
// files (the same file for both when the paths are equal) — that is always reaped: the destructor
// kills one still running. Once it has exited, its CPU time and page faults are known (wait4);
// while it runs, its resident memory can be read. gsctl bench and the tests start the station,
// the emulator and gsctl with it.
//
// Not thread-safe: one owner.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lgs::process {

class ChildProcess {
 public:
  ChildProcess(const std::string& program, std::vector<std::string> args,
               const std::filesystem::path& stdout_path, const std::filesystem::path& stderr_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  void Signal(int signal);
  // Exit code, or empty if it did not exit within `timeout`. A death by signal gives 128+sig.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // Waits as long as it takes (-1 when it never started).
  int Wait();
  bool Running();

  // After it exited: user + system CPU seconds, and pages it touched anew (memory returned to
  // the kernel and taken again counts each time).
  double cpu_s() const { return cpu_s_; }
  uint64_t minor_faults() const { return minor_faults_; }
  // While it runs: resident memory (VmRSS), 0 when unknown.
  uint64_t RssBytes() const;

  const std::filesystem::path& stdout_path() const { return stdout_path_; }
  const std::filesystem::path& stderr_path() const { return stderr_path_; }

 private:
  // Reaps it if it has exited (or, `block`, once it does); true when reaped.
  bool Reap(bool block);

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  double cpu_s_ = 0;
  uint64_t minor_faults_ = 0;
  std::filesystem::path stdout_path_, stderr_path_;
};

}  // namespace lgs::process
