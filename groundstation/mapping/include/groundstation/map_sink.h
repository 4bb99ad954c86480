// MapSink: the station's live site map — every terrain tile accepted goes into a SiteMosaic, and
// the site's selenographic origin comes from the navigation poses — rebuilt from the recordings
// at start (Replay) so the map survives restarts.
//
// Thread-safe where it says so: OnAccepted and Replay run on the ingest thread (or the start-up
// scan before it), Snapshot on any thread (the web's). A snapshot shares the mosaic's blocks
// copy-on-write, so taking one costs a copy of the block table (~40 octets a block) under a
// lock held for that copy only, and the ingest thread never waits for a render.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

#include "groundstation/map_export.h"
#include "groundstation/sink.h"
#include "groundstation/site_mosaic.h"
#include "protocol/logger.h"
#include "protocol/stream_registry.h"

namespace lgs::station {

struct MapSnapshot {
  std::shared_ptr<const SiteMosaic> mosaic;  // never null; empty before the first tile
  std::optional<SiteOrigin> site;            // from the newest pose that carried it
  uint64_t version = 0;                      // changes whenever a tile was added since
  uint64_t replayed_tiles = 0;               // of the tiles, how many came from the recordings
};

class MapSink final : public Sink {
 public:
  using Clock = std::chrono::steady_clock;
  // Refused tiles: the first is logged at once, then at most one line per `log_interval`.
  explicit MapSink(Logger& log, Clock::duration log_interval = std::chrono::seconds(10));

  void OnAccepted(const AcceptedPacket& packet) override;
  // A recorded message (the start-up scan of the recordings): terrain tiles and poses are taken
  // as if they had just arrived; anything else is ignored. `payload` is the message's protobuf.
  void Replay(protocol::StreamId stream, std::string_view payload,
              protocol::TimestampNs onboard_ns);

  // Any thread.
  MapSnapshot Snapshot() const;

 private:
  void AddTile(const rover::v1::TerrainTile& tile, int64_t onboard_ns, bool replayed);
  void TakeSite(double latitude_deg, double longitude_deg);

  Logger& log_;
  Clock::duration log_interval_;
  mutable std::mutex mutex_;  // guards mosaic_ (its writes and copies), site_, version_
  SiteMosaic mosaic_;
  std::optional<SiteOrigin> site_;
  uint64_t version_ = 0, replayed_tiles_ = 0;
  // Replay parses into these; the ingest thread's tiles come decoded.
  rover::v1::TerrainTile scratch_tile_;
  Clock::time_point last_refusal_log_{};
  bool refusal_logged_ = false;
  uint64_t refusals_suppressed_ = 0;
};

}  // namespace lgs::station
