// CurveZMQ over real sockets: key files, and a rover-side ZAP allow-list that admits the ground
// key it knows and refuses any other.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <zmq.hpp>

#include "support/process.h"
#include "transport/curve_keys.h"
#include "transport/zap_authenticator.h"

namespace lgs::transport {
namespace {

using namespace std::chrono_literals;
using test::ScratchDir;

TEST(CurveKeys, KeygenWritesASecretFileOnlyTheOwnerCanReadAndLoadsItBack) {
  ScratchDir dir;
  auto pair = GenerateCurveKeyPair();
  ASSERT_TRUE(pair.ok());
  EXPECT_TRUE(IsZ85Key(pair->public_z85));
  EXPECT_NE(pair->public_z85, pair->secret_z85);
  ASSERT_TRUE(WriteCurveKeyPair(*pair, dir.File("keys"), "rover").ok());
  struct stat st {};
  ASSERT_EQ(::stat(dir.File("keys/rover.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = LoadCurveKeyPair(dir.File("keys/rover.key"));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_EQ(loaded->public_z85, pair->public_z85);
  EXPECT_EQ(loaded->secret_z85, pair->secret_z85);
  auto pub = LoadCurvePublicKey(dir.File("keys/rover.pub"));
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(*pub, pair->public_z85);
  EXPECT_EQ(std::ifstream(dir.File("keys/rover.pub")).rdbuf()->in_avail() > 0, true);
  // The public file holds no secret.
  std::ifstream in(dir.File("keys/rover.pub"));
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text.find(pair->secret_z85), std::string::npos);

  // Not replaced without asking; a secret readable by others is refused with the fix.
  EXPECT_FALSE(WriteCurveKeyPair(*pair, dir.File("keys"), "rover").ok());
  ::chmod(dir.File("keys/rover.key").c_str(), 0644);
  auto open = LoadCurveKeyPair(dir.File("keys/rover.key"));
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.error().message().find("chmod 600"), std::string::npos);
  std::ofstream(dir.File("junk.pub")) << "public-key = nonsense\n";
  EXPECT_FALSE(LoadCurvePublicKey(dir.File("junk.pub")).ok());
}

TEST(CurveKeys, EveryZ85CharacterSurvivesTheFileRoundTrip) {
  // Z85 uses '#', '=', quotes and friends; 300 random pairs cover them all many times over.
  ScratchDir dir;
  size_t special = 0;
  for (int i = 0; i < 300; ++i) {
    const CurveKeyPair pair = *GenerateCurveKeyPair();
    special += (pair.public_z85 + pair.secret_z85).find_first_of("#=\"") != std::string::npos;
    ASSERT_TRUE(WriteCurveKeyPair(pair, dir.path().string(), "k", true).ok());
    auto loaded = LoadCurveKeyPair(dir.File("k.key"));
    ASSERT_TRUE(loaded.ok()) << pair.public_z85 << " " << loaded.error().message();
    EXPECT_EQ(loaded->public_z85, pair.public_z85);
    EXPECT_EQ(loaded->secret_z85, pair.secret_z85);
  }
  EXPECT_GT(special, 100u);
}

// A rover-like CURVE server (PUB) with a ZAP allow-list, and clients with their own keys.
TEST(CurveLink, OnlyAnAllowListedClientKeyGetsThrough) {
  ScratchDir dir;
  const std::string endpoint = dir.IpcEndpoint("curve");
  const CurveKeyPair rover = *GenerateCurveKeyPair();
  const CurveKeyPair ground = *GenerateCurveKeyPair();
  const CurveKeyPair stranger = *GenerateCurveKeyPair();

  zmq::context_t server_context(1);
  ZapAuthenticator zap(server_context, {ground.public_z85}, "rover");
  zmq::socket_t publisher(server_context, zmq::socket_type::pub);
  publisher.set(zmq::sockopt::curve_server, true);
  publisher.set(zmq::sockopt::curve_secretkey, rover.secret_z85);
  publisher.set(zmq::sockopt::linger, 0);
  publisher.bind(endpoint);

  zmq::context_t client_context(1);
  const auto subscriber = [&](const CurveKeyPair& me, const std::string& server_key) {
    auto s = std::make_unique<zmq::socket_t>(client_context, zmq::socket_type::sub);
    s->set(zmq::sockopt::curve_serverkey, server_key);
    s->set(zmq::sockopt::curve_publickey, me.public_z85);
    s->set(zmq::sockopt::curve_secretkey, me.secret_z85);
    s->set(zmq::sockopt::subscribe, "");
    s->set(zmq::sockopt::rcvtimeo, 100);
    s->set(zmq::sockopt::linger, 0);
    s->connect(endpoint);
    return s;
  };
  auto good = subscriber(ground, rover.public_z85);
  auto bad = subscriber(stranger, rover.public_z85);
  // A client that expects another server key (an impostor rover) never completes either.
  auto fooled = subscriber(ground, stranger.public_z85);

  size_t good_got = 0, bad_got = 0, fooled_got = 0;
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  zmq::message_t m;
  while (std::chrono::steady_clock::now() < deadline && good_got < 20) {
    publisher.send(zmq::str_buffer("telemetry"), zmq::send_flags::none);
    if (good->recv(m)) ++good_got;
    if (bad->recv(m, zmq::recv_flags::dontwait)) ++bad_got;
    if (fooled->recv(m, zmq::recv_flags::dontwait)) ++fooled_got;
  }
  EXPECT_GE(good_got, 20u);
  EXPECT_EQ(bad_got, 0u);
  EXPECT_EQ(fooled_got, 0u);
  EXPECT_GE(zap.accepted(), 1u);
  EXPECT_GE(zap.refused(), 1u);  // the stranger's attempts, counted
}

}  // namespace
}  // namespace lgs::transport
