// ArchiveMaintainer: keeps a recording directory's parameter archive complete while a station
// records. Each file the recorder closes is summarized as soon as it closes; at start, every
// recording without a valid archive (a crash, a copy, an older build, a deleted archive) is
// summarized too, newest first, since recent history is asked for most. While it runs, a
// recording that appears in the directory (copied or moved in from another station or a backup)
// is summarized once it has stopped changing. The work runs on a thread of its own at low
// priority (nice 10): the ingest thread only queues a path. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "protocol/logger.h"

namespace lgs::station {

struct ArchiveMaintainerStats {
  uint64_t checked = 0;     // recordings looked at
  uint64_t up_to_date = 0;  // of which the archive was valid
  uint64_t built = 0;       // archives written
  uint64_t failed = 0;      // recordings that could not be summarized
  uint64_t arrived = 0;     // recordings that appeared while the station ran, summarized
  uint64_t recording_bytes = 0, archive_bytes = 0;  // of the archives built
  double build_seconds = 0.0;
  size_t pending = 0;  // queued or being built
};

class ArchiveMaintainer {
 public:
  // How often the directory is looked at for recordings that appeared, and how long a file must
  // have been left unchanged before it counts as arrived (a copy still under way is not).
  static constexpr std::chrono::milliseconds kPollInterval{1000}, kSettleTime{2000};

  ArchiveMaintainer(std::string directory, std::string rover_id, Logger& log);
  ~ArchiveMaintainer();  // finishes the archive being built, drops the rest (the next start does
                         // them)
  ArchiveMaintainer(const ArchiveMaintainer&) = delete;
  ArchiveMaintainer& operator=(const ArchiveMaintainer&) = delete;

  // Checks every recording of the rover but `writing` (the file being recorded) and queues
  // those whose archive is missing, stale or damaged.
  void Start(const std::string& writing);
  // The file the recorder writes now: never summarized while it is written.
  void FileOpened(const std::string& path);
  // A recording the recorder has closed: summarize it.
  void FileClosed(const std::string& path);

  ArchiveMaintainerStats stats() const;
  // Until nothing is queued or being built; false when `timeout` passed first.
  bool WaitIdle(std::chrono::milliseconds timeout);
  // Until every file FileClosed() named is summarized (not the start-up check's): a station
  // that stops leaves its last file summarized.
  bool WaitClosed(std::chrono::milliseconds timeout);

 private:
  // What a file's size and modification time were when it was last checked or summarized.
  struct Seen {
    uintmax_t size = 0;
    std::filesystem::file_time_type mtime;
    bool operator==(const Seen&) const = default;
  };

  void Run();
  // Whether it wrote an archive (not when the one there was valid, nor on failure).
  bool Build(const std::string& path, bool check_first);
  // Recordings that appeared or changed since the last look, newest first; with
  // `settled_only`, not those changed within kSettleTime (maintainer thread only).
  std::vector<std::string> Arrivals(bool settled_only);

  const std::string directory_, rover_id_;
  Logger& log_;
  mutable std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::deque<std::string> queue_;
  std::string writing_;  // guarded by mutex_
  bool busy_ = false, stop_ = false, scanning_ = false;
  ArchiveMaintainerStats stats_;
  // The maintainer thread's own: what it has looked at, and the directory as it last listed it.
  std::map<std::string, Seen> seen_;
  std::filesystem::file_time_type listed_mtime_;
  bool unsettled_ = false;
  std::thread thread_;
};

}  // namespace lgs::station
