// gsctl bench, traffic: the packets the benchmark sends (the emulator's default stream mix,
// resequenced as it repeats so every packet is new to the station), a lossless publisher, free
// endpoints, and recordings of the mix written directly (for replay and history). Not
// thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "protocol/cuc_time.h"
#include "protocol/stream_registry.h"

namespace lgs::gsctl::bench {

namespace fs = std::filesystem;

// Where the benchmark's mission time starts (2026-11-18).
inline constexpr protocol::TimestampNs kMissionStart = 1'795'000'000'000'000'000;

// The packets the station will get: the emulator's default stream mix.
struct Mix {
  std::vector<std::string> topics;  // by stream index
  struct Packet {
    size_t stream;
    std::string bytes;
    // A file_delivery packet: where its CFDP PDU's 4-octet transaction sequence number is, so a
    // repetition of the mix is a new transaction (0: none).
    size_t cfdp_sequence_at = 0;
  };
  std::vector<Packet> packets;
  std::array<uint32_t, protocol::kStreamCount> per_stream{};  // packets of each stream in the mix
  uint64_t bytes = 0;
  uint32_t transactions = 0;  // CFDP transactions in the mix
};

Mix MakeMix(size_t count);
// The default mix with files coming down beside it as a 285 kbit/s link carries them: CFDP
// class 2 PDUs of 150 kB files in the bandwidth the telemetry leaves.
Mix MakeFileMix(size_t count);

// Rewrites the sequence fields (and CRC) of a mix packet for its `cycle`-th repetition, so that
// every packet of a long run is new to the station (and every CFDP transaction too).
void Resequence(const Mix& mix, const Mix::Packet& p, uint64_t cycle, std::string& out);

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

// "ipc://<dir>/<name>.ipc", or a TCP endpoint on a random port of 127.0.0.1.
std::string FreeEndpoint(const std::string& transport, const fs::path& dir,
                         const std::string& name);
int FreeTcpPortNumber();

// Records `count` packets of the mix (resequenced as they repeat), received `step_ns` apart, into
// one closed file in `directory`, or (with `housekeeping_target`) as many as it takes to record
// that many housekeeping packets; returns the file, empty on failure.
fs::path RecordMix(const Mix& mix, const fs::path& directory, uint64_t count, int64_t step_ns,
                   uint64_t* housekeeping, uint64_t housekeeping_target = 0,
                   uint64_t* recorded = nullptr);

}  // namespace lgs::gsctl::bench
