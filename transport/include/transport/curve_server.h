// CurveServer: the server end of a CurveZMQ link, as the rover (and a replay standing in for
// it) runs it: the key pair it proves itself with, and the ZAP handler that admits only the
// allowed client keys. Create it before binding server sockets; Secure() each one before bind.
#pragma once

#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "protocol/logger.h"
#include "protocol/status.h"
#include "transport/curve_keys.h"
#include "transport/zap_authenticator.h"

namespace lgs::transport {

class CurveServer {
 public:
  // Loads the key pair and the allowed public keys; `what` names the owner in log lines.
  [[nodiscard]] static Result<std::unique_ptr<CurveServer>> Load(
      zmq::context_t& context, const std::string& secret_key_path,
      const std::vector<std::string>& allowed_key_paths, const std::string& what,
      Logger& log = NullLogger());

  // Makes `socket` a CURVE server with this key pair.
  void Secure(zmq::socket_t& socket) const;
  const ZapAuthenticator& authenticator() const { return *zap_; }

 private:
  CurveServer(CurveKeyPair keys, std::unique_ptr<ZapAuthenticator> zap)
      : keys_(std::move(keys)), zap_(std::move(zap)) {}
  CurveKeyPair keys_;
  std::unique_ptr<ZapAuthenticator> zap_;
};

}  // namespace lgs::transport
