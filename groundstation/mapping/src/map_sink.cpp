#include "groundstation/map_sink.h"

#include "rover/v1/navigation.pb.h"
#include "rover/v1/terrain.pb.h"

namespace lgs::station {

MapSink::MapSink(Logger& log, Clock::duration log_interval)
    : log_(log), log_interval_(log_interval) {}

void MapSink::OnAccepted(const AcceptedPacket& accepted) {
  const protocol::DecodedPacket& p = accepted.packet;
  switch (p.stream->id) {
    case protocol::StreamId::kTerrainTile:
      AddTile(static_cast<const rover::v1::TerrainTile&>(*p.message), p.packet.onboard_time_ns,
              false);
      break;
    case protocol::StreamId::kNavigationPose: {
      const auto& pose = static_cast<const rover::v1::NavigationPose&>(*p.message);
      TakeSite(pose.site_latitude_deg(), pose.site_longitude_deg());
      break;
    }
    default:
      break;
  }
}

void MapSink::Replay(protocol::StreamId stream, std::string_view payload,
                     protocol::TimestampNs onboard_ns) {
  const int n = static_cast<int>(payload.size());
  if (stream == protocol::StreamId::kTerrainTile) {
    // A recorded tile that does not parse was refused as garbage when it came; the recorder
    // keeps only accepted packets, so this is a damaged file, and the scan reports those.
    if (scratch_tile_.ParseFromArray(payload.data(), n)) AddTile(scratch_tile_, onboard_ns, true);
  } else if (stream == protocol::StreamId::kNavigationPose) {
    rover::v1::NavigationPose pose;
    if (pose.ParseFromArray(payload.data(), n)) {
      TakeSite(pose.site_latitude_deg(), pose.site_longitude_deg());
    }
  }
}

void MapSink::AddTile(const rover::v1::TerrainTile& tile, int64_t onboard_ns, bool replayed) {
  Status s;
  {
    std::lock_guard lock(mutex_);
    s = mosaic_.Add(tile, onboard_ns);
    if (s.ok()) {
      ++version_;
      replayed_tiles_ += replayed;
    }
  }
  if (s.ok()) return;
  const Clock::time_point now = Clock::now();
  if (refusal_logged_ && now - last_refusal_log_ < log_interval_) {
    ++refusals_suppressed_;
    return;
  }
  if (refusals_suppressed_ > 0) {
    log_.Warn("site map: {} (and {} more refused since the last such line)", s.message(),
              refusals_suppressed_);
  } else {
    log_.Warn("site map: {}", s.message());
  }
  refusal_logged_ = true;
  last_refusal_log_ = now;
  refusals_suppressed_ = 0;
}

void MapSink::TakeSite(double latitude_deg, double longitude_deg) {
  // Both zero: a rover (or a recording) from before the site fields.
  if (latitude_deg == 0.0 && longitude_deg == 0.0) return;
  // Only this thread writes site_, so it may read it unlocked: the lock is taken (once a pose
  // otherwise) only when the site changes.
  if (site_ && site_->latitude_deg == latitude_deg && site_->longitude_deg == longitude_deg) return;
  std::lock_guard lock(mutex_);
  site_ = SiteOrigin{latitude_deg, longitude_deg, "landing site"};
  ++version_;
}

MapSnapshot MapSink::Snapshot() const {
  std::lock_guard lock(mutex_);
  return MapSnapshot{std::make_shared<const SiteMosaic>(mosaic_), site_, version_, replayed_tiles_};
}

}  // namespace lgs::station
