// ByteSink: where a writer's bytes go — a file (with fsync) or memory (for tests).
//
// Writers call Write() with complete pieces and Sync() when what was written must survive a
// crash. A failed Write() leaves the sink holding a prefix of what was asked; the caller decides
// what that means. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "protocol/status.h"

namespace lgs::protocol {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Status Write(std::span<const uint8_t> bytes) = 0;
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
};

// A file created (or truncated) at `path`; "-" is standard output (Sync is then a no-op).
class FileSink final : public ByteSink {
 public:
  static Result<std::unique_ptr<FileSink>> Create(const std::string& path);
  ~FileSink() override;
  Status Write(std::span<const uint8_t> bytes) override;
  Status Sync() override;
  Status Close() override;
  const std::string& path() const { return path_; }

 private:
  FileSink(int fd, std::string path, bool owned) : fd_(fd), path_(std::move(path)), owned_(owned) {}
  int fd_;
  std::string path_;
  bool owned_;
};

class MemorySink final : public ByteSink {
 public:
  Status Write(std::span<const uint8_t> bytes) override {
    data_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return Status::Ok();
  }
  Status Sync() override { return Status::Ok(); }
  Status Close() override { return Status::Ok(); }
  const std::string& data() const { return data_; }

 private:
  std::string data_;
};

}  // namespace lgs::protocol
