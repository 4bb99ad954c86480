// CurveKeyPair and its files: what a rover or a station proves its identity with on a CurveZMQ
// link. Keys are Z85 text (40 characters) as libzmq uses them.
#pragma once

#include <string>

#include "protocol/status.h"

namespace lgs::transport {

struct CurveKeyPair {
  std::string public_z85;
  std::string secret_z85;
};

// A fresh key pair from libzmq (fails if libzmq was built without CURVE).
[[nodiscard]] Result<CurveKeyPair> GenerateCurveKeyPair();

// Writes DIR/NAME.key (both keys, mode 0600) and DIR/NAME.pub (public only, 0644); refuses to
// overwrite existing files unless `overwrite`.
[[nodiscard]] Status WriteCurveKeyPair(const CurveKeyPair& pair, const std::string& directory,
                                       const std::string& name, bool overwrite = false);

// Reads a .key file; fails when it is missing, malformed, or readable by group or others.
[[nodiscard]] Result<CurveKeyPair> LoadCurveKeyPair(const std::string& path);
// Reads the public key of a .pub (or .key) file.
[[nodiscard]] Result<std::string> LoadCurvePublicKey(const std::string& path);

bool IsZ85Key(const std::string& text);

}  // namespace lgs::transport
