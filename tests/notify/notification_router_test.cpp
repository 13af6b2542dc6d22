// Routing policy (analyzer/notification_router.h), the outbox payload codecs, the
// receiver payloads and [notify] config: pure logic, no network.
#include "offmon/notify/notification_router.h"

#include <gtest/gtest.h>

#include <sstream>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "offmon/analyzer/alert_tracker.h"
#include "offmon/notify/notification_payload.h"
#include "offmon/notify/notification_sender.h"
#include "offmon/analyzer/silence.h"
#include "offmon/common/config.h"
#include "offmon/store/store.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"

namespace offmon::notify {
namespace {

// The routing tests speak the analyzer's vocabulary (transitions, alerts, silences).
using namespace analyzer;  // NOLINT(google-build-using-namespace)

const TimePoint kRouteT0 = FromMillis(1'763'000'000'000);

ReceiverConfig Receiver(std::string name, std::string min_severity = "WARNING",
                        std::vector<std::string> transitions = {"escalated", "resolved"}) {
  ReceiverConfig r;
  r.name = std::move(name);
  r.type = "webhook";
  r.url = "http://127.0.0.1:1/hook";
  r.min_severity = std::move(min_severity);
  r.transitions = std::move(transitions);
  return r;
}

Finding Offline(std::string process, Severity severity = Severity::kWarning) {
  Finding f;
  f.alert = "ProcessOffline";
  f.severity = severity;
  f.labels = {{"process", std::move(process)}};
  f.summary = "offline";
  return f;
}

std::vector<std::string> Who(const std::vector<Notification>& ns) {
  std::vector<std::string> out;
  for (const Notification& n : ns) out.push_back(n.receiver + ":" + n.reason);
  return out;
}

class NotificationRouterTest : public ::testing::Test {
 protected:
  NotificationRouterTest() { analyzer.escalate_warning_after = std::chrono::hours(1); }
  AnalyzerConfig analyzer;
  NotifyConfig notify;
};

TEST_F(NotificationRouterTest, CriticalGoesOutAtOnceAsOneNotification) {
  notify.receivers = {Receiver("ops"), Receiver("all", "WARNING", {"firing", "escalated", "resolved"})};
  AlertTracker tracker(analyzer);
  NotificationRouter router(notify);
  auto ns = router.Route(tracker.Update(kRouteT0, {Offline("w1", Severity::kCritical)}));
  EXPECT_EQ(Who(ns), (std::vector<std::string>{"ops:escalated", "all:escalated"}));
  EXPECT_EQ(ns[0].key, "ProcessOffline{process=\"w1\"}");
  EXPECT_EQ(ns[0].id.size(), 16u);
  EXPECT_NE(ns[0].id, ns[1].id);
}

TEST_F(NotificationRouterTest, WarningOnlyWhenItEscalatesAfterAnHour) {
  notify.receivers = {Receiver("ops")};
  AlertTracker tracker(analyzer);
  NotificationRouter router(notify);
  EXPECT_TRUE(router.Route(tracker.Update(kRouteT0, {Offline("w1")})).empty());  // fires
  EXPECT_TRUE(router.Route(tracker.Update(kRouteT0 + std::chrono::minutes(59), {Offline("w1")})).empty());
  auto ns = router.Route(tracker.Update(kRouteT0 + std::chrono::minutes(61), {Offline("w1")}));
  ASSERT_EQ(Who(ns), std::vector<std::string>{"ops:escalated"});
  EXPECT_EQ(ns[0].transition.severity, Severity::kWarning);
  EXPECT_EQ(Who(router.Route(tracker.Update(kRouteT0 + std::chrono::minutes(62), {}))),
            std::vector<std::string>{"ops:resolved"});
}

TEST_F(NotificationRouterTest, WarningResolvedBeforeEscalationIsNeverSent) {
  notify.receivers = {Receiver("ops")};
  AlertTracker tracker(analyzer);
  NotificationRouter router(notify);
  EXPECT_TRUE(router.Route(tracker.Update(kRouteT0, {Offline("w1")})).empty());
  EXPECT_TRUE(router.Route(tracker.Update(kRouteT0 + std::chrono::minutes(30), {})).empty());
}

TEST_F(NotificationRouterTest, InfoIsNeverNotified) {
  notify.receivers = {Receiver("all", "WARNING", {"firing", "escalated", "resolved"})};
  AlertTracker tracker(analyzer);
  NotificationRouter router(notify);
  Finding restarted = Offline("w1", Severity::kInfo);
  restarted.alert = "ProcessRestarted";
  EXPECT_TRUE(router.Route(tracker.Update(kRouteT0, {restarted})).empty());
  EXPECT_TRUE(router.Route(tracker.Update(kRouteT0 + std::chrono::hours(2), {restarted})).empty());
  EXPECT_TRUE(router.Route(tracker.Update(kRouteT0 + std::chrono::hours(3), {})).empty());
}

TEST_F(NotificationRouterTest, ResolvedGoesOnlyWhereTheFiringWent) {
  notify.receivers = {Receiver("pager", "CRITICAL"), Receiver("chat", "WARNING", {"firing", "resolved"})};
  AlertTracker tracker(analyzer);
  NotificationRouter router(notify);
  EXPECT_EQ(Who(router.Route(tracker.Update(kRouteT0, {Offline("w1")}))), std::vector<std::string>{"chat:firing"});
  // Escalation: pager wants CRITICAL only, chat does not list escalated.
  EXPECT_TRUE(router.Route(tracker.Update(kRouteT0 + std::chrono::minutes(61), {Offline("w1")})).empty());
  EXPECT_EQ(Who(router.Route(tracker.Update(kRouteT0 + std::chrono::minutes(62), {}))),
            std::vector<std::string>{"chat:resolved"});
  EXPECT_EQ(router.episodes(), 0u);
}

TEST_F(NotificationRouterTest, SeverityChangeOfANotifiedAlertIsSent) {
  notify.receivers = {Receiver("chat", "WARNING", {"firing", "resolved"})};
  AlertTracker tracker(analyzer);
  NotificationRouter router(notify);
  EXPECT_EQ(router.Route(tracker.Update(kRouteT0, {Offline("w1")})).size(), 1u);
  auto ns = router.Route(tracker.Update(kRouteT0 + std::chrono::minutes(5), {Offline("w1", Severity::kCritical)}));
  ASSERT_EQ(Who(ns), std::vector<std::string>{"chat:firing"});
  EXPECT_EQ(ns[0].transition.severity, Severity::kCritical);
}

TEST_F(NotificationRouterTest, InhibitedAlertsAreNotNotified) {
  notify.receivers = {Receiver("ops")};
  NotificationRouter router(notify);
  Transition t{kRouteT0, "EventRateLow", Severity::kCritical, AlertState::kEscalated, {}, "", "low", kRouteT0,
               "ProcessOffline{process=\"twzrd-aggregator\"}"};
  EXPECT_TRUE(router.Route({t}).empty());
}

TEST_F(NotificationRouterTest, RepeatsLongFiringAlertsEveryRepeatInterval) {
  notify.receivers = {Receiver("am")};
  notify.receivers[0].repeat_interval = std::chrono::hours(1);
  AlertTracker tracker(analyzer);
  NotificationRouter router(notify);
  ASSERT_EQ(router.Route(tracker.Update(kRouteT0, {Offline("w1", Severity::kCritical)})).size(), 1u);
  EXPECT_TRUE(router.Repeats(kRouteT0 + std::chrono::minutes(59), tracker.active()).empty());
  auto repeats = router.Repeats(kRouteT0 + std::chrono::minutes(60), tracker.active());
  ASSERT_EQ(Who(repeats), std::vector<std::string>{"am:repeat"});
  EXPECT_EQ(repeats[0].transition.state, AlertState::kEscalated);
  EXPECT_TRUE(router.Repeats(kRouteT0 + std::chrono::minutes(61), tracker.active()).empty());
}

TEST_F(NotificationRouterTest, RestoredFromQueuedNotifications) {
  notify.receivers = {Receiver("ops")};
  AlertTracker tracker(analyzer);
  NotificationRouter before(notify);
  auto queued = before.Route(tracker.Update(kRouteT0, {Offline("w1", Severity::kCritical)}));
  ASSERT_EQ(queued.size(), 1u);
  // A restart: the queued event decodes and restores who was told.
  auto decoded = DecodeNotification(EncodeNotification(queued[0]), 42);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
  EXPECT_EQ(decoded->seq, 42);
  decoded->seq = 0;
  EXPECT_EQ(*decoded, queued[0]);
  NotificationRouter after(notify);
  after.Apply(*decoded);
  EXPECT_EQ(Who(after.Route(tracker.Update(kRouteT0 + std::chrono::minutes(5), {}))),
            std::vector<std::string>{"ops:resolved"});
}

// Silences and acknowledgements: one evaluation as the daemon's sender runs it (heal lost
// resolves after a restart, route the tracker's transitions, reconcile, repeat) at a
// FakeClock's time, against the silence and acknowledgement events folded so far.
class SuppressionTest : public NotificationRouterTest {
 protected:
  std::vector<std::string> Step(std::vector<Finding> findings) {
    const TimePoint now = clock.Now();
    auto transitions = tracker().Update(now, std::move(findings));
    last = router().HealResolves(now, tracker().active());
    for (Notification& n : router().Route(transitions, suppressions)) last.push_back(std::move(n));
    for (Notification& n : router().Reconcile(now, tracker().active(), suppressions)) last.push_back(std::move(n));
    for (Notification& n : router().Repeats(now, tracker().active(), suppressions)) last.push_back(std::move(n));
    return Who(last);
  }
  void Fold(EventKind kind, std::string payload) {
    store::Event event{++seq, clock.Now(), "cli", kind, std::move(payload)};
    ASSERT_TRUE(suppressions.Apply(event).ok());
  }
  // Silences alerts named `alert` from now for `d`.
  void SilenceAlert(std::string id, std::string alert, Duration d) {
    Silence s{std::move(id), {{"alertname", std::move(alert)}}, clock.Now(), clock.Now() + d, "deploy", "alice", {}, {}};
    Fold(EventKind::kSilenceAdded, EncodeSilence(s));
  }
  // Acknowledges the active alert `fingerprint` from now for `d`.
  void Ack(const std::string& fingerprint, Duration d) {
    const ActiveAlert& a = tracker().active().at(fingerprint);
    Acknowledgement ack{fingerprint, a.alert,  a.labels,   a.severity, a.active_since,
                        clock.Now(), clock.Now() + d, "on it", "bob"};
    Fold(EventKind::kAlertAcknowledged, EncodeAcknowledgement(ack));
  }
  AlertTracker& tracker() {
    if (!tracker_) tracker_.emplace(analyzer);
    return *tracker_;
  }
  NotificationRouter& router() {
    if (!router_) router_.emplace(notify);
    return *router_;
  }

  testing::FakeClock clock{kRouteT0};
  Suppressions suppressions;
  std::vector<Notification> last;
  int64_t seq = 0;
  std::optional<AlertTracker> tracker_;
  std::optional<NotificationRouter> router_;
  const std::string w1 = "ProcessOffline{process=\"w1\"}";
};

TEST_F(SuppressionTest, ASilenceThatExpiresHoldsBackThenSends) {
  notify.receivers = {Receiver("ops")};
  SilenceAlert("s1", "ProcessOffline", std::chrono::minutes(30));
  EXPECT_TRUE(Step({Offline("w1", Severity::kCritical)}).empty());  // fires and escalates, silenced
  clock.Advance(std::chrono::minutes(29));
  EXPECT_TRUE(Step({Offline("w1", Severity::kCritical)}).empty());
  clock.Advance(std::chrono::minutes(1));  // the silence ends
  ASSERT_EQ(Step({Offline("w1", Severity::kCritical)}), std::vector<std::string>{"ops:escalated"});
  EXPECT_EQ(last[0].transition.at, kRouteT0 + std::chrono::minutes(30));
  EXPECT_EQ(last[0].transition.active_since, kRouteT0);
  clock.Advance(std::chrono::minutes(1));
  EXPECT_TRUE(Step({Offline("w1", Severity::kCritical)}).empty());  // told once
  clock.Advance(std::chrono::minutes(1));
  EXPECT_EQ(Step({}), std::vector<std::string>{"ops:resolved"});
}

TEST_F(SuppressionTest, ASilenceExpiredByHandSendsAtTheNextEvaluation) {
  notify.receivers = {Receiver("ops")};
  SilenceAlert("s1", "ProcessOffline", std::chrono::hours(2));
  EXPECT_TRUE(Step({Offline("w1", Severity::kCritical)}).empty());
  clock.Advance(std::chrono::minutes(10));
  Fold(EventKind::kSilenceExpired, EncodeSilenceExpired("s1", "alice"));
  EXPECT_EQ(Step({Offline("w1", Severity::kCritical)}), std::vector<std::string>{"ops:escalated"});
}

TEST_F(SuppressionTest, SilenceMatchesLabelsExactly) {
  notify.receivers = {Receiver("ops")};
  Silence s{"s1", {{"process", "w2"}}, clock.Now(), clock.Now() + std::chrono::hours(1), "w2 only", "alice", {}, {}};
  Fold(EventKind::kSilenceAdded, EncodeSilence(s));
  EXPECT_EQ(Step({Offline("w1", Severity::kCritical), Offline("w2", Severity::kCritical)}),
            std::vector<std::string>{"ops:escalated"});
  EXPECT_EQ(last[0].key, w1);
}

TEST_F(SuppressionTest, ResolveDuringASilenceGoesWhereTheEpisodeWent) {
  notify.receivers = {Receiver("ops"), Receiver("chat", "WARNING", {"firing", "resolved"})};
  notify.receivers[0].repeat_interval = std::chrono::minutes(5);
  EXPECT_EQ(Step({Offline("w1", Severity::kCritical)}), (std::vector<std::string>{"chat:firing", "ops:escalated"}));
  clock.Advance(std::chrono::minutes(1));
  SilenceAlert("s1", "ProcessOffline", std::chrono::hours(1));
  clock.Advance(std::chrono::minutes(10));
  EXPECT_TRUE(Step({Offline("w1", Severity::kCritical)}).empty());  // no repeat while silenced
  clock.Advance(std::chrono::minutes(1));
  EXPECT_EQ(Step({}), (std::vector<std::string>{"ops:resolved", "chat:resolved"}));
  EXPECT_EQ(router().episodes(), 0u);
}

TEST_F(SuppressionTest, AnAckHoldsAWarningsEscalationAfterAnHourUntilItExpires) {
  notify.receivers = {Receiver("ops")};
  EXPECT_TRUE(Step({Offline("w1")}).empty());  // a WARNING fires
  clock.Advance(std::chrono::minutes(30));
  EXPECT_TRUE(Step({Offline("w1")}).empty());
  Ack(w1, std::chrono::hours(2));  // until T0 + 2h30m
  clock.Advance(std::chrono::minutes(31));  // an hour firing: it escalates, acknowledged
  EXPECT_TRUE(Step({Offline("w1")}).empty());
  EXPECT_TRUE(tracker().active().at(w1).escalated);
  clock.Set(kRouteT0 + std::chrono::minutes(149));
  EXPECT_TRUE(Step({Offline("w1")}).empty());
  clock.Set(kRouteT0 + std::chrono::minutes(150));  // the ack expires
  ASSERT_EQ(Step({Offline("w1")}), std::vector<std::string>{"ops:escalated"});
  EXPECT_EQ(last[0].transition.severity, Severity::kWarning);
  EXPECT_EQ(last[0].transition.state, AlertState::kEscalated);
  clock.Advance(std::chrono::minutes(1));
  EXPECT_TRUE(Step({Offline("w1")}).empty());
}

TEST_F(SuppressionTest, WithoutAnAckTheSameWarningEscalatesAfterAnHour) {
  notify.receivers = {Receiver("ops")};
  EXPECT_TRUE(Step({Offline("w1")}).empty());
  clock.Advance(std::chrono::minutes(61));
  EXPECT_EQ(Step({Offline("w1")}), std::vector<std::string>{"ops:escalated"});
}

TEST_F(SuppressionTest, AnAckStopsRepeatsUntilItExpires) {
  notify.receivers = {Receiver("hook")};
  notify.receivers[0].repeat_interval = std::chrono::hours(1);
  EXPECT_EQ(Step({Offline("w1", Severity::kCritical)}), std::vector<std::string>{"hook:escalated"});
  clock.Advance(std::chrono::minutes(10));
  Ack(w1, std::chrono::hours(2));
  for (int minutes : {60, 90, 129}) {
    clock.Set(kRouteT0 + std::chrono::minutes(minutes));
    EXPECT_TRUE(Step({Offline("w1", Severity::kCritical)}).empty()) << minutes;
  }
  clock.Set(kRouteT0 + std::chrono::minutes(130));
  EXPECT_EQ(Step({Offline("w1", Severity::kCritical)}), std::vector<std::string>{"hook:repeat"});
  EXPECT_FALSE(last[0].acknowledged_until.has_value());
}

TEST_F(SuppressionTest, ASeverityChangeVoidsTheAck) {
  notify.receivers = {Receiver("ops")};
  EXPECT_TRUE(Step({Offline("w1")}).empty());
  clock.Advance(std::chrono::minutes(10));
  Ack(w1, std::chrono::hours(4));
  EXPECT_NE(suppressions.AckFor(w1, Severity::kWarning, kRouteT0, clock.Now()), nullptr);
  clock.Advance(std::chrono::minutes(10));
  ASSERT_EQ(Step({Offline("w1", Severity::kCritical)}), std::vector<std::string>{"ops:escalated"});
  EXPECT_EQ(last[0].transition.severity, Severity::kCritical);
  EXPECT_EQ(suppressions.AckFor(w1, Severity::kCritical, kRouteT0, clock.Now()), nullptr);
}

TEST_F(SuppressionTest, ANewEpisodeIsNotCoveredByTheOldAck) {
  notify.receivers = {Receiver("ops")};
  EXPECT_TRUE(Step({Offline("w1")}).empty());
  clock.Advance(std::chrono::minutes(5));
  Ack(w1, std::chrono::hours(6));
  clock.Advance(std::chrono::minutes(5));
  EXPECT_TRUE(Step({}).empty());  // resolves
  clock.Advance(std::chrono::minutes(10));
  EXPECT_TRUE(Step({Offline("w1")}).empty());  // fires again
  clock.Advance(std::chrono::minutes(61));
  EXPECT_EQ(Step({Offline("w1")}), std::vector<std::string>{"ops:escalated"});
}

TEST_F(SuppressionTest, AlertmanagerKeepAlivesContinueUnderAnAck) {
  notify.receivers = {Receiver("am"), Receiver("hook")};
  notify.receivers[0].type = "alertmanager";
  for (ReceiverConfig& r : notify.receivers) r.repeat_interval = std::chrono::hours(1);
  EXPECT_EQ(Step({Offline("w1", Severity::kCritical)}), (std::vector<std::string>{"am:escalated", "hook:escalated"}));
  clock.Advance(std::chrono::minutes(5));
  Ack(w1, std::chrono::hours(4));
  clock.Set(kRouteT0 + std::chrono::minutes(60));
  ASSERT_EQ(Step({Offline("w1", Severity::kCritical)}), std::vector<std::string>{"am:repeat"});
  EXPECT_EQ(last[0].acknowledged_by, "bob");
  EXPECT_EQ(last[0].acknowledged_until, kRouteT0 + std::chrono::minutes(245));
  // The mark survives the outbox.
  auto decoded = DecodeNotification(EncodeNotification(last[0]), 9);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->acknowledged_until, last[0].acknowledged_until);
  EXPECT_EQ(decoded->acknowledged_by, "bob");
}

TEST_F(SuppressionTest, ReconcileHealsACrashBetweenRecordingAndQueueing) {
  notify.receivers = {Receiver("ops")};
  // The evaluation's transitions were recorded, then the daemon died before queueing.
  auto recorded = tracker().Update(clock.Now(), {Offline("w1", Severity::kCritical)});
  // The restart: the tracker replays what was recorded; nothing was queued.
  tracker_.reset();
  for (const Transition& t : recorded) tracker().Apply(t);
  clock.Advance(std::chrono::seconds(30));
  ASSERT_EQ(Step({Offline("w1", Severity::kCritical)}), std::vector<std::string>{"ops:escalated"});
  const Notification queued = last[0];
  // Another restart, this time with the notification queued: nothing is sent twice.
  router_.reset();
  router().Apply(*DecodeNotification(EncodeNotification(queued), 7));
  clock.Advance(std::chrono::seconds(30));
  EXPECT_TRUE(Step({Offline("w1", Severity::kCritical)}).empty());
}

TEST_F(SuppressionTest, ReconcileHealsAResolveLostBetweenRecordingAndQueueing) {
  notify.receivers = {Receiver("ops"), Receiver("pager", "WARNING", {"escalated"})};
  std::vector<Transition> recorded = tracker().Update(clock.Now(), {Offline("w1", Severity::kCritical)});
  std::vector<Notification> queued = router().Route(recorded);
  ASSERT_EQ(Who(queued), (std::vector<std::string>{"ops:escalated", "pager:escalated"}));
  // Five minutes later the resolve is recorded, then the daemon dies before queueing it.
  clock.Advance(std::chrono::minutes(5));
  for (const Transition& t : tracker().Update(clock.Now(), {})) recorded.push_back(t);
  ASSERT_EQ(recorded.back().state, AlertState::kResolved);
  auto restart = [&] {
    tracker_.reset();
    for (const Transition& t : recorded) tracker().Apply(t);
    router_.reset();
    int64_t queued_seq = 0;
    for (const Notification& n : queued) router().Apply(*DecodeNotification(EncodeNotification(n), ++queued_seq));
  };
  restart();
  ASSERT_TRUE(tracker().active().empty());
  clock.Advance(std::chrono::seconds(30));
  // The resolve goes where the episode went and wants it (pager does not list "resolved").
  ASSERT_EQ(Step({}), std::vector<std::string>{"ops:resolved"});
  EXPECT_EQ(last[0].key, w1);
  EXPECT_EQ(last[0].transition.state, AlertState::kResolved);
  EXPECT_EQ(last[0].transition.severity, Severity::kCritical);
  EXPECT_EQ(last[0].transition.labels, (Labels{{"process", "w1"}}));
  EXPECT_EQ(last[0].transition.active_since, kRouteT0);
  EXPECT_EQ(last[0].transition.at, clock.Now());
  const Notification resolve = last[0];
  clock.Advance(std::chrono::seconds(30));
  EXPECT_TRUE(Step({}).empty()) << "healed once";
  // Another restart, this time with the resolve queued: nothing is sent twice.
  queued.push_back(resolve);
  restart();
  clock.Advance(std::chrono::seconds(30));
  EXPECT_TRUE(Step({}).empty());
  // And a new episode of the same alert after a restart is news, not a resolve of the old.
  queued.pop_back();
  restart();
  clock.Advance(std::chrono::seconds(30));
  EXPECT_EQ(Step({Offline("w1", Severity::kCritical)}),
            (std::vector<std::string>{"ops:resolved", "ops:escalated", "pager:escalated"}));
}

TEST_F(SuppressionTest, AnEarlierEpisodeLeftBehindByARestartDoesNotCount) {
  notify.receivers = {Receiver("pager", "WARNING", {"escalated"})};
  ASSERT_EQ(Step({Offline("w1", Severity::kCritical)}), std::vector<std::string>{"pager:escalated"});
  const Notification queued = last[0];
  clock.Advance(std::chrono::minutes(5));
  EXPECT_TRUE(Step({}).empty());  // resolved; pager does not list "resolved", so nothing is queued
  // A restart: the queued events still hold the earlier episode's escalation.
  router_.reset();
  router().Apply(*DecodeNotification(EncodeNotification(queued), 3));
  clock.Advance(std::chrono::minutes(5));
  EXPECT_TRUE(Step({Offline("w1")}).empty());  // a new WARNING episode, not a severity change
  clock.Advance(std::chrono::minutes(61));
  EXPECT_EQ(Step({Offline("w1")}), std::vector<std::string>{"pager:escalated"});
}

TEST_F(SuppressionTest, AnInhibitedAlertIsSentWhenItsCauseResolves) {
  notify.receivers = {Receiver("ops")};
  Finding cause;
  cause.alert = "DatabaseUnreachable";
  cause.severity = Severity::kCritical;
  cause.summary = "down";
  Finding slow;
  slow.alert = "DatabaseSlow";
  slow.severity = Severity::kCritical;
  slow.summary = "slow";
  ASSERT_EQ(Step({cause, slow}), std::vector<std::string>{"ops:escalated"});
  EXPECT_EQ(last[0].transition.alert, "DatabaseUnreachable");
  EXPECT_EQ(tracker().active().at("DatabaseSlow").inhibited_by, "DatabaseUnreachable");
  // The cause's resolve condition holds, not yet for long enough (hysteresis): it still
  // fires, and still explains the slowness.
  Finding holding = cause;
  holding.hold_only = true;
  clock.Advance(std::chrono::seconds(30));
  EXPECT_TRUE(Step({holding, slow}).empty());
  // The cause resolves; the slowness it explained is now news of its own.
  clock.Advance(std::chrono::seconds(30));
  ASSERT_EQ(Step({slow}), (std::vector<std::string>{"ops:resolved", "ops:escalated"}));
  EXPECT_EQ(last[0].transition.alert, "DatabaseUnreachable");
  EXPECT_EQ(last[1].transition.alert, "DatabaseSlow");
  EXPECT_TRUE(last[1].transition.inhibited_by.empty());
  clock.Advance(std::chrono::seconds(30));
  EXPECT_TRUE(Step({slow}).empty()) << "sent once";
  clock.Advance(std::chrono::seconds(30));
  EXPECT_EQ(Step({}), std::vector<std::string>{"ops:resolved"});
}

TEST_F(SuppressionTest, ReconcileSendsNothingForAWarningResolvedWithinTheHour) {
  notify.receivers = {Receiver("ops")};
  EXPECT_TRUE(Step({Offline("w1")}).empty());
  clock.Advance(std::chrono::minutes(59));
  EXPECT_TRUE(Step({Offline("w1")}).empty());
  clock.Advance(std::chrono::minutes(1));
  EXPECT_TRUE(Step({}).empty());
}

TEST(NotificationOutcomeTest, RoundTrips) {
  Notification n;
  n.seq = 7;
  n.id = "00000000000000ab";
  n.receiver = "ops";
  auto failed = DecodeOutcome(EncodeFailed(n, 400, "HTTP 400: bad", 1));
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->queued_seq, 7);
  EXPECT_EQ(failed->status, 400);
  EXPECT_EQ(failed->reason, "HTTP 400: bad");
  EXPECT_FALSE(DecodeOutcome("{}").has_value());
}

}  // namespace
}  // namespace offmon::notify

namespace offmon::notify {
namespace {

notify::Notification SampleNotification(analyzer::AlertState state, std::string reason) {
  notify::Notification n;
  n.id = "0123456789abcdef";
  n.receiver = "r";
  n.key = "ProcessOffline{process=\"w1\"}";
  n.reason = std::move(reason);
  n.transition = {FromMillis(1'763'000'600'000), "ProcessOffline", analyzer::Severity::kCritical, state,
                  {{"process", "w1"}}, "process_up{process=\"w1\"}", "w1 offline", FromMillis(1'763'000'000'000), ""};
  return n;
}

TEST(NotificationPayloadTest, RetryDelayDoublesUpToTheCapWithJitter) {
  using std::chrono::seconds;
  EXPECT_EQ(RetryDelay(1, seconds(1), seconds(300), 0.0), Duration(500));
  EXPECT_EQ(RetryDelay(1, seconds(1), seconds(300), 1.0), Duration(1000));
  EXPECT_EQ(RetryDelay(4, seconds(1), seconds(300), 1.0), Duration(8000));
  EXPECT_EQ(RetryDelay(40, seconds(1), seconds(300), 0.5), Duration(225'000));
}

TEST(NotificationPayloadTest, ParsesHttpUrlsAndNeverEchoesThem) {
  auto url = ParseHttpUrl("http://hooks.example:8080/T000/secret-token?x=1");
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->host, "hooks.example");
  EXPECT_EQ(url->port, "8080");
  EXPECT_EQ(url->target, "/T000/secret-token?x=1");
  EXPECT_EQ(ParseHttpUrl("http://am")->target, "/");
  EXPECT_FALSE(url->https);
  auto tls = ParseHttpUrl("https://hooks.example/T000/secret-token");
  ASSERT_TRUE(tls.has_value());
  EXPECT_TRUE(tls->https);
  EXPECT_EQ(tls->port, "443");
  EXPECT_EQ(tls->target, "/T000/secret-token");
  EXPECT_EQ(ParseHttpUrl("HTTPS://hooks.example:8443")->port, "8443");
  for (std::string_view bad : {"ftp://secret-token", "secret-token", "http://:1/secret-token", "https://:1/secret-token",
                               "http://user:secret-token@host/"}) {
    auto error = ParseHttpUrl(bad);
    ASSERT_FALSE(error.has_value()) << bad;
    EXPECT_EQ(error.error().message().find("secret-token"), std::string::npos) << error.error().message();
  }
}

TEST(NotificationPayloadTest, ParsesBracketedIpv6Hosts) {
  auto v6 = ParseHttpUrl("http://[::1]:8080/hook/secret-token?x=1#frag");
  ASSERT_TRUE(v6.has_value()) << v6.error().ToString();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_TRUE(v6->ipv6_literal);
  EXPECT_EQ(v6->port, "8080");
  EXPECT_EQ(v6->target, "/hook/secret-token?x=1");
  EXPECT_EQ(HttpHostHeader(*v6), "[::1]:8080");
  auto default_port = ParseHttpUrl("https://[2001:DB8::1]/alerts");
  ASSERT_TRUE(default_port.has_value()) << default_port.error().ToString();
  EXPECT_EQ(default_port->host, "2001:db8::1");
  EXPECT_EQ(default_port->port, "443");
  EXPECT_EQ(HttpHostHeader(*default_port), "[2001:db8::1]");
  auto no_path = ParseHttpUrl("http://[::ffff:127.0.0.1]:9093");
  ASSERT_TRUE(no_path.has_value()) << no_path.error().ToString();
  EXPECT_EQ(no_path->target, "/");
  EXPECT_EQ(HttpHostHeader(*ParseHttpUrl("http://hooks.example:8080/x")), "hooks.example:8080");
  EXPECT_EQ(HttpHostHeader(*ParseHttpUrl("http://hooks.example:80/x")), "hooks.example");
  for (std::string_view bad :
       {"http://[::1/secret-token", "http://[::1]x/secret-token", "http://[::1]:/secret-token",
        "http://[not-v6]/secret-token", "http://[]/secret-token", "http://::1:8080/secret-token",
        "http://[::1]:99999/secret-token", "http://host:0/secret-token", "http://ho[st]:1/secret-token"}) {
    auto error = ParseHttpUrl(bad);
    ASSERT_FALSE(error.has_value()) << bad;
    EXPECT_EQ(error.error().message().find("secret-token"), std::string::npos) << error.error().message();
  }
}

TEST(NotificationPayloadTest, AlertmanagerGetsAnAlertArray) {
  ReceiverConfig am;
  am.type = "alertmanager";
  am.repeat_interval = std::chrono::hours(1);
  const TimePoint now = FromMillis(1'763'000'700'000);
  auto post = BuildPost(am, *ParseHttpUrl("http://127.0.0.1:9093"), SampleNotification(analyzer::AlertState::kEscalated, "escalated"),
                        now, "", "host1");
  EXPECT_EQ(post.target, "/api/v2/alerts");
  auto doc = nlohmann::json::parse(post.body);
  ASSERT_TRUE(doc.is_array());
  ASSERT_EQ(doc.size(), 1u);
  EXPECT_EQ(doc[0]["labels"], nlohmann::json({{"alertname", "ProcessOffline"}, {"process", "w1"}, {"severity", "critical"}}));
  EXPECT_EQ(doc[0]["annotations"]["summary"], "w1 offline");
  EXPECT_EQ(doc[0]["startsAt"], FormatRfc3339(FromMillis(1'763'000'000'000)));
  EXPECT_EQ(doc[0]["endsAt"], FormatRfc3339(now + std::chrono::hours(4)));
  EXPECT_EQ(doc[0]["generatorURL"], "offmon://host1/alerts?alert=ProcessOffline");
  auto resolved = nlohmann::json::parse(
      BuildPost(am, *ParseHttpUrl("http://am/api/v2/alerts/"), SampleNotification(analyzer::AlertState::kResolved, "resolved"), now,
                "", "h")
          .body);
  EXPECT_EQ(resolved[0]["endsAt"], FormatRfc3339(FromMillis(1'763'000'600'000)));
}

TEST(NotificationPayloadTest, ChatAndPagerDutyFormats) {
  ReceiverConfig r;
  const HttpUrl url = *ParseHttpUrl("http://127.0.0.1:1/x");
  const auto firing = SampleNotification(analyzer::AlertState::kEscalated, "escalated");
  r.type = "slack";
  EXPECT_EQ(nlohmann::json::parse(BuildPost(r, url, firing, {}, "", "h").body)["text"],
            "[CRITICAL] escalated ProcessOffline{process=\"w1\"}: w1 offline");
  r.type = "discord";
  EXPECT_TRUE(nlohmann::json::parse(BuildPost(r, url, firing, {}, "", "h").body)["content"].is_string());
  r.type = "pagerduty";
  auto trigger = nlohmann::json::parse(BuildPost(r, url, firing, {}, "KEY", "h").body);
  EXPECT_EQ(trigger["event_action"], "trigger");
  EXPECT_EQ(trigger["dedup_key"], firing.key);
  EXPECT_EQ(trigger["routing_key"], "KEY");
  EXPECT_EQ(trigger["payload"]["severity"], "critical");
  auto resolve =
      nlohmann::json::parse(BuildPost(r, url, SampleNotification(analyzer::AlertState::kResolved, "resolved"), {}, "KEY", "h").body);
  EXPECT_EQ(resolve["event_action"], "resolve");
  EXPECT_FALSE(resolve.contains("payload"));
  r.type = "webhook";
  auto hook = nlohmann::json::parse(BuildPost(r, url, firing, {}, "", "h").body);
  EXPECT_EQ(hook["id"], firing.id);
  EXPECT_EQ(hook["key"], firing.key);
  EXPECT_EQ(hook["state"], "escalated");
}

TEST(NotificationPayloadTest, AlertmanagerKeepAliveOfAnAcknowledgedAlertSaysSo) {
  ReceiverConfig am;
  am.type = "alertmanager";
  am.repeat_interval = std::chrono::hours(1);
  notify::Notification n = SampleNotification(analyzer::AlertState::kEscalated, "repeat");
  auto plain = nlohmann::json::parse(BuildPost(am, *ParseHttpUrl("http://am"), n, {}, "", "h").body);
  EXPECT_FALSE(plain[0]["annotations"].contains("acknowledged_by"));
  n.acknowledged_by = "bob";
  n.acknowledged_until = FromMillis(1'763'007'200'000);
  auto acked = nlohmann::json::parse(BuildPost(am, *ParseHttpUrl("http://am"), n, {}, "", "h").body);
  EXPECT_EQ(acked[0]["annotations"]["acknowledged_by"], "bob");
  EXPECT_EQ(acked[0]["annotations"]["acknowledged_until"], FormatRfc3339(FromMillis(1'763'007'200'000)));
}

// The daemon's sender reads silences that `offmon silence` writes while it runs, and
// queues what they held back once they end.
TEST(NotificationSenderSuppressionTest, SeesSilencesWrittenWhileItRuns) {
  testing::TempDir dir;
  store::StoreOptions options;
  options.path = dir / "offmon.db";
  auto store = std::move(*store::Store::Open(options));
  NotifyConfig notify;
  ReceiverConfig r;
  r.name = "ops";
  r.type = "webhook";
  r.url = "http://127.0.0.1:1/hook";
  notify.receivers = {r};
  boost::asio::io_context io;  // never run: nothing is delivered
  std::ostringstream log_text;
  spdlog::logger log("test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text));
  testing::FakeClock clock(FromMillis(1'763'000'000'000));
  NotificationSender sender(io, *store, notify, clock, log, [] { return 0.5; });

  AnalyzerConfig analyzer_config;
  analyzer::AlertTracker tracker(analyzer_config);
  const analyzer::Finding offline = Offline("w1", analyzer::Severity::kCritical);
  // `offmon silence add` in another process, after the sender started.
  const analyzer::Silence silence{"s1",        {{"alertname", "ProcessOffline"}}, clock.Now(),
                                  clock.Now() + std::chrono::hours(2), "deploy", "alice", {}, {}};
  ASSERT_TRUE(store->AppendEvent(EventKind::kSilenceAdded, "cli", analyzer::EncodeSilence(silence), clock.Now()));
  EXPECT_EQ(sender.Queue(tracker.Update(clock.Now(), {offline}), clock.Now(), tracker.active()), 0u);
  clock.Advance(std::chrono::minutes(5));
  EXPECT_EQ(sender.Queue(tracker.Update(clock.Now(), {offline}), clock.Now(), tracker.active()), 0u);
  // `offmon silence expire s1`: the next evaluation queues the held-back escalation.
  ASSERT_TRUE(store->AppendEvent(EventKind::kSilenceExpired, "cli", analyzer::EncodeSilenceExpired("s1", "alice"),
                                 clock.Now()));
  clock.Advance(std::chrono::seconds(30));
  EXPECT_EQ(sender.Queue(tracker.Update(clock.Now(), {offline}), clock.Now(), tracker.active()), 1u);
  auto queued = *store->ReadEvents(0, EventKind::kNotificationQueued, 10);
  ASSERT_EQ(queued.size(), 1u);
  auto n = notify::DecodeNotification(queued[0].payload, queued[0].seq);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->reason, "escalated");
  EXPECT_EQ(n->key, "ProcessOffline{process=\"w1\"}");

  // A restarted sender restores both the silence history and who was told: no repeat.
  NotificationSender restarted(io, *store, notify, clock, log, [] { return 0.5; });
  clock.Advance(std::chrono::seconds(30));
  EXPECT_EQ(restarted.Queue(tracker.Update(clock.Now(), {offline}), clock.Now(), tracker.active()), 0u);
}

TEST(NotifyConfigTest, ReceiversAsNamedTablesOrAnArray) {
  auto config = ParseConfig(R"(
[notify]
retry_initial = "2s"

[notify.receivers.am]
type = "alertmanager"
url = "http://127.0.0.1:9093"

[notify.receivers.pager]
type = "pagerduty"
routing_key_file = "/run/secrets/pd"
min_severity = "CRITICAL"
transitions = ["firing", "resolved"]
)",
                            "n.toml");
  ASSERT_TRUE(config.has_value()) << config.error().ToString();
  ASSERT_EQ(config->notify.receivers.size(), 2u);
  EXPECT_EQ(config->notify.receivers[0].name, "am");
  EXPECT_EQ(config->notify.receivers[0].repeat_interval, std::chrono::hours(1));
  EXPECT_EQ(config->notify.receivers[1].transitions, (std::vector<std::string>{"firing", "resolved"}));
  EXPECT_EQ(config->notify.retry_initial, std::chrono::seconds(2));

  auto array = ParseConfig("[[notify.receivers]]\nname = \"hook\"\ntype = \"webhook\"\nurl_file = \"/s\"\n", "a.toml");
  ASSERT_TRUE(array.has_value()) << array.error().ToString();
  EXPECT_EQ(array->notify.receivers[0].name, "hook");
  EXPECT_EQ(array->notify.receivers[0].transitions, (std::vector<std::string>{"escalated", "resolved"}));
}

TEST(NotifyConfigTest, AnAlertmanagerClusterListsItsUrls) {
  auto config = ParseConfig(
      "[notify.receivers.am]\ntype = \"alertmanager\"\n"
      "urls = [\"http://am1:9093\", \"http://am2:9093/secret-token\"]\n",
      "u.toml");
  ASSERT_TRUE(config.has_value()) << config.error().ToString();
  const ReceiverConfig& am = config->notify.receivers[0];
  EXPECT_EQ(am.urls, (std::vector<std::string>{"http://am1:9093", "http://am2:9093/secret-token"}));
  EXPECT_TRUE(am.url.empty());
  // The outbox names each by what config check shows; alike ones are numbered.
  EXPECT_EQ(DeliveryTargets(am), (std::vector<std::string>{"http://am1:9093", "http://am2:9093/***"}));
  ReceiverConfig credentials = am;
  credentials.urls = {"http://u:secret-token@am1/", "http://u:secret-token-2@am2/"};
  EXPECT_EQ(DeliveryTargets(credentials), (std::vector<std::string>{"http://***", "http://***#2"}));

  auto error = [](std::string_view receiver) {
    auto c = ParseConfig("[notify.receivers.x]\n" + std::string(receiver), "e.toml");
    return c ? std::string("(loaded)") : c.error().message();
  };
  EXPECT_EQ(error("type = \"webhook\"\nurls = [\"http://h/secret-token\"]\n"),
            "e.toml:1: [notify.receivers.x] urls: only for alertmanager (other types take one url)");
  EXPECT_EQ(error("type = \"alertmanager\"\nurl = \"http://h/\"\nurls = [\"http://h/secret-token\"]\n"),
            "e.toml:1: [notify.receivers.x] urls: not with url or url_file (give one of them)");
  EXPECT_EQ(error("type = \"alertmanager\"\nurls = []\n"),
            "e.toml:1: [notify.receivers.x] urls: empty (list at least one Alertmanager)");
  EXPECT_EQ(error("type = \"alertmanager\"\nurls = [\"http://h/secret-token\", \"http://h/secret-token\"]\n"),
            "e.toml:1: [notify.receivers.x] urls: entries 1 and 2 are the same");
  EXPECT_EQ(error("type = \"alertmanager\"\n"), "e.toml:1: [notify.receivers.x] url, url_file or urls: required");
}

TEST(NotifyConfigTest, ErrorsNameFileLineAndKeyButNoSecret) {
  EXPECT_EQ(ParseConfig("[notify.receivers.x]\ntype = \"webhook\"\nurl = \"http://h/secret-token\"\nmin_severity = \"INFO\"\n",
                        "b.toml")
                .error()
                .message(),
            "b.toml:1: [notify.receivers.x] min_severity: expected \"WARNING\" or \"CRITICAL\" (INFO is never notified)");
  EXPECT_EQ(ParseConfig("[notify.receivers.x]\ntype = \"webhook\"\nurl = 7\n", "c.toml").error().message(),
            "c.toml:3: [notify.receivers.x] url: expected a string");
  EXPECT_EQ(ParseConfig("[notify.receivers.x]\ntype = \"webhook\"\nurl = \"http://h/secret-token\"\nbogus = 1\n", "d.toml")
                .error()
                .message(),
            "d.toml:4: [notify.receivers.x] bogus: unknown key");
  EXPECT_EQ(ParseConfig("[notify.receivers.x]\ntype = \"email\"\n", "e.toml").error().message(),
            "e.toml:1: [notify.receivers.x] type: unknown receiver type \"email\" (alertmanager, webhook, slack, "
            "discord or pagerduty)");
  EXPECT_EQ(ParseConfig("[notify.receivers.x]\ntype = \"webhook\"\n", "f.toml").error().message(),
            "f.toml:1: [notify.receivers.x] url or url_file: required");
  EXPECT_EQ(ParseConfig("[notify.receivers.x]\ntype = \"webhook\"\nurl = \"http://h/\"\ntransitions = [\"pending\"]\n",
                        "g.toml")
                .error()
                .message(),
            "g.toml:1: [notify.receivers.x] transitions: unknown transition \"pending\" (firing, escalated, resolved)");
}

}  // namespace
}  // namespace offmon::notify

namespace offmon::notify {
namespace {

TEST(NotificationPayloadTest, ConfigCheckShowsOnlySchemeHostAndPort) {
  EXPECT_EQ(RedactHttpUrl("http://hooks.example:8080/T000/secret-token?x=1"), "http://hooks.example:8080/***");
  EXPECT_EQ(RedactHttpUrl("http://127.0.0.1:9093"), "http://127.0.0.1:9093");
  EXPECT_EQ(RedactHttpUrl("http://user:secret-token@host/"), "http://***");
  EXPECT_EQ(RedactHttpUrl("secret-token"), "***");
}

}  // namespace
}  // namespace offmon::notify
