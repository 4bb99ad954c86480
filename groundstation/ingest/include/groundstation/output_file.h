// OutputFile: an output file or stdout ("-"), written with a large buffer (JSON lines, the
// summary). Not thread-safe: one writer.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "protocol/status.h"

namespace lgs::station {

class OutputFile {
 public:
  OutputFile() = default;
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile();

  // "" opens nothing (is_open() stays false); `what` names the file in the error.
  [[nodiscard]] Status Open(const std::string& path, const char* what);
  bool is_open() const { return file_ != nullptr; }
  // False on a write error (errno says which; reported once by the caller).
  bool Write(std::string_view data);
  bool Flush();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  bool owned_ = false;
};

}  // namespace lgs::station
