// gsctl replay: rebuilds every recorded packet byte for byte and publishes it on the same topic,
// paced like the recording (or as fast as subscribers take it), so a station cannot tell a
// replay from the rover.
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <queue>
#include <thread>
#include <zmq.hpp>

#include "commands.h"
#include "common.h"
#include "protocol/space_packet.h"
#include "spdlog_logger.h"
#include "transport/curve_server.h"

namespace lgs::gsctl {

using protocol::McapFile;
using protocol::McapMessage;
using protocol::McapMessageReader;
using Clock = std::chrono::steady_clock;

namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) {
  g_stop = true;
}

struct Source {
  const McapFile* file;
  std::unique_ptr<McapMessageReader> reader;
  std::map<uint16_t, std::optional<TelemetryChannel>> telemetry;
  McapMessage next;
  bool has_next = false;
};

}  // namespace

int RunReplay(const ReplayOptions& o) {
  if (!o.max && !(o.speed >= 0.01 && o.speed <= 1000.0)) {
    fmt::print(stderr, "gsctl replay: --speed {} is outside 0.01..1000\n", o.speed);
    return kExitUsage;
  }
  std::vector<std::unique_ptr<McapFile>> files;
  std::vector<const McapFile*> file_ptrs;
  uint64_t total = 0;
  for (const std::string& path : o.files) {
    auto opened = McapFile::Open(path);
    if (!opened.ok()) {
      fmt::print(stderr, "gsctl replay: {}\n", opened.error().message());
      return kExitFailure;
    }
    if (auto summary = (*opened)->ReadSummary(); summary.ok() && summary->statistics) {
      total += summary->statistics->message_count;
    }
    file_ptrs.push_back(opened->get());
    files.push_back(std::move(opened.value()));
  }
  auto range = ResolveTimeRange(o.start, o.end, file_ptrs);
  if (!range.ok()) {
    fmt::print(stderr, "gsctl replay: {}\n", range.error().message());
    return kExitUsage;
  }
  protocol::McapReadOptions read_options;
  read_options.start_ns = range->start_ns;
  read_options.end_ns = range->end_ns;

  // Refused stations are logged (rate-limited) through spdlog, as gsctl's main set it up.
  cli::SpdlogLogger log;
  zmq::context_t context(1);
  // Security first: the ZAP handler must exist before the publisher binds.
  std::unique_ptr<transport::CurveServer> curve;
  if (o.insecure && (!o.secret_key_path.empty() || !o.allowed_key_paths.empty())) {
    fmt::print(stderr,
               "gsctl replay: --insecure and --secret-key/--allow-key contradict each other; "
               "give the keys or --insecure, not both\n");
    return kExitUsage;
  }
  if (o.insecure) {
    fmt::print(stderr,
               "gsctl replay: INSECURE: publishing in plain text; anyone who can reach {} can "
               "listen (--insecure)\n",
               o.bind);
  } else if (o.secret_key_path.empty() || o.allowed_key_paths.empty()) {
    fmt::print(stderr,
               "gsctl replay: CurveZMQ keys are needed: --secret-key FILE (a key pair the "
               "stations trust as the rover's) and --allow-key FILE (each station's public key), "
               "or --insecure for plain text\n");
    return kExitUsage;
  } else {
    auto loaded = transport::CurveServer::Load(context, o.secret_key_path, o.allowed_key_paths,
                                               "replay", log);
    if (!loaded.ok()) {
      fmt::print(stderr, "gsctl replay: {}\n", loaded.error().message());
      return kExitFailure;
    }
    curve = std::move(*loaded);
  }
  zmq::socket_t publisher(context, zmq::socket_type::xpub);
  if (curve) curve->Secure(publisher);
  publisher.set(zmq::sockopt::sndhwm, o.send_hwm);
  publisher.set(zmq::sockopt::linger, 5000);
  publisher.set(zmq::sockopt::xpub_verbose, 1);
  // A replay must not lose what it replays: block on a full subscriber instead of dropping.
  publisher.set(zmq::sockopt::xpub_nodrop, 1);
  try {
    publisher.bind(o.bind);
  } catch (const zmq::error_t& e) {
    fmt::print(stderr, "gsctl replay: cannot bind '{}': {}\n", o.bind, e.what());
    return kExitFailure;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  int subscribers = 0;
  const auto drain_subscriptions = [&](int timeout_ms) {
    zmq::pollitem_t item{publisher.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) <= 0) return;
    zmq::message_t msg;
    while (publisher.recv(msg, zmq::recv_flags::dontwait)) {
      if (msg.size() > 0 && static_cast<const uint8_t*>(msg.data())[0] == 1) ++subscribers;
    }
  };
  const auto give_up = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(o.subscriber_timeout_s));
  while (subscribers < o.wait_for_subscribers && !g_stop) {
    if (Clock::now() > give_up) {
      fmt::print(stderr, "gsctl replay: no subscriber after {} s on {}\n", o.subscriber_timeout_s,
                 o.bind);
      return kExitFailure;
    }
    drain_subscriptions(50);
  }

  ProgressBar progress("replaying", total);
  uint64_t sent = 0, skipped_channels = 0;
  std::string packet;
  int exit_code = kExitOk;
  const auto wall_start = Clock::now();
  uint64_t time_offset_ns = 0;  // grows with each loop so pacing continues across loops
  // Pacing follows a replay clock: the latest log time so far. A message logged earlier than
  // that (out of order, or a damaged time such as 0) goes at once; a jump forward by more than
  // kMaxPacedStepNs (a damaged time in the far future, or the station down for a day) is paced
  // as that much, so one bad timestamp cannot stall a replay.
  constexpr uint64_t kMaxPacedStepNs = 3600ULL * 1'000'000'000;
  uint64_t replay_clock = 0;
  bool clock_started = false;
  uint64_t clamped_steps = 0;
  do {
    std::vector<Source> sources;
    for (const McapFile* file : file_ptrs) {
      Source s{file, std::make_unique<McapMessageReader>(*file, read_options), {}, {}, false};
      s.has_next = s.reader->Next(s.next);
      sources.push_back(std::move(s));
    }
    // Several files merge by log time: always publish the earliest pending message.
    const auto later = [&](size_t a, size_t b) {
      return sources[a].next.log_time > sources[b].next.log_time;
    };
    std::priority_queue<size_t, std::vector<size_t>, decltype(later)> heap(later);
    for (size_t i = 0; i < sources.size(); ++i) {
      if (sources[i].has_next) heap.push(i);
    }
    uint64_t paced_ns = 0;  // of this loop
    clock_started = false;
    while (!heap.empty() && !g_stop) {
      const size_t i = heap.top();
      heap.pop();
      Source& src = sources[i];
      const McapMessage& m = src.next;
      const protocol::McapChannel& channel = src.reader->channels().at(m.channel_id);
      auto [it, inserted] = src.telemetry.try_emplace(m.channel_id);
      if (inserted) it->second = protocol::recording::ReadTelemetryChannel(channel);
      if (it->second && TopicSelected(o.topics, channel)) {
        if (!clock_started) {
          clock_started = true;
          replay_clock = m.log_time;
        }
        if (m.log_time > replay_clock) {
          uint64_t step = m.log_time - replay_clock;
          replay_clock = m.log_time;
          if (step > kMaxPacedStepNs) {
            if (clamped_steps++ == 0) {
              fmt::print(stderr,
                         "gsctl replay: recorded time jumps by {:.0f} s at message {} ({}): "
                         "paced as {:.0f} s\n",
                         static_cast<double>(step) / 1e9, sent, channel.topic,
                         static_cast<double>(kMaxPacedStepNs) / 1e9);
            }
            step = kMaxPacedStepNs;
          }
          paced_ns += step;
        }
        const uint64_t t = paced_ns + time_offset_ns;
        if (!o.max) {
          const auto due = wall_start + std::chrono::nanoseconds(static_cast<int64_t>(t / o.speed));
          while (!g_stop && Clock::now() < due) {
            std::this_thread::sleep_until(
                std::min(due, Clock::now() + std::chrono::milliseconds(100)));
          }
        }
        if (Status s = protocol::recording::RebuildPacket(*it->second, m, packet); !s.ok()) {
          fmt::print(stderr, "gsctl replay: {}: {}\n", channel.topic, s.message());
          exit_code = kExitFailure;
          break;
        }
        publisher.send(zmq::buffer(it->second->zmq_topic), zmq::send_flags::sndmore);
        publisher.send(zmq::buffer(packet), zmq::send_flags::none);
        ++sent;
        if ((sent & 0xFF) == 0) drain_subscriptions(0);
        progress.Update(sent, o.max ? "" : fmt::format("at {:.1f}x", o.speed));
      } else if (!it->second) {
        ++skipped_channels;  // ground channels (/link/rejected, /ground/link_stats) are not sent
      }
      src.has_next = src.reader->Next(src.next);
      if (src.has_next) {
        heap.push(i);
      } else if (src.reader->end() != McapMessageReader::End::kComplete) {
        fmt::print(stderr, "gsctl replay: {} stopped at offset {}: {}\n", src.file->path(),
                   src.reader->problem().offset, src.reader->problem().reason);
        exit_code = kExitPartial;
      }
    }
    time_offset_ns += paced_ns + 1'000'000;  // the next loop starts a millisecond after
  } while (o.loop && !g_stop && sent > 0 && exit_code == kExitOk);
  progress.Finish();
  const double wall_s = std::chrono::duration<double>(Clock::now() - wall_start).count();
  fmt::print(stderr, "gsctl replay: sent {} packets in {:.2f} s ({:.0f} packets/s){}\n", sent,
             wall_s, wall_s > 0 ? sent / wall_s : 0.0, g_stop ? " (interrupted)" : "");
  if (sent == 0 && exit_code == kExitOk) {
    fmt::print(stderr, "gsctl replay: nothing to replay (no telemetry in the selection)\n");
    return kExitFailure;
  }
  return exit_code;
}

}  // namespace lgs::gsctl
