#include "groundstation/link_watch.h"

#include <gtest/gtest.h>
#include <zmq.h>

namespace lgs::station {
namespace {

using namespace std::chrono_literals;
using Clock = LinkWatch::Clock;
const std::string kEp = "ipc:///tmp/x";

TEST(LinkWatch, ADropLibzmqDoesNotRetryIsReconnectedWithBackoff) {
  const Clock::time_point t0 = Clock::now();
  LinkWatch watch({}, {kEp}, /*curve=*/false, t0);
  watch.OnEvent(kEp, ZMQ_EVENT_CONNECTED, 0, t0);
  watch.OnMessage(t0);
  // A plain disconnect that libzmq retries itself: nothing to do.
  watch.OnEvent(kEp, ZMQ_EVENT_DISCONNECTED, 0, t0 + 1s);
  watch.OnEvent(kEp, ZMQ_EVENT_CONNECT_RETRIED, 100, t0 + 1s);
  watch.OnMessage(t0 + 3s);
  EXPECT_TRUE(watch.Poll(t0 + 3s).empty());
  // A drop after a protocol error: no retry follows, so after a second we reconnect.
  watch.OnEvent(kEp, ZMQ_EVENT_DISCONNECTED, 0, t0 + 4s);
  EXPECT_TRUE(watch.Poll(t0 + 4500ms).empty());
  const auto first = watch.Poll(t0 + 5100ms);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].endpoint, kEp);
  // Failing again at once: the next attempt waits twice as long.
  watch.OnEvent(kEp, ZMQ_EVENT_DISCONNECTED, 0, t0 + 5200ms);
  watch.OnMessage(t0 + 6s);
  EXPECT_TRUE(watch.Poll(t0 + 6500ms).empty());
  EXPECT_EQ(watch.Poll(t0 + 7200ms).size(), 1u);
  EXPECT_EQ(watch.Snapshot(t0 + 7200ms).reconnects, 2u);
}

TEST(LinkWatch, SilenceFromAConnectedRoverIsReportedOnceAndReconnectedUntilItEnds) {
  const Clock::time_point t0 = Clock::now();
  LinkWatchOptions options;
  options.silence_timeout_s = 10;
  LinkWatch watch(options, {kEp}, /*curve=*/true, t0);
  // Never connected: a rover that is not there yet is not "silent".
  EXPECT_TRUE(watch.Poll(t0 + 20s).empty());
  EXPECT_FALSE(watch.silent());
  watch.OnEvent(kEp, ZMQ_EVENT_CONNECTED, 0, t0 + 20s);
  watch.OnEvent(kEp, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0, t0 + 20s);
  watch.OnMessage(t0 + 21s);
  EXPECT_TRUE(watch.Poll(t0 + 30s).empty());
  ASSERT_EQ(watch.Poll(t0 + 31500ms).size(), 1u);
  EXPECT_TRUE(watch.JustFellSilent());
  EXPECT_FALSE(watch.JustFellSilent());
  EXPECT_NEAR(watch.SilentSeconds(t0 + 31500ms), 10.5, 1e-6);
  EXPECT_TRUE(watch.Poll(t0 + 35s).empty());       // the next attempt after 10 s
  EXPECT_EQ(watch.Poll(t0 + 41600ms).size(), 1u);  // then 20 s
  EXPECT_TRUE(watch.Poll(t0 + 55s).empty());
  watch.OnMessage(t0 + 56s);
  EXPECT_TRUE(watch.Poll(t0 + 56s).empty());
  EXPECT_TRUE(watch.JustRecovered());
  EXPECT_FALSE(watch.silent());
  EXPECT_EQ(watch.Snapshot(t0 + 56s).silences, 1u);
}

}  // namespace
}  // namespace lgs::station
