// ReadTransitions and ReplayTransitions: the one fold of the recorded alert transitions
// into the active set, shared by the daemon's restore, the report, `offmon alerts --active`
// and `offmon ack`.
#include "offmon/analyzer/alert_tracker.h"

#include <gtest/gtest.h>

#include "analyzer_fixture.h"

namespace offmon::testing {
namespace {

using analyzer::AlertState;
using analyzer::Severity;
using analyzer::Transition;

class AlertTrackerTest : public AnalyzerTest {
 protected:
  // Records a transition of ProcessOffline{process="w1"} at `at` seconds, as the daemon does.
  void Record(AlertState state, int64_t at, int64_t active_since) {
    const Transition t{At(at), "ProcessOffline", Severity::kCritical, state, {{"process", "w1"}}, "", "w1 is stopped",
                       At(active_since), ""};
    ASSERT_TRUE(store_->AppendEvent(EventKind::kAlertTransition, "analyzer", analyzer::EncodeTransition(t), t.at));
  }
};

TEST_F(AlertTrackerTest, ReplayRestoresTheActiveSetAsOfATime) {
  Record(AlertState::kPending, 0, 0);
  Record(AlertState::kFiring, 5 * kMin, 0);
  Record(AlertState::kResolved, 30 * kMin, 0);
  analyzer::AlertTracker at_10(config_.analyzer);
  ASSERT_TRUE(analyzer::ReplayTransitions(*store_, at_10, At(10 * kMin)).ok());
  ASSERT_EQ(at_10.active().size(), 1u);
  const analyzer::ActiveAlert& a = at_10.active().begin()->second;
  EXPECT_TRUE(a.firing);
  EXPECT_EQ(a.firing_since, At(5 * kMin));
  EXPECT_EQ(a.active_since, At(0));
  analyzer::AlertTracker now(config_.analyzer);
  ASSERT_TRUE(analyzer::ReplayTransitions(*store_, now).ok());
  EXPECT_TRUE(now.active().empty());
}

// The copies disagreed on the order: the daemon's restore, the report and `ack` applied
// transitions in record order, `offmon alerts --active` sorted them by time first. After
// the clock stepped back 5 minutes, an alert that resolved at 20:00 and fired again at
// 15:00 (recorded later) is active to the daemon; sorted by time it looked resolved.
// Record order, the order the analyzer applied them in, is the one fold now.
TEST_F(AlertTrackerTest, RecordOrderWinsOverTimeOrder) {
  Record(AlertState::kFiring, 10 * kMin, 10 * kMin);
  Record(AlertState::kResolved, 20 * kMin, 10 * kMin);
  Record(AlertState::kFiring, 15 * kMin, 15 * kMin);  // after the clock stepped back
  auto transitions = analyzer::ReadTransitions(*store_);
  ASSERT_TRUE(transitions.has_value()) << transitions.error().ToString();
  ASSERT_EQ(transitions->size(), 3u);
  EXPECT_EQ((*transitions)[1].state, AlertState::kResolved);
  EXPECT_EQ((*transitions)[2].at, At(15 * kMin));
  analyzer::AlertTracker tracker(config_.analyzer);
  ASSERT_TRUE(analyzer::ReplayTransitions(*store_, tracker, At(20 * kMin)).ok());
  ASSERT_EQ(tracker.active().size(), 1u);
  EXPECT_EQ(tracker.active().begin()->second.firing_since, At(15 * kMin));
}

TEST_F(AlertTrackerTest, AnUndecodableTransitionIsNamed) {
  Record(AlertState::kFiring, 0, 0);
  auto seq = store_->AppendEvent(EventKind::kAlertTransition, "analyzer", "not json", At(kMin));
  ASSERT_TRUE(seq.has_value());
  analyzer::AlertTracker tracker(config_.analyzer);
  Status status = analyzer::ReplayTransitions(*store_, tracker);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.ToString().find("alert transition event " + std::to_string(*seq)), std::string::npos)
      << status.ToString();
  EXPECT_FALSE(analyzer::ReadTransitions(*store_).has_value());
}

}  // namespace
}  // namespace offmon::testing
