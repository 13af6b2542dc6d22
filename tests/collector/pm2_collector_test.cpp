// Pm2Collector (method "jlist"; "rpc" is pm2_rpc_test.cpp) against stand-ins for pm2:
// tests/testdata/pm2/fake_pm2.sh prints a
// captured `pm2 jlist` (or garbage, or fails) and fake_pm2_hang.sh hangs, both run by the
// real ProcessCommandRunner; PM2_HOME is a temp dir whose rpc.sock is a listening socket
// made here. The real-PM2 test is pm2_integration_test.cpp.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "offmon/collector/command_runner.h"
#include "offmon/collector/pm2_collector.h"
#include "support/recording_sink.h"
#include "support/temp_dir.h"

namespace offmon::collector {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Optional;
using ::testing::Pair;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const fs::path kPm2Testdata = fs::path(OFFMON_TESTDATA_DIR) / "pm2";
// The cycle time of most tests: 1795826700000 ms, shortly after the fixture's capture.
const TimePoint kNow = FromMillis(1'795'826'700'000);

// A unix socket at `path`, listening (a live daemon) or bound and closed (the file a
// daemon killed with SIGKILL leaves behind).
class UnixSocket {
 public:
  UnixSocket(const fs::path& path, bool listening) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    ok_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
          (!listening || listen(fd_, 16) == 0);
    if (!listening && fd_ >= 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~UnixSocket() {
    if (fd_ >= 0) close(fd_);
  }
  UnixSocket(const UnixSocket&) = delete;
  UnixSocket& operator=(const UnixSocket&) = delete;
  bool ok() const { return ok_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

class Pm2CollectorTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(daemon_.ok()) << "cannot create " << (home_ / "rpc.sock"); }

  Pm2Config Config(std::vector<std::string> processes = {}) {
    Pm2Config config;
    config.method = Pm2Method::kJlist;  // method "rpc": pm2_rpc_test.cpp
    config.binary = (kPm2Testdata / "fake_pm2.sh").string();
    config.home = home_.path().string();
    config.processes = std::move(processes);
    config.timeout = 10s;
    return config;
  }
  void PrintFixture(const std::string& name) {
    testing::WriteFileBytes(home_ / "jlist.out", testing::ReadFileBytes(kPm2Testdata / name));
  }
  void Print(const std::string& text) { testing::WriteFileBytes(home_ / "jlist.out", text); }
  std::optional<double> Last(const std::string& series) const { return sink_.Last(series); }
  // kProcessInfo payloads, parsed.
  std::vector<nlohmann::json> InfoEvents() const {
    std::vector<nlohmann::json> events;
    for (const auto& [kind, payload] : sink_.events) {
      if (kind == EventKind::kProcessInfo) events.push_back(nlohmann::json::parse(payload));
    }
    return events;
  }
  size_t Pm2Calls() const { return fs::exists(home_ / "calls") ? testing::ReadFileBytes(home_ / "calls").size() : 0; }

  testing::TempDir home_;
  UnixSocket daemon_{home_ / "rpc.sock", /*listening=*/true};
  ProcessCommandRunner runner_;
  testing::RecordingSink sink_;
};

TEST_F(Pm2CollectorTest, RecordsEveryListedProcessWhenNoneAreConfigured) {
  PrintFixture("jlist_real.json");
  Pm2Collector collector(Config(), runner_);
  collector.Collect(kNow, sink_);
  ASSERT_THAT(sink_.failures, IsEmpty());

  EXPECT_THAT(Last("process_up{process=\"steady\"}"), Optional(1.0));
  EXPECT_THAT(Last("process_restarts_total{process=\"steady\"}"), Optional(0.0));
  EXPECT_THAT(Last("process_uptime_seconds{process=\"steady\"}"),
              Optional((1'795'826'700'000 - 1'795'826'566'455) / 1000.0));
  EXPECT_THAT(Last("process_memory_bytes{process=\"steady\"}"), Optional(53796864.0));
  EXPECT_THAT(Last("process_cpu_percent{process=\"steady\"}"), Optional(0.6));

  EXPECT_THAT(Last("process_restarts_total{process=\"crash\"}"), Optional(41.0));
  EXPECT_THAT(Last("process_unstable_restarts_total{process=\"crash\"}"), Optional(17.0));
  EXPECT_THAT(Last("process_memory_bytes{process=\"leaky\"}"), Optional(255148032.0));
  EXPECT_THAT(Last("process_cpu_percent{process=\"burner\"}"), Optional(36.2));

  // Stopped: down, no uptime, and pm2's zero memory recorded as such.
  EXPECT_THAT(Last("process_up{process=\"doomed\"}"), Optional(0.0));
  EXPECT_THAT(Last("process_uptime_seconds{process=\"doomed\"}"), Optional(0.0));
  EXPECT_THAT(Last("process_restarts_total{process=\"doomed\"}"), Optional(25.0));

  // Two instances named "cluster": one series each, told apart by pm_id.
  EXPECT_THAT(Last("process_up{pm_id=\"5\",process=\"cluster\"}"), Optional(1.0));
  EXPECT_THAT(Last("process_memory_bytes{pm_id=\"6\",process=\"cluster\"}"), Optional(55697408.0));
  EXPECT_EQ(Last("process_up{process=\"cluster\"}"), std::nullopt);
  EXPECT_EQ(Last("process_up{pm_id=\"0\",process=\"steady\"}"), std::nullopt);

  // First sight of each instance is an event; the payload is exactly this.
  auto events = InfoEvents();
  ASSERT_EQ(events.size(), 7u);
  EXPECT_EQ(events[0], nlohmann::json::parse(R"({"process": "steady", "status": "online", "pid": 20234,
      "pm_id": 0, "out_log": "/home/twzrd/.pm2/logs/steady-out.log",
      "err_log": "/home/twzrd/.pm2/logs/steady-error.log"})"));
  EXPECT_EQ(events[4]["status"], "stopped");
  EXPECT_EQ(events[4]["pid"], 0);
}

TEST_F(Pm2CollectorTest, NeverCopiesTheEnvironment) {
  // The fixture's pm2_env holds DATABASE_URL with a password, as real ones do.
  PrintFixture("jlist_real.json");
  Pm2Collector collector(Config({"steady", "missing"}), runner_);
  collector.Collect(kNow, sink_);
  Print("[PM2] x\n" + testing::ReadFileBytes(kPm2Testdata / "jlist_truncated.json"));
  collector.Collect(kNow + 30s, sink_);
  Print(testing::ReadFileBytes(kPm2Testdata / "jlist_real.json").substr(0, 700));
  collector.Collect(kNow + 60s, sink_);

  std::string everything;
  for (const auto& [series, samples] : sink_.samples) everything += series + "\n";
  for (const auto& [kind, payload] : sink_.events) everything += payload + "\n";
  for (const auto& [collector_name, reason] : sink_.failures) everything += reason + "\n";
  EXPECT_THAT(everything, Not(HasSubstr("SECRET")));
  EXPECT_THAT(everything, Not(HasSubstr("DATABASE_URL")));
  EXPECT_THAT(everything, Not(HasSubstr("NODE_ENV")));
  EXPECT_EQ(sink_.failures.size(), 2u);
}

TEST_F(Pm2CollectorTest, WatchedProcessMissingFromTheListIsOffline) {
  PrintFixture("jlist_real.json");
  Pm2Collector collector(Config({"steady", "cls-worker-1"}), runner_);
  collector.Collect(kNow, sink_);
  ASSERT_THAT(sink_.failures, IsEmpty());

  EXPECT_THAT(Last("process_up{process=\"steady\"}"), Optional(1.0));
  EXPECT_THAT(Last("process_up{process=\"cls-worker-1\"}"), Optional(0.0));
  EXPECT_THAT(Last("process_uptime_seconds{process=\"cls-worker-1\"}"), Optional(0.0));
  // Unwatched processes are not recorded.
  EXPECT_EQ(Last("process_up{process=\"crash\"}"), std::nullopt);
  for (const auto& [series, samples] : sink_.samples) {
    EXPECT_TRUE(series.find("steady") != std::string::npos || series.find("cls-worker-1") != std::string::npos)
        << series;
  }

  auto events = InfoEvents();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1], nlohmann::json::parse(R"({"process": "cls-worker-1", "status": "offline", "pid": 0,
      "pm_id": null, "out_log": "", "err_log": ""})"));
}

TEST_F(Pm2CollectorTest, EventsOnlyWhenStatusPidOrLogsChange) {
  PrintFixture("jlist_real.json");
  Pm2Collector collector(Config({"steady", "crash"}), runner_);
  collector.Collect(kNow, sink_);
  collector.Collect(kNow + 30s, sink_);
  ASSERT_EQ(InfoEvents().size(), 2u);  // the second cycle saw nothing new

  // steady stops; crash restarts under a new pid.
  auto list = nlohmann::json::parse(testing::ReadFileBytes(kPm2Testdata / "jlist_real.json"));
  list[0]["pm2_env"]["status"] = "stopped";
  list[0]["pid"] = 0;
  list[1]["pid"] = 31337;
  list[1]["pm2_env"]["restart_time"] = 42;
  Print(list.dump());
  collector.Collect(kNow + 60s, sink_);
  ASSERT_THAT(sink_.failures, IsEmpty());

  auto events = InfoEvents();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2]["process"], "steady");
  EXPECT_EQ(events[2]["status"], "stopped");
  EXPECT_EQ(events[3]["process"], "crash");
  EXPECT_EQ(events[3]["pid"], 31337);
  EXPECT_THAT(Last("process_up{process=\"steady\"}"), Optional(0.0));
  EXPECT_THAT(Last("process_uptime_seconds{process=\"steady\"}"), Optional(0.0));
  EXPECT_THAT(Last("process_restarts_total{process=\"crash\"}"), Optional(42.0));
}

TEST_F(Pm2CollectorTest, VanishedProcessIsOfflineAndKeepsItsLogPaths) {
  PrintFixture("jlist_real.json");
  Pm2Collector collector(Config(), runner_);
  collector.Collect(kNow, sink_);
  PrintFixture("jlist_empty.json");  // e.g. the daemon restarted without its dump
  collector.Collect(kNow + 30s, sink_);
  ASSERT_THAT(sink_.failures, IsEmpty());

  EXPECT_THAT(Last("process_up{process=\"steady\"}"), Optional(0.0));
  EXPECT_THAT(Last("process_up{process=\"cluster\"}"), Optional(0.0));
  auto events = InfoEvents();
  ASSERT_EQ(events.size(), 7u + 6u);  // one "offline" per name
  EXPECT_EQ(events[7 + 5], nlohmann::json::parse(R"({"process": "steady", "status": "offline", "pid": 0,
      "pm_id": null, "out_log": "/home/twzrd/.pm2/logs/steady-out.log",
      "err_log": "/home/twzrd/.pm2/logs/steady-error.log"})"));
}

TEST_F(Pm2CollectorTest, DaemonGoneMarksEveryProcessSeenBeforeDown) {
  PrintFixture("jlist_real.json");
  Pm2Collector collector(Config(), runner_);
  collector.Collect(kNow, sink_);
  ASSERT_THAT(sink_.failures, IsEmpty());
  ASSERT_THAT(Last("process_up{process=\"steady\"}"), Optional(1.0));
  const size_t calls = Pm2Calls();

  fs::remove(home_ / "rpc.sock");  // `pm2 kill` removes it
  collector.Collect(kNow + 30s, sink_);
  EXPECT_THAT(sink_.failures, ::testing::ElementsAre(Pair(
                                  "pm2", "PM2 daemon not running (no " + (home_ / "rpc.sock").string() + ")")));
  EXPECT_EQ(Pm2Calls(), calls) << "pm2 was run, and would have spawned a daemon";
  for (const char* name : {"steady", "crash", "leaky", "burner", "doomed", "cluster"}) {
    SCOPED_TRACE(name);
    const std::string labels = std::string("{process=\"") + name + "\"}";
    EXPECT_EQ(sink_.samples["process_up" + labels].back(), (Sample{kNow + 30s, 0}));
    EXPECT_EQ(sink_.samples["process_uptime_seconds" + labels].back(), (Sample{kNow + 30s, 0}));
  }
  // Down is all that is known: no restart count, memory or CPU for this cycle.
  EXPECT_EQ(sink_.samples["process_restarts_total{process=\"steady\"}"].size(), 1u);
  EXPECT_EQ(sink_.samples["process_memory_bytes{process=\"steady\"}"].size(), 1u);
  // One "offline" event per name, keeping the log paths, and only on the change.
  auto events = InfoEvents();
  ASSERT_EQ(events.size(), 7u + 6u);
  EXPECT_EQ(events[7 + 5], nlohmann::json::parse(R"({"process": "steady", "status": "offline", "pid": 0,
      "pm_id": null, "out_log": "/home/twzrd/.pm2/logs/steady-out.log",
      "err_log": "/home/twzrd/.pm2/logs/steady-error.log"})"));
  collector.Collect(kNow + 60s, sink_);
  EXPECT_EQ(InfoEvents().size(), 7u + 6u);
  EXPECT_EQ(sink_.samples["process_up{process=\"steady\"}"].size(), 3u);
}

TEST_F(Pm2CollectorTest, UnknownStateAfterAFailureRecordsNothing) {
  PrintFixture("jlist_real.json");
  Pm2Collector collector(Config(), runner_);
  collector.Collect(kNow, sink_);
  ASSERT_THAT(sink_.failures, IsEmpty());
  const size_t samples = sink_.samples["process_up{process=\"steady\"}"].size();

  // The daemon is there, but its answer says nothing about the processes.
  PrintFixture("jlist_garbage.txt");
  collector.Collect(kNow + 30s, sink_);
  testing::WriteFileBytes(home_ / "exit_code", "1");
  collector.Collect(kNow + 60s, sink_);
  EXPECT_EQ(sink_.failures.size(), 2u);
  EXPECT_EQ(sink_.samples["process_up{process=\"steady\"}"].size(), samples);
  EXPECT_EQ(InfoEvents().size(), 7u);
}

TEST_F(Pm2CollectorTest, BannerBeforeTheArrayIsIgnored) {
  PrintFixture("jlist_banner.txt");
  Pm2Collector collector(Config(), runner_);
  collector.Collect(kNow, sink_);
  EXPECT_THAT(sink_.failures, IsEmpty());
  EXPECT_THAT(Last("process_up{process=\"crash\"}"), Optional(1.0));
}

TEST_F(Pm2CollectorTest, StoppedProcessWithoutMonitRecordsNoMemory) {
  PrintFixture("jlist_stopped_no_monit.json");
  Pm2Collector collector(Config(), runner_);
  collector.Collect(kNow, sink_);
  EXPECT_THAT(sink_.failures, IsEmpty());
  EXPECT_THAT(Last("process_up{process=\"tree-builder-worker\"}"), Optional(0.0));
  EXPECT_THAT(Last("process_restarts_total{process=\"tree-builder-worker\"}"), Optional(7.0));
  EXPECT_EQ(Last("process_memory_bytes{process=\"tree-builder-worker\"}"), std::nullopt);
  EXPECT_EQ(Last("process_cpu_percent{process=\"tree-builder-worker\"}"), std::nullopt);
}

TEST_F(Pm2CollectorTest, NamelessEntriesAreReportedAndTheRestRecorded) {
  PrintFixture("jlist_mistyped.json");
  Pm2Collector collector(Config(), runner_);
  collector.Collect(kNow, sink_);
  EXPECT_THAT(sink_.failures, ::testing::ElementsAre(Pair("pm2", "pm2: 2 entries without a name skipped")));
  EXPECT_THAT(Last("process_up{process=\"twzrd-aggregator\"}"), Optional(1.0));
  EXPECT_THAT(Last("process_up{process=\"cls-worker-1\"}"), Optional(0.0));  // status unknown
}

TEST_F(Pm2CollectorTest, GarbageOutputIsAFailure) {
  PrintFixture("jlist_garbage.txt");
  Pm2Collector collector(Config(), runner_);
  collector.Collect(kNow, sink_);
  EXPECT_THAT(sink_.failures,
              ::testing::ElementsAre(Pair("pm2", "pm2 jlist: output is not a JSON array (first bytes: Usage: pm2 "
                                                 "[cmd] app\\n\\nOptions:\\n  -V, --version   print pm...)")));
  EXPECT_THAT(sink_.samples, IsEmpty());
}

TEST_F(Pm2CollectorTest, LongGarbageIsNotDumpedIntoTheReason) {
  Print(std::string(100000, 'x'));
  Pm2Collector collector(Config(), runner_);
  collector.Collect(kNow, sink_);
  ASSERT_EQ(sink_.failures.size(), 1u);
  EXPECT_LT(sink_.failures[0].second.size(), 160u);
}

TEST_F(Pm2CollectorTest, NonZeroExitIsAFailureWithPm2sFirstLine) {
  testing::WriteFileBytes(home_ / "jlist.err",
                          "\x1b[31m[PM2][ERROR]\x1b[39m Daemon not reachable\nat Client.js:12\n");
  testing::WriteFileBytes(home_ / "exit_code", "1");
  Pm2Collector collector(Config(), runner_);
  collector.Collect(kNow, sink_);
  EXPECT_THAT(sink_.failures,
              ::testing::ElementsAre(Pair("pm2", "pm2 jlist exited with code 1: [PM2][ERROR] Daemon not reachable")));
  EXPECT_THAT(sink_.samples, IsEmpty());
}

TEST_F(Pm2CollectorTest, HangingPm2IsKilledAtTheTimeout) {
  std::filesystem::create_symlink(kPm2Testdata / "fake_pm2_hang.sh", home_ / "pm2");
  Pm2Config config = Config();
  config.binary = (home_ / "pm2").string();
  config.timeout = 300ms;
  Pm2Collector collector(config, runner_);
  const auto started = std::chrono::steady_clock::now();
  collector.Collect(kNow, sink_);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);  // the fake sleeps 60 s
  EXPECT_THAT(sink_.failures, ::testing::ElementsAre(Pair("pm2", "pm2 jlist timed out after 300ms")));
}

TEST_F(Pm2CollectorTest, Pm2NotInstalledIsAFailure) {
  // Default binary "pm2", looked up in a PATH that holds no pm2.
  testing::TempDir empty_path;
  const std::string saved = std::getenv("PATH") ? std::getenv("PATH") : "";
  setenv("PATH", empty_path.path().c_str(), 1);
  Pm2Config config = Config();
  config.binary = "pm2";
  Pm2Collector collector(config, runner_);
  collector.Collect(kNow, sink_);
  setenv("PATH", saved.c_str(), 1);
  EXPECT_THAT(sink_.failures, ::testing::ElementsAre(Pair("pm2", "pm2 not found in PATH")));
}

TEST(Pm2CollectorDaemonTest, NoRpcSocketMeansTheDaemonIsNotRunningAndPm2IsNotRun) {
  testing::TempDir home;
  Pm2Config config;
  config.binary = (kPm2Testdata / "fake_pm2.sh").string();
  config.home = home.path().string();
  ProcessCommandRunner runner;
  testing::RecordingSink sink;
  Pm2Collector collector(config, runner);
  collector.Collect(kNow, sink);
  EXPECT_THAT(sink.failures, ::testing::ElementsAre(Pair(
                                 "pm2", "PM2 daemon not running (no " + (home / "rpc.sock").string() + ")")));
  EXPECT_FALSE(fs::exists(home / "calls")) << "pm2 was run, and would have spawned a daemon";
  EXPECT_THAT(sink.samples, IsEmpty());
}

TEST(Pm2CollectorDaemonTest, StaleSocketMeansTheDaemonIsNotRunning) {
  testing::TempDir home;
  UnixSocket stale(home / "rpc.sock", /*listening=*/false);
  ASSERT_TRUE(stale.ok());
  ASSERT_TRUE(fs::is_socket(home / "rpc.sock"));
  Pm2Config config;
  config.binary = (kPm2Testdata / "fake_pm2.sh").string();
  config.home = home.path().string();
  ProcessCommandRunner runner;
  testing::RecordingSink sink;
  Pm2Collector collector(config, runner);
  collector.Collect(kNow, sink);
  EXPECT_THAT(sink.failures,
              ::testing::ElementsAre(Pair("pm2", "PM2 daemon not running (stale " + (home / "rpc.sock").string() +
                                                     ": connection refused)")));
  EXPECT_FALSE(fs::exists(home / "calls"));
}

TEST(Pm2CollectorDaemonTest, DaemonNotRunningMarksTheConfiguredProcessesDown) {
  testing::TempDir home;
  UnixSocket stale(home / "rpc.sock", /*listening=*/false);  // left by a daemon killed with SIGKILL
  ASSERT_TRUE(stale.ok());
  Pm2Config config;
  config.binary = (kPm2Testdata / "fake_pm2.sh").string();
  config.home = home.path().string();
  config.processes = {"tree-builder-worker", "cls-worker-1"};
  ProcessCommandRunner runner;
  testing::RecordingSink sink;
  Pm2Collector collector(config, runner);
  collector.Collect(kNow, sink);
  ASSERT_EQ(sink.failures.size(), 1u);
  EXPECT_THAT(sink.failures[0].second, HasSubstr("PM2 daemon not running (stale"));
  EXPECT_FALSE(fs::exists(home / "calls"));
  using Samples = std::vector<Sample>;
  EXPECT_THAT(sink.samples, ::testing::UnorderedElementsAre(
                                Pair("process_up{process=\"cls-worker-1\"}", Samples{{kNow, 0}}),
                                Pair("process_up{process=\"tree-builder-worker\"}", Samples{{kNow, 0}}),
                                Pair("process_uptime_seconds{process=\"cls-worker-1\"}", Samples{{kNow, 0}}),
                                Pair("process_uptime_seconds{process=\"tree-builder-worker\"}", Samples{{kNow, 0}})));
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(sink.events[0].second)["status"], "offline");
}

// A runner that records what it was asked and answers from a script.
class ScriptedRunner final : public CommandRunner {
 public:
  Result<CommandOutput> Run(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                            Duration timeout) override {
    argv_ = argv;
    env_ = env;
    timeout_ = timeout;
    if (throw_) throw std::runtime_error("boom");
    CommandOutput out;
    out.exit_code = 0;
    out.out = "[]";
    return out;
  }
  std::vector<std::string> argv_, env_;
  Duration timeout_{0};
  bool throw_ = false;
};

TEST_F(Pm2CollectorTest, RunsPm2JlistWithPm2HomeAndTheConfiguredTimeout) {
  ScriptedRunner runner;
  Pm2Config config = Config();
  config.binary = "/opt/node/bin/pm2";
  config.timeout = 7s;
  Pm2Collector collector(config, runner);
  collector.Collect(kNow, sink_);
  EXPECT_THAT(runner.argv_, ::testing::ElementsAre("/opt/node/bin/pm2", "jlist"));
  EXPECT_THAT(runner.env_, ::testing::ElementsAre("PM2_HOME=" + home_.path().string()));
  EXPECT_EQ(runner.timeout_, 7s);
  EXPECT_THAT(sink_.failures, IsEmpty());
}

TEST_F(Pm2CollectorTest, Pm2HomeComesFromTheEnvironmentWhenNotConfigured) {
  ScriptedRunner runner;
  Pm2Config config = Config();
  config.home.clear();
  setenv("PM2_HOME", home_.path().c_str(), 1);
  Pm2Collector collector(config, runner);
  unsetenv("PM2_HOME");
  EXPECT_EQ(collector.pm2_home(), home_.path());
  collector.Collect(kNow, sink_);
  EXPECT_THAT(runner.env_, ::testing::ElementsAre("PM2_HOME=" + home_.path().string()));

  const std::string saved_home = std::getenv("HOME") ? std::getenv("HOME") : "";
  setenv("HOME", "/home/twzrd", 1);
  Pm2Collector fallback(config, runner);
  setenv("HOME", saved_home.c_str(), 1);
  EXPECT_EQ(fallback.pm2_home(), fs::path("/home/twzrd/.pm2"));
}

TEST_F(Pm2CollectorTest, AnExceptionNeverEscapes) {
  ScriptedRunner runner;
  runner.throw_ = true;
  Pm2Collector collector(Config(), runner);
  collector.Collect(kNow, sink_);
  EXPECT_THAT(sink_.failures, ::testing::ElementsAre(Pair("pm2", "internal error: boom")));
}

}  // namespace
}  // namespace offmon::collector
