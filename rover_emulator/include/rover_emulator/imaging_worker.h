// ImagingWorker: the rover's camera processing on a thread of its own, so that rendering and
// compressing an image (most of a second of CPU for a navcam frame, several for a pancam) does
// not hold up the telemetry, the link and the uplink. Jobs are done in the order submitted; each
// says the mission time its image is ready on board (a fixed processing time after the
// exposure), and Ready(now) hands over, in order, every job due by then, waiting for the worker
// only when it is behind. What comes out and when depends on the inputs alone, so a run is the
// same at any --speed; only a speed the machine cannot render at makes the run wait.
//
// Thread-safe in this sense: Submit, Ready and pending are for one owner thread; the worker
// thread owns the renderer (its shadow map) and reads the terrain, which nothing changes.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "protocol/cuc_time.h"
#include "protocol/status.h"
#include "rover/v1/camera.pb.h"
#include "rover_emulator/camera.h"

namespace lgs::emulator {

struct ImagingJob {
  CameraSpec spec;
  CameraPose pose;
  SunPosition sun;
  uint64_t noise_seed = 0;
  rover::v1::ImageFormat format = rover::v1::IMAGE_FORMAT_JPEG;
  protocol::TimestampNs ready_ns = 0;  // mission time the image is ready on board
  // Carried through for the owner: the camera record so far (the pixels fill in the rest) and
  // the product's priority and capture time.
  rover::v1::CameraFrame frame;
  uint32_t priority = 5;
  protocol::TimestampNs taken_ns = 0;
};

struct ImagingResult {
  ImagingJob job;
  uint32_t width = 0, height = 0;
  double exposure_ms = 0.0, gain_db = 0.0, mean_dn = 0.0;
  Result<std::string> file = Status::Error("not rendered");  // the compressed image
};

class ImagingWorker {
 public:
  explicit ImagingWorker(const Terrain& terrain);
  ~ImagingWorker();  // finishes the job in hand, drops the rest
  ImagingWorker(const ImagingWorker&) = delete;
  ImagingWorker& operator=(const ImagingWorker&) = delete;

  void Submit(ImagingJob job);
  // Every job with ready_ns <= now, in submission order (waiting for those not done yet).
  std::vector<ImagingResult> Ready(protocol::TimestampNs now);
  size_t pending() const;

 private:
  void Run();

  CameraRenderer renderer_;
  mutable std::mutex mutex_;
  std::condition_variable work_, done_;
  struct Slot {
    protocol::TimestampNs ready_ns = 0;
    std::optional<ImagingResult> result;  // set when done
  };
  std::deque<ImagingJob> queue_;  // not started
  std::deque<Slot> out_;          // per submitted job, in order
  bool stop_ = false;
  std::thread thread_;  // last: started once the rest exists
};

}  // namespace lgs::emulator
