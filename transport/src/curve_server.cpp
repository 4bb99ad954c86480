#include "transport/curve_server.h"

namespace lgs::transport {

Result<std::unique_ptr<CurveServer>> CurveServer::Load(
    zmq::context_t& context, const std::string& secret_key_path,
    const std::vector<std::string>& allowed_key_paths, const std::string& what, Logger& log) {
  auto pair = LoadCurveKeyPair(secret_key_path);
  if (!pair.ok()) return pair.error();
  std::vector<std::string> allowed;
  for (const std::string& path : allowed_key_paths) {
    auto key = LoadCurvePublicKey(path);
    if (!key.ok()) return key.error();
    allowed.push_back(std::move(*key));
  }
  auto zap = std::make_unique<ZapAuthenticator>(context, std::move(allowed), what, log);
  return std::unique_ptr<CurveServer>(new CurveServer(std::move(*pair), std::move(zap)));
}

void CurveServer::Secure(zmq::socket_t& socket) const {
  socket.set(zmq::sockopt::curve_server, true);
  socket.set(zmq::sockopt::curve_secretkey, keys_.secret_z85);
}

}  // namespace lgs::transport
