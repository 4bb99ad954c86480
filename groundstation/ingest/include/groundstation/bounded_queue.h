// BoundedQueue: a fixed-depth queue between the ingest thread and a slow consumer (a view).
//
// When full, Push() drops the oldest item and counts it, so a slow terminal or browser can never
// stall ingest. Thread-safe; the lock covers only the deque operations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <utility>
#include <vector>

namespace lgs::station {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t depth) : depth_(depth) {}

  void Push(T item) {
    std::lock_guard lock(mutex_);
    if (items_.size() >= depth_) {
      items_.pop_front();
      ++dropped_;
    }
    items_.push_back(std::move(item));
  }

  // Everything queued, oldest first.
  std::vector<T> TakeAll() {
    std::lock_guard lock(mutex_);
    std::vector<T> out(std::make_move_iterator(items_.begin()),
                       std::make_move_iterator(items_.end()));
    items_.clear();
    return out;
  }

  uint64_t dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
  }

 private:
  const size_t depth_;
  mutable std::mutex mutex_;
  std::deque<T> items_;
  uint64_t dropped_ = 0;
};

}  // namespace lgs::station
