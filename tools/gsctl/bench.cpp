// gsctl bench: one command, one run, one table. Measures what raw ZeroMQ can move on this
// machine (the ceiling), then the station's full pipeline, a replay into the station, latency
// at fixed rates, and the station's memory, all with the same packets in the same run.
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <zmq.hpp>

#include "commands.h"
#include "common.h"
#include "groundstation/latency_histogram.h"
#include "groundstation/recorder.h"
#include "groundstation/telemetry_fields.h"
#include "protocol/crc16.h"
#include "protocol/space_packet.h"
#include "protocol/telemetry_decoder.h"
#include "rover_emulator/telemetry_generator.h"

extern char** environ;

namespace lgs::gsctl {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr protocol::TimestampNs kMissionStart = 1'795'000'000'000'000'000;

std::string Rate(double r) {
  return r >= 1e6 ? fmt::format("{:.2f}M", r / 1e6) : fmt::format("{:.1f}k", r / 1e3);
}

int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A child process whose CPU time and memory we can read.
class Child {
 public:
  Child(const std::string& program, std::vector<std::string> args, const fs::path& log) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    std::vector<char*> argv{const_cast<char*>(program.c_str())};
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), environ) != 0)
      pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    args_ = std::move(args);
  }
  ~Child() {
    if (pid_ > 0 && !done_) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
  }
  bool ok() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Exit code; fills CPU seconds (user + system) of the child.
  int Wait() {
    int status = 0;
    rusage usage{};
    while (::wait4(pid_, &status, 0, &usage) < 0 && errno == EINTR) {
    }
    done_ = true;
    cpu_s_ = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec +
             usage.ru_stime.tv_usec / 1e6;
    minor_faults_ = static_cast<uint64_t>(usage.ru_minflt);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  double cpu_s() const { return cpu_s_; }
  // Pages the child touched anew (memory returned to the kernel and taken again counts each time).
  uint64_t minor_faults() const { return minor_faults_; }
  uint64_t RssBytes() const {
    std::ifstream status(fmt::format("/proc/{}/status", pid_));
    for (std::string line; std::getline(status, line);) {
      if (line.starts_with("VmRSS:")) return std::stoull(line.substr(6)) * 1024;
    }
    return 0;
  }

 private:
  pid_t pid_ = -1;
  bool done_ = false;
  double cpu_s_ = 0;
  uint64_t minor_faults_ = 0;
  std::vector<std::string> args_;
};

// The packets the station will get: the emulator's default stream mix.
struct Mix {
  std::vector<std::string> topics;  // by stream index
  struct Packet {
    size_t stream;
    std::string bytes;
  };
  std::vector<Packet> packets;
  std::array<uint32_t, protocol::kStreamCount> per_stream{};  // packets of each stream in the mix
  uint64_t bytes = 0;
};

Mix MakeMix(size_t count) {
  Mix mix;
  emulator::TelemetryGenerator generator(1, "rover1", kMissionStart);
  for (const protocol::StreamInfo& s : protocol::AllStreams()) {
    mix.topics.push_back(protocol::TelemetryTopic("rover1", s));
  }
  std::vector<emulator::GeneratedPacket> batch;
  while (mix.packets.size() < count) {
    if (!generator.Next(batch).ok()) break;
    for (auto& p : batch) {
      const auto stream = static_cast<size_t>(p.stream->id);
      ++mix.per_stream[stream];
      mix.bytes += p.packet.size();
      mix.packets.push_back({stream, std::move(p.packet)});
    }
  }
  return mix;
}

// Rewrites the sequence fields (and CRC) of a mix packet for its `cycle`-th repetition, so that
// every packet of a long run is new to the station.
void Resequence(const Mix& mix, const Mix::Packet& p, uint64_t cycle, std::string& out) {
  out = p.bytes;
  auto* b = reinterpret_cast<uint8_t*>(out.data());
  const uint32_t seq =
      ((uint32_t{b[13]} << 24) | (uint32_t{b[14]} << 16) | (uint32_t{b[15]} << 8) | b[16]) +
      static_cast<uint32_t>(cycle * mix.per_stream[p.stream]);
  b[2] = static_cast<uint8_t>(0xC0 | ((seq >> 8) & 0x3F));
  b[3] = static_cast<uint8_t>(seq);
  b[13] = static_cast<uint8_t>(seq >> 24);
  b[14] = static_cast<uint8_t>(seq >> 16);
  b[15] = static_cast<uint8_t>(seq >> 8);
  b[16] = static_cast<uint8_t>(seq);
  const uint16_t crc = protocol::Crc16CcittFalse({b, out.size() - 2});
  b[out.size() - 2] = static_cast<uint8_t>(crc >> 8);
  b[out.size() - 1] = static_cast<uint8_t>(crc);
}

// A lossless publisher: it blocks on a full subscriber instead of dropping.
class Sender {
 public:
  explicit Sender(const std::string& endpoint) : socket_(context_, zmq::socket_type::xpub) {
    socket_.set(zmq::sockopt::sndhwm, 100'000);
    socket_.set(zmq::sockopt::linger, 10'000);
    socket_.set(zmq::sockopt::xpub_nodrop, 1);
    socket_.bind(endpoint);
  }
  bool WaitForSubscriber(std::chrono::seconds timeout) {
    socket_.set(zmq::sockopt::rcvtimeo, static_cast<int>(timeout.count() * 1000));
    zmq::message_t m;
    return socket_.recv(m).has_value();
  }
  void Send(std::string_view topic, std::string_view packet) {
    socket_.send(zmq::buffer(topic), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(packet), zmq::send_flags::none);
  }

 private:
  zmq::context_t context_{1};
  zmq::socket_t socket_;
};

std::string FreeEndpoint(const std::string& transport, const fs::path& dir,
                         const std::string& name) {
  if (transport == "ipc") return "ipc://" + (dir / (name + ".ipc")).string();
  static std::mt19937 rng(static_cast<unsigned>(WallNs()));
  return fmt::format("tcp://127.0.0.1:{}", 20000 + rng() % 30000);
}

int FreeTcpPortNumber() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

// One HTTP GET on loopback; status 0 when the connection fails.
std::pair<unsigned, std::string> HttpGet(int port, const std::string& target) {
  namespace http = boost::beast::http;
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  boost::beast::error_code ec;
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)}, ec);
  if (ec) return {0, {}};
  http::request<http::empty_body> req(http::verb::get, target, 11);
  req.set(http::field::host, "localhost");
  http::write(socket, req, ec);
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256u << 20);
  if (!ec) http::read(socket, buffer, parser, ec);
  if (ec) return {0, {}};
  return {parser.get().result_int(), parser.get().body()};
}

// Browser stand-ins: WebSocket clients subscribed to every telemetry field. Browsers run on
// operators' machines, not the station's: here they share its two cores, so their threads run
// at nice 19 (they get what the station leaves) and only count messages and bytes; the station
// reports the samples it sent and dropped.
class WebClients {
 public:
  WebClients(int port, size_t count) {
    nlohmann::json keys = nlohmann::json::array();
    for (const station::TelemetryField& f : station::AllTelemetryFields()) keys.push_back(f.key);
    subscribe_ = nlohmann::json{{"subscribe", keys}}.dump();
    for (size_t i = 0; i < count; ++i) threads_.emplace_back([this, port] { Run(port); });
  }
  ~WebClients() { Stop(); }
  bool WaitConnected(size_t count, std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (connected_ < count && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return connected_ >= count;
  }
  void Stop() {
    stop_ = true;
    {
      std::lock_guard lock(mutex_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  uint64_t messages() const { return messages_; }
  uint64_t bytes() const { return bytes_; }

 private:
  void Run(int port) {
    namespace websocket = boost::beast::websocket;
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19);
    boost::asio::io_context io;
    websocket::stream<boost::asio::ip::tcp::socket> ws(io);
    boost::beast::error_code ec;
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    do {
      ec = {};
      ws.next_layer().close(ec);
      ws.next_layer().connect(
          {boost::asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)}, ec);
      if (!ec) ws.handshake("localhost", "/api/realtime", ec);
      if (ec) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } while (ec && !stop_ && Clock::now() < deadline);
    if (ec) return;
    {
      std::lock_guard lock(mutex_);
      fds_.push_back(ws.next_layer().native_handle());
    }
    ws.read_message_max(256u << 20);
    ws.write(boost::asio::buffer(subscribe_), ec);
    boost::beast::flat_buffer buffer;
    while (!ec && buffer.size() == 0) {  // counted as connected once subscribed
      ws.read(buffer, ec);
      const std::string_view reply(static_cast<const char*>(buffer.data().data()),
                                   buffer.data().size());
      if (reply.find("\"subscribed\"") == std::string_view::npos) buffer.consume(buffer.size());
    }
    buffer.consume(buffer.size());
    ++connected_;
    while (!stop_ && !ec) {
      ws.read(buffer, ec);
      if (ec) break;
      ++messages_;
      bytes_ += buffer.size();
      buffer.consume(buffer.size());
    }
  }

  std::string subscribe_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::vector<int> fds_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> connected_{0};
  std::atomic<uint64_t> messages_{0}, bytes_{0};
};

struct Row {
  Row(std::string n, uint64_t p) : name(std::move(n)), packets(p) {}
  std::string name;
  uint64_t packets = 0;
  double packets_per_s = 0;
  double ratio = 0;  // to the ceiling for the same packets
  uint64_t lost = 0;
  std::optional<double> cpu_us_per_packet;
  std::optional<json> latency;
  std::optional<json> memory;
  std::optional<json> web;  // what the web clients got
  bool paced = false;       // fed at a fixed rate: its rate is the sender's, not a capacity
  std::string note;
};

json RowJson(const Row& r) {
  json j = {{"name", r.name},
            {"packets", r.packets},
            {"packets_per_s", r.packets_per_s},
            {"ratio", r.ratio},
            {"lost", r.lost}};
  if (r.cpu_us_per_packet) j["cpu_us_per_packet"] = *r.cpu_us_per_packet;
  if (r.latency) j["latency"] = *r.latency;
  if (r.memory) j["memory"] = *r.memory;
  if (r.paced) j["paced"] = true;
  if (r.web) j["web"] = *r.web;
  if (!r.note.empty()) j["note"] = r.note;
  return j;
}

class Bench {
 public:
  Bench(const BenchOptions& o, fs::path dir) : o_(o), dir_(std::move(dir)) {}

  // Raw ZeroMQ: this process sends, a `gsctl bench-sink` process counts.
  Row Ceiling(const std::string& name, const Mix* mix, size_t fixed_size, uint64_t count) {
    Row row{name, count};
    const std::string endpoint = FreeEndpoint(o_.transport, dir_, "ceiling");
    Sender sender(endpoint);
    Child sink(o_.self, {"bench-sink", "--connect", endpoint, "--count", std::to_string(count)},
               dir_ / "sink.log");
    if (!sender.WaitForSubscriber(std::chrono::seconds(30)))
      return Failed(row, "sink never subscribed");
    const std::string fixed(fixed_size, 'x'), fixed_topic = "tm.rover1.bench.";
    std::string scratch;
    for (uint64_t i = 0; i < count; ++i) {
      if (mix) {
        const auto& p = mix->packets[i % mix->packets.size()];
        const uint64_t cycle = i / mix->packets.size();
        if (cycle == 0) {
          sender.Send(mix->topics[p.stream], p.bytes);
        } else {
          Resequence(*mix, p, cycle, scratch);
          sender.Send(mix->topics[p.stream], scratch);
        }
      } else {
        sender.Send(fixed_topic, fixed);
      }
    }
    const int code = sink.Wait();
    json result;
    try {
      result = json::parse(std::ifstream(dir_ / "sink.log"));
    } catch (const std::exception&) {
      return Failed(row, "sink output unreadable");
    }
    const uint64_t received = result["received"];
    row.lost = count - received;
    const double seconds =
        (result["last_ns"].get<int64_t>() - result["first_ns"].get<int64_t>()) / 1e9;
    row.packets_per_s = seconds > 0 ? (received - 1) / seconds : 0;
    row.cpu_us_per_packet = sink.cpu_s() * 1e6 / std::max<uint64_t>(received, 1);
    if (code != 0) row.note = "sink timed out";
    return row;
  }

  // The real station (verify, decode, account, record with zstd) fed at full speed.
  // The full pipeline fed as fast as the sender can (`rate` 0) or at a fixed rate: paced, the
  // ZeroMQ receive queue stays near empty, so the station's memory is its own and not how full a
  // queue of up to --receive-hwm messages happened to be when it was sampled.
  Row StationFullPipeline(const Mix& mix, uint64_t count, bool sample_memory, bool web = false,
                          double rate = 0) {
    Row row{web    ? fmt::format("station full pipeline + {} web clients", o_.web_clients)
            : rate ? fmt::format("station memory run at {} packets/s", Rate(rate))
                   : std::string("station full pipeline (record zstd)"),
            count};
    row.paced = rate > 0;
    const std::string endpoint = FreeEndpoint(o_.transport, dir_, "station");
    Sender sender(endpoint);
    const int http_port = web ? FreeTcpPortNumber() : 0;
    Child station = StartStation(endpoint, "pipeline", http_port);
    if (!sender.WaitForSubscriber(std::chrono::seconds(30)))
      return Failed(row, "station never subscribed");
    auto clients = StartWebClients(http_port, row);
    MemorySampler memory(station, count);
    std::string scratch;
    // Paced in 1 ms steps: a sleep per packet would cost more than the packet.
    constexpr uint64_t kStepsPerSecond = 1000;
    const uint64_t per_step = std::max<uint64_t>(1, static_cast<uint64_t>(rate / kStepsPerSecond));
    const auto start = Clock::now();
    for (uint64_t i = 0; i < count; ++i) {
      if (rate > 0 && i % per_step == 0) {
        std::this_thread::sleep_until(
            start + std::chrono::nanoseconds(static_cast<int64_t>(i * 1e9 / rate)));
      }
      const auto& p = mix.packets[i % mix.packets.size()];
      const uint64_t cycle = i / mix.packets.size();
      if (cycle == 0) {
        sender.Send(mix.topics[p.stream], p.bytes);
      } else {
        Resequence(mix, p, cycle, scratch);
        sender.Send(mix.topics[p.stream], scratch);
      }
      if ((i & 0x3FFF) == 0) memory.Progress(i);
    }
    FinishWebClients(row, clients, http_port);
    FinishStation(row, station, "pipeline");
    if (sample_memory) {
      row.memory = memory.Result();
      (*row.memory)["minor_page_faults"] = station.minor_faults();
    }
    return row;
  }

  Row ReplayIntoStation(const Mix& mix, uint64_t count) {
    Row row{"gsctl replay --max -> station", count};
    const fs::path file = WriteRecording(mix, count);
    if (file.empty()) return Failed(row, "cannot write the replay recording");
    const std::string endpoint = FreeEndpoint(o_.transport, dir_, "replay");
    Child replay(o_.self,
                 {"replay", file.string(), "--insecure", "--max", "--bind", endpoint,
                  "--wait-for-subscribers", "1"},
                 dir_ / "replay.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    Child station = StartStation(endpoint, "replay");
    if (replay.Wait() != 0) row.note = "replay failed";
    FinishStation(row, station, "replay");
    return row;
  }

  // End-to-end latency at a fixed rate into the station, or (raw) into a bare ZeroMQ receiver
  // as the floor this machine sets.
  Row Latency(const Mix& mix, double rate, double seconds, bool raw, bool web = false) {
    const auto count = static_cast<uint64_t>(rate * seconds);
    Row row{fmt::format("{} at {:.0f} packets/s",
                        raw   ? "latency, raw ZeroMQ"
                        : web ? fmt::format("latency, station + {} web", o_.web_clients)
                              : "latency, station",
                        rate),
            count};
    const int http_port = web ? FreeTcpPortNumber() : 0;
    const std::string endpoint = FreeEndpoint(o_.transport, dir_, "latency");
    Sender sender(endpoint);
    Child station = raw ? Child(o_.self,
                                {"bench-sink", "--connect", endpoint, "--count",
                                 std::to_string(count), "--latency"},
                                dir_ / "sink.log")
                        : StartStation(endpoint, "latency", http_port);
    if (!sender.WaitForSubscriber(std::chrono::seconds(30)))
      return Failed(row, "station never subscribed");
    auto clients = StartWebClients(http_port, row);
    std::array<uint32_t, protocol::kStreamCount> seq{};
    std::string packet;
    // Precise sleeps instead of spinning: a spinning sender would take a core from the
    // station on a 2-core machine and the measurement would be of the contention.
    ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    const auto start = Clock::now();
    for (uint64_t i = 0; i < count; ++i) {
      const auto due = start + std::chrono::nanoseconds(static_cast<int64_t>(i * 1e9 / rate));
      std::this_thread::sleep_until(due);
      const auto& p = mix.packets[i % mix.packets.size()];
      const auto payload = protocol::AsBytes(p.bytes).subspan(
          protocol::kPrimaryHeaderSize + protocol::kSecondaryHeaderSize,
          p.bytes.size() - protocol::kTmOverheadSize);
      // On-board time = now, so the station's latency is send -> fully processed.
      if (!protocol::EncodeTmPacket(protocol::AllStreams()[p.stream].apid, seq[p.stream]++,
                                    WallNs(), payload, packet)
               .ok()) {
        return Failed(row, "cannot encode");
      }
      sender.Send(mix.topics[p.stream], packet);
    }
    if (!raw) {
      FinishWebClients(row, clients, http_port);
      FinishStation(row, station, "latency");
      return row;
    }
    const int code = station.Wait();
    try {
      const json result = json::parse(std::ifstream(dir_ / "sink.log"));
      row.lost = count - result["received"].get<uint64_t>();
      row.packets_per_s = rate;
      row.latency = result["latency"];
      row.cpu_us_per_packet = station.cpu_s() * 1e6 / std::max<uint64_t>(count, 1);
    } catch (const std::exception&) {
      return Failed(row, "sink output unreadable");
    }
    if (code != 0) row.note = "sink timed out";
    return row;
  }

  // History for the web UI: one hour of housekeeping at 10 Hz (with the rest of the default mix
  // around it) in a closed recording, asked for by a station with `minmax` at 1000 points and in
  // full, each `repeats` times; wall time per answer.
  json History(const Mix& mix, int repeats, double hours) {
    const fs::path directory = dir_ / "history";
    fs::remove_all(directory);
    const size_t hk = static_cast<size_t>(protocol::StreamId::kHousekeeping);
    const double hk_share = static_cast<double>(mix.per_stream[hk]) / mix.packets.size();
    const auto target = static_cast<uint64_t>(std::llround(36'000 * hours));
    const auto total = static_cast<uint64_t>(static_cast<double>(target) / hk_share);
    const int64_t step_ns = static_cast<int64_t>(3600e9 * hours / static_cast<double>(total));
    uint64_t housekeeping = 0, recorded = 0;
    const fs::path file =
        RecordMix(mix, directory, 2 * total, step_ns, &housekeeping, target, &recorded);
    if (file.empty()) return {{"error", "cannot write the recording"}};
    const int port = FreeTcpPortNumber();
    Child station(
        o_.station,
        {"--insecure", "--connect", FreeEndpoint(o_.transport, dir_, "history"), "--record",
         directory.string(), "--quiet", "--stats-interval", "0", "--log-level", "warn", "--http",
         fmt::format("127.0.0.1:{}", port), "--duration", "600"},
        dir_ / "history.log");
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (HttpGet(port, "/api/link").first != 200 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const int64_t start_ms = kMissionStart / 1'000'000;
    const auto measure = [&](const std::string& query) {
      std::vector<double> ms;
      size_t samples = 0;
      for (int i = 0; i < repeats; ++i) {
        const auto t0 = Clock::now();
        const auto [status, body] = HttpGet(
            port, fmt::format("/api/history?key=housekeeping.battery_soc_percent&start={}&end={}{}",
                              // a tenth beyond the hour: where the mix put the last of them
                              start_ms, start_ms + static_cast<int64_t>(hours * 3'960'000), query));
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (status != 200) return json{{"error", fmt::format("HTTP {}", status)}};
        samples = json::parse(body).size();
      }
      std::sort(ms.begin(), ms.end());
      return json{{"samples", samples}, {"median_ms", ms[ms.size() / 2]}, {"max_ms", ms.back()}};
    };
    json out = {{"hours", hours},
                {"recorded_messages", recorded},
                {"housekeeping_messages", housekeeping},
                {"recording_mb", fs::file_size(file) / 1048576.0},
                {"minmax_1000", measure("&strategy=minmax&size=1000")},
                {"latest", measure("&strategy=latest")},
                {"full", measure("")}};
    ::kill(station.pid(), SIGTERM);
    station.Wait();
    return out;
  }

 private:
  // Samples the station's RSS: after 10% of the packets (warm) and the largest seen after that.
  class MemorySampler {
   public:
    MemorySampler(const Child& child, uint64_t total) : child_(child), total_(total) {}
    void Progress(uint64_t sent) {
      const uint64_t rss = child_.RssBytes();
      if (sent >= total_ / 10 && warm_ == 0) warm_ = rss;
      if (warm_ != 0) peak_after_warm_ = std::max(peak_after_warm_, rss);
      last_ = rss;
      // One point per 5 % of the run: where memory settles shows in the JSON, not only the peak.
      if (sent * 20 >= total_ * series_.size()) series_.push_back(rss / 1048576.0);
    }
    json Result() const {
      const double growth =
          warm_ > 0 ? 100.0 * (static_cast<double>(peak_after_warm_) - warm_) / warm_ : 0;
      return {{"rss_warm_mb", warm_ / 1048576.0},
              {"rss_peak_mb", peak_after_warm_ / 1048576.0},
              {"rss_last_mb", last_ / 1048576.0},
              {"growth_percent", growth},
              {"rss_every_5_percent_mb", series_}};
    }

   private:
    const Child& child_;
    uint64_t total_;
    uint64_t warm_ = 0, peak_after_warm_ = 0, last_ = 0;
    std::vector<double> series_;
  };

  // `http_port` 0: no web endpoint (the station's default would take 8080 if it is free).
  Child StartStation(const std::string& endpoint, const std::string& name, int http_port = 0) {
    fs::remove_all(dir_ / ("rec-" + name));
    return Child(
        o_.station,
        {"--insecure", "--connect", endpoint, "--light-time", "0", "--quiet", "--stats-interval",
         "0", "--idle-exit", "1", "--summary-json", (dir_ / (name + ".json")).string(), "--record",
         (dir_ / ("rec-" + name)).string(), "--log-level", "warn", "--http",
         http_port > 0 ? fmt::format("127.0.0.1:{}", http_port) : std::string("none")},
        dir_ / (name + ".log"));
  }

  // Starts `o_.web_clients` WebSocket clients subscribed to every field of the station about to
  // listen on `port`; empty when not asked for.
  std::unique_ptr<WebClients> StartWebClients(int port, Row& row) {
    if (port == 0) return nullptr;
    auto clients = std::make_unique<WebClients>(port, o_.web_clients);
    if (!clients->WaitConnected(o_.web_clients, std::chrono::seconds(20))) {
      Failed(row, "web clients could not connect");
    }
    return clients;
  }
  // Asks the station (still up: it waits a second of silence before it exits) what the web got.
  static void FinishWebClients(Row& row, std::unique_ptr<WebClients>& clients, int port) {
    if (!clients) return;
    // The last packets' samples go out with the next batch (every 100 ms).
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const auto [status, body] = HttpGet(port, "/api/link");
    clients->Stop();
    row.web = json{{"messages_received", clients->messages()},
                   {"mb_received", clients->bytes() / 1048576.0}};
    if (status == 200) (*row.web)["station"] = json::parse(body)["realtime"];
  }

  void FinishStation(Row& row, Child& station, const std::string& name) {
    const int code = station.Wait();
    json s;
    try {
      s = json::parse(std::ifstream(dir_ / (name + ".json")));
    } catch (const std::exception&) {
      Failed(row, fmt::format("station exited {} without a summary", code));
      return;
    }
    const uint64_t received = s["totals"]["received"];
    row.lost = row.packets > received ? row.packets - received : 0;
    row.lost += s["totals"]["missing"].get<uint64_t>() + s["totals"]["rejected"].get<uint64_t>();
    const double seconds = (s["totals"]["last_ground_ns"].get<int64_t>() -
                            s["totals"]["first_ground_ns"].get<int64_t>()) /
                           1e9;
    row.packets_per_s = seconds > 0 ? (received - 1) / seconds : 0;
    row.cpu_us_per_packet = station.cpu_s() * 1e6 / std::max<uint64_t>(received, 1);
    row.latency = s["latency"];
    if (code != 0) row.note = fmt::format("station exited {}", code);
  }

  fs::path WriteRecording(const Mix& mix, uint64_t count) {
    return RecordMix(mix, dir_ / "replay-source", count, 1000, nullptr);
  }

  // Records `count` packets of the mix (resequenced as they repeat), received `step_ns` apart,
  // into one closed file in `directory`; empty on failure. Counts the housekeeping packets.
  // Records `count` packets of the mix, or (with `housekeeping_target`) as many as it takes to
  // record that many housekeeping packets.
  static fs::path RecordMix(const Mix& mix, const fs::path& directory, uint64_t count,
                            int64_t step_ns, uint64_t* housekeeping,
                            uint64_t housekeeping_target = 0, uint64_t* recorded = nullptr) {
    station::RecorderOptions options;
    options.directory = directory.string();
    options.writer.sync_on_chunk = false;
    options.split_duration_s = std::nullopt;  // one file, however much ground time it spans
    options.split_size_bytes = std::nullopt;
    station::Recorder recorder(options);
    if (!recorder.Open(kMissionStart).ok()) return {};
    protocol::TelemetryDecoder decoder("rover1");
    std::string scratch;
    const size_t hk = static_cast<size_t>(protocol::StreamId::kHousekeeping);
    for (uint64_t i = 0; i < count; ++i) {
      const auto& p = mix.packets[i % mix.packets.size()];
      const uint64_t cycle = i / mix.packets.size();
      const std::string* bytes = &p.bytes;
      if (cycle > 0) {
        Resequence(mix, p, cycle, scratch);
        bytes = &scratch;
      }
      auto decoded = decoder.Decode(mix.topics[p.stream], protocol::AsBytes(*bytes));
      if (!decoded.ok()) return {};
      const int64_t ground_ns = kMissionStart + static_cast<int64_t>(i) * step_ns;
      recorder.RecordTelemetry(*decoded, ground_ns);
      recorder.Tick(ground_ns);  // chunks close on the recorder's flush interval of ground time
      if (recorded != nullptr) ++*recorded;
      if (housekeeping != nullptr) *housekeeping += p.stream == hk;
      if (housekeeping != nullptr && housekeeping_target > 0 &&
          *housekeeping >= housekeeping_target) {
        break;
      }
    }
    if (!recorder.Close().ok()) return {};
    return recorder.stats().current_file;
  }

  static Row Failed(Row& row, std::string why) {
    row.note = std::move(why);
    row.lost = row.packets;
    return row;
  }

  const BenchOptions& o_;
  fs::path dir_;
};

std::string Micros(const json& latency, const char* key) {
  return fmt::format("{:.0f}", latency[key].get<double>() / 1e3);
}

}  // namespace

int RunBenchSink(const BenchSinkOptions& o) {
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::sub);
  socket.set(zmq::sockopt::rcvhwm, 100'000);
  socket.set(zmq::sockopt::rcvtimeo, static_cast<int>(o.timeout_s * 1000));
  socket.set(zmq::sockopt::subscribe, "");
  socket.connect(o.connect);
  uint64_t received = 0;
  int64_t first = 0, last = 0;
  station::LatencyHistogram latency;
  zmq::message_t topic, packet;
  while (received < o.count) {
    if (!socket.recv(topic)) break;
    if (topic.more()) static_cast<void>(socket.recv(packet));
    last = WallNs();
    if (received++ == 0) first = last;
    if (o.latency && packet.size() >= protocol::kMinTmPacketSize) {
      const auto* b = static_cast<const uint8_t*>(packet.data());
      const protocol::CucTime cuc =
          protocol::DecodeCuc(std::span<const uint8_t, protocol::kCucSize>(
              b + protocol::kPrimaryHeaderSize, protocol::kCucSize));
      latency.Record(last - protocol::UnixNsFromCuc(cuc));
    }
  }
  json out = {{"received", received}, {"first_ns", first}, {"last_ns", last}};
  if (o.latency) {
    out["latency"] = {{"count", latency.count()},
                      {"negative", latency.negative()},
                      {"p50_ns", latency.Percentile(0.5)},
                      {"p99_ns", latency.Percentile(0.99)},
                      {"p999_ns", latency.Percentile(0.999)},
                      {"max_ns", latency.max()}};
  }
  fmt::print("{}\n", out.dump());
  return received == o.count ? kExitOk : kExitFailure;
}

int RunBench(const BenchOptions& options) {
  BenchOptions o = options;
  if (o.station.empty()) {
    o.station = (fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "groundstation" /
                 "groundstation")
                    .string();
  }
  if (o.self.empty()) o.self = fs::read_symlink("/proc/self/exe").string();
  if (!fs::exists(o.station)) {
    fmt::print(stderr, "gsctl bench: no station at '{}' (use --station PATH)\n", o.station);
    return kExitUsage;
  }
  if (o.transport != "tcp" && o.transport != "ipc") {
    fmt::print(stderr, "gsctl bench: transport must be tcp or ipc\n");
    return kExitUsage;
  }
  const uint64_t throughput_packets = o.quick ? 50'000 : o.packets;
  const uint64_t memory_packets = o.quick ? 50'000 : o.memory_packets;
  const double latency_seconds = o.quick ? 0.3 : o.latency_seconds;
  const fs::path dir = fs::temp_directory_path() / fmt::format("gsctl-bench-{}", ::getpid());
  fs::create_directories(dir);

  const auto say = [&](const std::string& what) {
    if (!o.json) fmt::print(stderr, "bench: {}\n", what);
  };
  say("generating the default stream mix");
  const Mix mix = MakeMix(std::min<uint64_t>(200'000, throughput_packets));
  Bench bench(o, dir);
  std::vector<Row> rows;
  const auto wanted = [&](std::string_view section) {
    return o.only.empty() || std::ranges::find(o.only, section) != o.only.end();
  };
  const bool web = o.web_clients > 0 && wanted("web");
  double ceiling = 0;
  if (wanted("ceiling") || wanted("pipeline") || wanted("replay") || web) {
    say("raw ZeroMQ ceilings");
    rows.push_back(bench.Ceiling("raw ZeroMQ, default mix (ceiling)", &mix, 0, throughput_packets));
    ceiling = rows.back().packets_per_s;
    rows.back().ratio = 1.0;
  }
  if (wanted("ceiling")) {
    for (size_t size : {64, 512, 4096}) {
      rows.push_back(
          bench.Ceiling(fmt::format("raw ZeroMQ, {} B", size), nullptr, size, throughput_packets));
      rows.back().ratio = 1.0;
    }
  }
  if (wanted("pipeline")) {
    say(fmt::format("station full pipeline, {} packets", throughput_packets));
    rows.push_back(bench.StationFullPipeline(mix, throughput_packets, true));
    rows.back().ratio = ceiling > 0 ? rows.back().packets_per_s / ceiling : 0;
    // Memory at half the rate just measured (so no queue builds up), or at a rate every
    // machine we run on sustains when the flat-out run failed.
    const Row& flat_out = rows.back();
    const double paced = flat_out.lost == 0 && flat_out.note.empty() && flat_out.packets_per_s > 0
                             ? std::round(flat_out.packets_per_s / 2 / 1000) * 1000
                             : 100'000.0;
    // A quick run still lasts half a second, so start-up jitter does not make its rate.
    const uint64_t paced_packets =
        o.quick ? std::max(memory_packets, static_cast<uint64_t>(paced / 2)) : memory_packets;
    say(fmt::format("station memory, {} packets at {}/s", paced_packets, Rate(paced)));
    rows.push_back(bench.StationFullPipeline(mix, paced_packets, true, false, paced));
  }
  if (wanted("replay")) {
    say("replay into the station");
    rows.push_back(bench.ReplayIntoStation(mix, throughput_packets));
    rows.back().ratio = ceiling > 0 ? rows.back().packets_per_s / ceiling : 0;
  }
  if (wanted("latency")) {
    for (double rate : {1'000.0, 10'000.0, 100'000.0}) {
      say(fmt::format("latency at {:.0f} packets/s", rate));
      rows.push_back(bench.Latency(mix, rate, latency_seconds, true));
      rows.push_back(bench.Latency(mix, rate, latency_seconds, false));
    }
  }
  json history;
  if (web) {
    say(fmt::format("the same with {} WebSocket clients subscribed to every field", o.web_clients));
    rows.push_back(bench.StationFullPipeline(mix, throughput_packets, false, true));
    rows.back().ratio = ceiling > 0 ? rows.back().packets_per_s / ceiling : 0;
    rows.push_back(bench.Latency(mix, 100'000.0, latency_seconds, false, true));
    say(o.quick ? "history: 6 min of 10 Hz housekeeping" : "history: 1 h of 10 Hz housekeeping");
    history = bench.History(mix, o.quick ? 2 : 5, o.quick ? 0.1 : 1.0);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);

  bool lossless = true;
  for (const Row& r : rows) lossless = lossless && r.lost == 0 && r.note.empty();
  if (o.json) {
    json out = {{"mix_packets", mix.packets.size()},
                {"mix_mean_packet_bytes", mix.bytes / std::max<size_t>(mix.packets.size(), 1)},
                {"transport", o.transport},
                {"quick", o.quick},
                {"lossless", lossless},
                {"rows", json::array()}};
    for (const Row& r : rows) out["rows"].push_back(RowJson(r));
    if (!history.is_null()) out["history"] = history;
    fmt::print("{}\n", out.dump());
  } else {
    fmt::print("\n{:<38}{:>10}{:>11}{:>8}{:>7}{:>9}{:>9}{:>9}{:>9}{:>10}{:>10}\n", "run", "packets",
               "packets/s", "ratio", "lost", "p50 us", "p99 us", "p99.9us", "max us", "CPU us/p",
               "RSS MB");
    for (const Row& r : rows) {
      std::string p50 = "-", p99 = "-", p999 = "-", max = "-", rss = "-", cpu = "-", ratio = "-";
      if (r.ratio > 0) ratio = fmt::format("{:.0f}%", r.ratio * 100);
      if (r.latency && r.name.starts_with("latency")) {
        p50 = Micros(*r.latency, "p50_ns");
        p99 = Micros(*r.latency, "p99_ns");
        p999 = Micros(*r.latency, "p999_ns");
        max = Micros(*r.latency, "max_ns");
      }
      // Paced: the station's own memory, after warm-up > peak. Flat out: the peak, most of it
      // the ZeroMQ receive queue.
      if (r.memory && r.paced) {
        rss = fmt::format("{:.1f}>{:.1f}", (*r.memory)["rss_warm_mb"].get<double>(),
                          (*r.memory)["rss_peak_mb"].get<double>());
      } else if (r.memory) {
        rss = fmt::format("{:.0f}", (*r.memory)["rss_peak_mb"].get<double>());
      }
      if (r.cpu_us_per_packet) cpu = fmt::format("{:.2f}", *r.cpu_us_per_packet);
      fmt::print("{:<38}{:>10}{:>11}{:>8}{:>7}{:>9}{:>9}{:>9}{:>9}{:>10}{:>10}{}\n", r.name,
                 r.packets, Rate(r.packets_per_s), ratio, r.lost, p50, p99, p999, max, cpu, rss,
                 r.note.empty() ? "" : "  (" + r.note + ")");
    }
    fmt::print(
        "\nmix: {} packets, mean {} B; transport {}; ratio = packets/s over the raw ZeroMQ "
        "ceiling for the same packets; CPU = the receiving process's user+system time per "
        "packet; RSS = peak (flat out: mostly the ZeroMQ receive queue); paced memory run: "
        "after 10% warm-up > peak after it\n",
        mix.packets.size(), mix.bytes / std::max<size_t>(mix.packets.size(), 1), o.transport);
    for (const Row& r : rows) {
      if (!r.web) continue;
      fmt::print("web clients of '{}': {} messages, {:.0f} MB received; station: {}\n", r.name,
                 (*r.web)["messages_received"].get<uint64_t>(),
                 (*r.web)["mb_received"].get<double>(), r.web->value("station", json()).dump());
    }
    if (!history.is_null()) fmt::print("history (10 Hz housekeeping): {}\n", history.dump());
  }
  return lossless ? kExitOk : kExitFailure;
}

}  // namespace lgs::gsctl
