#include "rover_emulator/imaging_worker.h"

namespace lgs::emulator {

ImagingWorker::ImagingWorker(const Terrain& terrain)
    : renderer_(terrain), thread_([this] { Run(); }) {}

ImagingWorker::~ImagingWorker() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    queue_.clear();
  }
  work_.notify_all();
  thread_.join();
}

void ImagingWorker::Submit(ImagingJob job) {
  {
    std::lock_guard lock(mutex_);
    out_.push_back({job.ready_ns, std::nullopt});
    queue_.push_back(std::move(job));
  }
  work_.notify_one();
}

size_t ImagingWorker::pending() const {
  std::lock_guard lock(mutex_);
  return out_.size();
}

std::vector<ImagingResult> ImagingWorker::Ready(protocol::TimestampNs now) {
  std::vector<ImagingResult> ready;
  std::unique_lock lock(mutex_);
  while (!out_.empty() && out_.front().ready_ns <= now) {
    done_.wait(lock, [&] { return out_.front().result.has_value(); });
    ready.push_back(std::move(*out_.front().result));
    out_.pop_front();
  }
  return ready;
}

void ImagingWorker::Run() {
  for (;;) {
    ImagingJob job;
    {
      std::unique_lock lock(mutex_);
      work_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    ImagingResult r;
    const RenderedImage image = renderer_.Render(job.spec, job.pose, job.sun, job.noise_seed);
    r.width = image.width;
    r.height = image.height;
    r.exposure_ms = image.exposure_ms;
    r.gain_db = image.gain_db;
    r.mean_dn = image.mean_dn;
    r.file = job.format == rover::v1::IMAGE_FORMAT_PNG ? EncodePng(image)
                                                       : EncodeJpeg(image, job.spec.jpeg_quality);
    r.job = std::move(job);
    {
      std::lock_guard lock(mutex_);
      // The first job without a result is this one: jobs are done in order.
      for (Slot& slot : out_) {
        if (!slot.result) {
          slot.result = std::move(r);
          break;
        }
      }
    }
    done_.notify_all();
  }
}

}  // namespace lgs::emulator
