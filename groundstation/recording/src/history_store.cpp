#include "groundstation/history_store.h"

#include <fmt/format.h>
#include <google/protobuf/message.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <tuple>

#include "foxglove/CompressedImage.pb.h"
#include "ground/v1/ground.pb.h"
#include "groundstation/parameter_archive.h"
#include "groundstation/telemetry_format.h"
#include "protocol/mcap_reader.h"
#include "protocol/recording_profile.h"
#include "rover/v1/event.pb.h"
#include "rover/v1/navigation.pb.h"
#include "rover/v1/terrain.pb.h"

namespace lgs::station {
namespace {

namespace fs = std::filesystem;

// `latest` looks at the last 10 s of the newest file first (then 60 times more each time).
constexpr uint64_t kLatestFirstWindowNs = 10'000'000'000;
// Soil measurements one traverse answer carries at most (~28 hours of the default mix); over a
// longer range they are thinned evenly across it, and the rest counted in `sites_left_out`.
constexpr size_t kMaxSites = 20'000;
// Summaries (chunk indexes) of closed files kept between queries.
constexpr size_t kKeptSummaries = 48;

}  // namespace

HistoryStore::HistoryStore(std::string directory, std::string rover_id, Logger& log)
    : log_(log), directory_(std::move(directory)), rover_id_(std::move(rover_id)) {}

namespace {

// A file's size and modification time in one stat(); false when it is not there.
bool StatOf(const std::string& path, uintmax_t& size, int64_t& mtime_ns) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  size = static_cast<uintmax_t>(st.st_size);
  mtime_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
  return true;
}

}  // namespace

void HistoryStore::Refresh(const std::string& path, FileSpan& span) {
  uintmax_t size = 0, archive_size = 0;
  int64_t modified = 0, archive_modified = 0;
  if (!StatOf(path, size, modified)) {
    span = FileSpan{};
    span.gone = true;
    return;
  }
  const std::string archive = ArchivePathFor(path);
  if (!StatOf(archive, archive_size, archive_modified)) archive_size = 0;
  if (!span.gone && span.size == size && span.modified == modified &&
      span.archive_size == archive_size && span.archive_modified == archive_modified) {
    return;
  }
  span = FileSpan{};
  span.modified = modified;
  span.size = size;
  span.archive_modified = archive_modified;
  span.archive_size = archive_size;
  // A valid archive gives the file's span without reading the file: a station over months of
  // recordings lists them all in milliseconds.
  if (archive_size > 0) {
    auto opened = ArchiveReader::Open(archive);
    if (auto* reader = std::get_if<0>(&opened)) {
      if ((*reader)->Matches(path, size, modified) == ArchiveState::kValid) {
        const ArchiveHeader& h = (*reader)->header();
        span.archived = span.closed = true;
        span.start_ns = h.start_ns;
        span.end_ns = h.end_ns;
        if (h.messages == 0) span.start_ns = span.end_ns + 1;
      }
    } else {
      ArchiveProblem(archive, std::get<1>(opened).reason);
    }
  }
  if (!span.closed) {
    span.summary_tried = true;
    if (auto file = protocol::McapFile::Open(path); file.ok()) {
      if (auto summary = (*file)->ReadSummary(); summary.ok() && summary->statistics) {
        span.closed = true;
        span.start_ns = summary->statistics->message_start_time;
        span.end_ns = summary->statistics->message_end_time;
        if (summary->statistics->message_count == 0) span.start_ns = span.end_ns + 1;
        span.summary = std::make_shared<const protocol::McapSummary>(std::move(*summary));
      }
    }
  }
}

Result<std::vector<std::string>> HistoryStore::FilesFor(uint64_t start_ns, uint64_t end_ns) {
  ++query_;
  // The listing is read again only when the directory or its archive directory changed (a new
  // file, a split, a rename, a new archive); between, only the files still being written (no
  // summary, no archive) are looked at again. A month of hourly files costs a few stat() calls.
  uintmax_t ignored = 0;
  int64_t dir_mtime = 0, archive_dir_mtime = 0;
  if (!StatOf(directory_, ignored, dir_mtime)) {
    return Status::Error(fmt::format("cannot list recordings in {}: it is gone", directory_));
  }
  if (!StatOf(ArchiveDirectoryOf(directory_), ignored, archive_dir_mtime)) archive_dir_mtime = 0;
  const bool relist =
      !listed_ || dir_mtime != dir_mtime_ || archive_dir_mtime != archive_dir_mtime_;
  if (relist) {
    std::error_code ec;
    std::vector<std::string> names;
    for (fs::directory_iterator it(directory_, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (protocol::recording::IsRecordingOf(name, rover_id_)) {
        names.push_back(it->path().string());
      }
    }
    if (ec) {
      return Status::Error(
          fmt::format("cannot list recordings in {}: {}", directory_, ec.message()));
    }
    // Names start with the file's start time; several started in one second are numbered.
    std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
      return protocol::recording::RecordingOrder(a, b);
    });
    names_ = std::move(names);
    std::erase_if(spans_, [&](const auto& entry) {
      return !std::binary_search(names_.begin(), names_.end(), entry.first,
                                 [](const std::string& a, const std::string& b) {
                                   return protocol::recording::RecordingOrder(a, b);
                                 });
    });
    listed_ = true;
    dir_mtime_ = dir_mtime;
    archive_dir_mtime_ = archive_dir_mtime;
  }
  std::vector<std::string> out;
  for (const std::string& path : names_) {
    FileSpan& span = spans_[path];
    if (relist || !span.closed || span.gone) Refresh(path, span);
    if (span.gone) continue;
    if (span.closed && (span.end_ns < start_ns || span.start_ns > end_ns)) continue;
    span.used = query_;
    out.push_back(path);
  }
  // Summaries are large (a chunk index per second of recording): only those of the files the
  // last queries read are kept.
  std::vector<std::pair<uint64_t, FileSpan*>> loaded;
  for (auto& [path, span] : spans_) {
    if (span.summary && span.closed) loaded.emplace_back(span.used, &span);
  }
  if (loaded.size() > kKeptSummaries) {
    std::sort(loaded.begin(), loaded.end(),
              [](const auto& a, const auto& b) { return a.first > b.first; });
    for (size_t i = kKeptSummaries; i < loaded.size(); ++i) {
      loaded[i].second->summary.reset();
      loaded[i].second->summary_tried = false;
    }
  }
  return out;
}

void HistoryStore::ArchiveProblem(const std::string& path, const std::string& reason) {
  std::string& said = reported_[path];
  if (said == reason) return;
  said = reason;
  log_.Warn("history: not using the parameter archive {}; its recording is read instead", reason);
}

template <typename OnMessage>
Status HistoryStore::ForEachMessage(const std::string& path, const std::vector<std::string>& topics,
                                    uint64_t start_ns, uint64_t end_ns, uint64_t& chunks_read,
                                    OnMessage&& on_message) {
  auto file = protocol::McapFile::Open(path);
  if (!file.ok()) return file.error();
  protocol::McapReadOptions options;
  options.start_ns = start_ns;
  options.end_ns = end_ns;
  protocol::McapMessageReader reader(**file, options);
  if (const auto span = spans_.find(path);
      span != spans_.end() && span->second.closed && !span->second.summary_tried) {
    // An archived file's summary is read only when its messages are wanted.
    span->second.summary_tried = true;
    if (auto summary = (*file)->ReadSummary(); summary.ok()) {
      span->second.summary = std::make_shared<const protocol::McapSummary>(std::move(*summary));
    }
  }
  if (const auto span = spans_.find(path); span != spans_.end() && span->second.summary) {
    const protocol::McapSummary& summary = *span->second.summary;
    std::vector<uint16_t> channels;
    for (const auto& [id, channel] : summary.channels) {
      for (const std::string& topic : topics) {
        if (channel.topic == topic) channels.push_back(id);
      }
    }
    std::vector<uint64_t> chunks;
    for (const protocol::McapChunkIndex& c : summary.chunk_indexes) {
      if (c.message_end_time < start_ns || c.message_start_time > end_ns) continue;
      bool holds = c.message_index_offsets.empty();  // no message index: cannot tell
      for (uint16_t id : channels) holds = holds || c.message_index_offsets.contains(id);
      if (holds) chunks.push_back(c.chunk_start_offset);
    }
    reader.ReadOnlyChunks(summary, std::move(chunks));
  }
  std::map<uint16_t, int> wanted;  // channel id -> index into topics, -1 = not wanted
  protocol::McapMessage message;
  while (reader.Next(message)) {
    auto it = wanted.find(message.channel_id);
    if (it == wanted.end()) {
      int index = -1;
      const std::string& topic = reader.channels().at(message.channel_id).topic;
      for (size_t i = 0; i < topics.size(); ++i) {
        if (topics[i] == topic) index = static_cast<int>(i);
      }
      it = wanted.emplace(message.channel_id, index).first;
    }
    if (it->second >= 0) on_message(it->second, message);
  }
  chunks_read += reader.chunks_read();
  // A torn end is the file being written (or one a crash left, recovered at the next start);
  // a damaged one is worth a line, once per file and reason.
  if (reader.end() == protocol::McapMessageReader::End::kDamaged) {
    std::string& said = reported_[path];
    if (said != reader.problem().reason) {
      said = reader.problem().reason;
      log_.Warn("history: {} is damaged at byte {}: {} (read up to there)", path,
                reader.problem().offset, said);
    }
  }
  return Status::Ok();
}

void HistoryStore::RawSamples(const std::string& path, const TelemetryField& field,
                              uint64_t from_ns, uint64_t to_ns, HistoryResult& result,
                              const SampleFn& on_sample) {
  const std::vector<std::string> topics = {
      protocol::recording::TelemetryChannel(rover_id_, field.stream->name)};
  std::unique_ptr<google::protobuf::Message> message(field.stream->prototype->New());
  ++result.files_read;
  Status s = ForEachMessage(
      path, topics, from_ns, to_ns, result.chunks_read, [&](int, const protocol::McapMessage& m) {
        if (!message->ParseFromArray(m.data.data(), static_cast<int>(m.data.size()))) return;
        ++result.messages_decoded;
        if (!FieldPresent(field, *message)) return;
        const double number =
            FieldNumber(field, *message).value_or(std::numeric_limits<double>::quiet_NaN());
        on_sample(m.log_time, m.publish_time, number, *message);
      });
  if (!s.ok()) log_.Warn("history: {}", s.message());
}

namespace {

HistorySample FromArchive(const TelemetryField& field, const ArchiveSample& s) {
  HistorySample out{s.ground_ns, s.onboard_ns, {}, s.value};
  AppendArchivedValueJson(field, s.value, out.value_json);
  return out;
}

// Each bucket's minimum and maximum, the earlier first in `time` (ground or on board); one
// sample when they are the same.
void AppendMinMax(const TelemetryField& field, const std::vector<ArchiveBucket>& buckets,
                  uint64_t ArchiveSample::*time, std::vector<HistorySample>& out) {
  for (const ArchiveBucket& b : buckets) {
    if (b.count == 0) continue;
    const bool min_first = b.min.*time <= b.max.*time;
    out.push_back(FromArchive(field, min_first ? b.min : b.max));
    const bool same = b.min.*time == b.max.*time && b.min.value == b.max.value;
    if (!same) out.push_back(FromArchive(field, min_first ? b.max : b.min));
  }
}

}  // namespace

std::optional<HistoryResult> HistoryStore::MinMaxFromArchives(
    const HistoryQuery& q, const std::vector<std::string>& files) {
  const TelemetryField& field = *q.field;
  const size_t size = std::max<size_t>(q.size, 1);
  // Whole buckets of width w inside the range.
  const auto whole = [&](uint64_t w) -> uint64_t {
    const uint64_t from = (q.start_ns + w - 1) / w * w, to = (q.end_ns + 1) / w * w;
    return to > from ? (to - from) / w : 0;
  };
  // The coarsest level that still gives `size` whole buckets; the finest when none does, as
  // long as the range is long enough for its summaries to spare reading the messages.
  size_t level = kArchiveLevelsNs.size();
  for (size_t l = kArchiveLevelsNs.size(); l-- > 0;) {
    if (whole(kArchiveLevelsNs[l]) >= size) {
      level = l;
      break;
    }
  }
  if (level == kArchiveLevelsNs.size()) {
    if (whole(kArchiveLevelsNs[0]) < kMinArchiveBuckets) return std::nullopt;
    level = 0;
  }
  const uint64_t width = kArchiveLevelsNs[level];
  const uint64_t fine = kArchiveLevelsNs[0];
  const uint64_t a0 = (q.start_ns + width - 1) / width * width;
  const uint64_t a1 = (q.end_ns + 1) / width * width;
  if (a1 <= a0) return std::nullopt;
  const uint64_t per_group = std::max<uint64_t>(1, (a1 - a0) / width / size);
  const uint64_t group = per_group * width;
  const size_t groups = static_cast<size_t>((a1 - a0 + group - 1) / group);
  // [0] the ragged start, [1 .. groups] whole archive buckets, [groups + 1] the ragged end.
  std::vector<ArchiveBucket> out(groups + 2);
  const auto slot = [&](uint64_t t) -> size_t {
    if (t < a0) return 0;
    if (t >= a1) return groups + 1;
    return 1 + static_cast<size_t>((t - a0) / group);
  };
  HistoryResult result;
  const auto raw = [&](const std::string& path, uint64_t from, uint64_t to) {
    if (from > to) return;
    RawSamples(
        path, field, from, to, result,
        [&](uint64_t ground, uint64_t onboard, double number, const google::protobuf::Message&) {
          if (ground < q.start_ns || ground > q.end_ns || !std::isfinite(number)) return;
          AddToBucket(out[slot(ground)], ArchiveSample{ground, onboard, number});
        });
  };
  // The ragged ends, [start, a0) and [a1, end]: whole finest buckets from the summaries, the
  // rest (under a minute at each end) from the messages.
  const uint64_t head_fine = std::min(a0, (q.start_ns + fine - 1) / fine * fine);
  const uint64_t tail_fine = std::max(a1, (q.end_ns + 1) / fine * fine);
  for (const std::string& path : files) {
    const FileSpan& span = spans_[path];
    bool answered = false;
    if (span.archived) {
      auto opened = ArchiveReader::Open(ArchivePathFor(path));
      if (auto* reader = std::get_if<0>(&opened)) {
        auto buckets = (*reader)->Buckets(field.key, level);
        const bool ends =
            (a0 > q.start_ns && span.start_ns < a0) || (a1 <= q.end_ns && span.end_ns >= a1);
        auto finest = ends && level != 0 ? (*reader)->Buckets(field.key, 0) : buckets;
        if (buckets.ok() && finest.ok()) {
          answered = true;
          ++result.archives_read;
          for (const ArchiveBucket& b : *buckets) {
            if (b.start_ns >= a0 && b.start_ns < a1) {
              ArchiveBucket& into = out[slot(b.start_ns)];
              MergeBuckets(into, b);
            }
          }
          if (ends) {
            for (const ArchiveBucket& b : *finest) {
              if ((b.start_ns >= head_fine && b.start_ns + fine <= a0) ||
                  (b.start_ns >= a1 && b.start_ns + fine <= tail_fine)) {
                MergeBuckets(out[slot(b.start_ns)], b);
              }
            }
            if (span.start_ns < head_fine) raw(path, q.start_ns, std::min(head_fine, a0) - 1);
            if (span.end_ns >= tail_fine) raw(path, tail_fine, q.end_ns);
          }
        } else {
          ArchiveProblem(ArchivePathFor(path),
                         buckets.ok() ? finest.error().message() : buckets.error().message());
        }
      } else {
        ArchiveProblem(ArchivePathFor(path), std::get<1>(opened).reason);
      }
    }
    if (!answered) raw(path, q.start_ns, q.end_ns);
  }
  AppendMinMax(field, out, &ArchiveSample::ground_ns, result.samples);
  result.bucket_ns = group;
  result.buckets_start_ns = a0;
  result.buckets_end_ns = a1;
  return result;
}

std::optional<HistoryResult> HistoryStore::LatestFromArchives(
    const HistoryQuery& q, const std::vector<std::string>& files) {
  const TelemetryField& field = *q.field;
  std::optional<ArchiveSample> best;
  HistoryResult result;
  std::string json;  // of `best`, when it came from a message
  bool from_message = false;
  // Newest file first; an older one is opened only if it may hold something newer than what
  // was found (files can overlap: a resumed station, a recording copied in).
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    const FileSpan& span = spans_[*it];
    if (best && span.closed && span.end_ns <= best->ground_ns) continue;
    if (span.archived && span.end_ns <= q.end_ns) {
      auto opened = ArchiveReader::Open(ArchivePathFor(*it));
      if (auto* reader = std::get_if<0>(&opened)) {
        auto buckets = (*reader)->Buckets(field.key, 0);
        if (buckets.ok()) {
          ++result.archives_read;
          for (const ArchiveBucket& b : *buckets) {
            if (b.count > 0 && b.last.ground_ns >= q.start_ns &&
                (!best || b.last.ground_ns >= best->ground_ns)) {
              best = b.last;
              from_message = false;
            }
          }
          continue;
        }
        ArchiveProblem(ArchivePathFor(*it), buckets.error().message());
      }
    }
    // The messages, the last 10 s first (then 60 times more each time).
    for (uint64_t window = kLatestFirstWindowNs;; window *= 60) {
      const uint64_t from = q.end_ns - q.start_ns > window ? q.end_ns - window : q.start_ns;
      bool found = false;
      RawSamples(*it, field, from, q.end_ns, result,
                 [&](uint64_t ground, uint64_t onboard, double number,
                     const google::protobuf::Message& message) {
                   found = true;  // the window holds the file's newest: no need to widen it
                   if (best && ground < best->ground_ns) return;
                   best = ArchiveSample{ground, onboard, number};
                   json.clear();
                   AppendFieldJson(field, message, json);
                   from_message = true;
                 });
      if (found || from == q.start_ns) break;
    }
  }
  if (best) {
    HistorySample sample = from_message
                               ? HistorySample{best->ground_ns, best->onboard_ns, json, best->value}
                               : FromArchive(field, *best);
    result.samples.push_back(std::move(sample));
  }
  return result;
}

uint64_t HistoryStore::NewestFrom(const HistoryQuery& q, const std::vector<std::string>& files,
                                  size_t keep, HistoryResult& result) {
  const uint64_t fine = kArchiveLevelsNs[0];
  // A short range is read whole: bounding it would cost more than it saves.
  if (q.end_ns - q.start_ns < kMinArchiveBuckets * fine) return q.start_ns;
  const TelemetryField& field = *q.field;
  std::map<uint64_t, uint64_t> counts;  // finest buckets inside the range: their samples
  uint64_t total = 0;
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    if (!spans_[*it].archived) continue;  // uncounted: the bound is only looser for it
    auto opened = ArchiveReader::Open(ArchivePathFor(*it));
    if (auto* error = std::get_if<1>(&opened)) {
      ArchiveProblem(ArchivePathFor(*it), error->reason);
      continue;
    }
    if (!std::get<0>(opened)->HasField(field.key)) continue;
    auto buckets = std::get<0>(opened)->Buckets(field.key, 0);
    if (!buckets.ok()) {
      ArchiveProblem(ArchivePathFor(*it), buckets.error().message());
      continue;
    }
    ++result.archives_read;
    for (const ArchiveBucket& b : *buckets) {
      if (b.start_ns >= q.start_ns && b.start_ns + fine - 1 <= q.end_ns) {
        counts[b.start_ns] += b.count;
        total += b.count;
      }
    }
    if (total < keep) continue;
    // The archives count only finite samples, a subset of what kAll keeps: at least `keep`
    // samples lie at or after this bucket's start.
    uint64_t sum = 0;
    for (auto c = counts.rbegin(); c != counts.rend(); ++c) {
      sum += c->second;
      if (sum >= keep) return c->first;
    }
  }
  return q.start_ns;
}

bool HistoryStore::MayHoldOnboard(const std::string& path, FileSpan& span,
                                  protocol::StreamId stream, uint64_t start_ns, uint64_t end_ns) {
  if (!span.archived) return true;
  if (!span.onboard_tried) {
    span.onboard_tried = true;
    auto opened = ArchiveReader::Open(ArchivePathFor(path));
    if (auto* reader = std::get_if<0>(&opened)) {
      auto spans = (*reader)->OnboardSpans();
      if (spans.ok()) {
        span.onboard = *spans;
      } else {
        ArchiveProblem(ArchivePathFor(path), spans.error().message());
      }
    } else {
      ArchiveProblem(ArchivePathFor(path), std::get<1>(opened).reason);
    }
  }
  if (!span.onboard) return true;  // an archive from before it kept them: read the recording
  const OnboardSpan& s = (*span.onboard)[static_cast<size_t>(stream)];
  return s.any && s.newest_ns >= start_ns && s.oldest_ns <= end_ns;
}

void HistoryStore::ForgetSummary(const std::string& path) {
  FileSpan& span = spans_[path];
  if (span.closed) {
    span.summary.reset();
    span.summary_tried = false;
  }
}

std::optional<HistoryResult> HistoryStore::MinMaxOnboardFromArchives(
    const HistoryQuery& q, const std::vector<std::string>& files) {
  const uint64_t fine = kArchiveLevelsNs[0];
  if (q.end_ns - q.start_ns < kMinArchiveBuckets * fine) return std::nullopt;
  const TelemetryField& field = *q.field;
  const protocol::StreamId stream = field.stream->id;
  const size_t size = std::max<size_t>(q.size, 1);
  const double span = static_cast<double>(q.end_ns - q.start_ns) + 1.0;
  const auto slot = [&](uint64_t onboard) {
    const auto b = static_cast<size_t>(static_cast<double>(onboard - q.start_ns) / span *
                                       static_cast<double>(size));
    return std::min(b, size - 1);
  };
  const auto inside = [&](uint64_t t) { return t >= q.start_ns && t <= q.end_ns; };
  std::vector<ArchiveBucket> out(size);
  HistoryResult result;
  const auto raw = [&](const std::string& path, uint64_t from, uint64_t to) {
    RawSamples(
        path, field, from, to, result,
        [&](uint64_t ground, uint64_t onboard, double number, const google::protobuf::Message&) {
          if (!inside(onboard) || !std::isfinite(number)) return;
          AddToBucket(out[slot(onboard)], ArchiveSample{ground, onboard, number});
        });
  };
  for (const std::string& path : files) {
    FileSpan& file = spans_[path];
    if (!MayHoldOnboard(path, file, stream, q.start_ns, q.end_ns)) continue;
    bool answered = false;
    if (file.archived) {
      auto opened = ArchiveReader::Open(ArchivePathFor(path));
      if (auto* reader = std::get_if<0>(&opened)) {
        auto minutes = (*reader)->OnboardMinutes(stream);
        auto buckets = (*reader)->Buckets(field.key, 0);
        if (minutes.ok() && *minutes && buckets.ok()) {
          answered = true;
          ++result.archives_read;
          // Ground minutes to read message by message, as [from, to] runs.
          std::vector<std::pair<uint64_t, uint64_t>> read;
          auto minute = (*minutes)->begin();
          for (const ArchiveBucket& b : *buckets) {
            while (minute != (*minutes)->end() && minute->start_ns < b.start_ns) ++minute;
            const bool known = minute != (*minutes)->end() && minute->start_ns == b.start_ns;
            if (known && (minute->newest_ns < q.start_ns || minute->oldest_ns > q.end_ns)) {
              continue;  // all of it outside the range
            }
            if (known && inside(minute->oldest_ns) && inside(minute->newest_ns) &&
                slot(minute->oldest_ns) == slot(minute->newest_ns)) {
              MergeBuckets(out[slot(minute->oldest_ns)], b);
              continue;
            }
            if (!read.empty() && read.back().second + 1 == b.start_ns) {
              read.back().second = b.start_ns + fine - 1;
            } else {
              read.emplace_back(b.start_ns, b.start_ns + fine - 1);
            }
          }
          for (const auto& [from, to] : read) raw(path, from, to);
        } else if (!minutes.ok() || !buckets.ok()) {
          ArchiveProblem(ArchivePathFor(path),
                         minutes.ok() ? buckets.error().message() : minutes.error().message());
        }
      } else {
        ArchiveProblem(ArchivePathFor(path), std::get<1>(opened).reason);
      }
    }
    if (!answered) raw(path, 0, std::numeric_limits<uint64_t>::max());
    if (files.size() > kKeptSummaries) ForgetSummary(path);
  }
  AppendMinMax(field, out, &ArchiveSample::onboard_ns, result.samples);
  result.bucket_ns = static_cast<uint64_t>(span / static_cast<double>(size));
  result.buckets_start_ns = q.start_ns;
  result.buckets_end_ns = q.end_ns;
  return result;
}

Result<HistoryResult> HistoryStore::QueryOnboard(const HistoryQuery& q) {
  auto listed = FilesFor(0, std::numeric_limits<uint64_t>::max());
  if (!listed.ok()) return listed.error();
  const TelemetryField& field = *q.field;
  const bool numeric = field.format != FieldFormat::kString && field.format != FieldFormat::kArray;
  const HistoryStrategy strategy =
      q.strategy == HistoryStrategy::kMinMax && !numeric ? HistoryStrategy::kAll : q.strategy;
  if (strategy == HistoryStrategy::kMinMax) {
    if (auto archived = MinMaxOnboardFromArchives(q, *listed)) return std::move(*archived);
  }
  // The files that may hold the range, newest on board first (those whose archive does not say,
  // first of all): the newest `keep` are found before the older files, which are then not read.
  struct Candidate {
    const std::string* path;
    bool known;
    uint64_t newest_ns;
  };
  std::vector<Candidate> files;
  for (const std::string& path : *listed) {
    FileSpan& span = spans_[path];
    if (!MayHoldOnboard(path, span, field.stream->id, q.start_ns, q.end_ns)) continue;
    const bool known = span.onboard.has_value();
    files.push_back({&path, known,
                     known ? (*span.onboard)[static_cast<size_t>(field.stream->id)].newest_ns : 0});
  }
  std::stable_sort(files.begin(), files.end(), [](const Candidate& a, const Candidate& b) {
    if (a.known != b.known) return !a.known;
    return a.newest_ns > b.newest_ns;
  });
  const size_t size = std::max<size_t>(q.size, 1);
  // kAll and kLatest keep the newest `keep` on board; minmax keeps every sample while there are
  // few (the answer is then exact), and a minimum and a maximum per bucket always.
  const size_t keep = strategy == HistoryStrategy::kLatest   ? size
                      : strategy == HistoryStrategy::kMinMax ? 2 * size
                                                             : q.max_samples;
  struct Numbered {
    HistorySample sample;
    uint64_t read = 0;
    bool operator>(const Numbered& o) const {
      return std::tie(sample.onboard_ns, read) > std::tie(o.sample.onboard_ns, o.read);
    }
  };
  std::vector<Numbered> newest;  // a min-heap: the oldest kept on top
  std::vector<HistorySample> bucket_min, bucket_max;
  if (strategy == HistoryStrategy::kMinMax) {
    bucket_min.resize(size);
    bucket_max.resize(size);
  }
  const double span = static_cast<double>(q.end_ns - q.start_ns) + 1.0;
  uint64_t total = 0;
  HistoryResult result;
  for (const Candidate& file : files) {
    // Every sample still to come is older on board than the oldest kept: none would be.
    if (strategy != HistoryStrategy::kMinMax && file.known && newest.size() >= keep &&
        file.newest_ns < newest.front().sample.onboard_ns) {
      result.truncated = result.truncated || strategy == HistoryStrategy::kAll;
      break;
    }
    const std::string& path = *file.path;
    RawSamples(
        path, field, 0, std::numeric_limits<uint64_t>::max(), result,
        [&](uint64_t ground, uint64_t onboard, double number, const google::protobuf::Message& m) {
          if (onboard < q.start_ns || onboard > q.end_ns) return;
          ++total;
          if (strategy == HistoryStrategy::kMinMax && !std::isnan(number)) {
            auto b = static_cast<size_t>(static_cast<double>(onboard - q.start_ns) / span *
                                         static_cast<double>(size));
            b = std::min(b, size - 1);
            const HistorySample sample{ground, onboard, {}, number};
            if (bucket_min[b].value_json.empty() || number < bucket_min[b].number) {
              bucket_min[b] = sample;
              AppendFieldJson(field, m, bucket_min[b].value_json);
            }
            if (bucket_max[b].value_json.empty() || number > bucket_max[b].number) {
              bucket_max[b] = sample;
              AppendFieldJson(field, m, bucket_max[b].value_json);
            }
            if (total > keep) return;  // the buckets answer: no need to keep it whole
          }
          if (newest.size() >= keep &&
              !(Numbered{{ground, onboard, {}, number}, total} > newest.front())) {
            result.truncated = strategy != HistoryStrategy::kLatest;
            return;  // older on board than all it keeps
          }
          Numbered n{{ground, onboard, {}, number}, total};
          AppendFieldJson(field, m, n.sample.value_json);
          newest.push_back(std::move(n));
          std::push_heap(newest.begin(), newest.end(), std::greater<>());
          if (newest.size() > keep) {
            std::pop_heap(newest.begin(), newest.end(), std::greater<>());
            newest.pop_back();
            result.truncated = strategy != HistoryStrategy::kLatest;
          }
        });
    if (files.size() > kKeptSummaries) ForgetSummary(path);
  }
  if (strategy == HistoryStrategy::kMinMax && total > keep) {
    result.truncated = false;
    for (size_t b = 0; b < size; ++b) {
      if (bucket_min[b].value_json.empty()) continue;
      const bool same = bucket_min[b].onboard_ns == bucket_max[b].onboard_ns;
      if (bucket_max[b].onboard_ns < bucket_min[b].onboard_ns) {
        std::swap(bucket_min[b], bucket_max[b]);
      }
      result.samples.push_back(std::move(bucket_min[b]));
      if (!same) result.samples.push_back(std::move(bucket_max[b]));
    }
  } else {
    std::sort(newest.begin(), newest.end(), [](const Numbered& a, const Numbered& b) {
      return std::tie(a.sample.onboard_ns, a.read) < std::tie(b.sample.onboard_ns, b.read);
    });
    for (Numbered& n : newest) result.samples.push_back(std::move(n.sample));
  }
  return result;
}

Result<HistoryResult> HistoryStore::Query(const HistoryQuery& q) {
  if (q.time == HistoryTime::kOnboard) return QueryOnboard(q);
  auto files = FilesFor(q.start_ns, q.end_ns);
  if (!files.ok()) return files.error();
  const TelemetryField& field = *q.field;
  const bool numeric = field.format != FieldFormat::kString && field.format != FieldFormat::kArray;
  const HistoryStrategy strategy =
      q.strategy == HistoryStrategy::kMinMax && !numeric ? HistoryStrategy::kAll : q.strategy;
  const size_t size = std::max<size_t>(q.size, 1);
  // kAll and kLatest keep the newest `keep`; minmax keeps every sample while there are few
  // (then the answer is exact) and a min and a max per bucket always.
  const size_t keep = strategy == HistoryStrategy::kLatest   ? size
                      : strategy == HistoryStrategy::kMinMax ? 2 * size
                                                             : q.max_samples;
  if (strategy == HistoryStrategy::kMinMax) {
    if (auto archived = MinMaxFromArchives(q, *files)) return std::move(*archived);
  }
  // The newest sample, exact over overlapping files, from archives where they are valid.
  if (strategy == HistoryStrategy::kLatest && size == 1 && numeric) {
    return std::move(*LatestFromArchives(q, *files));
  }
  // kAll keeps the newest `keep` by ground time (then by the order read); the oldest kept is at
  // the front of this heap.
  struct Numbered {
    HistorySample sample;
    uint64_t read = 0;
    bool operator>(const Numbered& o) const {
      return std::tie(sample.ground_ns, read) > std::tie(o.sample.ground_ns, o.read);
    }
  };
  std::vector<Numbered> newest;
  std::deque<HistorySample> kept;
  std::vector<HistorySample> bucket_min, bucket_max;
  if (strategy == HistoryStrategy::kMinMax) {
    bucket_min.resize(size);
    bucket_max.resize(size);
  }
  uint64_t total = 0;
  HistoryResult result;
  const double span = static_cast<double>(q.end_ns - q.start_ns) + 1.0;
  const auto read_file = [&](const std::string& path, uint64_t from_ns, uint64_t to_ns) {
    RawSamples(
        path, field, from_ns, to_ns, result,
        [&](uint64_t ground, uint64_t onboard, double number, const google::protobuf::Message& m) {
          HistorySample sample{ground, onboard, {}, number};
          ++total;
          if (strategy == HistoryStrategy::kMinMax && !std::isnan(sample.number)) {
            auto b = static_cast<size_t>(static_cast<double>(ground - q.start_ns) / span *
                                         static_cast<double>(size));
            b = std::min(b, size - 1);
            if (bucket_min[b].value_json.empty() || sample.number < bucket_min[b].number) {
              bucket_min[b] = sample;
              AppendFieldJson(field, m, bucket_min[b].value_json);
            }
            if (bucket_max[b].value_json.empty() || sample.number > bucket_max[b].number) {
              bucket_max[b] = sample;
              AppendFieldJson(field, m, bucket_max[b].value_json);
            }
          }
          if (strategy == HistoryStrategy::kAll) {
            AppendFieldJson(field, m, sample.value_json);
            newest.push_back({std::move(sample), total});
            std::push_heap(newest.begin(), newest.end(), std::greater<>());
            if (newest.size() > keep) {
              std::pop_heap(newest.begin(), newest.end(), std::greater<>());
              newest.pop_back();
              result.truncated = true;
            }
          } else if (kept.size() < keep || strategy != HistoryStrategy::kMinMax) {
            AppendFieldJson(field, m, sample.value_json);
            kept.push_back(std::move(sample));
            if (kept.size() > keep) kept.pop_front();
          }
        });
  };
  if (strategy == HistoryStrategy::kLatest) {
    // Newest file first, and in it the last 10 s, then the last 10 min, ...: the answer is
    // almost always in the last chunks, and chunks outside a window are not inflated.
    std::deque<HistorySample> newer;  // what newer files gave
    for (auto it = files->rbegin(); it != files->rend() && newer.size() < size; ++it) {
      for (uint64_t window = kLatestFirstWindowNs;; window *= 60) {
        const uint64_t from = q.end_ns - q.start_ns > window ? q.end_ns - window : q.start_ns;
        kept.clear();
        read_file(*it, from, q.end_ns);
        if (kept.size() >= size || from == q.start_ns) break;
      }
      kept.insert(kept.end(), std::make_move_iterator(newer.begin()),
                  std::make_move_iterator(newer.end()));
      while (kept.size() > size) kept.pop_front();
      newer = std::move(kept);
      kept.clear();
    }
    kept = std::move(newer);
  } else if (strategy == HistoryStrategy::kAll) {
    // Samples older than the newest `keep` the archives count are never kept: not read either.
    const uint64_t from = numeric ? NewestFrom(q, *files, keep, result) : q.start_ns;
    for (const std::string& path : *files) {
      const FileSpan& span = spans_[path];
      if (span.closed && span.end_ns < from) continue;
      read_file(path, from, q.end_ns);
    }
    std::sort(newest.begin(), newest.end(), [](const Numbered& a, const Numbered& b) {
      return std::tie(a.sample.ground_ns, a.read) < std::tie(b.sample.ground_ns, b.read);
    });
    for (Numbered& n : newest) kept.push_back(std::move(n.sample));
  } else {
    for (const std::string& path : *files) read_file(path, q.start_ns, q.end_ns);
  }
  if (strategy == HistoryStrategy::kMinMax && total > keep) {
    for (size_t b = 0; b < size; ++b) {
      if (bucket_min[b].value_json.empty()) continue;
      const bool same = bucket_min[b].ground_ns == bucket_max[b].ground_ns;
      if (bucket_max[b].ground_ns < bucket_min[b].ground_ns)
        std::swap(bucket_min[b], bucket_max[b]);
      result.samples.push_back(std::move(bucket_min[b]));
      if (!same) result.samples.push_back(std::move(bucket_max[b]));
    }
  } else {
    result.samples.assign(std::make_move_iterator(kept.begin()),
                          std::make_move_iterator(kept.end()));
  }
  std::stable_sort(
      result.samples.begin(), result.samples.end(),
      [](const HistorySample& a, const HistorySample& b) { return a.ground_ns < b.ground_ns; });
  return result;
}

Result<std::vector<RecordedImage>> HistoryStore::Images(const std::string& camera,
                                                        uint64_t start_ns, uint64_t end_ns,
                                                        size_t max, bool with_data,
                                                        HistoryTime time) {
  const bool onboard = time == HistoryTime::kOnboard;
  // By on-board time the ground range is all of it (a played-back image comes late).
  const uint64_t from = onboard ? 0 : start_ns;
  const uint64_t to = onboard ? std::numeric_limits<uint64_t>::max() : end_ns;
  auto files = FilesFor(from, to);
  if (!files.ok()) return files.error();
  const std::vector<std::string> topics = {protocol::recording::ImageChannel(rover_id_, camera)};
  std::vector<RecordedImage> out;
  foxglove::CompressedImage image;
  uint64_t chunks = 0;
  for (const std::string& path : *files) {
    Status s =
        ForEachMessage(path, topics, from, to, chunks, [&](int, const protocol::McapMessage& m) {
          if (out.size() >= max) return;
          // The recorder's publish time is the camera record's on-board time.
          if (onboard && (m.publish_time < start_ns || m.publish_time > end_ns)) return;
          const int n = static_cast<int>(m.data.size());
          if (!image.ParseFromArray(m.data.data(), n)) return;
          RecordedImage r;
          r.ground_ns = m.log_time;
          r.onboard_ns = static_cast<uint64_t>(image.timestamp().seconds()) * 1'000'000'000ULL +
                         static_cast<uint64_t>(image.timestamp().nanos());
          r.format = image.format();
          if (with_data) r.data = std::move(*image.mutable_data());
          out.push_back(std::move(r));
        });
    if (!s.ok()) log_.Warn("history: {}", s.message());
    if (onboard && files->size() > kKeptSummaries) ForgetSummary(path);
  }
  std::stable_sort(out.begin(), out.end(),
                   [onboard](const RecordedImage& a, const RecordedImage& b) {
                     return onboard ? a.onboard_ns < b.onboard_ns : a.ground_ns < b.ground_ns;
                   });
  return out;
}

const char* TimelineKindName(TimelineKind kind) {
  switch (kind) {
    case TimelineKind::kEvent:
      return "event";
    case TimelineKind::kAlarm:
      return "alarm";
    case TimelineKind::kCommand:
      return "command";
  }
  return "event";
}

const char* TimelineSeverityName(TimelineSeverity s) {
  switch (s) {
    case TimelineSeverity::kInfo:
      return "info";
    case TimelineSeverity::kWarning:
      return "warning";
    case TimelineSeverity::kCritical:
      return "critical";
  }
  return "info";
}

namespace {

TimelineSeverity SeverityOf(rover::v1::EventSeverity s) {
  switch (s) {
    case rover::v1::EVENT_SEVERITY_CRITICAL:
      return TimelineSeverity::kCritical;
    case rover::v1::EVENT_SEVERITY_WARNING:
      return TimelineSeverity::kWarning;
    default:
      return TimelineSeverity::kInfo;
  }
}

// A command that did not do what was asked is an operator's concern: failed and timed out are
// critical, refused by the station's checks a warning.
TimelineSeverity SeverityOf(ground::v1::CommandStage stage) {
  switch (stage) {
    case ground::v1::COMMAND_STAGE_FAILED:
    case ground::v1::COMMAND_STAGE_TIMED_OUT:
      return TimelineSeverity::kCritical;
    case ground::v1::COMMAND_STAGE_REJECTED:
      return TimelineSeverity::kWarning;
    default:
      return TimelineSeverity::kInfo;
  }
}

}  // namespace

Result<TimelineResult> HistoryStore::Timeline(uint64_t start_ns, uint64_t end_ns,
                                              const TimelineFilter& filter, size_t max) {
  auto files = FilesFor(start_ns, end_ns);
  if (!files.ok()) return files.error();
  const std::vector<std::string> topics = {
      protocol::recording::TelemetryChannel(rover_id_,
                                            protocol::Stream(protocol::StreamId::kEvent).name),
      std::string(protocol::recording::kAlarmsChannel),
      std::string(protocol::recording::kCommandsChannel)};
  TimelineResult result;
  std::vector<TimelineEntry>& out = result.entries;
  const auto newest_first = [](const TimelineEntry& a, const TimelineEntry& b) {
    return a.ground_ns > b.ground_ns;
  };
  // Kept to at most 2 × max between trims: the newest max survive each trim.
  const auto trim = [&] {
    if (out.size() <= max) return;
    std::nth_element(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(max), out.end(),
                     newest_first);
    out.resize(max);
    result.truncated = true;
  };
  rover::v1::Event event;
  ground::v1::GroundAlarm alarm;
  ground::v1::GroundCommand command;
  uint64_t chunks = 0;
  for (const std::string& path : *files) {
    ++result.files_read;
    Status s = ForEachMessage(
        path, topics, start_ns, end_ns, chunks, [&](int topic, const protocol::McapMessage& m) {
          const int n = static_cast<int>(m.data.size());
          TimelineEntry e;
          e.ground_ns = m.log_time;
          if (topic == 0) {
            if (!filter.kinds[0] || !event.ParseFromArray(m.data.data(), n)) return;
            e.kind = TimelineKind::kEvent;
            e.onboard_ns = m.publish_time;
            e.severity = SeverityOf(event.severity());
            e.name = ShortEnum(rover::v1::EventKind_Name(event.kind()), "EVENT_KIND_");
            e.message = std::move(*event.mutable_message());
          } else if (topic == 1) {
            if (!filter.kinds[1] || !alarm.ParseFromArray(m.data.data(), n)) return;
            e.kind = TimelineKind::kAlarm;
            e.severity = alarm.severity() == "critical" ? TimelineSeverity::kCritical
                                                        : TimelineSeverity::kWarning;
            e.name = std::move(*alarm.mutable_id());
            e.state = std::move(*alarm.mutable_state());
            e.message = std::move(*alarm.mutable_text());
          } else {
            if (!filter.kinds[2] || !command.ParseFromArray(m.data.data(), n)) return;
            e.kind = TimelineKind::kCommand;
            e.severity = SeverityOf(command.stage());
            e.name = std::move(*command.mutable_name());
            e.state = ShortEnum(ground::v1::CommandStage_Name(command.stage()), "COMMAND_STAGE_");
            std::transform(e.state.begin(), e.state.end(), e.state.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            e.message = std::move(*command.mutable_detail());
            e.command_id = command.command_id();
            e.arguments = std::move(*command.mutable_arguments());
          }
          if (e.severity < filter.min_severity) return;
          out.push_back(std::move(e));
          if (out.size() >= 2 * max) trim();
        });
    if (!s.ok()) log_.Warn("history: {}", s.message());
  }
  trim();
  std::stable_sort(out.begin(), out.end(), [](const TimelineEntry& a, const TimelineEntry& b) {
    return a.ground_ns < b.ground_ns;
  });
  return result;
}

Result<std::optional<SoilSite>> HistoryStore::SoilMeasurementAt(uint64_t ground_ns, uint32_t id) {
  auto files = FilesFor(ground_ns, ground_ns);
  if (!files.ok()) return files.error();
  const std::vector<std::string> topics = {protocol::recording::TelemetryChannel(
      rover_id_, protocol::Stream(protocol::StreamId::kSoilMeasurement).name)};
  std::optional<SoilSite> found;
  rover::v1::SoilMeasurement soil;
  uint64_t chunks = 0;
  for (const std::string& path : *files) {
    Status s = ForEachMessage(
        path, topics, ground_ns, ground_ns, chunks, [&](int, const protocol::McapMessage& m) {
          if (!found && m.log_time == ground_ns &&
              soil.ParseFromArray(m.data.data(), static_cast<int>(m.data.size())) &&
              soil.measurement_id() == id) {
            found = SoilSite{m.log_time, m.publish_time, soil};
          }
        });
    if (!s.ok()) log_.Warn("history: {}", s.message());
    if (found) break;
  }
  return found;
}

Result<TraverseResult> HistoryStore::Traverse(uint64_t start_ns, uint64_t end_ns,
                                              size_t max_points) {
  auto files = FilesFor(start_ns, end_ns);
  if (!files.ok()) return files.error();
  enum Topic { kPose, kTile, kSoil };
  const std::array<std::string, 3> channels = {
      protocol::recording::TelemetryChannel(
          rover_id_, protocol::Stream(protocol::StreamId::kNavigationPose).name),
      protocol::recording::TelemetryChannel(
          rover_id_, protocol::Stream(protocol::StreamId::kTerrainTile).name),
      protocol::recording::TelemetryChannel(
          rover_id_, protocol::Stream(protocol::StreamId::kSoilMeasurement).name)};
  // The archive keeps two poses a minute: enough when the thinned path is coarser than that.
  const bool archived_path =
      max_points >= 2 && (end_ns - start_ns) / (max_points - 1) >= kArchiveLevelsNs[0] / 2;
  TraverseResult result;
  rover::v1::SoilMeasurement soil;
  rover::v1::NavigationPose pose;
  std::map<std::pair<int32_t, int32_t>, rover::v1::TerrainTile> tiles;
  rover::v1::TerrainTile tile;
  const auto in_range = [&](uint64_t t) { return t >= start_ns && t <= end_ns; };
  // Every `stride`-th site as they come; at twice the limit, every other one goes and the
  // stride doubles: an even sample of the whole range in memory bounded by the limit.
  uint64_t sites_seen = 0, stride = 1;
  const auto add_site = [&](uint64_t ground, uint64_t onboard, uint32_t bands) {
    if (sites_seen++ % stride != 0) {
      ++result.sites_left_out;
      return;
    }
    result.sites.push_back({ground, onboard, soil, bands});
    if (result.sites.size() >= 2 * kMaxSites) {
      size_t kept = 0;
      for (size_t i = 0; i < result.sites.size(); i += 2) {
        result.sites[kept++] = std::move(result.sites[i]);
      }
      result.sites_left_out += result.sites.size() - kept;
      result.sites.resize(kept);
      stride *= 2;
    }
  };
  uint64_t chunks = 0;
  for (const std::string& path : *files) {
    std::array<bool, 3> from_archive{};
    const FileSpan& span = spans_[path];
    if (span.archived) {
      auto opened = ArchiveReader::Open(ArchivePathFor(path));
      if (auto* reader = std::get_if<0>(&opened)) {
        ArchiveReader& a = **reader;
        // Tiles only from a file wholly in the range: its newest copy of a tile may lie outside.
        const bool whole = span.closed && span.start_ns >= start_ns && span.end_ns <= end_ns;
        auto sites = a.SoilSites();
        auto poses = archived_path ? a.PathPoses()
                                   : Result<std::optional<std::vector<ArchivedMessage>>>(
                                         std::optional<std::vector<ArchivedMessage>>());
        auto kept_tiles =
            whole ? a.Tiles()
                  : Result<std::vector<ArchivedMessage>>(std::vector<ArchivedMessage>());
        if (!sites.ok() || !poses.ok() || !kept_tiles.ok()) {
          ArchiveProblem(ArchivePathFor(path), !sites.ok()   ? sites.error().message()
                                               : !poses.ok() ? poses.error().message()
                                                             : kept_tiles.error().message());
        } else {
          if (sites->has_value()) {
            from_archive[kSoil] = true;
            for (const ArchivedMessage& m : **sites) {
              if (in_range(m.ground_ns) && soil.ParseFromString(m.data)) {
                add_site(m.ground_ns, m.onboard_ns, m.vnis_bands);
              }
            }
          }
          if (poses->has_value()) {
            from_archive[kPose] = true;
            for (const ArchivedMessage& m : **poses) {
              if (in_range(m.ground_ns) && pose.ParseFromString(m.data)) {
                result.path.push_back({m.ground_ns, pose.x_m(), pose.y_m(), pose.heading_deg()});
              }
            }
          }
          if (whole) {
            from_archive[kTile] = true;
            for (const ArchivedMessage& m : *kept_tiles) {
              if (tile.ParseFromString(m.data)) tiles[{tile.tile_x(), tile.tile_y()}] = tile;
            }
          }
          if (from_archive[kPose] || from_archive[kTile] || from_archive[kSoil]) {
            ++result.archives_read;
          }
        }
      } else {
        ArchiveProblem(ArchivePathFor(path), std::get<1>(opened).reason);
      }
    }
    std::vector<std::string> topics;
    std::vector<Topic> kinds;
    for (const Topic t : {kPose, kTile, kSoil}) {
      if (from_archive[t]) continue;
      topics.push_back(channels[t]);
      kinds.push_back(t);
    }
    if (topics.empty()) continue;
    ++result.files_read;
    Status s = ForEachMessage(
        path, topics, start_ns, end_ns, chunks, [&](int topic, const protocol::McapMessage& m) {
          const int n = static_cast<int>(m.data.size());
          const Topic kind = kinds[static_cast<size_t>(topic)];
          if (kind == kPose && pose.ParseFromArray(m.data.data(), n)) {
            result.path.push_back({m.log_time, pose.x_m(), pose.y_m(), pose.heading_deg()});
          } else if (kind == kTile && tile.ParseFromArray(m.data.data(), n)) {
            tiles[{tile.tile_x(), tile.tile_y()}] = tile;
          } else if (kind == kSoil && soil.ParseFromArray(m.data.data(), n)) {
            add_site(m.log_time, m.publish_time, 0);
          }
        });
    if (!s.ok()) log_.Warn("history: {}", s.message());
  }
  std::stable_sort(result.sites.begin(), result.sites.end(),
                   [](const SoilSite& a, const SoilSite& b) { return a.ground_ns < b.ground_ns; });
  if (result.sites.size() > kMaxSites) {
    std::vector<SoilSite> thinned;
    thinned.reserve(kMaxSites);
    const double step = static_cast<double>(result.sites.size() - 1) / (kMaxSites - 1);
    for (size_t i = 0; i < kMaxSites; ++i) {
      thinned.push_back(std::move(result.sites[static_cast<size_t>(std::llround(i * step))]));
    }
    result.sites_left_out += result.sites.size() - kMaxSites;
    result.sites = std::move(thinned);
  }
  std::stable_sort(
      result.path.begin(), result.path.end(),
      [](const TraversePoint& a, const TraversePoint& b) { return a.ground_ns < b.ground_ns; });
  if (max_points >= 2 && result.path.size() > max_points) {
    std::vector<TraversePoint> thinned;
    const double step = static_cast<double>(result.path.size() - 1) / (max_points - 1);
    for (size_t i = 0; i < max_points; ++i) {
      thinned.push_back(result.path[static_cast<size_t>(std::llround(i * step))]);
    }
    result.path = std::move(thinned);
  }
  for (const auto& [key, t] : tiles) {
    const std::string& mask = t.hazard_mask();
    const uint64_t cells = uint64_t{t.width_cells()} * t.height_cells();
    if (mask.size() < cells || t.width_cells() == 0) continue;  // malformed tile: nothing to map
    for (uint64_t i = 0; i < cells; ++i) {
      const int kind = static_cast<unsigned char>(mask[i]);
      if (kind == 0) continue;
      const double col = static_cast<double>(i % t.width_cells());
      const double row = static_cast<double>(i / t.width_cells());
      result.hazards.push_back({t.origin_x_m() + col * t.cell_size_m(),
                                t.origin_y_m() + row * t.cell_size_m(), t.cell_size_m(), kind});
    }
  }
  return result;
}

}  // namespace lgs::station
