#include "protocol/byte_sink.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lgs::protocol {

Result<std::unique_ptr<FileSink>> FileSink::Create(const std::string& path) {
  if (path == "-") return std::unique_ptr<FileSink>(new FileSink(STDOUT_FILENO, path, false));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::Error(fmt::format("cannot create '{}': {}", path, std::strerror(errno)));
  }
  return std::unique_ptr<FileSink>(new FileSink(fd, path, true));
}

FileSink::~FileSink() {
  if (owned_ && fd_ >= 0) ::close(fd_);
}

Status FileSink::Write(std::span<const uint8_t> bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Error(fmt::format("writing '{}' failed: {}", path_, std::strerror(errno)));
    }
    bytes = bytes.subspan(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status FileSink::Sync() {
  if (!owned_) return Status::Ok();
  if (::fdatasync(fd_) != 0) {
    return Status::Error(fmt::format("syncing '{}' failed: {}", path_, std::strerror(errno)));
  }
  return Status::Ok();
}

Status FileSink::Close() {
  if (!owned_ || fd_ < 0) return Status::Ok();
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    return Status::Error(fmt::format("closing '{}' failed: {}", path_, std::strerror(errno)));
  }
  return Status::Ok();
}

}  // namespace lgs::protocol
