#include "protocol/regular_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lgs::protocol {
namespace {

std::string_view KindOf(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

}  // namespace

Result<int> OpenRegularFile(const std::string& path, std::string_view what) {
  // O_NONBLOCK: open() of a FIFO would otherwise wait for a writer.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    return Status::Error(fmt::format("cannot open {} '{}': {}", what, path, std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::Error(fmt::format("cannot read {} '{}': {}", what, path, std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::Error(fmt::format("{} '{}' is {}, not a file", what, path, KindOf(st.st_mode)));
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) static_cast<void>(::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK));
  return fd;
}

Result<std::string> ReadRegularFile(const std::string& path, std::string_view what,
                                    size_t max_bytes) {
  auto fd = OpenRegularFile(path, what);
  if (!fd.ok()) return fd.error();
  std::string text;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(*fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(*fd);
      return Status::Error(fmt::format("cannot read {} '{}': {}", what, path, std::strerror(err)));
    }
    if (n == 0) break;
    if (text.size() + static_cast<size_t>(n) > max_bytes) {
      ::close(*fd);
      return Status::Error(
          fmt::format("{} '{}' is larger than {} bytes: not a {}", what, path, max_bytes, what));
    }
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(*fd);
  return text;
}

}  // namespace lgs::protocol
