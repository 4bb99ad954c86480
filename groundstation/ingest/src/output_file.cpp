#include "groundstation/output_file.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace lgs::station {

Status OutputFile::Open(const std::string& path, const char* what) {
  path_ = path;
  if (path.empty()) return Status::Ok();
  if (path == "-") {
    file_ = stdout;
    return Status::Ok();
  }
  file_ = std::fopen(path.c_str(), "w");
  if (file_ == nullptr) {
    return Status::Error(fmt::format("cannot write {} '{}': {}", what, path, std::strerror(errno)));
  }
  owned_ = true;
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
  return Status::Ok();
}

OutputFile::~OutputFile() {
  if (owned_) std::fclose(file_);
}

bool OutputFile::Write(std::string_view data) {
  return std::fwrite(data.data(), 1, data.size(), file_) == data.size();
}

bool OutputFile::Flush() {
  return std::fflush(file_) == 0;
}

}  // namespace lgs::station
