#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <string>
#include <thread>
#include <vector>

#include "groundstation/sink.h"
#include "groundstation/thread_bridge.h"

namespace lgs::station {
namespace {

// Writes what it saw into a shared log, so the order across sinks shows.
class LoggingSink final : public Sink {
 public:
  LoggingSink(std::string name, std::vector<std::string>& log, bool fail_stop = false)
      : name_(std::move(name)), log_(log), fail_stop_(fail_stop) {}
  void OnAccepted(const AcceptedPacket& p) override {
    log_.push_back(name_ + " accepted " + std::to_string(p.ground_ns));
  }
  void OnRejected(const RejectedMessage& m) override {
    log_.push_back(name_ + " rejected " + std::string(m.detail));
  }
  void OnTick(const IngestTick& t) override {
    log_.push_back(name_ + (t.idle ? " idle tick" : " tick"));
  }
  Status OnStop() override {
    log_.push_back(name_ + " stop");
    return fail_stop_ ? Status::Error(name_ + " failed") : Status::Ok();
  }

 private:
  std::string name_;
  std::vector<std::string>& log_;
  bool fail_stop_;
};

TEST(Pipeline, EverySinkSeesEverythingInTheOrderItWasAdded) {
  std::vector<std::string> log;
  Pipeline pipeline;
  pipeline.Add(std::make_unique<LoggingSink>("a", log));
  pipeline.Add(std::make_unique<LoggingSink>("b", log));
  const protocol::DecodedPacket packet;
  pipeline.Accepted(AcceptedPacket{packet, 7, nullptr});
  pipeline.Rejected(RejectedMessage{protocol::RejectReason::kCrcMismatch, "crc", "", {}, 2, 8});
  pipeline.Tick(IngestTick{{}, 9, true});
  EXPECT_EQ(log, (std::vector<std::string>{"a accepted 7", "b accepted 7", "a rejected crc",
                                           "b rejected crc", "a idle tick", "b idle tick"}));
}

// The realtime feed takes the decoder's message and hands it to the web thread, which may free it
// at once: every other sink must have read the packet by then, whatever order the station added
// them in (a JSON-lines sink after the feed once read a freed message under the sanitizers).
TEST(Pipeline, TheSinkThatTakesTheMessageSeesEachPacketAfterAllTheOthers) {
  std::vector<std::string> log;
  Pipeline pipeline;
  pipeline.Add(std::make_unique<LoggingSink>("a", log));
  pipeline.SetTaker(std::make_unique<LoggingSink>("taker", log));
  pipeline.Add(std::make_unique<LoggingSink>("b", log));
  EXPECT_EQ(pipeline.size(), 3u);
  const protocol::DecodedPacket packet;
  pipeline.Accepted(AcceptedPacket{packet, 7, nullptr});
  pipeline.Tick(IngestTick{{}, 9, false});
  EXPECT_EQ(pipeline.Stop().message(), "");
  EXPECT_EQ(log,
            (std::vector<std::string>{"a accepted 7", "b accepted 7", "taker accepted 7", "a tick",
                                      "b tick", "taker tick", "a stop", "b stop", "taker stop"}));
}

TEST(Pipeline, StopStopsEverySinkAndReturnsTheFirstError) {
  std::vector<std::string> log;
  Pipeline pipeline;
  pipeline.Add(std::make_unique<LoggingSink>("a", log));
  pipeline.Add(std::make_unique<LoggingSink>("b", log, true));
  pipeline.Add(std::make_unique<LoggingSink>("c", log, true));
  const Status s = pipeline.Stop();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "b failed");
  EXPECT_EQ(log, (std::vector<std::string>{"a stop", "b stop", "c stop"}));
}

TEST(ThreadBridge, WorkReachesTheIngestSideInOrderAndAFullDirectionRefusesAndCounts) {
  boost::asio::io_context io;
  ThreadBridge bridge(io, 3);
  std::vector<int> ran;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(bridge.ToIngest([&ran, i] { ran.push_back(i); }), i < 3);
  }
  BridgeStats s = bridge.stats();
  EXPECT_EQ(s.to_ingest.sent, 3u);
  EXPECT_EQ(s.to_ingest.dropped, 2u);
  EXPECT_EQ(s.to_ingest.depth, 3u);
  EXPECT_EQ(bridge.RunIngestWork(), 3u);
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(bridge.stats().to_ingest.depth, 0u);
  EXPECT_EQ(bridge.stats().to_ingest.max_depth, 3u);
  // Work that queues more work: it runs at the next call, not in this one.
  EXPECT_TRUE(bridge.ToIngest([&] { EXPECT_TRUE(bridge.ToIngest([&ran] { ran.push_back(9); })); }));
  EXPECT_EQ(bridge.RunIngestWork(), 1u);
  EXPECT_EQ(bridge.RunIngestWork(), 1u);
  EXPECT_EQ(ran.back(), 9);
}

TEST(ThreadBridge, WorkForTheAsioThreadRunsThereAndIsBoundedUntilItHasRun) {
  boost::asio::io_context io;
  ThreadBridge bridge(io, 2);
  std::vector<std::thread::id> where;
  std::thread ingest([&] {
    EXPECT_TRUE(bridge.ToAsio([&] { where.push_back(std::this_thread::get_id()); }));
    EXPECT_TRUE(bridge.ToAsio([&] { where.push_back(std::this_thread::get_id()); }));
    EXPECT_FALSE(bridge.ToAsio([&] { where.push_back(std::this_thread::get_id()); }));
  });
  ingest.join();
  EXPECT_EQ(bridge.stats().to_asio.depth, 2u);
  EXPECT_EQ(bridge.stats().to_asio.dropped, 1u);
  io.run();
  ASSERT_EQ(where.size(), 2u);
  EXPECT_EQ(where[0], std::this_thread::get_id());
  const BridgeStats s = bridge.stats();
  EXPECT_EQ(s.to_asio.sent, 2u);
  EXPECT_EQ(s.to_asio.depth, 0u);
  EXPECT_EQ(s.to_asio.max_depth, 2u);
  // Room again once the Asio thread has run what waited.
  EXPECT_TRUE(bridge.ToAsio([] {}));
}

}  // namespace
}  // namespace lgs::station
