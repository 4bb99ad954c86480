// gsctl index: builds (or checks) the parameter archive of recordings — the sidecar summaries a
// station's history answers long ranges from (groundstation/parameter_archive.h). Recordings
// whose archive is valid are left alone; the rest are summarized on --jobs threads.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "commands.h"
#include "common.h"
#include "groundstation/parameter_archive.h"

namespace lgs::gsctl {

namespace fs = std::filesystem;
using nlohmann::json;

int RunIndex(const IndexOptions& o) {
  std::vector<std::string> recordings;
  for (const std::string& arg : o.paths) {
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      for (fs::directory_iterator it(arg, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file(ec) && it->path().extension() == ".mcap") {
          recordings.push_back(it->path().string());
        }
      }
      if (ec) {
        fmt::print(stderr, "gsctl index: cannot list {}: {}\n", arg, ec.message());
        return kExitFailure;
      }
    } else if (fs::is_regular_file(arg, ec)) {
      recordings.push_back(arg);
    } else {
      fmt::print(stderr, "gsctl index: {} is neither a recording nor a directory of them\n", arg);
      return kExitUsage;
    }
  }
  std::sort(recordings.begin(), recordings.end());
  recordings.erase(std::unique(recordings.begin(), recordings.end()), recordings.end());

  struct Outcome {
    station::ArchiveState before = station::ArchiveState::kMissing;
    std::string reason;
    bool built = false, failed = false;
    uint64_t recording_bytes = 0, archive_bytes = 0, samples = 0;
  };
  std::vector<Outcome> outcomes(recordings.size());
  uint64_t total_bytes = 0;
  for (const std::string& r : recordings) {
    std::error_code ec;
    total_bytes += fs::file_size(r, ec);
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> done_bytes{0};
  std::atomic<unsigned> running{0};
  const auto work = [&] {
    for (size_t i = next++; i < recordings.size(); i = next++) {
      Outcome& out = outcomes[i];
      std::error_code ec;
      out.recording_bytes = fs::file_size(recordings[i], ec);
      out.before = station::CheckArchive(recordings[i], &out.reason);
      if (!o.check && (o.force || out.before != station::ArchiveState::kValid)) {
        auto built = station::BuildArchive(recordings[i]);
        if (built.ok()) {
          out.built = true;
          out.archive_bytes = built->archive_bytes;
          out.samples = built->samples;
        } else {
          out.failed = true;
          out.reason = built.error().message();
        }
      } else {
        out.archive_bytes = fs::file_size(station::ArchivePathFor(recordings[i]), ec);
        if (ec) out.archive_bytes = 0;
      }
      done_bytes += out.recording_bytes;
    }
    --running;
  };
  const unsigned jobs =
      std::max(1u, std::min<unsigned>(o.jobs, static_cast<unsigned>(recordings.size())));
  std::vector<std::thread> threads;
  running = jobs;
  for (unsigned j = 0; j < jobs; ++j) threads.emplace_back(work);
  ProgressBar bar(o.check ? "checking" : "indexing", total_bytes);
  while (running.load() > 0) {
    bar.Update(done_bytes.load(), "bytes");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (std::thread& t : threads) t.join();
  bar.Finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  size_t valid = 0, built = 0, failed = 0, not_valid = 0;
  uint64_t recording_bytes = 0, archive_bytes = 0;
  json files = json::array();
  for (size_t i = 0; i < recordings.size(); ++i) {
    const Outcome& out = outcomes[i];
    valid += out.before == station::ArchiveState::kValid;
    not_valid += out.before != station::ArchiveState::kValid;
    built += out.built;
    failed += out.failed;
    recording_bytes += out.recording_bytes;
    archive_bytes += out.archive_bytes;
    if (out.failed) {
      fmt::print(stderr, "gsctl index: {}: {}\n", recordings[i], out.reason);
    } else if (o.check && out.before != station::ArchiveState::kValid && !o.json) {
      fmt::print("{}: {} ({})\n", recordings[i], station::ArchiveStateName(out.before), out.reason);
    }
    json f = {{"recording", recordings[i]},
              {"was", station::ArchiveStateName(out.before)},
              {"built", out.built},
              {"recording_bytes", out.recording_bytes},
              {"archive_bytes", out.archive_bytes}};
    if (!out.reason.empty() && out.before != station::ArchiveState::kValid) {
      f["reason"] = out.reason;
    }
    if (out.failed) f["error"] = out.reason;
    files.push_back(std::move(f));
  }
  const double percent =
      recording_bytes > 0 ? 100.0 * static_cast<double>(archive_bytes) / recording_bytes : 0.0;
  if (o.json) {
    fmt::print("{}\n", json{{"recordings", recordings.size()},
                            {"up_to_date", valid},
                            {"built", built},
                            {"failed", failed},
                            {"recording_bytes", recording_bytes},
                            {"archive_bytes", archive_bytes},
                            {"archive_percent", percent},
                            {"seconds", seconds},
                            {"files", files}}
                           .dump());
  } else if (o.check) {
    fmt::print("{} recording(s): {} with a valid archive, {} without\n", recordings.size(), valid,
               not_valid);
  } else {
    fmt::print(
        "{} recording(s): {} already indexed, {} indexed now, {} failed; archive {:.2f} MB for "
        "{:.1f} MB of recordings ({:.2f} %), {:.1f} s\n",
        recordings.size(), valid, built, failed, archive_bytes / 1e6, recording_bytes / 1e6,
        percent, seconds);
  }
  if (failed > 0) return kExitFailure;
  if (o.check && not_valid > 0) return kExitFailure;
  return kExitOk;
}

}  // namespace lgs::gsctl
