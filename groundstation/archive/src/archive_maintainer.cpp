#include "groundstation/archive_maintainer.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "groundstation/parameter_archive.h"
#include "protocol/recording_profile.h"

namespace lgs::station {

namespace fs = std::filesystem;

ArchiveMaintainer::ArchiveMaintainer(std::string directory, std::string rover_id, Logger& log)
    : directory_(std::move(directory)), rover_id_(std::move(rover_id)), log_(log) {}

ArchiveMaintainer::~ArchiveMaintainer() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ArchiveMaintainer::Start(const std::string& writing) {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  scanning_ = true;
  thread_ = std::thread([this, writing] { Run(writing); });
}

void ArchiveMaintainer::FileClosed(const std::string& path) {
  {
    std::lock_guard lock(mutex_);
    // Ahead of what the start-up check queued: the newest file is the one asked for.
    queue_.push_front(path);
    ++stats_.pending;
  }
  wake_.notify_one();
}

ArchiveMaintainerStats ArchiveMaintainer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool ArchiveMaintainer::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [this] { return queue_.empty() && !busy_ && !scanning_; });
}

bool ArchiveMaintainer::WaitClosed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [this] { return stats_.pending == 0; });
}

void ArchiveMaintainer::Build(const std::string& path, bool check_first) {
  std::string why;
  if (check_first) {
    const ArchiveState state = CheckArchive(path, &why);
    std::lock_guard lock(mutex_);
    ++stats_.checked;
    if (state == ArchiveState::kValid) {
      ++stats_.up_to_date;
      return;
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto built = BuildArchive(path);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::lock_guard lock(mutex_);
  if (!built.ok()) {
    ++stats_.failed;
    log_.Warn("parameter archive: cannot summarize {}: {} (history reads it message by message)",
              path, built.error().message());
    return;
  }
  ++stats_.built;
  stats_.recording_bytes += built->recording_bytes;
  stats_.archive_bytes += built->archive_bytes;
  stats_.build_seconds += seconds;
  log_.Debug("parameter archive: {} summarized ({} samples, {} kB) in {:.2f} s", path,
             built->samples, built->archive_bytes / 1024, seconds);
}

void ArchiveMaintainer::Run(std::string writing) {
  // Below the ingest and web threads: summaries can wait, packets cannot.
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
  std::vector<std::string> paths;
  std::error_code ec;
  for (fs::directory_iterator it(directory_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (protocol::recording::IsRecordingOf(name, rover_id_) && it->path().string() != writing) {
      paths.push_back(it->path().string());
    }
  }
  std::sort(paths.begin(), paths.end(), [](const std::string& a, const std::string& b) {
    return protocol::recording::RecordingOrder(b, a);  // newest first
  });
  const auto t0 = std::chrono::steady_clock::now();
  size_t next_scan = 0;
  std::unique_lock lock(mutex_);
  while (!stop_) {
    std::string path;
    bool closed = false;
    if (!queue_.empty()) {
      // A file the recorder closed goes before the start-up check's.
      path = queue_.front();
      queue_.pop_front();
      closed = true;
    } else if (next_scan < paths.size()) {
      path = paths[next_scan++];
    } else {
      if (scanning_) {
        scanning_ = false;
        if (!paths.empty()) {
          log_.Info(
              "parameter archive: {} recordings checked, {} up to date, {} summarized ({:.1f} MB "
              "of summaries for {:.1f} MB of recordings), {} failed, in {:.1f} s",
              stats_.checked, stats_.up_to_date, stats_.built, stats_.archive_bytes / 1e6,
              stats_.recording_bytes / 1e6, stats_.failed,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
      }
      idle_.notify_all();
      wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      continue;
    }
    busy_ = true;
    lock.unlock();
    Build(path, !closed);
    lock.lock();
    busy_ = false;
    if (closed) {
      --stats_.pending;
      idle_.notify_all();
    }
  }
}

}  // namespace lgs::station
