// CurveClient: what a CURVE client (the station, towards the rover) connects with: its own key
// pair and the one server key it accepts. Plain data; Apply() is for the socket's owner thread.
#pragma once

#include <string>
#include <zmq.hpp>

#include "transport/curve_keys.h"

namespace lgs::transport {

struct CurveClient {
  CurveKeyPair self;
  std::string server_public;  // the rover's public key (Z85)

  // Makes `socket` a CURVE client with these credentials (before it connects).
  void Apply(zmq::socket_t& socket) const {
    socket.set(zmq::sockopt::curve_serverkey, server_public);
    socket.set(zmq::sockopt::curve_publickey, self.public_z85);
    socket.set(zmq::sockopt::curve_secretkey, self.secret_z85);
  }
};

}  // namespace lgs::transport
