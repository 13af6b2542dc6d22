// `offmon collect` as a process: it collects on its intervals, stops cleanly on SIGTERM
// with every cycle stored whole, and survives a bad config on SIGHUP.
#include <gtest/gtest.h>

#include <unistd.h>

#include <csignal>
#include <thread>

#include "offmon/store/store.h"
#include "support/offmon_binary.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace offmon {
namespace {

using testing::BackgroundCommand;
using testing::TempDir;
using testing::WriteFileBytes;

class DaemonTest : public ::testing::Test {
 protected:
  void WriteConfig(std::string_view interval) {
    WriteFileBytes(config_, std::string("[system]\ninterval = \"") + std::string(interval) +
                                "\"\n[pm2]\nenabled = false\n[postgres]\nenabled = false\n[http]\nlisten = \"127.0.0.1:0\"\n"
                                "[log]\nfile = \"" +
                                (dir_ / "monitor.log").string() + "\"\n");
  }
  std::unique_ptr<BackgroundCommand> Start() { return offmon_.StartCollect(); }
  // Samples of system_load1 seen by a reader, polled until `want` or a deadline.
  size_t WaitForCycles(size_t want) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    size_t seen = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      seen = Cycles();
      if (seen >= want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling a condition with a deadline
    }
    return seen;
  }
  // Events of one kind, as a reader of the store sees them.
  Result<std::vector<store::Event>> Events(EventKind kind) { return offmon_.Events(kind); }
  size_t Cycles() { return offmon_.Samples("system_load1"); }

  TempDir dir_;
  testing::OffmonBinary offmon_{dir_};
  const std::filesystem::path& config_ = offmon_.config();
  const std::filesystem::path& store_ = offmon_.store();
};

TEST_F(DaemonTest, SigtermStopsAfterWholeCycles) {
  WriteConfig("1s");
  auto daemon = Start();
  ASSERT_GE(WaitForCycles(3), 3u) << daemon->ErrSoFar();
  daemon->Signal(SIGTERM);
  auto result = daemon->Wait(20);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("received SIGTERM"), std::string::npos) << result.err;

  store::StoreOptions options;
  options.path = store_;
  auto store = store::Store::Open(options);
  ASSERT_TRUE(store.has_value());
  EXPECT_TRUE((*store)->Check()->empty());
  // Every system cycle is whole: each series of the collector has the same timestamps.
  std::vector<Sample> reference;
  for (const char* name :
       {"system_load1", "system_load15", "system_memory_available_bytes", R"(collector_up{collector="system"})"}) {
    auto series = (*store)->Select(*store::Selector::Parse(name));
    ASSERT_EQ(series->size(), 1u) << name;
    auto samples = (*store)->ReadRange(series->front().id, TimePoint::min(), TimePoint::max());
    ASSERT_GE(samples->size(), 3u);
    for (const Sample& s : *samples) EXPECT_EQ(ToMillis(s.time) % 1000, 0) << "off the 1 s grid";
    if (reference.empty()) {
      reference = *samples;
    } else {
      ASSERT_EQ(samples->size(), reference.size()) << name;
      for (size_t i = 0; i < reference.size(); ++i) EXPECT_EQ((*samples)[i].time, reference[i].time);
    }
  }
  EXPECT_NE(testing::ReadFileBytes(dir_ / "monitor.log").find("collecting into"), std::string::npos);
}

TEST_F(DaemonTest, SighupWithABadConfigKeepsRunning) {
  WriteConfig("1s");
  auto daemon = Start();
  ASSERT_GE(WaitForCycles(1), 1u) << daemon->ErrSoFar();
  WriteFileBytes(config_, "[system]\ninterval = \"soon\"\n");
  daemon->Signal(SIGHUP);
  const size_t before = Cycles();
  ASSERT_GE(WaitForCycles(before + 2), before + 2) << daemon->ErrSoFar();
  EXPECT_NE(daemon->ErrSoFar().find("SIGHUP: keeping the running config"), std::string::npos) << daemon->ErrSoFar();
  WriteConfig("1s");
  daemon->Signal(SIGHUP);
  const size_t after_reload = Cycles();
  ASSERT_GE(WaitForCycles(after_reload + 1), after_reload + 1);
  EXPECT_NE(daemon->ErrSoFar().find("SIGHUP: reloaded"), std::string::npos);
  daemon->Signal(SIGINT);
  EXPECT_EQ(daemon->Wait(20).exit_code, 0);
}

TEST_F(DaemonTest, OnceStoresOneCycleAndExits) {
  WriteConfig("30s");
  auto result = offmon_.Run({"collect", "--once"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(Cycles(), 1u);
}

TEST_F(DaemonTest, OnceAnalyzesTheCycleAndRecordsTheAlert) {
  // A host never has a petabyte of free memory: SystemMemoryLow must fire on the first
  // evaluation, be logged, and be recorded as an alert transition.
  WriteConfig("30s");
  WriteFileBytes(config_,
                 testing::ReadFileBytes(config_) + "[rules.SystemMemoryLow]\ncritical = \"1024TiB\"\nfor = \"0s\"\n");
  auto result = offmon_.Run({"collect", "--once"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("firing CRITICAL SystemMemoryLow: system memory available"), std::string::npos)
      << result.err;
  auto events = Events(EventKind::kAlertTransition);
  ASSERT_TRUE(events.has_value()) << events.error().ToString();
  ASSERT_EQ(events->size(), 2u);  // firing, and (CRITICAL) escalated at once
  EXPECT_NE((*events)[0].payload.find(R"("state":"firing")"), std::string::npos) << (*events)[0].payload;
  EXPECT_NE((*events)[1].payload.find(R"("state":"escalated")"), std::string::npos) << (*events)[1].payload;
}

TEST_F(DaemonTest, AFiringProcessAlertCapturesItsLogTail) {
  // What the PM2 collector would have recorded: a worker with its log files, reported
  // not online for the last 90 seconds (the daemon's own PM2 collector is off).
  WriteFileBytes(dir_ / "w-out.log", "starting\nlistening on 8080\n");
  WriteFileBytes(dir_ / "w-err.log", "TypeError: cannot read properties of undefined\n");
  {
    store::StoreOptions options;
    options.path = store_;
    auto store = store::Store::Open(options);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    const TimePoint now = std::chrono::floor<std::chrono::seconds>(SystemClock().Now());
    const std::string info = R"({"process":"w","status":"errored","pid":0,"pm_id":0,"out_log":")" +
                             (dir_ / "w-out.log").string() + R"(","err_log":")" + (dir_ / "w-err.log").string() +
                             R"("})";
    ASSERT_TRUE((*store)->AppendEvent(EventKind::kProcessInfo, "test", info, now - std::chrono::seconds(90)));
    auto appender = (*store)->NewAppender("test");
    auto id = appender->Ref(SeriesKey("process_up", {{"process", "w"}}));
    ASSERT_TRUE(id.has_value());
    for (int ago : {90, 60, 30, 0}) appender->Add(*id, now - std::chrono::seconds(ago), 0);
    ASSERT_TRUE(appender->Commit(now).ok());
  }
  WriteConfig("30s");
  auto result = offmon_.Run({"collect", "--once"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find(R"(firing WARNING ProcessOffline{process="w"}: w is errored)"), std::string::npos)
      << result.err;
  auto tails = Events(EventKind::kLogTail);
  ASSERT_TRUE(tails.has_value()) << tails.error().ToString();
  ASSERT_EQ(tails->size(), 2u);  // output and error log
  std::string both = (*tails)[0].payload + (*tails)[1].payload;
  EXPECT_NE(both.find("listening on 8080"), std::string::npos) << both;
  EXPECT_NE(both.find("TypeError: cannot read properties of undefined"), std::string::npos) << both;
}

TEST_F(DaemonTest, MonitorLogGetsTheReportAndGrepableTransitions) {
  // As in OnceAnalyzesTheCycleAndRecordsTheAlert: SystemMemoryLow fires at once.
  WriteConfig("30s");
  WriteFileBytes(config_,
                 testing::ReadFileBytes(config_) + "[rules.SystemMemoryLow]\ncritical = \"1024TiB\"\nfor = \"0s\"\n");
  auto result = offmon_.Run({"collect", "--once"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string log_path = (dir_ / "monitor.log").string();
  const std::string log = testing::ReadFileBytes(log_path);
  // The plain report, every line tagged, after the transition lines of the same analysis.
  const size_t transition = log.find(" critical firing CRITICAL SystemMemoryLow: system memory available");
  const size_t report = log.find(" info report | OFF-CHAIN HEALTH REPORT\n");
  ASSERT_NE(transition, std::string::npos) << log;
  ASSERT_NE(report, std::string::npos) << log;
  EXPECT_LT(transition, report);
  EXPECT_NE(log.find(" info report | Status: CRITICAL\n"), std::string::npos) << log;
  EXPECT_NE(log.find(" info report | CRITICAL SystemMemoryLow  (escalated)\n"), std::string::npos) << log;
  EXPECT_NE(log.find(" info report | SYSTEM RESOURCES\n"), std::string::npos) << log;
  EXPECT_EQ(log.find("\x1b["), std::string::npos) << "no colour in the log";
  // The commands docs/report.md gives, run with grep itself.
  auto grep = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "/bin/grep");  // RunCommand does not search PATH
    args.push_back(log_path);
    return testing::RunCommand(args);
  };
  auto both = grep({"CRITICAL\\|WARNING"});
  EXPECT_NE(both.out.find("firing CRITICAL SystemMemoryLow"), std::string::npos) << both.out;
  EXPECT_NE(both.out.find("report | CRITICAL SystemMemoryLow"), std::string::npos) << both.out;
  EXPECT_EQ(grep({"-c", "firing CRITICAL"}).out, "1\n");
  EXPECT_EQ(grep({"-c", "report | Status: CRITICAL"}).out, "1\n");
  // Transition lines only: firing, and escalated at once (CRITICAL).
  auto transitions = testing::RunCommand({"/bin/sh", "-c", "grep -v ' report | ' \"$0\" | grep -c CRITICAL", log_path});
  EXPECT_EQ(transitions.out, "2\n") << transitions.err;
}

// One daemon per store: a second `collect` (daemon or --once) refuses with one line naming
// the first's pid and exit 16, and a SIGKILLed holder never leaves the store locked.
TEST_F(DaemonTest, ASecondDaemonOnTheStoreRefuses) {
  WriteConfig("1s");
  auto first = Start();
  ASSERT_GE(WaitForCycles(1), 1u) << first->ErrSoFar();
  for (bool once : {false, true}) {
    std::vector<std::string> argv = offmon_.Argv({"collect"});
    if (once) argv.push_back("--once");
    // In the background with a deadline: a second daemon that ran would never exit.
    auto second = BackgroundCommand(argv).Wait(20);
    EXPECT_EQ(second.exit_code, 16) << second.err;
    EXPECT_EQ(second.err, "offmon: " + store_.string() + " is in use by another offmon daemon (pid " +
                              std::to_string(first->pid()) +
                              "); stop it first, or give this one another --store\n");
  }
  // `offmon check` beside the daemon judges on the daemon's cycles instead of running a
  // second collector (which would record every alert transition twice).
  auto check = offmon_.Run({"check"});
  EXPECT_LE(check.exit_code, 2) << check.err;
  EXPECT_NE(check.out.find("offmon check: a daemon is collecting into " + store_.string() + ": judged on its cycles"),
            std::string::npos)
      << check.out << check.err;
  first->Signal(SIGKILL);
  first->Wait(20);
  auto after_kill = Start();
  const size_t before = Cycles();
  EXPECT_GE(WaitForCycles(before + 1), before + 1) << after_kill->ErrSoFar();
  after_kill->Signal(SIGTERM);
  EXPECT_EQ(after_kill->Wait(20).exit_code, 0) << "a SIGKILLed holder left the store locked";
}

// Issue 17: as a user who may read the store but not write its directory, `report` and
// `trend` failed with "attempt to write a readonly database" whenever the daemon was
// stopped. They must work after a clean stop (no -wal/-shm left) and after a SIGKILL
// (both left behind, owned by the daemon's user).
TEST_F(DaemonTest, ReadersWorkForAUserWhoCannotWriteTheStore) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run the readers as nobody";
  WriteConfig("1s");
  std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
  auto as_nobody = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/sbin/runuser", "-u", "nobody", "--", OFFMON_BINARY, "--config", config_.string(),
                               "--store", store_.string()});
    return testing::RunCommand(args);
  };
  auto expect_readers_work = [&](std::string_view when) {
    for (std::vector<std::string> reader : {std::vector<std::string>{"report"}, {"trend", "system_load1", "--csv"}}) {
      auto result = as_nobody(reader);
      EXPECT_EQ(result.exit_code, 0) << when << ", " << reader[0] << ": " << result.err;
      EXPECT_FALSE(result.out.empty()) << when << ", " << reader[0];
    }
  };
  auto daemon = Start();
  ASSERT_GE(WaitForCycles(1), 1u) << daemon->ErrSoFar();
  daemon->Signal(SIGKILL);
  daemon->Wait(20);
  ASSERT_TRUE(std::filesystem::exists(store_.string() + "-wal"));
  expect_readers_work("after a SIGKILL");
  auto once = offmon_.Run({"collect", "--once"});
  ASSERT_EQ(once.exit_code, 0) << once.err;
  ASSERT_FALSE(std::filesystem::exists(store_.string() + "-wal"));
  expect_readers_work("after a clean stop");
  // Nobody cannot write: the writers still say so (exit 13), without touching the file.
  const std::string before = testing::ReadFileBytes(store_);
  auto write = as_nobody({"store", "compact"});
  EXPECT_EQ(write.exit_code, 13) << write.err;
  EXPECT_EQ(testing::ReadFileBytes(store_), before);
}

}  // namespace
}  // namespace offmon
