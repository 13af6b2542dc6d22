// `offmon alerts` end to end: transitions recorded through the store API at fixed times
// (as the daemon records them), read back with --until so nothing depends on the clock.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "offmon/analyzer/alert.h"
#include "offmon/notify/notification.h"
#include "offmon/store/store.h"
#include "support/run_command.h"
#include "support/temp_dir.h"
#include "support/text.h"

namespace offmon {
namespace {

using analyzer::AlertState;
using analyzer::Severity;
using testing::CommandResult;
using testing::Lines;
using testing::RunCommand;
using testing::TempDir;

constexpr int64_t kAlertsStart = 1793577600;  // 2026-11-02T00:00:00Z
constexpr int64_t kMin = 60, kHour = 3600;
const std::string kUntil = std::to_string(kAlertsStart + 4 * kHour);


class AlertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions options;
    options.path = store_;
    auto opened = store::Store::Open(options);
    ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
    store_handle_ = std::move(*opened);
    // CpuHigh on w1 for 15 minutes (pending first, escalated at once), on w2 for 45;
    // ProcessOffline of w3 from 02:00 and still firing; DiskSpaceLow only pending; an
    // EventRateLow three days earlier, outside the default 24 h.
    Record("CpuHigh", Severity::kCritical, AlertState::kPending, {{"process", "w1"}}, 0, 0);
    Record("CpuHigh", Severity::kCritical, AlertState::kFiring, {{"process", "w1"}}, 5 * kMin, 0);
    Record("CpuHigh", Severity::kCritical, AlertState::kEscalated, {{"process", "w1"}}, 5 * kMin, 0);
    Record("CpuHigh", Severity::kCritical, AlertState::kResolved, {{"process", "w1"}}, 20 * kMin, 0);
    Record("CpuHigh", Severity::kCritical, AlertState::kFiring, {{"process", "w2"}}, kHour, kHour);
    Record("CpuHigh", Severity::kCritical, AlertState::kResolved, {{"process", "w2"}}, kHour + 45 * kMin, kHour);
    Record("ProcessOffline", Severity::kWarning, AlertState::kFiring, {{"process", "w3"}}, 2 * kHour, 2 * kHour - kMin);
    Record("DiskSpaceLow", Severity::kWarning, AlertState::kPending, {{"mount", "/"}}, 3 * kHour, 3 * kHour);
    Record("EventRateLow", Severity::kWarning, AlertState::kFiring, {}, -3 * 24 * kHour, -3 * 24 * kHour);
    Record("EventRateLow", Severity::kWarning, AlertState::kResolved, {}, -3 * 24 * kHour + kHour, -3 * 24 * kHour);
    // After --until: not seen.
    Record("ProcessOffline", Severity::kWarning, AlertState::kResolved, {{"process", "w3"}}, 5 * kHour, 2 * kHour);
    store_handle_.reset();
  }

  void Record(std::string alert, Severity severity, AlertState state, Labels labels, int64_t at, int64_t since) {
    analyzer::Transition t;
    t.at = TimePoint(std::chrono::seconds(kAlertsStart + at));
    t.alert = std::move(alert);
    t.severity = severity;
    t.state = state;
    t.labels = std::move(labels);
    t.summary = t.alert + " summary";
    t.active_since = TimePoint(std::chrono::seconds(kAlertsStart + since));
    auto seq = store_handle_->AppendEvent(EventKind::kAlertTransition, "test", analyzer::EncodeTransition(t), t.at);
    ASSERT_TRUE(seq.has_value()) << seq.error().ToString();
  }

  // A notification of `receiver` about the transition recorded at `at` (or a repeat),
  // queued at `at`, as the daemon's sender queues it, to `targets` (an Alertmanager
  // cluster's URLs; none for a one-URL receiver). Returns it with its seq.
  notify::Notification Queue(std::string receiver, std::string reason, std::string alert, Labels labels, int64_t at,
                             std::vector<std::string> targets = {}) {
    notify::Notification n;
    n.targets = std::move(targets);
    n.receiver = std::move(receiver);
    n.reason = std::move(reason);
    n.transition.at = TimePoint(std::chrono::seconds(kAlertsStart + at));
    n.transition.alert = std::move(alert);
    n.transition.labels = std::move(labels);
    n.transition.state = n.reason == "resolved" ? AlertState::kResolved : AlertState::kFiring;
    n.transition.active_since = n.transition.at;
    n.key = analyzer::Fingerprint(n.transition.alert, n.transition.labels);
    n.id = n.receiver + "-" + n.reason + "-" + std::to_string(at);
    auto seq = store_handle_->AppendEvent(EventKind::kNotificationQueued, "notify", notify::EncodeNotification(n),
                                          n.transition.at);
    EXPECT_TRUE(seq.has_value()) << seq.error().ToString();
    n.seq = seq.has_value() ? *seq : 0;
    return n;
  }
  void Delivered(const notify::Notification& n, int64_t at, int status, int attempts, std::string_view target = {}) {
    auto seq = store_handle_->AppendEvent(EventKind::kNotificationDelivered, "notify",
                                          notify::EncodeDelivered(n, status, attempts, target),
                                          TimePoint(std::chrono::seconds(kAlertsStart + at)));
    EXPECT_TRUE(seq.has_value()) << seq.error().ToString();
  }
  void Failed(const notify::Notification& n, int64_t at, int status, std::string_view reason, int attempts,
              std::string_view target = {}) {
    auto seq = store_handle_->AppendEvent(EventKind::kNotificationFailed, "notify",
                                          notify::EncodeFailed(n, status, reason, attempts, target),
                                          TimePoint(std::chrono::seconds(kAlertsStart + at)));
    EXPECT_TRUE(seq.has_value()) << seq.error().ToString();
  }
  // The outbox of the episodes in SetUp: w1's CPU alert went to oncall (escalated and
  // resolved, delivered) and failed for chat; w2's to oncall; w3's firing reached am but
  // its hourly repeat is still pending, and oncall's notification was delivered only after
  // --until (so pending as of then). A notification after --until is not seen.
  void RecordDeliveries() {
    store::StoreOptions options;
    options.path = store_;
    store_handle_ = std::move(*store::Store::Open(options));
    const Labels w1{{"process", "w1"}}, w2{{"process", "w2"}}, w3{{"process", "w3"}};
    Delivered(Queue("oncall", "escalated", "CpuHigh", w1, 5 * kMin), 5 * kMin + 1, 202, 1);
    Failed(Queue("chat", "escalated", "CpuHigh", w1, 5 * kMin), 5 * kMin + 1, 404, "HTTP 404: no such hook ***", 1);
    Delivered(Queue("oncall", "resolved", "CpuHigh", w1, 20 * kMin), 20 * kMin + 3, 200, 2);
    Delivered(Queue("oncall", "escalated", "CpuHigh", w2, kHour), kHour + 1, 202, 1);
    Delivered(Queue("am", "firing", "ProcessOffline", w3, 2 * kHour), 2 * kHour + 1, 200, 1);
    auto late = Queue("oncall", "escalated", "ProcessOffline", w3, 2 * kHour);
    Queue("am", "repeat", "ProcessOffline", w3, 3 * kHour);
    Delivered(late, 4 * kHour + 10, 202, 40);
    Queue("am", "resolved", "ProcessOffline", w3, 5 * kHour);
    store_handle_.reset();
  }

  CommandResult Alerts(std::vector<std::string> args) {
    args.insert(args.begin(), {OFFMON_BINARY, "--store", store_.string(), "alerts"});
    return RunCommand(args);
  }
  static nlohmann::json Json(const CommandResult& result) {
    return nlohmann::json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  }

  TempDir dir_;
  std::filesystem::path store_ = dir_ / "offmon.db";
  std::unique_ptr<store::Store> store_handle_;
};

TEST_F(AlertsTest, HistoryHasDurationsCountsAndMeanTimeToResolve) {
  auto result = Alerts({"--until", kUntil});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string& out = result.out;
  EXPECT_NE(out.find("ALERT HISTORY 2026-11-01T04:00:00Z to 2026-11-02T04:00:00Z (last 24h)"), std::string::npos)
      << out;
  EXPECT_NE(out.find("2026-11-02T00:05:00Z  2026-11-02T00:20:00Z  15m 0s     CRITICAL  CpuHigh"), std::string::npos)
      << out;
  EXPECT_NE(out.find("2026-11-02T01:00:00Z  2026-11-02T01:45:00Z  45m 0s     CRITICAL  CpuHigh"), std::string::npos)
      << out;
  EXPECT_NE(out.find("2026-11-02T02:00:00Z  still firing          2h 0m      WARNING   ProcessOffline"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("DiskSpaceLow"), std::string::npos) << out;  // never fired
  EXPECT_EQ(out.find("EventRateLow"), std::string::npos) << out;  // before the range
  // Per rule: fired, resolved, still firing, MTTR, longest.
  EXPECT_NE(out.find("CpuHigh                   2         2             0  30m 0s     45m 0s"), std::string::npos)
      << out;
  EXPECT_NE(out.find("ProcessOffline            1         0             1  -          2h 0m"), std::string::npos)
      << out;
  EXPECT_NE(out.find("3 alerts; 1 still firing"), std::string::npos) << out;

  auto week = Alerts({"--until", kUntil, "--since", "7d"});
  ASSERT_EQ(week.exit_code, 0) << week.err;
  EXPECT_NE(week.out.find("EventRateLow"), std::string::npos) << week.out;
  EXPECT_NE(week.out.find("4 alerts; 1 still firing"), std::string::npos) << week.out;

  auto quiet = Alerts({"--until", std::to_string(kAlertsStart - 10 * 24 * kHour)});
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_NE(quiet.out.find("no alert fired in the range"), std::string::npos) << quiet.out;
}

TEST_F(AlertsTest, JsonIsOneDocument) {
  auto result = Alerts({"--until", kUntil, "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json doc = Json(result);
  ASSERT_TRUE(doc.is_object()) << result.out;
  EXPECT_EQ(doc["from"], "2026-11-01T04:00:00.000Z");
  EXPECT_EQ(doc["to"], "2026-11-02T04:00:00.000Z");
  ASSERT_EQ(doc["alerts"].size(), 3u);
  const nlohmann::json& first = doc["alerts"][0];
  EXPECT_EQ(first["alert"], "CpuHigh");
  EXPECT_EQ(first["severity"], "CRITICAL");
  EXPECT_EQ(first["labels"]["process"], "w1");
  EXPECT_EQ(first["fired_at"], "2026-11-02T00:05:00.000Z");
  EXPECT_EQ(first["resolved_at"], "2026-11-02T00:20:00.000Z");
  EXPECT_EQ(first["duration_s"], 900);
  EXPECT_EQ(first["escalated"], true);
  EXPECT_EQ(first["summary"], "CpuHigh summary");
  EXPECT_TRUE(doc["alerts"][2]["resolved_at"].is_null());
  EXPECT_EQ(doc["alerts"][2]["duration_s"], 7200);
  ASSERT_EQ(doc["rules"].size(), 2u);
  EXPECT_EQ(doc["rules"][0]["alert"], "CpuHigh");
  EXPECT_EQ(doc["rules"][0]["fired"], 2);
  EXPECT_EQ(doc["rules"][0]["resolved"], 2);
  EXPECT_EQ(doc["rules"][0]["still_firing"], 0);
  EXPECT_EQ(doc["rules"][0]["mttr_s"], 1800);
  EXPECT_EQ(doc["rules"][0]["longest_s"], 2700);
  EXPECT_EQ(doc["rules"][1]["alert"], "ProcessOffline");
  EXPECT_TRUE(doc["rules"][1]["mttr_s"].is_null());
  // No notifications were queued.
  EXPECT_EQ(first["deliveries"], nlohmann::json::array());
  EXPECT_EQ(doc["notifications"], nlohmann::json({{"delivered", 0}, {"failed", 0}, {"pending", 0}}));
}

TEST_F(AlertsTest, ActiveProjectsTheTransitions) {
  auto result = Alerts({"--until", kUntil, "--active"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string& out = result.out;
  EXPECT_NE(out.find("ACTIVE ALERTS at 2026-11-02T04:00:00Z"), std::string::npos) << out;
  EXPECT_NE(out.find("firing     WARNING   ProcessOffline        process=w3                2026-11-02T02:00:00Z  "
                     "2h 0m      ProcessOffline summary"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("pending    WARNING   DiskSpaceLow          mount=/"), std::string::npos) << out;
  EXPECT_EQ(out.find("CpuHigh"), std::string::npos) << out;  // resolved
  EXPECT_NE(out.find("2 active (1 firing, 1 pending)"), std::string::npos) << out;

  // During w1's CPU alert it is active and escalated.
  auto earlier = Alerts({"--until", std::to_string(kAlertsStart + 10 * kMin), "--active", "--json"});
  ASSERT_EQ(earlier.exit_code, 0) << earlier.err;
  const nlohmann::json doc = Json(earlier);
  ASSERT_EQ(doc["active"].size(), 1u) << earlier.out;
  EXPECT_EQ(doc["active"][0]["alert"], "CpuHigh");
  EXPECT_EQ(doc["active"][0]["state"], "escalated");
  EXPECT_EQ(doc["active"][0]["since"], "2026-11-02T00:05:00.000Z");
  EXPECT_EQ(doc["active"][0]["duration_s"], 300);

  auto json = Json(Alerts({"--until", kUntil, "--active", "--json"}));
  ASSERT_EQ(json["active"].size(), 2u);
  EXPECT_EQ(json["active"][0]["alert"], "ProcessOffline");
  EXPECT_EQ(json["active"][1]["state"], "pending");

  auto none = Alerts({"--until", std::to_string(kAlertsStart - 24 * kHour), "--active"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_NE(none.out.find("no active alerts"), std::string::npos) << none.out;
}

TEST_F(AlertsTest, DeliveryStateUnderEachEpisode) {
  RecordDeliveries();
  auto result = Alerts({"--until", kUntil});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string& out = result.out;
  // What went wrong is visible at the top, before the table.
  const size_t warning = out.find("NOT DELIVERED: 3 notifications (1 failed, 2 pending); see the \u2192 lines\n");
  ASSERT_NE(warning, std::string::npos) << out;
  EXPECT_LT(warning, out.find("FIRED"));
  // w1: oncall's latest delivery (and that both were delivered), chat's failure.
  EXPECT_NE(out.find("CpuHigh               process=w1                CpuHigh summary\n"
                     "  \u2192 oncall: delivered 00:20:03 (resolved, 200, 2 attempts) [2 notifications: 2 delivered]\n"
                     "  \u2192 chat: FAILED 00:05:01 (escalated, 1 attempt): HTTP 404: no such hook ***\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("process=w2                CpuHigh summary\n"
                     "  \u2192 oncall: delivered 01:00:01 (escalated, 202, 1 attempt)\n"),
            std::string::npos)
      << out;
  // w3: am's repeat pending (its firing delivered); oncall's delivery came after --until.
  EXPECT_NE(out.find("ProcessOffline summary\n"
                     "  \u2192 am: pending since 03:00:00 (repeat) [2 notifications: 1 delivered, 1 pending]\n"
                     "  \u2192 oncall: pending since 02:00:00 (escalated)\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("3 alerts; 1 still firing\nnotifications: 4 delivered, 1 failed, 2 pending\n"), std::string::npos)
      << out;

  // Later, oncall's delivery is in; the resolve queued at 05:00 belongs to the episode.
  auto later = Alerts({"--until", std::to_string(kAlertsStart + 6 * kHour)});
  ASSERT_EQ(later.exit_code, 0) << later.err;
  EXPECT_NE(later.out.find("  \u2192 oncall: delivered 04:00:10 (escalated, 202, 40 attempts)\n"), std::string::npos)
      << later.out;
  EXPECT_NE(later.out.find("  \u2192 am: pending since 03:00:00 (repeat) [3 notifications: 1 delivered, 2 pending]\n"),
            std::string::npos)
      << later.out;

  // Nothing pending or failed: no warning at the top.
  auto early = Alerts({"--until", std::to_string(kAlertsStart + 2 * kHour - kMin)});
  ASSERT_EQ(early.exit_code, 0) << early.err;
  EXPECT_NE(early.out.find("NOT DELIVERED: 1 notification (1 failed)"), std::string::npos) << early.out;
  auto quiet = Alerts({"--until", std::to_string(kAlertsStart + 2 * kHour - kMin), "--since", "1h"});
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.out.find("NOT DELIVERED"), std::string::npos) << quiet.out;
  EXPECT_NE(quiet.out.find("notifications: 1 delivered\n"), std::string::npos) << quiet.out;
}

TEST_F(AlertsTest, UndeliveredListsOnlyEpisodesWithFailedOrPendingNotifications) {
  RecordDeliveries();
  auto result = Alerts({"--until", kUntil, "--undelivered"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string& out = result.out;
  EXPECT_NE(out.find("(last 24h, undelivered notifications only)"), std::string::npos) << out;
  EXPECT_NE(out.find("process=w1"), std::string::npos) << out;
  EXPECT_EQ(out.find("process=w2"), std::string::npos) << out;
  EXPECT_NE(out.find("process=w3"), std::string::npos) << out;
  EXPECT_NE(out.find("2 alerts; 1 still firing"), std::string::npos) << out;

  auto none = Alerts({"--until", std::to_string(kAlertsStart + 2 * kHour - kMin), "--since", "1h", "--undelivered"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_NE(none.out.find("no undelivered notification in the range"), std::string::npos) << none.out;
}

TEST_F(AlertsTest, PendingForAReceiverNoLongerConfiguredSaysItStaysQueued) {
  RecordDeliveries();
  testing::WriteFileBytes(dir_ / "offmon.toml",
                          "[notify.receivers.oncall]\ntype = \"webhook\"\nurl = \"http://127.0.0.1:9/hook\"\n");
  auto result = RunCommand({OFFMON_BINARY, "--config", (dir_ / "offmon.toml").string(), "--store", store_.string(),
                            "alerts", "--until", kUntil});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("  \u2192 am: pending since 03:00:00 (repeat), not in the config: stays queued [2 "),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("  \u2192 oncall: pending since 02:00:00 (escalated)\n"), std::string::npos) << result.out;
}

TEST_F(AlertsTest, JsonHasTheDeliveriesOfEachEpisode) {
  RecordDeliveries();
  auto result = Alerts({"--until", kUntil, "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json doc = Json(result);
  ASSERT_TRUE(doc.is_object()) << result.out;
  EXPECT_EQ(doc["notifications"], nlohmann::json({{"delivered", 4}, {"failed", 1}, {"pending", 2}}));
  const nlohmann::json& w1 = doc["alerts"][0]["deliveries"];
  ASSERT_EQ(w1.size(), 3u) << w1.dump();
  EXPECT_EQ(w1[0], nlohmann::json({{"receiver", "oncall"},
                                   {"id", "oncall-escalated-300"},
                                   {"notification", "escalated"},
                                   {"state", "delivered"},
                                   {"queued_at", "2026-11-02T00:05:00.000Z"},
                                   {"at", "2026-11-02T00:05:01.000Z"},
                                   {"status", 202},
                                   {"attempts", 1}}));
  EXPECT_EQ(w1[1]["receiver"], "chat");
  EXPECT_EQ(w1[1]["state"], "failed");
  EXPECT_EQ(w1[1]["status"], 404);
  EXPECT_EQ(w1[1]["error"], "HTTP 404: no such hook ***");
  EXPECT_EQ(w1[2]["notification"], "resolved");
  EXPECT_EQ(doc["alerts"][1]["deliveries"].size(), 1u);
  const nlohmann::json& w3 = doc["alerts"][2]["deliveries"];
  ASSERT_EQ(w3.size(), 3u) << w3.dump();
  EXPECT_EQ(w3[1]["receiver"], "oncall");
  EXPECT_EQ(w3[1]["state"], "pending");
  EXPECT_TRUE(w3[1]["at"].is_null());
  EXPECT_TRUE(w3[1]["status"].is_null());
  EXPECT_EQ(w3[2]["notification"], "repeat");
  EXPECT_EQ(w3[2]["queued_at"], "2026-11-02T03:00:00.000Z");
}

// An Alertmanager cluster (`urls`): a notification is delivered once every URL has it,
// pending before, failed when one URL refused it.
TEST_F(AlertsTest, AClusterNotificationIsDeliveredWhenEveryUrlHasIt) {
  store::StoreOptions options;
  options.path = store_;
  store_handle_ = std::move(*store::Store::Open(options));
  const Labels w2{{"process", "w2"}};
  const std::vector<std::string> urls{"http://am1:9093", "http://am2:9093"};
  auto both = Queue("amc", "escalated", "CpuHigh", w2, kHour, urls);
  Delivered(both, kHour + 1, 200, 1, urls[0]);
  Delivered(both, kHour + 90, 200, 7, urls[1]);
  Delivered(Queue("amc", "repeat", "CpuHigh", w2, kHour + 10 * kMin, urls), kHour + 10 * kMin + 1, 200, 1, urls[1]);
  auto refused = Queue("amc", "resolved", "CpuHigh", w2, kHour + 45 * kMin, urls);
  Delivered(refused, kHour + 45 * kMin + 1, 200, 1, urls[0]);
  Failed(refused, kHour + 45 * kMin + 2, 400, "HTTP 400: bad alert", 1, urls[1]);
  store_handle_.reset();

  auto result = Alerts({"--until", kUntil, "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json doc = Json(result);
  ASSERT_TRUE(doc.is_object()) << result.out;
  const nlohmann::json& d = doc["alerts"][1]["deliveries"];
  ASSERT_EQ(d.size(), 3u) << d.dump();
  EXPECT_EQ(d[0]["state"], "delivered");
  EXPECT_EQ(d[0]["at"], "2026-11-02T01:01:30.000Z") << "the last URL's outcome";
  EXPECT_EQ(d[0]["attempts"], 7);
  EXPECT_EQ(d[1]["state"], "pending") << "am1 has not had it";
  EXPECT_TRUE(d[1]["at"].is_null());
  EXPECT_EQ(d[2]["state"], "failed");
  EXPECT_EQ(d[2]["error"], "HTTP 400: bad alert");
  EXPECT_EQ(doc["notifications"], nlohmann::json({{"delivered", 1}, {"failed", 1}, {"pending", 1}}));
}

TEST_F(AlertsTest, IsListedWithHelp) {
  auto help = RunCommand({OFFMON_BINARY, "--help"});
  EXPECT_NE(help.out.find("alerts"), std::string::npos) << help.out;
  auto sub = RunCommand({OFFMON_BINARY, "alerts", "--help"});
  EXPECT_EQ(sub.exit_code, 0);
  EXPECT_NE(sub.out.find("--active"), std::string::npos) << sub.out;
}

TEST_F(AlertsTest, BadInputIsOneLineAndNonZero) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--since", "a day"}, {"--since", "0s"}, {"--until", "yesterday"}}) {
    auto result = Alerts(args);
    EXPECT_EQ(result.exit_code, 14) << args[1] << ": " << result.err;
    EXPECT_EQ(Lines(result.err), 1u) << result.err;
    EXPECT_NE(result.err.find("alerts: " + args[0]), std::string::npos) << result.err;
  }
  auto missing = RunCommand({OFFMON_BINARY, "--store", (dir_ / "none.db").string(), "alerts"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(Lines(missing.err), 1u) << missing.err;
}

}  // namespace
}  // namespace offmon
