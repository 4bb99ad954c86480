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
  writing_ = writing;
  thread_ = std::thread([this] { Run(); });
}

void ArchiveMaintainer::FileOpened(const std::string& path) {
  std::lock_guard lock(mutex_);
  writing_ = path;
}

void ArchiveMaintainer::FileClosed(const std::string& path) {
  {
    std::lock_guard lock(mutex_);
    if (writing_ == path) writing_.clear();
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

bool ArchiveMaintainer::Build(const std::string& path, bool check_first) {
  std::error_code ec;
  const Seen seen{fs::file_size(path, ec), fs::last_write_time(path, ec)};
  if (!ec) seen_[path] = seen;
  // A file that was still changing (a copy under way at start) is looked at again until it
  // settles; if it changed, it is summarized again.
  if (!ec && seen.mtime > fs::file_time_type::clock::now() - kSettleTime) unsettled_ = true;
  std::string why;
  if (check_first) {
    const ArchiveState state = CheckArchive(path, &why);
    std::lock_guard lock(mutex_);
    ++stats_.checked;
    if (state == ArchiveState::kValid) {
      ++stats_.up_to_date;
      return false;
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
    return false;
  }
  ++stats_.built;
  stats_.recording_bytes += built->recording_bytes;
  stats_.archive_bytes += built->archive_bytes;
  stats_.build_seconds += seconds;
  log_.Debug("parameter archive: {} summarized ({} samples, {} kB) in {:.2f} s", path,
             built->samples, built->archive_bytes / 1024, seconds);
  return true;
}

std::vector<std::string> ArchiveMaintainer::Arrivals(bool settled_only) {
  std::error_code ec;
  const fs::file_time_type dir_mtime = fs::last_write_time(directory_, ec);
  // A file arrives by a new directory entry; one still being copied is looked at again.
  if (ec || (dir_mtime == listed_mtime_ && !unsettled_)) return {};
  listed_mtime_ = dir_mtime;
  unsettled_ = false;
  std::string writing;
  {
    std::lock_guard lock(mutex_);
    writing = writing_;
  }
  const fs::file_time_type settled_before = fs::file_time_type::clock::now() - kSettleTime;
  std::vector<std::string> arrived;
  for (fs::directory_iterator it(directory_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string path = it->path().string();
    if (path == writing ||
        !protocol::recording::IsRecordingOf(it->path().filename().string(), rover_id_)) {
      continue;
    }
    std::error_code stat_ec;
    const Seen now{fs::file_size(it->path(), stat_ec), fs::last_write_time(it->path(), stat_ec)};
    if (stat_ec) continue;
    const auto known = seen_.find(path);
    if (known != seen_.end() && known->second == now) continue;
    if (settled_only && now.mtime > settled_before) {
      unsettled_ = true;
      continue;
    }
    arrived.push_back(path);
  }
  std::sort(arrived.begin(), arrived.end(), [](const std::string& a, const std::string& b) {
    return protocol::recording::RecordingOrder(b, a);  // newest first
  });
  return arrived;
}

void ArchiveMaintainer::Run() {
  // Below the ingest and web threads: summaries can wait, packets cannot.
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
  // The start-up check is the first look at the directory: everything in it is checked, even
  // what closed a moment ago (a station restarted at once).
  std::vector<std::string> paths = Arrivals(false);
  const auto t0 = std::chrono::steady_clock::now();
  size_t next = 0;
  std::unique_lock lock(mutex_);
  while (!stop_) {
    std::string path;
    bool closed = false;
    if (!queue_.empty()) {
      // A file the recorder closed goes before the start-up check's.
      path = queue_.front();
      queue_.pop_front();
      closed = true;
    } else if (next < paths.size()) {
      path = paths[next++];
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
      if (wake_.wait_for(lock, kPollInterval, [this] { return stop_ || !queue_.empty(); })) {
        continue;
      }
      lock.unlock();
      paths = Arrivals(true);
      next = 0;
      lock.lock();
      continue;
    }
    busy_ = true;
    lock.unlock();
    const bool built = Build(path, !closed);
    lock.lock();
    busy_ = false;
    if (built && !closed && !scanning_) {
      ++stats_.arrived;
      log_.Info("parameter archive: {} appeared while recording; summarized", path);
    }
    if (closed) {
      --stats_.pending;
      idle_.notify_all();
    }
  }
}

}  // namespace lgs::station
