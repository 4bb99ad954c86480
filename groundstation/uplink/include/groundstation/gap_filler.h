// GapFiller: gets back what the link lost. From the link accounting's missing ranges it builds
// retransmit telecommands for the rover's packet store: batched (many ranges per request),
// paced (a bounded number of packets requested and not yet back), retried with exponential
// backoff while nothing comes back at all (an outage), and stopped for the ranges the rover reports
// it no longer has, which the accounting then marks lost for good. Streams that fall quiet get
// a tail probe ("everything after my newest") so that losses at the end of a pass are found.
//
// Pure logic with no sockets or clocks of its own: the station calls Poll() on its Asio thread
// and sends what it returns; reports come in through OnReport(). Not thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "groundstation/link_accounting.h"
#include "protocol/logger.h"
#include "protocol/status.h"
#include "protocol/stream_registry.h"
#include "rover/v1/command.pb.h"
#include "rover/v1/verification.pb.h"

namespace lgs::station {

struct GapFillOptions {
  bool enabled = false;
  std::string uplink = "tcp://127.0.0.1:5556";  // the rover's command endpoint
  uint16_t source_id = 1;                       // this station, as the rover knows it
  double tick_s = 0.25;                         // how often Poll() runs
  double grace_s = 1.0;         // a new gap waits this long (reordering may close it)
  double margin_s = 1.0;        // added to the round-trip light time before a retry
  double max_backoff_s = 30.0;  // longest wait between attempts for one range
  size_t max_ranges_per_request = 32;
  uint64_t max_packets_in_flight = 4000;  // requested and not yet back or timed out
  double tail_probe_s = 5.0;              // probe a stream quiet this long; 0 = never
  // A quiet stream is probed once per quiet spell (again only when its probe goes unanswered);
  // one that stays quiet is probed again this often, in case all it sent since was lost.
  double reprobe_s = 60.0;
  // A cautious guess of how many packets per second the downlink brings back, so a big batch
  // gets the time it needs before it counts as timed out.
  double downlink_packets_per_s = 500.0;

  Status Validate() const;
};

struct GapFillStats {
  uint64_t requests = 0;           // retransmit telecommands built
  uint64_t ranges_requested = 0;   // ranges in them (retries included)
  uint64_t packets_requested = 0;  // sequences in them (retries included; probes not counted)
  uint64_t retries = 0;            // ranges asked for again after a timeout
  uint64_t probes = 0;             // tail probes
  uint64_t reports = 0;            // verification reports for our requests
  uint64_t failed_reports = 0;     // of which failures
  uint64_t packets_queued = 0;     // the rover said it queued this many
  uint64_t lost = 0;               // sequences the rover reported unavailable
  uint64_t send_failures = 0;      // the uplink would not take a request
  uint64_t unmatched_reports = 0;  // reports to no request this station sent: ignored
};

class GapFiller {
 public:
  using Clock = std::chrono::steady_clock;

  GapFiller(GapFillOptions options, double light_time_s, Logger& log = NullLogger());

  // The requests to send now (at most one per call), built from what is missing.
  std::vector<rover::v1::RetransmitRequest> Poll(const LinkAccounting& accounting,
                                                 Clock::time_point now);
  // A verification report from the rover. Only reports to requests this station sent count, and
  // only for the ranges the request asked for; others' reports are ignored. True when it was a
  // report to one of this station's retransmit requests.
  bool OnReport(const rover::v1::CommandVerification& report, LinkAccounting& accounting);
  // The station sent `request` as this request sequence (probes wait for their answer).
  void OnSent(uint32_t request_sequence, const rover::v1::RetransmitRequest& request);
  // The station could not hand a request to the uplink: its ranges are due again at once.
  void OnSendFailed(const rover::v1::RetransmitRequest& request);

  // Something is still missing and not given up.
  bool busy() const;
  const GapFillStats& stats() const { return stats_; }
  const GapFillOptions& options() const { return options_; }

 private:
  struct Tracked {
    uint32_t last = 0;
    Clock::time_point detected;
    Clock::time_point due;  // when it may be requested (again)
    int attempts = 0;
    // Requests that timed out while nothing at all came down the link (an outage): only these
    // back off. A request that went unanswered while telemetry flowed was simply lost on a lossy
    // link, and is asked again after one round trip.
    int silent_timeouts = 0;
    Clock::time_point sent;
  };
  Clock::duration Timeout(int silent_timeouts, uint64_t packets) const;

  GapFillOptions options_;
  Logger& log_;
  Clock::duration round_trip_;
  std::array<std::map<uint32_t, Tracked>, protocol::kStreamCount> tracked_;
  struct Probe {
    Clock::time_point sent{};
    uint64_t received_then = 0;  // the stream's received count when probed
    bool ever = false;
    bool answered = false;
    uint32_t request_sequence = 0;
  };
  std::array<Probe, protocol::kStreamCount> probes_{};
  std::array<uint64_t, protocol::kStreamCount> received_seen_{};
  std::array<Clock::time_point, protocol::kStreamCount> last_change_{};
  Clock::time_point last_arrival_{};  // of anything on any stream
  // Reports to our own requests: they change the command_verification stream without saying
  // anything new about it, so they must not make it look worth probing (that would never end).
  uint64_t own_reports_ = 0;
  // The ranges of the requests sent and not yet answered, by request sequence (the newest
  // kRememberedRequests).
  static constexpr size_t kRememberedRequests = 512;
  std::map<uint32_t, std::vector<rover::v1::SequenceRange>> sent_;
  std::deque<uint32_t> sent_order_;
  GapFillStats stats_;
};

}  // namespace lgs::station
