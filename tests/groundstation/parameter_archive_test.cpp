// The parameter archive against what was recorded: its buckets at every level equal the samples
// the test sent (ties, out-of-order arrivals, files split by size and duration, overlaps, gaps,
// a torn file); a torn, damaged or stale archive is refused; and HistoryStore gives the same
// minmax and latest answers from archives, without them, and as the samples say.
#include "groundstation/parameter_archive.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "groundstation/history_store.h"
#include "groundstation/prior_recordings.h"
#include "groundstation/recorder.h"
#include "groundstation/site_mosaic.h"
#include "protocol/crc32.h"
#include "protocol/recording_profile.h"
#include "protocol/telemetry_decoder.h"
#include "rover/v1/housekeeping.pb.h"
#include "rover/v1/navigation.pb.h"
#include "rover/v1/soil.pb.h"
#include "rover/v1/terrain.pb.h"
#include "support/packets.h"
#include "support/process.h"

namespace lgs::station {
namespace {

namespace fs = std::filesystem;
using protocol::StreamId;

constexpr uint64_t kS = 1'000'000'000;
constexpr uint64_t kMin = 60 * kS;
// A minute boundary, so the test knows where the archive's buckets fall.
constexpr uint64_t kT0 = test::kSomeTimeNs / (24 * 3600 * kS) * (24 * 3600 * kS);
constexpr char kKey[] = "housekeeping.battery_soc_percent";

struct Truth {
  uint64_t ground_ns, onboard_ns;
  double value;
};

// Records housekeeping packets through the real Recorder, keeping what it sent.
class Writer {
 public:
  Writer(const std::string& directory, uint64_t start_ns, std::optional<double> split_s,
         std::optional<uint64_t> split_bytes) {
    RecorderOptions options;
    // Uncompressed when splitting by size, so a short test makes several files.
    if (split_bytes) options.writer.compression = protocol::McapCompression::kNone;
    options.directory = directory;
    options.writer.sync_on_chunk = false;
    options.split_duration_s = split_s;
    options.split_size_bytes = split_bytes;
    recorder_ = std::make_unique<Recorder>(options);
    ok_ = recorder_->Open(start_ns).ok();
  }
  bool ok() const { return ok_; }
  void Record(uint64_t ground_ns, uint64_t onboard_ns, float soc, std::vector<Truth>& truth) {
    rover::v1::Housekeeping hk;
    hk.set_mode(rover::v1::ROVER_MODE_DRIVE);
    hk.set_battery_soc_percent(soc);
    hk.set_bus_voltage_v(28.0f + soc / 100.0f);
    const std::string packet = test::StreamPacket(StreamId::kHousekeeping, hk, seq_++, onboard_ns);
    auto decoded = decoder_.Decode(
        protocol::TelemetryTopic("rover1", protocol::Stream(StreamId::kHousekeeping)),
        protocol::AsBytes(packet));
    ASSERT_TRUE(decoded.ok());
    recorder_->RecordTelemetry(*decoded, ground_ns);
    recorder_->Tick(ground_ns);
    // The on-board time as the packet's CUC carries it (the recording's publish time).
    truth.push_back({ground_ns, static_cast<uint64_t>(decoded->packet.onboard_time_ns),
                     static_cast<double>(soc)});
  }
  // Any stream's message, with the sequence given.
  void RecordAny(StreamId id, const google::protobuf::Message& message, uint64_t ground_ns,
                 uint64_t onboard_ns, uint32_t seq) {
    const std::string packet = test::StreamPacket(id, message, seq, onboard_ns);
    auto decoded = decoder_.Decode(protocol::TelemetryTopic("rover1", protocol::Stream(id)),
                                   protocol::AsBytes(packet));
    ASSERT_TRUE(decoded.ok());
    recorder_->RecordTelemetry(*decoded, ground_ns);
    recorder_->Tick(ground_ns);
  }
  void Close() { ASSERT_TRUE(recorder_->Close().ok()); }
  // Writes the open chunk out (a chunk closes on the flush interval of ground time).
  void Flush(uint64_t ground_ns) { recorder_->Tick(ground_ns); }
  std::string current() const { return recorder_->stats().current_file; }

 private:
  std::unique_ptr<Recorder> recorder_;
  protocol::TelemetryDecoder decoder_{"rover1"};
  uint32_t seq_ = 0;
  bool ok_ = false;
};

std::vector<std::string> Recordings(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (protocol::recording::IsRecordingOf(e.path().filename().string(), "rover1")) {
      out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The buckets the samples make at one level, built without the archive's code.
std::map<uint64_t, ArchiveBucket> Expected(const std::vector<Truth>& truth, uint64_t width) {
  std::map<uint64_t, ArchiveBucket> out;
  for (const Truth& t : truth) {
    ArchiveBucket& b = out[t.ground_ns / width * width];
    b.start_ns = t.ground_ns / width * width;
    const ArchiveSample s{t.ground_ns, t.onboard_ns, t.value};
    if (b.count++ == 0) {
      b.min = b.max = b.first = b.last = s;
      continue;
    }
    if (t.value < b.min.value || (t.value == b.min.value && t.ground_ns < b.min.ground_ns)) {
      b.min = s;
    }
    if (t.value > b.max.value || (t.value == b.max.value && t.ground_ns < b.max.ground_ns)) {
      b.max = s;
    }
    if (t.ground_ns < b.first.ground_ns) b.first = s;
    if (t.ground_ns >= b.last.ground_ns) b.last = s;
  }
  return out;
}

void ExpectSame(const ArchiveSample& a, const ArchiveSample& b, const std::string& what) {
  EXPECT_EQ(a.ground_ns, b.ground_ns) << what;
  EXPECT_EQ(a.onboard_ns, b.onboard_ns) << what;
  EXPECT_EQ(a.value, b.value) << what;
}

// Values on a 0.5 % grid, so a bucket often holds its extreme twice (ties).
float Soc(std::mt19937& rng) {
  return 20.0f + 0.5f * static_cast<float>(std::uniform_int_distribution<int>(0, 40)(rng));
}
// Values on a 0.001 % grid: an extreme is almost always where one sample put it, so an answer
// that missed any stretch of samples would show it.
float FineSoc(std::mt19937& rng) {
  return 20.0f + 0.001f * static_cast<float>(std::uniform_int_distribution<int>(0, 40'000)(rng));
}

TEST(ParameterArchive, BucketsAtEveryLevelEqualTheSamplesRecorded) {
  test::ScratchDir dir;
  std::vector<Truth> truth;
  std::mt19937 rng(7);
  Writer w(dir.File("rec"), kT0, std::nullopt, std::nullopt);
  ASSERT_TRUE(w.ok());
  // 26 hours at 1 Hz (two day buckets), every 50th packet arriving 3 s late (out of order).
  for (uint64_t i = 0; i < 26 * 3600; ++i) {
    const uint64_t onboard = kT0 + i * kS + 250'000'000;
    const uint64_t ground = onboard + 1'300'000'000 + (i % 50 == 0 ? 3 * kS : 0);
    w.Record(ground, onboard, Soc(rng), truth);
  }
  w.Close();
  const std::string recording = Recordings(dir.File("rec")).at(0);
  auto built = BuildArchive(recording);
  ASSERT_TRUE(built.ok()) << built.error().message();
  EXPECT_EQ(built->messages, truth.size());
  EXPECT_TRUE(built->recording_complete);
  EXPECT_EQ(CheckArchive(recording), ArchiveState::kValid);

  auto opened = ArchiveReader::Open(ArchivePathFor(recording));
  ASSERT_EQ(opened.index(), 0u) << std::get<1>(opened).reason;
  ArchiveReader& reader = *std::get<0>(opened);
  EXPECT_EQ(reader.header().messages, truth.size());
  EXPECT_TRUE(reader.HasField("housekeeping.bus_voltage_v"));
  EXPECT_FALSE(reader.HasField("radiation.dose_rate_ugy_per_h"));  // not in this recording
  for (size_t level = 0; level < kArchiveLevelsNs.size(); ++level) {
    auto buckets = reader.Buckets(kKey, level);
    ASSERT_TRUE(buckets.ok()) << buckets.error().message();
    const auto expected = Expected(truth, kArchiveLevelsNs[level]);
    ASSERT_EQ(buckets->size(), expected.size()) << "level " << level;
    for (const ArchiveBucket& b : *buckets) {
      const auto it = expected.find(b.start_ns);
      ASSERT_NE(it, expected.end()) << b.start_ns;
      const std::string what = fmt::format("level {} bucket {}", level, b.start_ns);
      EXPECT_EQ(b.count, it->second.count) << what;
      ExpectSame(b.min, it->second.min, what + " min");
      ExpectSame(b.max, it->second.max, what + " max");
      ExpectSame(b.first, it->second.first, what + " first");
      ExpectSame(b.last, it->second.last, what + " last");
    }
  }
  // Summaries, not samples: a small fraction of the recording.
  EXPECT_LT(built->archive_bytes * 10, built->recording_bytes);
}

// One recording of `seconds` of housekeeping at 1 Hz: its path.
std::string OneRecording(const test::ScratchDir& dir, uint64_t seconds, unsigned seed) {
  std::vector<Truth> truth;
  std::mt19937 rng(seed);
  Writer w(dir.File("rec"), kT0, std::nullopt, std::nullopt);
  for (uint64_t i = 0; i < seconds; ++i) w.Record(kT0 + i * kS, kT0 + i * kS, Soc(rng), truth);
  w.Close();
  return Recordings(dir.File("rec")).at(0);
}

TEST(ParameterArchive, ATornDamagedOrStaleArchiveIsRefusedWithItsReason) {
  test::ScratchDir dir;
  const std::string recording = OneRecording(dir, 3000, 8);
  const std::string archive = ArchivePathFor(recording);
  std::string why;
  EXPECT_EQ(CheckArchive(recording, &why), ArchiveState::kMissing);
  ASSERT_TRUE(BuildArchive(recording).ok());
  const std::string good = test::ReadFile(archive);
  const auto write = [&](const std::string& bytes) {
    std::ofstream(archive, std::ios::binary | std::ios::trunc) << bytes;
  };

  write(good.substr(0, good.size() - 10));  // a crash in the middle of writing
  EXPECT_EQ(CheckArchive(recording, &why), ArchiveState::kDamaged);
  EXPECT_NE(why.find("torn"), std::string::npos) << why;
  write(good.substr(0, 40));
  EXPECT_EQ(CheckArchive(recording, &why), ArchiveState::kDamaged);
  EXPECT_NE(why.find("torn"), std::string::npos) << why;
  write("not an archive at all, but long enough to have a header of eighty-eight bytes......!");
  EXPECT_EQ(CheckArchive(recording, &why), ArchiveState::kDamaged);

  std::string bad = good;
  bad[20] ^= 1;  // the recording's size in the header
  write(bad);
  EXPECT_EQ(CheckArchive(recording, &why), ArchiveState::kDamaged);
  EXPECT_NE(why.find("header CRC"), std::string::npos) << why;

  bad = good;
  uint32_t directory_size = 0;
  std::memcpy(&directory_size, good.data() + 12, 4);
  bad[88 + directory_size + 3] ^= 0x40;  // inside the first block: a housekeeping field's
  write(bad);
  auto opened = ArchiveReader::Open(archive);
  ASSERT_EQ(opened.index(), 0u);
  bool failed = false;
  for (const TelemetryField* f : FieldsOfStream(StreamId::kHousekeeping)) {
    if (!std::get<0>(opened)->HasField(f->key)) continue;
    auto b = std::get<0>(opened)->Buckets(f->key, 0);
    if (!b.ok()) {
      failed = true;
      EXPECT_NE(b.error().message().find("CRC"), std::string::npos) << b.error().message();
    }
  }
  EXPECT_TRUE(failed);

  write(good);
  EXPECT_EQ(CheckArchive(recording, &why), ArchiveState::kValid) << why;
  // A copy of the recording (new time, same bytes) keeps its archive; a changed one does not.
  fs::last_write_time(recording, fs::last_write_time(recording) + std::chrono::hours(1));
  EXPECT_EQ(CheckArchive(recording, &why), ArchiveState::kValid) << why;
  {
    std::fstream f(recording, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(-30, std::ios::end);
    f.put('\x7f');
  }
  EXPECT_EQ(CheckArchive(recording, &why), ArchiveState::kStale);
  std::ofstream(recording, std::ios::binary | std::ios::app) << "more";
  EXPECT_EQ(CheckArchive(recording, &why), ArchiveState::kStale);
  EXPECT_NE(why.find("bytes"), std::string::npos) << why;
}

// A sidecar whose directory claims a block of ~4 GB (counts and size consistent, every CRC right,
// as a hostile file could make it): the read is refused with its reason, and costs what the
// block holds, not what it claims.
TEST(ParameterArchive, ABlockClaimingMoreThanItHoldsIsRefusedWithoutItsMemory) {
  test::ScratchDir dir;
  const std::string recording = OneRecording(dir, 600, 13);
  ASSERT_TRUE(BuildArchive(recording).ok());
  std::string f = test::ReadFile(ArchivePathFor(recording));
  const auto get32 = [&](size_t at) {
    uint32_t v = 0;
    std::memcpy(&v, f.data() + at, 4);
    return v;
  };
  const auto set32 = [&](size_t at, uint32_t v) { std::memcpy(f.data() + at, &v, 4); };
  const auto crc = [&](size_t from, size_t n) {
    return protocol::Crc32({reinterpret_cast<const uint8_t*>(f.data()) + from, n});
  };
  // The first entry (a field's: "@" blocks come last): key length, key, offset 8, compressed 4,
  // raw 4, CRC 4, then the count of each level.
  const uint32_t dir_size = get32(12);
  const size_t entry = 88 + 2 + static_cast<uint16_t>(get32(88) & 0xFFFF);
  const std::string key = f.substr(90, entry - 90);
  ASSERT_FALSE(key.starts_with('@')) << key;
  const uint32_t claimed = 36'000'000;  // finest buckets: 3.9 GB at 108 bytes each
  uint64_t buckets = claimed;
  for (size_t l = 1; l < kArchiveLevelsNs.size(); ++l) buckets += get32(entry + 20 + 4 * l);
  set32(entry + 20, claimed);
  set32(entry + 12, static_cast<uint32_t>(buckets * 108));
  set32(36, crc(88, dir_size));
  set32(80, crc(0, 80));
  std::ofstream(ArchivePathFor(recording), std::ios::binary | std::ios::trunc) << f;

  rusage before{};
  ::getrusage(RUSAGE_SELF, &before);
  auto opened = ArchiveReader::Open(ArchivePathFor(recording));
  ASSERT_EQ(opened.index(), 0u) << std::get<1>(opened).reason;
  auto read = std::get<0>(opened)->Buckets(key, 0);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.error().message().find("does not inflate"), std::string::npos)
      << read.error().message();
  rusage after{};
  ::getrusage(RUSAGE_SELF, &after);
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 64 * 1024) << "kB of peak memory for the read";
}

// minmax as the samples say, for the buckets the answer names.
std::vector<HistorySample> ExpectedMinMax(const std::vector<Truth>& truth, const HistoryQuery& q,
                                          const HistoryResult& r) {
  std::vector<Truth> in;
  for (const Truth& t : truth) {
    if (t.ground_ns >= q.start_ns && t.ground_ns <= q.end_ns) in.push_back(t);
  }
  const auto slot = [&](uint64_t t) -> uint64_t {
    if (t < r.buckets_start_ns) return 0;
    if (t >= r.buckets_end_ns) return UINT64_MAX;
    return 1 + (t - r.buckets_start_ns) / r.bucket_ns;
  };
  std::map<uint64_t, std::vector<Truth>> groups;
  for (const Truth& t : in) groups[slot(t.ground_ns)].push_back(t);
  std::vector<HistorySample> out;
  for (auto& [g, samples] : groups) {
    const auto bucket = Expected(samples, UINT64_MAX).begin()->second;
    const ArchiveSample& a = bucket.min.ground_ns <= bucket.max.ground_ns ? bucket.min : bucket.max;
    const ArchiveSample& b = bucket.min.ground_ns <= bucket.max.ground_ns ? bucket.max : bucket.min;
    out.push_back({a.ground_ns, a.onboard_ns, fmt::format("{}", a.value), a.value});
    if (!(a.ground_ns == b.ground_ns && a.value == b.value)) {
      out.push_back({b.ground_ns, b.onboard_ns, fmt::format("{}", b.value), b.value});
    }
  }
  return out;
}

void ExpectSamples(const std::vector<HistorySample>& got, const std::vector<HistorySample>& want,
                   const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].ground_ns, want[i].ground_ns) << what << " sample " << i;
    EXPECT_EQ(got[i].onboard_ns, want[i].onboard_ns) << what << " sample " << i;
    EXPECT_EQ(got[i].value_json, want[i].value_json) << what << " sample " << i;
  }
}

class ArchivedHistory : public ::testing::Test {
 protected:
  // Three hours in half-hour files with a 40-minute gap; a second station's files over part of
  // it, split by size (overlapping the first's); a torn copy of the first file; and the file
  // being written, after them.
  void SetUp() override {
    std::mt19937 rng(9);
    Writer a(dir_.File("rec"), kT0, 1800.0, std::nullopt);
    ASSERT_TRUE(a.ok());
    for (uint64_t i = 0; i < 3 * 3600; ++i) {
      if (i >= 4200 && i < 6600) continue;  // the gap
      const uint64_t onboard = kT0 + i * kS + 100'000'000;
      a.Record(onboard + 1'280'000'000 + (i % 70 == 3 ? 4 * kS : 0), onboard, FineSoc(rng), truth_);
    }
    a.Close();
    Writer b(dir_.File("rec"), kT0 + 7000 * kS, std::nullopt, 64 * 1024);
    ASSERT_TRUE(b.ok());
    for (uint64_t i = 7000; i < 10'000; ++i) {
      b.Record(kT0 + i * kS + 500'000'000, kT0 + i * kS, FineSoc(rng) - 15.0f, truth_);
    }
    b.Close();
    const std::vector<std::string> files = Recordings(dir_.File("rec"));
    ASSERT_GE(files.size(), 8u);
    const std::string first = test::ReadFile(files[0]);
    torn_ = dir_.File("rec/" + protocol::recording::FileName("rover1", kT0, 1));
    std::ofstream(torn_, std::ios::binary) << first.substr(0, first.size() * 3 / 5);
    // The torn copy duplicates samples of the first file: min and max stay, counts do not.
    open_ =
        std::make_unique<Writer>(dir_.File("rec"), kT0 + 3 * 3600 * kS, std::nullopt, std::nullopt);
    for (uint64_t i = 0; i < 900; ++i) {
      const uint64_t t = kT0 + 3 * 3600 * kS + i * kS;
      open_->Record(t + 700'000'000, t, FineSoc(rng) + 10.0f, truth_);
    }
    open_->Flush(kT0 + 3 * 3600 * kS + 905 * kS);
    for (const std::string& f : Recordings(dir_.File("rec"))) {
      if (f == open_->current()) continue;
      auto built = BuildArchive(f);
      ASSERT_TRUE(built.ok()) << built.error().message();
      if (f == torn_) {
        EXPECT_FALSE(built->recording_complete);
      }
    }
  }

  HistoryQuery Query(uint64_t start, uint64_t end, HistoryStrategy strategy, size_t size) {
    HistoryQuery q;
    q.field = FindTelemetryField(kKey);
    q.start_ns = start;
    q.end_ns = end;
    q.strategy = strategy;
    q.size = size;
    return q;
  }

  test::ScratchDir dir_;
  std::vector<Truth> truth_;
  std::string torn_;
  std::unique_ptr<Writer> open_;
};

TEST_F(ArchivedHistory, MinMaxAndLatestEqualTheSamplesWithAndWithoutTheArchive) {
  HistoryStore archived(dir_.File("rec"), "rover1");
  struct Case {
    uint64_t start, end;
    size_t size;
  };
  std::vector<Case> cases = {
      {kT0 - 5 * kMin, kT0 + 3 * 3600 * kS + 20 * kMin, 100},  // every file: the finest level
      {kT0 + 37 * kS + 500'000'000, kT0 + 3 * 3600 * kS + 11 * kS, 10},  // ragged: 10-min level
      {kT0 + 37 * kS, kT0 + 3 * 3600 * kS - 1, 5},  // groups of three 10-min buckets
      {kT0 + 3 * kMin + 1, kT0 + 2 * 3600 * kS + 59 * kS, 20},
  };
  // And ranges anywhere, to the nanosecond, so every kind of ragged end is met.
  std::mt19937_64 rng(11);
  const std::vector<size_t> sizes = {3, 5, 10, 17, 50, 100, 150};
  for (int i = 0; i < 40; ++i) {
    const uint64_t start = kT0 - 10 * kMin + rng() % (90 * kMin);
    cases.push_back({start, start + 2 * 3600 * kS + rng() % (90 * kMin), sizes[rng() % 7]});
  }
  std::vector<std::vector<HistorySample>> answers;
  for (const Case& c : cases) {
    const HistoryQuery q = Query(c.start, c.end, HistoryStrategy::kMinMax, c.size);
    auto r = archived.Query(q);
    ASSERT_TRUE(r.ok());
    EXPECT_GT(r->archives_read, 0u);
    EXPECT_GT(r->bucket_ns, 0u);
    // At least `size` buckets, or as many as the finest level has when that is fewer.
    if (r->bucket_ns != kArchiveLevelsNs[0]) {
      EXPECT_GE((r->buckets_end_ns - r->buckets_start_ns) / r->bucket_ns, c.size);
    }
    EXPECT_LT((r->buckets_end_ns - r->buckets_start_ns) / r->bucket_ns, 2 * c.size + 2);
    ExpectSamples(r->samples, ExpectedMinMax(truth_, q, *r), fmt::format("minmax {}", c.size));
    answers.push_back(r->samples);
  }
  const std::vector<uint64_t> latest_ends = {kT0 + 5000 * kS,  // in the gap
                                             kT0 + 7600 * kS, kT0 + 3 * 3600 * kS + 899 * kS,
                                             kT0 + 30 * 3600 * kS};
  std::vector<HistorySample> latest;
  for (uint64_t end : latest_ends) {
    auto r = archived.Query(Query(kT0 - kMin, end, HistoryStrategy::kLatest, 1));
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->samples.size(), 1u);
    const Truth* best = nullptr;
    for (const Truth& t : truth_) {
      if (t.ground_ns <= end && (best == nullptr || t.ground_ns >= best->ground_ns)) best = &t;
    }
    EXPECT_EQ(r->samples[0].ground_ns, best->ground_ns);
    EXPECT_EQ(r->samples[0].value_json, fmt::format("{}", best->value));
    latest.push_back(r->samples[0]);
  }

  // Without the archive, and with a damaged one, the answers are the same.
  for (const bool damage : {false, true}) {
    if (damage) {
      for (const std::string& f : Recordings(dir_.File("rec"))) {
        if (f == open_->current()) continue;
        ASSERT_TRUE(BuildArchive(f).ok());
        std::fstream a(ArchivePathFor(f), std::ios::binary | std::ios::in | std::ios::out);
        a.seekp(-3, std::ios::end);
        a.put('\x55');
      }
    } else {
      fs::remove_all(ArchiveDirectoryOf(dir_.File("rec")));
    }
    HistoryStore raw(dir_.File("rec"), "rover1");
    for (size_t i = 0; i < cases.size(); ++i) {
      auto r =
          raw.Query(Query(cases[i].start, cases[i].end, HistoryStrategy::kMinMax, cases[i].size));
      ASSERT_TRUE(r.ok());
      if (!damage) {
        EXPECT_EQ(r->archives_read, 0u);
      }
      ExpectSamples(r->samples, answers[i], fmt::format("damage {} case {}", damage, i));
    }
    for (size_t i = 0; i < latest_ends.size(); ++i) {
      auto r = raw.Query(Query(kT0 - kMin, latest_ends[i], HistoryStrategy::kLatest, 1));
      ASSERT_TRUE(r.ok());
      ExpectSamples(r->samples, {latest[i]}, fmt::format("latest {}", i));
    }
  }
}

// All samples over hours, more than max_samples: the newest, by ground time, with the archive
// bounding what is read to about what is kept, and the same without it.
TEST_F(ArchivedHistory, AllSamplesOfALongRangeAreTheNewestAndReadOnlyWhereTheyAre) {
  // Files a and b overlap here, their samples interleaved, a's arriving out of order.
  HistoryQuery q = Query(kT0 - 5 * kMin, kT0 + 9000 * kS, HistoryStrategy::kAll, 1);
  q.max_samples = 500;
  std::vector<Truth> in;
  for (const Truth& t : truth_) {
    if (t.ground_ns >= q.start_ns && t.ground_ns <= q.end_ns) in.push_back(t);
  }
  // Equal ground times (a delayed arrival meets a later sample) keep the order recorded.
  std::stable_sort(in.begin(), in.end(),
                   [](const Truth& a, const Truth& b) { return a.ground_ns < b.ground_ns; });
  ASSERT_GT(in.size(), 5000u);
  std::vector<HistorySample> want;
  for (size_t i = in.size() - q.max_samples; i < in.size(); ++i) {
    want.push_back({in[i].ground_ns, in[i].onboard_ns, fmt::format("{}", in[i].value), 0});
  }
  HistoryStore archived(dir_.File("rec"), "rover1");
  auto r = archived.Query(q);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->truncated);
  ExpectSamples(r->samples, want, "archived");
  EXPECT_GT(r->archives_read, 0u);
  // What was read: the kept samples and what shares their first finest buckets and chunks, far
  // from all of them.
  EXPECT_LT(r->messages_decoded, 3 * q.max_samples);
  fs::remove_all(ArchiveDirectoryOf(dir_.File("rec")));
  HistoryStore raw(dir_.File("rec"), "rover1");
  auto all = raw.Query(q);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->truncated);
  EXPECT_EQ(all->archives_read, 0u);
  EXPECT_GT(all->messages_decoded, in.size());
  ExpectSamples(all->samples, want, "from the messages");
}

TEST_F(ArchivedHistory, ARecordingAddedLaterIsIncluded) {
  HistoryStore store(dir_.File("rec"), "rover1");
  const uint64_t end = kT0 + 10 * 3600 * kS;
  auto before = store.Query(Query(kT0, end, HistoryStrategy::kLatest, 1));
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->samples.size(), 1u);
  open_->Close();
  ASSERT_TRUE(BuildArchive(open_->current()).ok());
  std::mt19937 rng(10);
  Writer later(dir_.File("rec"), kT0 + 5 * 3600 * kS, std::nullopt, std::nullopt);
  for (uint64_t i = 0; i < 600; ++i) {
    const uint64_t t = kT0 + 5 * 3600 * kS + i * kS;
    later.Record(t + kS, t, 99.5f, truth_);
  }
  later.Close();
  ASSERT_TRUE(BuildArchive(later.current()).ok());
  auto after = store.Query(Query(kT0, end, HistoryStrategy::kLatest, 1));
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->samples.size(), 1u);
  EXPECT_EQ(after->samples[0].ground_ns, truth_.back().ground_ns);
  EXPECT_EQ(after->samples[0].value_json, "99.5");
  const HistoryQuery q = Query(kT0, end, HistoryStrategy::kMinMax, 200);
  auto minmax = store.Query(q);
  ASSERT_TRUE(minmax.ok());
  ExpectSamples(minmax->samples, ExpectedMinMax(truth_, q, *minmax), "minmax after");
}

// A start over archived recordings learns what a start that reads them learns: the same
// recorded sequences (with gaps), and a visitor that builds a site map gets the same map and site.
TEST(ParameterArchive, AScanOfArchivedRecordingsLearnsWhatReadingThemLearns) {
  test::ScratchDir dir;
  std::mt19937 rng(12);
  {
    Writer w(dir.File("rec"), kT0, 600.0, std::nullopt);
    ASSERT_TRUE(w.ok());
    uint32_t hk_seq = 0, tile_seq = 0, pose_seq = 0;
    for (uint64_t i = 0; i < 2400; ++i) {  // 40 minutes: four files
      const uint64_t t = kT0 + i * kS;
      rover::v1::Housekeeping hk;
      hk.set_battery_soc_percent(50.0f);
      if (i % 97 != 5) w.RecordAny(StreamId::kHousekeeping, hk, t + kS, t, hk_seq);  // gaps
      ++hk_seq;
      if (i % 5 == 0) {
        rover::v1::NavigationPose pose;
        pose.set_x_m(static_cast<double>(i) * 0.01);
        pose.set_site_latitude_deg(-85.0 - static_cast<double>(i) * 1e-6);
        pose.set_site_longitude_deg(30.0);
        w.RecordAny(StreamId::kNavigationPose, pose, t + kS, t, pose_seq++);
      }
      if (i % 10 == 0) {
        // Four footprints seen again and again, each time with new elevations.
        rover::v1::TerrainTile tile;
        const int k = static_cast<int>((i / 10) % 4);
        tile.set_tile_x(k);
        tile.set_origin_x_m(k == 3 ? 10.0 : 4.0 * k);  // the fourth overlaps the third's cells
        tile.set_origin_y_m(k == 3 ? 2.0 : 0.0);
        tile.set_cell_size_m(0.5);
        tile.set_width_cells(8);
        tile.set_height_cells(8);
        std::string mask(64, '\0');
        for (int c = 0; c < 64; ++c) {
          tile.add_elevation_m(static_cast<float>(rng() % 1000) / 100.0f);
          mask[static_cast<size_t>(c)] = static_cast<char>(rng() % 4);
        }
        tile.set_hazard_mask(mask);
        w.RecordAny(StreamId::kTerrainTile, tile, t + kS, t, tile_seq++);
      }
    }
    w.Close();
  }
  struct Learned {
    PriorRecordings prior;
    SiteMosaic map;
    double latitude = 0;
  };
  const auto scan = [&] {
    Learned l;
    const RecordedMessageVisitor visit = [&](StreamId stream, const protocol::McapMessage& m) {
      if (stream == StreamId::kTerrainTile) {
        rover::v1::TerrainTile tile;
        ASSERT_TRUE(tile.ParseFromArray(m.data.data(), static_cast<int>(m.data.size())));
        ASSERT_TRUE(l.map.Add(tile, static_cast<int64_t>(m.publish_time)).ok());
      } else if (stream == StreamId::kNavigationPose) {
        rover::v1::NavigationPose pose;
        ASSERT_TRUE(pose.ParseFromArray(m.data.data(), static_cast<int>(m.data.size())));
        l.latitude = pose.site_latitude_deg();
      }
    };
    auto prior = ScanPriorRecordings(dir.File("rec"), "rover1", true, {}, NullLogger(), visit);
    EXPECT_TRUE(prior.ok());
    l.prior = std::move(*prior);
    return l;
  };
  const Learned read = scan();
  EXPECT_EQ(read.prior.archived_files, 0u);
  ASSERT_GE(read.prior.files, 4u);
  for (const std::string& f : Recordings(dir.File("rec"))) ASSERT_TRUE(BuildArchive(f).ok());
  const Learned archived = scan();
  EXPECT_EQ(archived.prior.archived_files, read.prior.files);
  EXPECT_EQ(archived.prior.messages, read.prior.messages);
  for (size_t s = 0; s < protocol::kStreamCount; ++s) {
    const auto& a = archived.prior.recorded[s];
    const auto& b = read.prior.recorded[s];
    ASSERT_EQ(a.size(), b.size()) << "stream " << s;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].first, b[i].first);
      EXPECT_EQ(a[i].last, b[i].last);
    }
  }
  // Each stream's newest on-board time, the same from the archives as from the messages: the
  // last packet recorded of each.
  EXPECT_TRUE(read.prior.newest_onboard_known);
  EXPECT_TRUE(archived.prior.newest_onboard_known);
  EXPECT_EQ(archived.prior.newest_onboard_ns, read.prior.newest_onboard_ns);
  EXPECT_EQ(read.prior.newest_onboard_ns[static_cast<size_t>(StreamId::kHousekeeping)],
            kT0 + 2399 * kS);
  EXPECT_EQ(read.prior.newest_onboard_ns[static_cast<size_t>(StreamId::kNavigationPose)],
            kT0 + 2395 * kS);
  EXPECT_EQ(read.prior.newest_onboard_ns[static_cast<size_t>(StreamId::kTerrainTile)],
            kT0 + 2390 * kS);
  EXPECT_EQ(read.prior.newest_onboard_ns[static_cast<size_t>(StreamId::kSoilMeasurement)], 0u);
  EXPECT_EQ(read.prior.recorded[0].size(), 26u);  // housekeeping: 25 gaps
  EXPECT_EQ(archived.latitude, read.latitude);
  EXPECT_EQ(read.latitude, -85.0 - 2395 * 1e-6);
  // The same map, cell for cell: the newest observation of every cell.
  const CellWindow bounds = read.map.Bounds();
  ASSERT_FALSE(bounds.empty());
  EXPECT_EQ(archived.map.Bounds().width, bounds.width);
  EXPECT_EQ(archived.map.Bounds().height, bounds.height);
  size_t cells = 0;
  for (int64_t r = bounds.row0; r < bounds.row0 + bounds.height; ++r) {
    for (int64_t c = bounds.col0; c < bounds.col0 + bounds.width; ++c) {
      const SiteMosaic::Cell a = archived.map.At(c, r), b = read.map.At(c, r);
      ASSERT_EQ(a.observed(), b.observed());
      if (!b.observed()) continue;
      ++cells;
      EXPECT_EQ(a.elevation_m, b.elevation_m);
      EXPECT_EQ(a.hazard, b.hazard);
      EXPECT_EQ(a.observed_ns, b.observed_ns);
    }
  }
  EXPECT_EQ(cells, 4u * 64 - 16);  // four tiles, one overlapping another by 4 × 4 cells
  // Fewer tiles were shown than recorded: only each file's newest of each footprint.
  EXPECT_LT(archived.map.stats().tiles, read.map.stats().tiles);
}

}  // namespace
}  // namespace lgs::station

namespace lgs::station {
namespace {

// A traverse of two days from the archives: every soil site and hazard cell the recordings hold,
// and as the path the first and the last pose of each minute, with no pose, tile or site message
// read; without the archives, the same sites and hazards from the messages.
TEST(ParameterArchive, ATraverseOfDaysFromTheArchivesIsWhatTheRecordingsHold) {
  test::ScratchDir dir;
  std::mt19937 rng(14);
  constexpr uint64_t kHours = 50;
  std::map<uint64_t, std::vector<TraversePoint>> poses_by_minute;
  {
    Writer w(dir.File("rec"), kT0, 6 * 3600.0, std::nullopt);
    ASSERT_TRUE(w.ok());
    uint32_t pose_seq = 0, tile_seq = 0, soil_seq = 0;
    for (uint64_t i = 0; i < kHours * 3600; i += 10) {  // a pose every 10 s
      const uint64_t t = kT0 + i * kS, ground = t + kS;
      rover::v1::NavigationPose pose;
      pose.set_x_m(static_cast<double>(i) * 0.01);
      pose.set_y_m(std::sin(static_cast<double>(i) / 3600.0) * 40.0);
      pose.set_heading_deg(static_cast<double>(i % 360));
      w.RecordAny(StreamId::kNavigationPose, pose, ground, t, pose_seq++);
      poses_by_minute[ground / kMin].push_back(
          {ground, pose.x_m(), pose.y_m(), pose.heading_deg()});
      if (i % 600 == 0) {
        rover::v1::TerrainTile tile;
        const int k = static_cast<int>((i / 600) % 6);
        tile.set_tile_x(k);
        tile.set_origin_x_m(4.0 * k);
        tile.set_cell_size_m(0.5);
        tile.set_width_cells(8);
        tile.set_height_cells(8);
        std::string mask(64, '\0');
        for (int c = 0; c < 64; ++c) {
          tile.add_elevation_m(1.0f);
          mask[static_cast<size_t>(c)] = static_cast<char>(rng() % 4);
        }
        tile.set_hazard_mask(mask);
        w.RecordAny(StreamId::kTerrainTile, tile, ground, t, tile_seq++);
      }
      if (i % 300 == 0) {
        rover::v1::SoilMeasurement soil;
        soil.set_measurement_id(soil_seq + 1);
        soil.set_x_m(pose.x_m());
        soil.set_y_m(pose.y_m());
        switch (soil_seq % 3) {
          case 0:
            soil.mutable_apxs()->set_sio2_wt_percent(45.0f);
            break;
          case 1:
            soil.mutable_vnis()->set_band_depth_1um(0.1f);
            for (int b = 0; b < 50; ++b) soil.mutable_vnis()->add_reflectance(0.2f);
            break;
          default:
            soil.mutable_neutron()->set_hydrogen_weh_wt_percent(0.3f);
            break;
        }
        w.RecordAny(StreamId::kSoilMeasurement, soil, ground, t, soil_seq++);
      }
    }
    w.Close();
  }
  const std::vector<std::string> files = Recordings(dir.File("rec"));
  ASSERT_GE(files.size(), 8u);
  const uint64_t start = kT0;
  HistoryStore raw(dir.File("rec"), "rover1");
  // Two points a minute for 50 hours, and one more where a split cuts a minute in two (nine
  // files): 6008, over a range just long enough that thinned poses would be 30 s apart.
  constexpr size_t kPoints = kHours * 120 + 8;
  const uint64_t end = start + (kPoints - 1) * 30 * kS;
  auto from_messages = raw.Traverse(start, end, kPoints);
  ASSERT_TRUE(from_messages.ok());
  EXPECT_EQ(from_messages->archives_read, 0u);
  ASSERT_EQ(from_messages->sites.size(), kHours * 12);
  ASSERT_EQ(from_messages->path.size(), kPoints);  // thinned from 18 000

  for (const std::string& f : files) ASSERT_TRUE(BuildArchive(f).ok());
  HistoryStore archived(dir.File("rec"), "rover1");
  auto traverse = archived.Traverse(start, end, kPoints);
  ASSERT_TRUE(traverse.ok());
  EXPECT_EQ(traverse->archives_read, files.size());
  EXPECT_EQ(traverse->files_read, 0u);
  // The path: recorded poses only, the first and the last of every minute among them, and at
  // most two a minute of each file.
  std::map<uint64_t, TraversePoint> recorded;
  for (const auto& [minute, poses] : poses_by_minute) {
    for (const TraversePoint& p : poses) recorded[p.ground_ns] = p;
  }
  std::set<uint64_t> got;
  for (const TraversePoint& p : traverse->path) {
    const auto it = recorded.find(p.ground_ns);
    ASSERT_NE(it, recorded.end()) << p.ground_ns;
    EXPECT_EQ(p.x_m, it->second.x_m);
    EXPECT_EQ(p.y_m, it->second.y_m);
    EXPECT_EQ(p.heading_deg, it->second.heading_deg);
    got.insert(p.ground_ns);
  }
  for (const auto& [minute, poses] : poses_by_minute) {
    EXPECT_TRUE(got.contains(poses.front().ground_ns)) << "minute " << minute;
    EXPECT_TRUE(got.contains(poses.back().ground_ns)) << "minute " << minute;
  }
  EXPECT_EQ(got.size(), traverse->path.size());
  EXPECT_LE(traverse->path.size(), 2 * poses_by_minute.size() + files.size());
  ASSERT_EQ(traverse->sites.size(), from_messages->sites.size());
  for (size_t i = 0; i < traverse->sites.size(); ++i) {
    const SoilSite& a = traverse->sites[i];
    const SoilSite& b = from_messages->sites[i];
    EXPECT_EQ(a.ground_ns, b.ground_ns);
    EXPECT_EQ(a.onboard_ns, b.onboard_ns);
    EXPECT_EQ(a.VnisBands(), b.VnisBands());
    rover::v1::SoilMeasurement whole = b.measurement;
    if (whole.has_vnis()) whole.mutable_vnis()->clear_reflectance();
    EXPECT_EQ(a.measurement.SerializeAsString(), whole.SerializeAsString()) << i;
  }
  EXPECT_EQ(traverse->sites[1].VnisBands(), 50);
  ASSERT_EQ(traverse->hazards.size(), from_messages->hazards.size());
  for (size_t i = 0; i < traverse->hazards.size(); ++i) {
    EXPECT_EQ(traverse->hazards[i].x_m, from_messages->hazards[i].x_m);
    EXPECT_EQ(traverse->hazards[i].y_m, from_messages->hazards[i].y_m);
    EXPECT_EQ(traverse->hazards[i].kind, from_messages->hazards[i].kind);
  }
  // An hour: the path is every pose, from the messages; sites still from the archive.
  auto hour = archived.Traverse(start + 3600 * kS, start + 2 * 3600 * kS, 5000);
  ASSERT_TRUE(hour.ok());
  EXPECT_EQ(hour->path.size(), 360u);
  EXPECT_EQ(hour->sites.size(), 12u);
}

// More soil sites than one answer carries: an even sample across the whole range, not its first
// day, with the rest counted.
TEST(ParameterArchive, ATraverseWithMoreSitesThanItCarriesSamplesThemEvenly) {
  test::ScratchDir dir;
  constexpr uint32_t kSites = 50'000;  // one every 2 s: about 28 hours
  {
    Writer w(dir.File("rec"), kT0, std::nullopt, std::nullopt);
    ASSERT_TRUE(w.ok());
    for (uint32_t i = 0; i < kSites; ++i) {
      rover::v1::SoilMeasurement soil;
      soil.set_measurement_id(i + 1);
      soil.mutable_neutron()->set_hydrogen_weh_wt_percent(0.1f);
      const uint64_t t = kT0 + uint64_t{i} * 2 * kS;
      w.RecordAny(StreamId::kSoilMeasurement, soil, t + kS, t, i);
    }
    w.Close();
  }
  for (const bool archived : {false, true}) {
    if (archived) {
      for (const std::string& f : Recordings(dir.File("rec"))) ASSERT_TRUE(BuildArchive(f).ok());
    }
    HistoryStore store(dir.File("rec"), "rover1");
    auto t = store.Traverse(kT0, kT0 + uint64_t{kSites} * 2 * kS, 5000);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->archives_read, archived ? 1u : 0u);
    ASSERT_EQ(t->sites.size(), 20'000u);
    EXPECT_EQ(t->sites_left_out, kSites - 20'000u);
    EXPECT_EQ(t->sites.front().measurement.measurement_id(), 1u);
    EXPECT_GT(t->sites.back().measurement.measurement_id(), kSites - 10);
    // Evenly: no two kept sites further apart than a few times the mean step.
    uint32_t widest = 0;
    for (size_t i = 1; i < t->sites.size(); ++i) {
      widest = std::max(widest, t->sites[i].measurement.measurement_id() -
                                    t->sites[i - 1].measurement.measurement_id());
    }
    EXPECT_LE(widest, 4u) << "archived " << archived;
  }
}

}  // namespace
}  // namespace lgs::station
