// The outbox's delivery side against loopback receivers the tests start (on the test's
// io_context, so no threads), and against a real Alertmanager. Conditions are awaited
// with deadlines; retries use millisecond backoff.
#include "offmon/notify/notification_sender.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "offmon/analyzer/alert_tracker.h"
#include "offmon/notify/notification.h"
#include "notify/notification_fixture.h"
#include "offmon/store/store.h"
#include "support/http_client.h"
#include "support/http_receiver.h"
#include "support/refusing_store.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace offmon::notify {
namespace {

using analyzer::AlertState;
using analyzer::Severity;
using analyzer::Transition;
namespace http = boost::beast::http;
using testing::FreePort;

// One webhook receiver, "hook", on the test's loop.
class NotificationSenderTest : public NotificationFixture {
 protected:
  NotificationSenderTest() : receiver(io) {
    AddReceiver("hook", "webhook", receiver.url("/hook/secret-token"));
  }

  testing::HttpReceiver receiver;
};

TEST_F(NotificationSenderTest, ReceiverDownThenUpGetsEachOnceInOrder) {
  receiver.Stop();
  auto sender = NewSender();
  EXPECT_EQ(sender->Queue({Critical("w1", AlertState::kEscalated, kT0)}, kT0, {}), 1u);
  EXPECT_EQ(sender->Queue({Critical("w2", AlertState::kEscalated, kT0 + Duration(1))}, kT0, {}), 1u);
  EXPECT_EQ(sender->Backlog().at("hook"), 2);
  ASSERT_TRUE(RunUntil([&] { return Log().find("attempt 4 failed") != std::string::npos; })) << Log();
  EXPECT_TRUE(Events(EventKind::kNotificationDelivered).empty());
  receiver.Start();
  ASSERT_TRUE(RunUntil([&] { return Events(EventKind::kNotificationDelivered).size() == 2; })) << Log();
  ASSERT_EQ(receiver.requests().size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(receiver.requests()[0].body)["labels"]["process"], "w1");
  EXPECT_EQ(nlohmann::json::parse(receiver.requests()[1].body)["labels"]["process"], "w2");
  EXPECT_EQ(receiver.requests()[0].target, "/hook/secret-token");
  EXPECT_EQ(receiver.requests()[0].idempotency_key, nlohmann::json::parse(receiver.requests()[0].body)["id"]);
  EXPECT_EQ(sender->Backlog().at("hook"), 0);
  EXPECT_EQ(Log().find("secret-token"), std::string::npos) << Log();
}

TEST_F(NotificationSenderTest, ServerErrorsAreRetried) {
  receiver.Script({503, 500, 429});
  auto sender = NewSender();
  sender->Queue({Critical("w1", AlertState::kEscalated, kT0)}, kT0, {});
  ASSERT_TRUE(RunUntil([&] { return Events(EventKind::kNotificationDelivered).size() == 1; })) << Log();
  EXPECT_EQ(receiver.requests().size(), 4u);
  auto outcome = notify::DecodeOutcome(Events(EventKind::kNotificationDelivered)[0].payload);
  EXPECT_EQ(outcome->attempts, 4);
  EXPECT_EQ(outcome->status, 200);
  EXPECT_TRUE(Events(EventKind::kNotificationFailed).empty());
}

TEST_F(NotificationSenderTest, ClientErrorsFailPermanentlyWithTheReasonAndTheQueueMovesOn) {
  receiver.Script({400});
  receiver.SetBody("unknown token secret-token");
  auto sender = NewSender();
  sender->Queue({Critical("w1", AlertState::kEscalated, kT0)}, kT0, {});
  sender->Queue({Critical("w2", AlertState::kEscalated, kT0 + Duration(1))}, kT0, {});
  ASSERT_TRUE(RunUntil([&] { return Events(EventKind::kNotificationDelivered).size() == 1; })) << Log();
  auto failed = Events(EventKind::kNotificationFailed);
  ASSERT_EQ(failed.size(), 1u);
  auto outcome = notify::DecodeOutcome(failed[0].payload);
  EXPECT_EQ(outcome->status, 400);
  EXPECT_EQ(outcome->reason, "HTTP 400: unknown token ***");
  EXPECT_EQ(outcome->attempts, 1);
  EXPECT_EQ(receiver.requests().size(), 2u);
  EXPECT_EQ(Log().find("secret-token"), std::string::npos) << Log();
}

TEST_F(NotificationSenderTest, QueuedNotificationsSurviveARestartWithoutDuplicates) {
  receiver.Stop();
  {
    auto sender = NewSender();
    sender->Queue({Critical("w1", AlertState::kEscalated, kT0)}, kT0, {});
    ASSERT_TRUE(RunUntil([&] { return Log().find("attempt 2 failed") != std::string::npos; })) << Log();
  }  // "killed" before delivery: nothing in flight survives but the store
  receiver.Start();
  {
    auto sender = NewSender();
    EXPECT_EQ(sender->Backlog().at("hook"), 1);
    ASSERT_TRUE(RunUntil([&] { return Events(EventKind::kNotificationDelivered).size() == 1; })) << Log();
    // The resolve goes where the firing went: routing state came back from the store.
  }
  auto sender = NewSender();
  EXPECT_EQ(sender->Backlog().at("hook"), 0);
  EXPECT_EQ(sender->Queue({Critical("w1", AlertState::kResolved, kT0 + std::chrono::minutes(5))}, kT0, {}), 1u);
  ASSERT_TRUE(RunUntil([&] { return Events(EventKind::kNotificationDelivered).size() == 2; })) << Log();
  ASSERT_EQ(receiver.requests().size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(receiver.requests()[0].body)["state"], "escalated");
  EXPECT_EQ(nlohmann::json::parse(receiver.requests()[1].body)["state"], "resolved");
}

TEST_F(NotificationSenderTest, DeliversToAReceiverOnIpv6Loopback) {
  std::unique_ptr<testing::HttpReceiver> v6;
  try {
    v6 = std::make_unique<testing::HttpReceiver>(io, "::1");
  } catch (const boost::system::system_error& e) {
    GTEST_SKIP() << "this machine has no IPv6 loopback (cannot listen on [::1]: " << e.what() << ")";
  }
  notify.receivers.clear();
  AddReceiver("v6", "webhook", v6->url("/hook/secret-token"));
  ASSERT_EQ(notify.receivers.back().url.rfind("http://[::1]:", 0), 0u) << notify.receivers.back().url;
  auto sender = NewSender();
  EXPECT_EQ(sender->Queue({Critical("w1", AlertState::kEscalated, kT0)}, kT0, {}), 1u);
  ASSERT_TRUE(RunUntil([&] { return Events(EventKind::kNotificationDelivered).size() == 1; })) << Log();
  ASSERT_EQ(v6->requests().size(), 1u);
  EXPECT_EQ(v6->requests()[0].target, "/hook/secret-token");
  EXPECT_EQ(v6->requests()[0].host, "[::1]:" + std::to_string(v6->port()));
  EXPECT_EQ(nlohmann::json::parse(v6->requests()[0].body)["labels"]["process"], "w1");
}

TEST_F(NotificationSenderTest, AFailedOutboxWriteIsRetriedAtTheNextEvaluationWithoutDuplicates) {
  testing::RefusingStore flaky(*store);
  flaky.refuse = {EventKind::kNotificationQueued};
  NotificationSender sender(io, flaky, notify, clock, log, [] { return 0.5; });
  const Transition escalated = Critical("w1", AlertState::kEscalated, kT0);
  AnalyzerConfig analyzer_config;
  analyzer::AlertTracker tracker(analyzer_config);
  tracker.Apply(Critical("w1", AlertState::kFiring, kT0));
  tracker.Apply(escalated);
  // The disk is full: nothing is queued, but the notification waits in memory.
  EXPECT_EQ(sender.Queue({escalated}, kT0, tracker.active()), 0u);
  EXPECT_EQ(sender.Backlog().at("hook"), 1);
  EXPECT_NE(Log().find("cannot queue 1 notification(s), retrying at the next evaluation: database or disk "
                       "is full"),
            std::string::npos)
      << Log();
  // Still full at the next evaluation: still one, not a second copy.
  EXPECT_EQ(sender.Queue({}, kT0 + std::chrono::seconds(30), tracker.active()), 0u);
  EXPECT_EQ(sender.Backlog().at("hook"), 1);
  // Space again: queued once, delivered once.
  flaky.refuse.clear();
  EXPECT_EQ(sender.Queue({}, kT0 + std::chrono::seconds(60), tracker.active()), 1u);
  ASSERT_TRUE(RunUntil([&] { return Events(EventKind::kNotificationDelivered).size() == 1; })) << Log();
  EXPECT_EQ(sender.Queue({}, kT0 + std::chrono::seconds(90), tracker.active()), 0u);
  EXPECT_EQ(Events(EventKind::kNotificationQueued).size(), 1u);
  ASSERT_EQ(receiver.requests().size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(receiver.requests()[0].body)["state"], "escalated");
  EXPECT_EQ(sender.Backlog().at("hook"), 0);
}

TEST_F(NotificationSenderTest, AnUnloadableCaFileOrUrlFileKeepsTheQueueAndLogsNoSecret) {
  notify.receivers.clear();
  AddReceiver("tls", "webhook", "https://hooks.example/secret-token");
  notify.receivers.back().ca_file = (dir / "missing.pem").string();  // config load would refuse it
  AddReceiver("file", "slack", "");
  notify.receivers.back().url_file = (dir / "missing").string();
  auto sender = NewSender();
  sender->Queue({Critical("w1", AlertState::kEscalated, kT0)}, kT0, {});
  EXPECT_EQ(sender->Backlog().at("tls"), 1);
  EXPECT_EQ(sender->Backlog().at("file"), 1);
  EXPECT_NE(Log().find("receiver tls: not sending, notifications stay queued: ca_file " + (dir / "missing.pem").string() +
                       ": cannot load"),
            std::string::npos)
      << Log();
  EXPECT_NE(Log().find("receiver file: not sending"), std::string::npos) << Log();
  EXPECT_EQ(Log().find("secret-token"), std::string::npos) << Log();
}

// An Alertmanager cluster: `urls` makes a lane per URL. One that is down holds back only
// itself; it gets what it missed when it is back, also after a restart, and the other is
// not sent anything twice.
TEST_F(NotificationSenderTest, AlertmanagerClusterDeliversToEachUrlOnItsOwn) {
  testing::HttpReceiver am1(io), am2(io);
  am2.Stop();
  notify.receivers.clear();
  ReceiverConfig& am = AddReceiver("am", "alertmanager", "");
  am.urls = {am1.url("/secret-token-one"), am2.url("/secret-token-two")};
  const std::vector<std::string> targets = DeliveryTargets(am);
  ASSERT_EQ(targets, (std::vector<std::string>{"http://127.0.0.1:" + std::to_string(am1.port()) + "/***",
                                               "http://127.0.0.1:" + std::to_string(am2.port()) + "/***"}));
  {
    auto sender = NewSender();
    EXPECT_EQ(sender->Queue({Critical("w1", AlertState::kEscalated, kT0)}, kT0, {}), 1u);
    ASSERT_TRUE(RunUntil([&] { return Events(EventKind::kNotificationDelivered).size() == 1; })) << Log();
    ASSERT_TRUE(RunUntil([&] { return Log().find("attempt 2 failed") != std::string::npos; })) << Log();
    EXPECT_EQ(sender->Backlog().at("am"), 1) << "the URL that is down is behind by one";
  }  // "killed" while am2 is down
  ASSERT_EQ(am1.requests().size(), 1u);
  EXPECT_EQ(am1.requests()[0].target, "/secret-token-one/api/v2/alerts");
  auto first = DecodeOutcome(Events(EventKind::kNotificationDelivered)[0].payload);
  EXPECT_EQ(first->target, targets[0]);
  EXPECT_NE(Log().find("receiver am at " + targets[1] + ": escalated"), std::string::npos) << Log();

  am2.Start();
  auto sender = NewSender();
  EXPECT_EQ(sender->Backlog().at("am"), 1);
  ASSERT_TRUE(RunUntil([&] { return Events(EventKind::kNotificationDelivered).size() == 2; })) << Log();
  ASSERT_EQ(am2.requests().size(), 1u);
  EXPECT_EQ(am2.requests()[0].target, "/secret-token-two/api/v2/alerts");
  EXPECT_EQ(am2.requests()[0].idempotency_key, am1.requests()[0].idempotency_key);
  EXPECT_EQ(DecodeOutcome(Events(EventKind::kNotificationDelivered)[1].payload)->target, targets[1]);
  EXPECT_EQ(sender->Backlog().at("am"), 0);
  // The resolve goes to both, and nothing else is sent again.
  EXPECT_EQ(sender->Queue({Critical("w1", AlertState::kResolved, kT0 + std::chrono::minutes(5))}, kT0, {}), 1u);
  ASSERT_TRUE(RunUntil([&] { return Events(EventKind::kNotificationDelivered).size() == 4; })) << Log();
  EXPECT_EQ(am1.requests().size(), 2u);
  EXPECT_EQ(am2.requests().size(), 2u);
  EXPECT_EQ(Events(EventKind::kNotificationQueued).size(), 2u);
  EXPECT_EQ(Log().find("secret-token"), std::string::npos) << Log();
}

// ---- a real Alertmanager (Debian package prometheus-alertmanager) ----

constexpr const char* kAlertmanager = "/usr/bin/prometheus-alertmanager";

nlohmann::json ActiveAlerts(unsigned short port) {
  auto result = testing::HttpRequest(port, http::verb::get, "/api/v2/alerts");
  if (result.status != 200) return nlohmann::json::array();
  return nlohmann::json::parse(result.body, nullptr, false);
}

TEST_F(NotificationSenderTest, RealAlertmanagerShowsTheAlertAndItsResolve) {
  if (!std::filesystem::exists(kAlertmanager)) {
    GTEST_SKIP() << kAlertmanager << " is missing: apt-get install prometheus-alertmanager (tools/setup.sh installs it)";
  }
  const unsigned short port = FreePort();
  testing::WriteFileBytes(dir / "am.yml", "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n");
  std::filesystem::create_directories(dir / "am-data");
  testing::BackgroundCommand am({kAlertmanager, "--config.file=" + (dir / "am.yml").string(),
                                 "--storage.path=" + (dir / "am-data").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port), "--cluster.listen-address="});
  const auto ready_by = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (testing::HttpRequest(port, http::verb::get, "/-/ready").status != 200) {
    ASSERT_LT(std::chrono::steady_clock::now(), ready_by) << "alertmanager did not become ready: " << am.ErrSoFar();
    io.restart();
    io.run_for(std::chrono::milliseconds(50));  // the wait; nothing else runs on this loop yet
  }
  notify.receivers.clear();
  AddReceiver("am", "alertmanager", "http://127.0.0.1:" + std::to_string(port));
  notify.receivers.back().repeat_interval = std::chrono::hours(1);
  auto sender = NewSender();
  const TimePoint now = clock.Now();
  sender->Queue({Critical("w1", AlertState::kEscalated, now)}, now, {});
  ASSERT_TRUE(RunUntil([&] { return Events(EventKind::kNotificationDelivered).size() == 1; })) << Log();
  nlohmann::json alerts;
  ASSERT_TRUE(RunUntil([&] {
    alerts = ActiveAlerts(port);
    return alerts.is_array() && alerts.size() == 1;
  })) << alerts.dump();
  EXPECT_EQ(alerts[0]["labels"]["alertname"], "ProcessOffline");
  EXPECT_EQ(alerts[0]["labels"]["process"], "w1");
  EXPECT_EQ(alerts[0]["labels"]["severity"], "critical");
  EXPECT_EQ(alerts[0]["annotations"]["summary"], "offline");
  EXPECT_EQ(alerts[0]["status"]["state"], "active");
  // Sent twice (at least once after a restart): Alertmanager keeps one alert.
  sender->Queue({Critical("w1", AlertState::kFiring, now + Duration(1))}, now, {});
  // The resolve: endsAt in the past, so Alertmanager stops listing it as active.
  sender->Queue({Critical("w1", AlertState::kResolved, clock.Now())}, clock.Now(), {});
  ASSERT_TRUE(RunUntil([&] { return Events(EventKind::kNotificationDelivered).size() == 3; })) << Log();
  ASSERT_TRUE(RunUntil([&] {
    alerts = ActiveAlerts(port);
    return alerts.is_array() && alerts.empty();
  })) << alerts.dump();
  am.Signal(SIGTERM);
  am.Wait(10);
}

}  // namespace
}  // namespace offmon::notify
