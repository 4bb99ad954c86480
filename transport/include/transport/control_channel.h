// The station's local control channel: where `gsctl command` (and the web UI) hand commands to
// a running station. A ZeroMQ ROUTER on the station, DEALER on the client, one JSON object per
// message (groundstation/README.md has the messages).
//
// Only the station's operator may use it: by default an ipc:// socket inside a directory of mode
// 0700 owned by the user, and every request carries the token from the 0600 token file beside
// it — the same token guards a tcp://127.0.0.1 endpoint, where directory permissions cannot.
#pragma once

#include <string>

#include "protocol/status.h"

namespace lgs::transport {

// $XDG_RUNTIME_DIR/lunar-gs, or /tmp/lunar-gs-<uid> without one.
std::string DefaultControlDirectory();
// ipc://<dir>/<rover>.control
std::string DefaultControlEndpoint(const std::string& rover_id);
// <dir>/<rover>.token
std::string DefaultControlTokenPath(const std::string& rover_id);

// Creates the directory with mode 0700 if missing; refuses one owned by someone else or open to
// group or others.
[[nodiscard]] Status PrepareControlDirectory(const std::string& directory);
// Writes a fresh random token (64 hex characters) to `path` with mode 0600.
[[nodiscard]] Result<std::string> CreateControlToken(const std::string& path);
// Reads a token file; refuses one readable by group or others.
[[nodiscard]] Result<std::string> ReadControlToken(const std::string& path);
// Whether a control endpoint may be used: ipc:// or tcp on a loopback address. Others need
// `allow_remote` (and then rely on the token alone).
[[nodiscard]] Status CheckControlEndpoint(const std::string& endpoint, bool allow_remote);

}  // namespace lgs::transport
