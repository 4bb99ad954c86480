#include "transport/curve_keys.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <zmq.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "protocol/regular_file.h"

namespace lgs::transport {
namespace {

namespace fs = std::filesystem;
constexpr size_t kZ85KeyLength = 40;

// "name = value" lines; lines starting with '#' and blank lines skipped. Z85 uses '#', '=' and
// quotes itself, so only the first '=' splits and only whitespace is trimmed. "" when absent.
std::string Field(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  const auto trim = [](const std::string& s) {
    const size_t b = s.find_first_not_of(" \t\r");
    const size_t e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  while (std::getline(in, line)) {
    const std::string trimmed = trim(line);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    const size_t eq = trimmed.find('=');
    if (eq == std::string::npos) continue;
    if (trim(trimmed.substr(0, eq)) == name) return trim(trimmed.substr(eq + 1));
  }
  return "";
}

Result<std::string> ReadSmallFile(const std::string& path) {
  return protocol::ReadRegularFile(path, "key file", 4096);
}

Status WriteFile(const fs::path& path, const std::string& text, fs::perms perms) {
  {
    std::ofstream out(path, std::ios::trunc);
    if (!out) {
      return Status::Error(
          fmt::format("cannot write '{}': {}", path.string(), std::strerror(errno)));
    }
  }
  std::error_code ec;
  // Restrict before the secret is written, so it is never readable by others.
  fs::permissions(path, perms, ec);
  if (ec) {
    return Status::Error(
        fmt::format("cannot set the permissions of '{}': {}", path.string(), ec.message()));
  }
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::Error(fmt::format("writing '{}' failed", path.string()));
  return Status::Ok();
}

}  // namespace

bool IsZ85Key(const std::string& text) {
  if (text.size() != kZ85KeyLength) return false;
  std::array<uint8_t, 32> decoded{};
  return zmq_z85_decode(decoded.data(), text.c_str()) != nullptr;
}

Result<CurveKeyPair> GenerateCurveKeyPair() {
  std::array<char, kZ85KeyLength + 1> pub{}, sec{};
  if (zmq_curve_keypair(pub.data(), sec.data()) != 0) {
    return Status::Error(fmt::format("cannot make a CURVE key pair: {} (libzmq without CURVE?)",
                                     zmq_strerror(zmq_errno())));
  }
  return CurveKeyPair{pub.data(), sec.data()};
}

Status WriteCurveKeyPair(const CurveKeyPair& pair, const std::string& directory,
                         const std::string& name, bool overwrite) {
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec) return Status::Error(fmt::format("cannot create '{}': {}", directory, ec.message()));
  const fs::path secret = fs::path(directory) / (name + ".key");
  const fs::path pub = fs::path(directory) / (name + ".pub");
  std::error_code exists_error;
  if (!overwrite && (fs::exists(secret, exists_error) || fs::exists(pub, exists_error))) {
    return Status::Error(fmt::format("'{}' or '{}' exists already (keys are not replaced)",
                                     secret.string(), pub.string()));
  }
  const std::string header = fmt::format(
      "# CurveZMQ key pair '{}' of the lunar rover ground segment (gsctl keygen)\n", name);
  if (Status s = WriteFile(secret,
                           header + "# SECRET: never share this file\npublic-key = " +
                               pair.public_z85 + "\nsecret-key = " + pair.secret_z85 + "\n",
                           fs::perms::owner_read | fs::perms::owner_write);
      !s.ok()) {
    return s;
  }
  return WriteFile(pub, header + "public-key = " + pair.public_z85 + "\n",
                   fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                       fs::perms::others_read);
}

Result<CurveKeyPair> LoadCurveKeyPair(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Status::Error(fmt::format("cannot read key file '{}': {}", path, std::strerror(errno)));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return Status::Error(fmt::format(
        "secret key file '{}' is accessible by group or others (mode {:o}); chmod 600 it", path,
        st.st_mode & 0777));
  }
  auto text = ReadSmallFile(path);
  if (!text.ok()) return text.error();
  CurveKeyPair pair{Field(*text, "public-key"), Field(*text, "secret-key")};
  if (!IsZ85Key(pair.public_z85) || !IsZ85Key(pair.secret_z85)) {
    return Status::Error(fmt::format(
        "'{}' is not a key pair file (needs 'public-key = ' and 'secret-key = ' with 40 Z85 "
        "characters each; make one with gsctl keygen)",
        path));
  }
  // The public half must be the secret half's: a mismatched file would authenticate as someone
  // else's public key, or fail every handshake with no clear reason.
  char derived[41] = {};
  if (zmq_curve_public(derived, pair.secret_z85.c_str()) != 0 || pair.public_z85 != derived) {
    return Status::Error(fmt::format(
        "key pair file '{}': its public key is not the one its secret key makes (edited or "
        "mixed up?); make a new pair with gsctl keygen",
        path));
  }
  return pair;
}

Result<std::string> LoadCurvePublicKey(const std::string& path) {
  auto text = ReadSmallFile(path);
  if (!text.ok()) return text.error();
  std::string key = Field(*text, "public-key");
  if (!IsZ85Key(key)) {
    return Status::Error(
        fmt::format("'{}' holds no public key ('public-key = ' with 40 Z85 characters)", path));
  }
  return key;
}

}  // namespace lgs::transport
