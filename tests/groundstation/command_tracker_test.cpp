// The station's command tracking: validation with reasons, every stage in order, the same packet
// resent when acceptance does not come, time-outs from the light time and expected duration.
#include "groundstation/command_tracker.h"

#include <gtest/gtest.h>

#include "protocol/telecommand.h"

namespace lgs::station {
namespace {

using Clock = CommandTracker::Clock;
using ground::v1::CommandStage;
using namespace std::chrono_literals;

class CommandTrackerTest : public ::testing::Test {
 protected:
  CommandTrackerTest() : tracker_(Options(), [this] { return next_sequence_++; }) {}
  static CommandTrackerOptions Options() {
    CommandTrackerOptions o;
    o.source_id = 7;
    o.light_time_s = 1.28;
    o.acceptance_margin_s = 3.0;
    o.completion_margin_s = 10.0;
    o.max_sends = 3;
    return o;
  }
  uint64_t Submit(std::string name, std::vector<protocol::CommandArgument> args,
                  bool confirmed = false) {
    CommandRequest r;
    r.name = std::move(name);
    r.arguments = std::move(args);
    r.confirmed = confirmed;
    r.origin = "test";
    return tracker_.Submit(r, rover_, now_, out_);
  }
  // Releases and sends everything due; returns the packets sent.
  std::vector<std::string> Tick() {
    std::vector<Transmission> transmit;
    tracker_.Poll(now_, transmit, out_);
    std::vector<std::string> sent;
    for (const Transmission& t : transmit) {
      sent.push_back(*t.packet);
      tracker_.OnSent(t.command_id, now_, out_);
    }
    return sent;
  }
  bool Report(uint32_t sequence, rover::v1::VerificationStage stage, bool success = true,
              uint32_t step = 0) {
    rover::v1::CommandVerification r;
    r.set_source_id(7);
    r.set_request_sequence(sequence);
    r.set_stage(stage);
    r.set_success(success);
    r.set_progress_step(step);
    if (!success) r.set_failure_reason("hazard stop: slope 24.0 deg ahead");
    return tracker_.OnReport(r, now_, out_);
  }
  std::vector<CommandStage> Stages() const {
    std::vector<CommandStage> stages;
    for (const auto& t : out_) stages.push_back(t.stage());
    return stages;
  }

  uint32_t next_sequence_ = 1000;
  protocol::RoverContext rover_;
  Clock::time_point now_ = Clock::time_point() + 1h;
  CommandTracker::Transitions out_;
  CommandTracker tracker_;
};

TEST_F(CommandTrackerTest, ACommandPassesEveryStageInOrder) {
  const uint64_t id = Submit("turn", {{"angle_deg", "20"}});
  const auto sent = Tick();
  ASSERT_EQ(sent.size(), 1u);
  auto tc = protocol::ParseTcPacket(protocol::AsBytes(sent[0]));
  ASSERT_TRUE(tc.ok());
  EXPECT_EQ(tc->header.source_id, 7u);
  EXPECT_EQ(tc->header.request_sequence, 1000u);
  EXPECT_EQ(tc->header.ack_flags, 0b1111);
  EXPECT_EQ(tc->header.subtype, protocol::Command(protocol::CommandId::kTurn).subtype);
  now_ += 2560ms;
  EXPECT_TRUE(Report(1000, rover::v1::VERIFICATION_STAGE_ACCEPTANCE));
  EXPECT_TRUE(Report(1000, rover::v1::VERIFICATION_STAGE_START));
  now_ += 1s;
  for (uint32_t step = 1; step <= 3; ++step) {
    EXPECT_TRUE(Report(1000, rover::v1::VERIFICATION_STAGE_PROGRESS, true, step));
  }
  EXPECT_TRUE(Report(1000, rover::v1::VERIFICATION_STAGE_PROGRESS, true, 2));  // stale: ignored
  EXPECT_TRUE(Report(1000, rover::v1::VERIFICATION_STAGE_COMPLETION));
  EXPECT_TRUE(Report(1000, rover::v1::VERIFICATION_STAGE_COMPLETION));  // repeat: ignored
  EXPECT_EQ(Stages(), (std::vector<CommandStage>{
                          ground::v1::COMMAND_STAGE_QUEUED, ground::v1::COMMAND_STAGE_RELEASED,
                          ground::v1::COMMAND_STAGE_SENT, ground::v1::COMMAND_STAGE_ACCEPTED,
                          ground::v1::COMMAND_STAGE_STARTED, ground::v1::COMMAND_STAGE_PROGRESS,
                          ground::v1::COMMAND_STAGE_PROGRESS, ground::v1::COMMAND_STAGE_PROGRESS,
                          ground::v1::COMMAND_STAGE_COMPLETED}));
  for (const auto& t : out_) {
    EXPECT_EQ(t.command_id(), id);
    EXPECT_EQ(t.arguments(), "angle_deg=20 deg");
  }
  EXPECT_EQ(out_[2].packet(), sent[0]);  // the SENT transition records the bytes
  EXPECT_DOUBLE_EQ(out_[0].expected_duration_s(), 4.0);
  EXPECT_EQ(tracker_.active(), 0u);
  EXPECT_EQ(tracker_.stats().completed, 1u);
  // Not ours: another source, or a sequence it never sent.
  rover::v1::CommandVerification other;
  other.set_source_id(8);
  other.set_request_sequence(1000);
  EXPECT_FALSE(tracker_.OnReport(other, now_, out_));
  other.set_source_id(7);
  other.set_request_sequence(999);
  EXPECT_FALSE(tracker_.OnReport(other, now_, out_));
}

TEST_F(CommandTrackerTest, InvalidCommandsAreRejectedWithTheirReasonAndNeverSent) {
  Submit("turn", {{"angle_deg", "400"}});
  Submit("dance", {});
  Submit("retransmit", {});
  Submit("hibernate", {});
  rover_.mode = rover::v1::ROVER_MODE_SAFE;
  Submit("drive", {{"distance_m", "1"}, {"heading_deg", "0"}});
  EXPECT_TRUE(Tick().empty());
  ASSERT_EQ(out_.size(), 5u);
  for (const auto& t : out_) EXPECT_EQ(t.stage(), ground::v1::COMMAND_STAGE_REJECTED);
  EXPECT_NE(out_[0].detail().find("outside -360..360 deg"), std::string::npos);
  EXPECT_EQ(out_[0].arguments(), "angle_deg=400");
  EXPECT_NE(out_[1].detail().find("unknown command 'dance'"), std::string::npos);
  EXPECT_NE(out_[2].detail().find("issued by the station"), std::string::npos);
  EXPECT_NE(out_[3].detail().find("--confirm"), std::string::npos);
  EXPECT_NE(out_[4].detail().find("SAFE mode"), std::string::npos);
  EXPECT_EQ(tracker_.stats().rejected, 5u);
  EXPECT_EQ(tracker_.stats().sent, 0u);
  // Confirmed, the hazardous command goes (hibernate is allowed in safe mode).
  Submit("hibernate", {}, true);
  EXPECT_EQ(Tick().size(), 1u);
}

TEST_F(CommandTrackerTest, MissingAcceptanceResendsTheSamePacketThenTimesOut) {
  Submit("ping", {});
  const auto first = Tick();
  ASSERT_EQ(first.size(), 1u);
  now_ += 5500ms;  // round trip 2.56 s + 3 s margin not over yet
  EXPECT_TRUE(Tick().empty());
  now_ += 100ms;
  const auto second = Tick();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0], first[0]);  // same bytes, same request id
  now_ += 5600ms;
  const auto third = Tick();
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0], first[0]);
  now_ += 5600ms;
  EXPECT_TRUE(Tick().empty());
  EXPECT_EQ(out_.back().stage(), ground::v1::COMMAND_STAGE_TIMED_OUT);
  EXPECT_NE(out_.back().detail().find("no acceptance report after 3 sends"), std::string::npos);
  EXPECT_EQ(tracker_.stats().resent, 2u);
  // The answer comes after all: history says so.
  EXPECT_TRUE(Report(1000, rover::v1::VERIFICATION_STAGE_COMPLETION));
  EXPECT_EQ(out_.back().stage(), ground::v1::COMMAND_STAGE_COMPLETED);
  EXPECT_NE(out_.back().detail().find("after the time-out"), std::string::npos);
}

TEST_F(CommandTrackerTest, ACommandTheUplinkNeverTakesTimesOut) {
  Submit("ping", {});
  std::vector<Transmission> transmit;
  tracker_.Poll(now_, transmit, out_);
  ASSERT_EQ(transmit.size(), 1u);
  tracker_.OnSendFailed(transmit[0].command_id);
  now_ += 9s;
  transmit.clear();
  tracker_.Poll(now_, transmit, out_);
  ASSERT_EQ(transmit.size(), 1u);  // offered again while the uplink may still connect
  tracker_.OnSendFailed(transmit[0].command_id);
  now_ += 1s;
  transmit.clear();
  tracker_.Poll(now_, transmit, out_);
  EXPECT_TRUE(transmit.empty());
  EXPECT_EQ(out_.back().stage(), ground::v1::COMMAND_STAGE_TIMED_OUT);
  EXPECT_NE(out_.back().detail().find("uplink did not take it within 10 s"), std::string::npos);
  EXPECT_EQ(tracker_.stats().sent, 0u);
}

TEST_F(CommandTrackerTest, FailuresEndTheCommandWithTheRoversReason) {
  Submit("drive", {{"distance_m", "5"}, {"heading_deg", "0"}});
  Tick();
  now_ += 3s;
  EXPECT_TRUE(Report(1000, rover::v1::VERIFICATION_STAGE_ACCEPTANCE));
  EXPECT_TRUE(Report(1000, rover::v1::VERIFICATION_STAGE_START));
  EXPECT_TRUE(Report(1000, rover::v1::VERIFICATION_STAGE_COMPLETION, false));
  EXPECT_EQ(out_.back().stage(), ground::v1::COMMAND_STAGE_FAILED);
  EXPECT_NE(out_.back().detail().find("hazard stop"), std::string::npos);
  EXPECT_EQ(tracker_.stats().failed, 1u);
}

TEST_F(CommandTrackerTest, ACompletionThatDoesNotComeIsAskedForAgainThenTimesOut) {
  Submit("turn", {{"angle_deg", "90"}});  // 18 s expected
  Tick();
  now_ += 3s;
  EXPECT_TRUE(Report(1000, rover::v1::VERIFICATION_STAGE_ACCEPTANCE));
  // Budget: 18 s x 2 + 2.56 s + 10 s = 48.56 s from acceptance.
  now_ += 48s;
  EXPECT_TRUE(Tick().empty());
  now_ += 1s;
  EXPECT_EQ(Tick().size(), 1u);  // resent: the rover answers a repeat with its reports
  EXPECT_NE(out_.back().detail().find("no completion report"), std::string::npos);
  now_ += 6s;
  EXPECT_EQ(Tick().size(), 1u);
  now_ += 6s;
  EXPECT_TRUE(Tick().empty());
  EXPECT_EQ(out_.back().stage(), ground::v1::COMMAND_STAGE_TIMED_OUT);
  EXPECT_NE(out_.back().detail().find("no completion report after 3 sends"), std::string::npos);
}

}  // namespace
}  // namespace lgs::station
