#include "transport/control_channel.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "protocol/regular_file.h"

namespace lgs::transport {

std::string DefaultControlDirectory() {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  if (runtime != nullptr && runtime[0] == '/') return std::string(runtime) + "/lunar-gs";
  return fmt::format("/tmp/lunar-gs-{}", ::getuid());
}

std::string DefaultControlEndpoint(const std::string& rover_id) {
  return fmt::format("ipc://{}/{}.control", DefaultControlDirectory(), rover_id);
}

std::string DefaultControlTokenPath(const std::string& rover_id) {
  return fmt::format("{}/{}.token", DefaultControlDirectory(), rover_id);
}

Status PrepareControlDirectory(const std::string& directory) {
  if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::Error(fmt::format("cannot create the control directory '{}': {}", directory,
                                     std::strerror(errno)));
  }
  struct stat st {};
  if (::lstat(directory.c_str(), &st) != 0) {
    return Status::Error(fmt::format("cannot inspect '{}': {}", directory, std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::Error(fmt::format("control directory '{}' is not a directory", directory));
  }
  if (st.st_uid != ::getuid()) {
    return Status::Error(
        fmt::format("control directory '{}' belongs to uid {}, not to this user ({}): refusing it",
                    directory, st.st_uid, ::getuid()));
  }
  if ((st.st_mode & 077) != 0) {
    return Status::Error(
        fmt::format("control directory '{}' is open to group or others (mode {:o}): chmod 700 it",
                    directory, st.st_mode & 0777));
  }
  return Status::Ok();
}

Result<std::string> CreateControlToken(const std::string& path) {
  std::array<unsigned char, 32> random{};
  if (::getrandom(random.data(), random.size(), 0) != static_cast<ssize_t>(random.size())) {
    return Status::Error(
        fmt::format("no randomness for the control token: {}", std::strerror(errno)));
  }
  std::string token;
  for (unsigned char b : random) token += fmt::format("{:02x}", b);
  ::unlink(path.c_str());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::Error(
        fmt::format("cannot write the control token '{}': {}", path, std::strerror(errno)));
  }
  const std::string line = token + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!ok) return Status::Error(fmt::format("cannot write the control token '{}'", path));
  return token;
}

Result<std::string> ReadControlToken(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Status::Error(
        fmt::format("no control token at '{}' ({}): is the station running with commanding on?",
                    path, std::strerror(errno)));
  }
  if ((st.st_mode & 077) != 0) {
    return Status::Error(
        fmt::format("control token '{}' is readable by others: chmod 600 it", path));
  }
  auto text = protocol::ReadRegularFile(path, "control token", 4096);
  if (!text.ok()) return text.error();
  std::string token = text->substr(0, text->find('\n'));
  if (token.size() != 64) {
    return Status::Error(fmt::format("control token '{}' is malformed", path));
  }
  return token;
}

Status CheckControlEndpoint(const std::string& endpoint, bool allow_remote) {
  if (endpoint.rfind("ipc://", 0) == 0) return Status::Ok();
  if (endpoint.rfind("tcp://127.", 0) == 0 || endpoint.rfind("tcp://localhost:", 0) == 0 ||
      endpoint.rfind("tcp://[::1]:", 0) == 0) {
    return Status::Ok();
  }
  if (allow_remote) return Status::Ok();
  return Status::Error(fmt::format(
      "control endpoint '{}' is neither ipc:// nor loopback TCP: anyone on that network could "
      "command the rover with the token alone; pass --control-remote to accept that",
      endpoint));
}

}  // namespace lgs::transport
