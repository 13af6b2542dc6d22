// Delivery across crashes, with the real `offmon collect` binary: SIGKILL while a
// receiver holds the request, then a restart, must deliver at least once with the same
// notification id and queue nothing twice; a real Alertmanager restarted (and one that
// hangs mid-request while offmon is killed) keeps one alert and notifies downstream once.
//
// SystemMemoryLow with `critical = "1024TiB"` and `for = "0s"` fires CRITICAL (and is
// escalated at once) on the first evaluation: one notification per receiver, plus the
// repeats of receivers with a repeat_interval. Every wait polls a condition with a
// deadline; every process is stopped by RAII when an assertion fails.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include "offmon/notify/notification.h"
#include "offmon/store/store.h"
#include "support/http_client.h"
#include "support/http_receiver.h"
#include "support/offmon_binary.h"
#include "support/run_command.h"
#include "support/temp_dir.h"
#include "support/threaded_http_receiver.h"

namespace offmon {
namespace {

using testing::BackgroundCommand;
using testing::FreePort;
using testing::ThreadedHttpReceiver;
using testing::WriteFileBytes;
namespace http = boost::beast::http;

constexpr const char* kAlertmanager = "/usr/bin/prometheus-alertmanager";
constexpr auto kDeadline = std::chrono::seconds(30);

// Polls `done` until it holds or the deadline passes; false then.
template <typename Pred>
bool WaitFor(Pred done, std::chrono::seconds deadline = kDeadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // polling a condition with a deadline
  }
  return true;
}

// True when an established IPv4 connection to 127.0.0.1:port has bytes its server has
// not read: a request sent to a server that does not read it (stopped with SIGSTOP).
bool UnreadRequestTo(unsigned short port) {
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string slot, local, remote, state, queues;
    if (!(words >> slot >> local >> remote >> state >> queues)) continue;
    const size_t colon = local.find(':'), queue_colon = queues.find(':');
    if (colon == std::string::npos || queue_colon == std::string::npos || state != "01") continue;
    if (std::stoul(local.substr(colon + 1), nullptr, 16) != port) continue;
    if (std::stoul(queues.substr(queue_colon + 1), nullptr, 16) > 0) return true;
  }
  return false;
}

// A real Alertmanager on a free loopback port, without clustering, keeping its state
// (notification log, silences) in `storage` across Restart(). Routes everything to one
// webhook at `downstream`: at once (group_wait 0s), again only after an hour.
class Alertmanager {
 public:
  Alertmanager(const std::filesystem::path& dir, const std::string& downstream)
      : config_(dir / "am.yml"), storage_(dir / "am-data"), port_(FreePort()) {
    WriteFileBytes(config_, "route:\n  receiver: hook\n  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\n"
                            "receivers:\n  - name: hook\n    webhook_configs:\n      - url: " +
                                downstream + "\n        send_resolved: false\n");
    std::filesystem::create_directories(storage_);
  }

  // Starts it and waits until it is ready; false (with its stderr in `why`) otherwise.
  bool Start(std::string* why) {
    process_ = std::make_unique<BackgroundCommand>(std::vector<std::string>{
        kAlertmanager, "--config.file=" + config_.string(), "--storage.path=" + storage_.string(),
        "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--cluster.listen-address=", "--log.level=debug"});
    if (WaitFor([&] { return testing::HttpRequest(port_, http::verb::get, "/-/ready").status == 200; })) return true;
    *why = process_->ErrSoFar();
    return false;
  }
  // SIGTERM: Alertmanager writes its notification log and silences to the storage path.
  int Stop() {
    process_->Signal(SIGTERM);
    const int exit_code = process_->Wait(20).exit_code;
    process_.reset();
    return exit_code;
  }
  void Signal(int signo) { process_->Signal(signo); }
  std::string Log() const { return process_ ? process_->ErrSoFar() : std::string(); }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  unsigned short port() const { return port_; }

  // The active alerts named `alertname` (never call while the process is stopped).
  nlohmann::json Alerts(std::string_view alertname) const {
    auto result = testing::HttpRequest(port_, http::verb::get, "/api/v2/alerts");
    nlohmann::json out = nlohmann::json::array();
    if (result.status != 200) return out;
    nlohmann::json all = nlohmann::json::parse(result.body, nullptr, false);
    if (!all.is_array()) return out;
    for (const nlohmann::json& a : all) {
      if (a["labels"].value("alertname", "") == alertname) out.push_back(a);
    }
    return out;
  }
  int Post(const std::string& alerts) const {
    return testing::HttpRequest(port_, http::verb::post, "/api/v2/alerts", alerts).status;
  }

 private:
  std::filesystem::path config_, storage_;
  unsigned short port_;
  std::unique_ptr<BackgroundCommand> process_;  // killed by its destructor if still running
};

class DeliveryTest : public ::testing::Test {
 protected:
  // A continuous daemon collecting the system every second, analyzing every second,
  // retrying failed deliveries within half a second, with `receivers` (TOML tables).
  void WriteConfig(const std::string& receivers) {
    WriteFileBytes(config_, "[system]\ninterval = \"1s\"\n[analyzer]\ninterval = \"1s\"\n"
                            "[pm2]\nenabled = false\n[postgres]\nenabled = false\n"
                            "[http]\nlisten = \"127.0.0.1:0\"\n[log]\nfile = \"" +
                                (dir_ / "monitor.log").string() +
                                "\"\n[rules.SystemMemoryLow]\ncritical = \"1024TiB\"\nfor = \"0s\"\n"
                                "[notify]\nretry_initial = \"100ms\"\nretry_max = \"500ms\"\ntimeout = \"5s\"\n" +
                                receivers);
  }
  std::unique_ptr<BackgroundCommand> StartOffmon() { return offmon_.StartCollect(); }
  static void Kill(std::unique_ptr<BackgroundCommand>& offmon) {
    offmon->Signal(SIGKILL);
    EXPECT_EQ(offmon->Wait(20).exit_code, 128 + SIGKILL);
    offmon.reset();
  }
  static void Terminate(std::unique_ptr<BackgroundCommand>& offmon) {
    offmon->Signal(SIGTERM);
    auto result = offmon->Wait(20);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    offmon.reset();
  }

  // Every event of one kind, as a reader of the store sees them (empty before the store exists).
  std::vector<store::Event> Events(EventKind kind) {
    auto events = offmon_.Events(kind);
    return events ? std::move(*events) : std::vector<store::Event>{};
  }
  std::vector<notify::Notification> Queued() {
    std::vector<notify::Notification> out;
    for (const store::Event& e : Events(EventKind::kNotificationQueued)) {
      auto n = notify::DecodeNotification(e.payload, e.seq);
      EXPECT_TRUE(n.has_value()) << e.payload;
      if (n) out.push_back(std::move(*n));
    }
    return out;
  }
  // Outcomes (delivered and failed) per queued_seq.
  std::map<int64_t, std::vector<notify::Outcome>> Outcomes(EventKind kind) {
    std::map<int64_t, std::vector<notify::Outcome>> out;
    for (const store::Event& e : Events(kind)) {
      auto o = notify::DecodeOutcome(e.payload);
      EXPECT_TRUE(o.has_value()) << e.payload;
      if (o) out[o->queued_seq].push_back(std::move(*o));
    }
    return out;
  }
  // Samples of system_load1: collection cycles, one a second.
  size_t Cycles() { return offmon_.Samples("system_load1"); }

  // Alertmanager's downstream notifications (webhook bodies) that are about alertname.
  static std::vector<nlohmann::json> NotificationsAbout(const ThreadedHttpReceiver& downstream,
                                                        std::string_view alertname) {
    std::vector<nlohmann::json> out;
    for (const testing::ReceivedRequest& r : downstream.requests()) {
      nlohmann::json body = nlohmann::json::parse(r.body, nullptr, false);
      if (!body.is_object() || !body["alerts"].is_array()) continue;
      for (const nlohmann::json& a : body["alerts"]) {
        if (a["labels"].value("alertname", "") == alertname) {
          out.push_back(body);
          break;
        }
      }
    }
    return out;
  }
  // A barrier for "Alertmanager notified downstream only once": a second alert, posted
  // directly, makes the group's next flush notify. Flushes of a group are sequential, so
  // a duplicate notification of the offmon alert alone would have come before it.
  static void ExpectOneFiringNotificationBeforeABarrier(const Alertmanager& am, const ThreadedHttpReceiver& downstream) {
    ASSERT_EQ(am.Post(R"([{"labels": {"alertname": "Barrier"}}])"), 200);
    ASSERT_TRUE(WaitFor([&] { return !NotificationsAbout(downstream, "Barrier").empty(); }))
        << downstream.request_count() << " downstream notifications, none with the barrier\n"
        << am.Log();
    size_t alone = 0;
    for (const nlohmann::json& body : NotificationsAbout(downstream, "SystemMemoryLow")) {
      if (body["alerts"].size() == 1) {
        ++alone;
        EXPECT_EQ(body["status"], "firing") << body.dump();
      }
    }
    EXPECT_EQ(alone, 1u) << "Alertmanager notified the offmon alert again\n" << am.Log();
    EXPECT_EQ(NotificationsAbout(downstream, "Barrier").size(), 1u);
  }

  testing::TempDir dir_;
  testing::OffmonBinary offmon_{dir_};
  const std::filesystem::path& config_ = offmon_.config();
  const std::filesystem::path& store_ = offmon_.store();
};

TEST_F(DeliveryTest, SigkillWhileTheReceiverHoldsTheRequestDeliversAfterRestartWithTheSameId) {
  ThreadedHttpReceiver hook;
  hook.Hold(true);
  WriteConfig("[notify.receivers.hook]\ntype = \"webhook\"\nurl = \"" + hook.url("/hook") + "\"\n");
  auto offmon = StartOffmon();
  ASSERT_TRUE(WaitFor([&] { return hook.request_count() >= 1; })) << offmon->ErrSoFar();
  Kill(offmon);  // mid-request: sent, not answered
  ASSERT_EQ(Queued().size(), 1u);
  ASSERT_TRUE(Events(EventKind::kNotificationDelivered).empty());

  hook.Hold(false);  // answers 200 from now on
  offmon = StartOffmon();
  ASSERT_TRUE(WaitFor([&] { return !Events(EventKind::kNotificationDelivered).empty(); })) << offmon->ErrSoFar();
  // A few more evaluations after the restart: none queues the episode again.
  const size_t cycles = Cycles();
  ASSERT_TRUE(WaitFor([&] { return Cycles() >= cycles + 3; })) << offmon->ErrSoFar();
  Terminate(offmon);

  const std::vector<notify::Notification> queued = Queued();
  ASSERT_EQ(queued.size(), 1u) << "the episode was queued twice";
  const notify::Notification& n = queued[0];
  EXPECT_EQ(n.reason, "escalated");
  EXPECT_EQ(n.transition.alert, "SystemMemoryLow");
  auto delivered = Outcomes(EventKind::kNotificationDelivered);
  ASSERT_EQ(delivered.size(), 1u);
  ASSERT_EQ(delivered[n.seq].size(), 1u) << "exactly one outcome for the queued notification";
  EXPECT_EQ(delivered[n.seq][0].id, n.id);
  EXPECT_EQ(delivered[n.seq][0].status, 200);
  EXPECT_TRUE(Events(EventKind::kNotificationFailed).empty());
  // At least once, with a stable key: the held request and the one after the restart.
  const auto requests = hook.requests();
  ASSERT_EQ(requests.size(), 2u);
  for (const testing::ReceivedRequest& r : requests) {
    EXPECT_EQ(r.idempotency_key, n.id);
    nlohmann::json body = nlohmann::json::parse(r.body, nullptr, false);
    EXPECT_EQ(body["id"], n.id) << r.body;
    EXPECT_EQ(body["key"], n.key) << r.body;
    EXPECT_EQ(body["alert"], "SystemMemoryLow") << r.body;
  }
  // `offmon alerts` tells the same story.
  auto alerts = testing::RunCommand({OFFMON_BINARY, "--store", store_.string(), "alerts"});
  ASSERT_EQ(alerts.exit_code, 0) << alerts.err;
  EXPECT_NE(alerts.out.find("\u2192 hook: delivered "), std::string::npos) << alerts.out;
  EXPECT_NE(alerts.out.find("(escalated, 200, 1 attempt)"), std::string::npos) << alerts.out;
  EXPECT_NE(alerts.out.find("notifications: 1 delivered\n"), std::string::npos) << alerts.out;
  EXPECT_EQ(alerts.out.find("NOT DELIVERED"), std::string::npos) << alerts.out;
}

class AlertmanagerDeliveryTest : public DeliveryTest {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kAlertmanager)) {
      GTEST_SKIP() << kAlertmanager << " is missing: apt-get install prometheus-alertmanager (tools/setup.sh installs it)";
    }
    am_ = std::make_unique<Alertmanager>(dir_.path(), downstream_.url("/am"));
    std::string why;
    ASSERT_TRUE(am_->Start(&why)) << "alertmanager did not become ready: " << why;
    // Re-sent every 2 s (keep-alives, and what restores the alert after an Alertmanager restart).
    WriteReceiver("2s");
  }
  // The alert's endsAt is 4 x repeat_interval ahead: Alertmanager resolves it (and would
  // notify a re-sent one as new) when offmon re-sends nothing for that long.
  void WriteReceiver(std::string_view repeat_interval) {
    WriteConfig("[notify.receivers.am]\ntype = \"alertmanager\"\nurl = \"" + am_->url() + "\"\nrepeat_interval = \"" +
                std::string(repeat_interval) + "\"\n");
  }

  // Waits until Alertmanager lists the offmon alert; returns its fingerprint.
  std::string WaitForTheAlert(const BackgroundCommand& offmon) {
    nlohmann::json alerts;
    EXPECT_TRUE(WaitFor([&] {
      alerts = am_->Alerts("SystemMemoryLow");
      return !alerts.empty();
    })) << "Alertmanager does not list the alert\n"
        << offmon.ErrSoFar() << am_->Log();
    EXPECT_EQ(alerts.size(), 1u) << alerts.dump();
    if (alerts.empty()) return "";
    EXPECT_EQ(alerts[0]["labels"]["severity"], "critical");
    EXPECT_EQ(alerts[0]["status"]["state"], "active");
    return alerts[0]["fingerprint"].get<std::string>();
  }

  ThreadedHttpReceiver downstream_;  // Alertmanager's webhook: what it notifies
  std::unique_ptr<Alertmanager> am_;
};

TEST_F(AlertmanagerDeliveryTest, RestartKeepsOneAlertAndNotifiesDownstreamOnce) {
  auto offmon = StartOffmon();
  const std::string fingerprint = WaitForTheAlert(*offmon);
  ASSERT_FALSE(fingerprint.empty());
  ASSERT_TRUE(WaitFor([&] { return !NotificationsAbout(downstream_, "SystemMemoryLow").empty(); }))
      << "Alertmanager did not notify downstream\n"
      << am_->Log();
  // At least one keep-alive delivered before the restart.
  ASSERT_TRUE(WaitFor([&] { return Events(EventKind::kNotificationDelivered).size() >= 2; })) << offmon->ErrSoFar();

  EXPECT_EQ(am_->Stop(), 0);
  std::string why;
  ASSERT_TRUE(am_->Start(&why)) << "alertmanager did not restart: " << why;
  // Alertmanager keeps alerts in memory only: offmon's next re-send brings it back, once.
  EXPECT_EQ(WaitForTheAlert(*offmon), fingerprint);
  ExpectOneFiringNotificationBeforeABarrier(*am_, downstream_);
  EXPECT_EQ(am_->Alerts("SystemMemoryLow").size(), 1u);
  Terminate(offmon);
  EXPECT_TRUE(Events(EventKind::kNotificationFailed).empty());
  for (const auto& [seq, outcomes] : Outcomes(EventKind::kNotificationDelivered)) {
    EXPECT_EQ(outcomes.size(), 1u) << "queued notification " << seq;
  }
}

TEST_F(AlertmanagerDeliveryTest, SigkillWhileAlertmanagerHangsMidRequestDeliversOnceAfterRestart) {
  // endsAt 20 s ahead: room for the hold, the kill and a slow restart under load.
  WriteReceiver("5s");
  auto offmon = StartOffmon();
  const std::string fingerprint = WaitForTheAlert(*offmon);
  ASSERT_FALSE(fingerprint.empty());
  ASSERT_TRUE(WaitFor([&] { return !NotificationsAbout(downstream_, "SystemMemoryLow").empty(); }))
      << "Alertmanager did not notify downstream\n"
      << am_->Log();

  // Alertmanager stopped: the kernel still accepts offmon's next re-send, which waits
  // unread. Then offmon is killed mid-request and Alertmanager continues.
  am_->Signal(SIGSTOP);
  const bool held = WaitFor([&] { return UnreadRequestTo(am_->port()); });
  const std::string offmon_log = offmon->ErrSoFar();
  Kill(offmon);
  am_->Signal(SIGCONT);
  ASSERT_TRUE(held) << "no request reached the stopped Alertmanager\n" << offmon_log;
  std::set<int64_t> before_kill;
  for (const notify::Notification& n : Queued()) before_kill.insert(n.seq);
  const auto delivered_before = Outcomes(EventKind::kNotificationDelivered);
  ASSERT_LT(delivered_before.size(), before_kill.size()) << "the held notification has no outcome";

  offmon = StartOffmon();
  ASSERT_TRUE(WaitFor([&] {
    const auto delivered = Outcomes(EventKind::kNotificationDelivered);
    return std::all_of(before_kill.begin(), before_kill.end(), [&](int64_t seq) { return delivered.contains(seq); });
  })) << "not all delivered after the restart\n"
      << offmon_log << "---- restarted\n"
      << offmon->ErrSoFar() << am_->Log();
  EXPECT_EQ(WaitForTheAlert(*offmon), fingerprint);
  ExpectOneFiringNotificationBeforeABarrier(*am_, downstream_);
  Terminate(offmon);

  // Each notification queued before the kill was delivered exactly once (as recorded),
  // none failed, and none of them was queued again.
  const auto delivered = Outcomes(EventKind::kNotificationDelivered);
  for (int64_t seq : before_kill) EXPECT_EQ(delivered.at(seq).size(), 1u) << "queued notification " << seq;
  EXPECT_TRUE(Events(EventKind::kNotificationFailed).empty());
  std::set<std::string> ids;
  for (const notify::Notification& n : Queued()) EXPECT_TRUE(ids.insert(n.id).second) << "queued twice: " << n.id;
}

// Two real Alertmanagers as one cluster receiver (`urls`): Prometheus' way, every alert
// to each, delivery counted per URL in the outbox.
class AlertmanagerClusterDeliveryTest : public DeliveryTest {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kAlertmanager)) {
      GTEST_SKIP() << kAlertmanager
                   << " is missing: apt-get install prometheus-alertmanager (tools/setup.sh installs it)";
    }
    for (const char* name : {"am1", "am2"}) std::filesystem::create_directories(dir_ / name);
    am1_ = std::make_unique<Alertmanager>(dir_ / "am1", downstream1_.url("/am1"));
    am2_ = std::make_unique<Alertmanager>(dir_ / "am2", downstream2_.url("/am2"));
    WriteConfig("[notify.receivers.am]\ntype = \"alertmanager\"\nurls = [\"" + am1_->url() + "\", \"" + am2_->url() +
                "\"]\n");
  }

  // Whether `am` lists the offmon alert, active and critical.
  static bool Lists(const Alertmanager& am) {
    const nlohmann::json alerts = am.Alerts("SystemMemoryLow");
    return alerts.size() == 1 && alerts[0]["status"]["state"] == "active" &&
           alerts[0]["labels"]["severity"] == "critical";
  }
  // Delivered outcomes per outbox target (the URL as config check shows it).
  std::map<std::string, std::vector<notify::Outcome>> DeliveredByTarget() {
    std::map<std::string, std::vector<notify::Outcome>> out;
    for (auto& [seq, outcomes] : Outcomes(EventKind::kNotificationDelivered)) {
      for (notify::Outcome& o : outcomes) out[o.target].push_back(std::move(o));
    }
    return out;
  }

  ThreadedHttpReceiver downstream1_, downstream2_;  // each Alertmanager's webhook
  std::unique_ptr<Alertmanager> am1_, am2_;
};

TEST_F(AlertmanagerClusterDeliveryTest, OneDownTheOtherGetsItAtOnceAndTheDownOneWhenBackAcrossSigkill) {
  std::string why;
  ASSERT_TRUE(am1_->Start(&why)) << "alertmanager 1 did not become ready: " << why;
  // am2 is down (nothing listens on its port) when the alert fires.
  auto offmon = StartOffmon();
  ASSERT_TRUE(WaitFor([&] { return Lists(*am1_); })) << "Alertmanager 1 does not list the alert\n"
                                                    << offmon->ErrSoFar() << am1_->Log();
  ASSERT_TRUE(WaitFor([&] { return !NotificationsAbout(downstream1_, "SystemMemoryLow").empty(); })) << am1_->Log();
  const std::string target1 = am1_->url(), target2 = am2_->url();
  ASSERT_TRUE(WaitFor([&] { return DeliveredByTarget()[target1].size() == 1; })) << offmon->ErrSoFar();
  EXPECT_FALSE(DeliveredByTarget().contains(target2));

  // Killed while am2 is still down: the outbox remembers that only am1 has it.
  Kill(offmon);
  offmon = StartOffmon();
  ASSERT_TRUE(am2_->Start(&why)) << "alertmanager 2 did not become ready: " << why;
  ASSERT_TRUE(WaitFor([&] { return Lists(*am2_); })) << "Alertmanager 2 does not list the alert after it is back\n"
                                                    << offmon->ErrSoFar() << am2_->Log();
  ASSERT_TRUE(WaitFor([&] { return !NotificationsAbout(downstream2_, "SystemMemoryLow").empty(); })) << am2_->Log();
  ASSERT_TRUE(WaitFor([&] { return DeliveredByTarget()[target2].size() == 1; })) << offmon->ErrSoFar();
  // A few more evaluations: nothing is queued or sent again.
  const size_t cycles = Cycles();
  ASSERT_TRUE(WaitFor([&] { return Cycles() >= cycles + 3; })) << offmon->ErrSoFar();
  ExpectOneFiringNotificationBeforeABarrier(*am1_, downstream1_);
  ExpectOneFiringNotificationBeforeABarrier(*am2_, downstream2_);
  EXPECT_TRUE(Lists(*am1_));
  Terminate(offmon);

  const std::vector<notify::Notification> queued = Queued();
  ASSERT_EQ(queued.size(), 1u) << "the episode was queued twice";
  EXPECT_EQ(queued[0].targets, (std::vector<std::string>{target1, target2}));
  auto delivered = DeliveredByTarget();
  ASSERT_EQ(delivered.size(), 2u);
  for (const std::string& target : {target1, target2}) {
    ASSERT_EQ(delivered[target].size(), 1u) << target;
    EXPECT_EQ(delivered[target][0].queued_seq, queued[0].seq);
    EXPECT_EQ(delivered[target][0].status, 200);
  }
  EXPECT_TRUE(Events(EventKind::kNotificationFailed).empty());
  // `offmon alerts` counts the notification delivered once both have it; config check
  // shows both URLs.
  auto alerts = testing::RunCommand({OFFMON_BINARY, "--store", store_.string(), "alerts"});
  ASSERT_EQ(alerts.exit_code, 0) << alerts.err;
  EXPECT_NE(alerts.out.find("notifications: 1 delivered\n"), std::string::npos) << alerts.out;
  auto check = testing::RunCommand({OFFMON_BINARY, "config", "check", config_.string()});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  EXPECT_NE(check.out.find("notify: am (alertmanager) 2 URLs, each gets every alert: " + target1 + ", " + target2),
            std::string::npos)
      << check.out;
}

}  // namespace
}  // namespace offmon
