// ProcessCommandRunner with real child processes: exit codes, signals, captured streams,
// environment, PATH failures, the timeout killing a whole process group, the output cap,
// and no descriptors or zombies left behind. Shell snippets here are test programs; the
// runner itself never uses a shell.
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "offmon/collector/command_runner.h"
#include "support/temp_dir.h"

namespace offmon::collector {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

const std::filesystem::path kTestdata = std::filesystem::path(OFFMON_TESTDATA_DIR) / "pm2";

int OpenDescriptors() {
  int count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++count;
  return count;
}

// Gone: no such process, or a zombie waiting for init (it runs no more).
bool ProcessGone(pid_t pid) {
  if (kill(pid, 0) != 0) return errno == ESRCH;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

// SIGKILL is delivered asynchronously: wait (bounded) until `pid` has gone.
bool EventuallyGone(pid_t pid) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ProcessGone(pid)) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

class CommandRunnerTest : public ::testing::Test {
 protected:
  ProcessCommandRunner runner_;
};

TEST_F(CommandRunnerTest, CapturesStdoutStderrAndExitCode) {
  auto r = runner_.Run({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, {}, 10s);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->signal, 0);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_FALSE(r->succeeded());
  EXPECT_LT(r->duration, 10s);
}

TEST_F(CommandRunnerTest, SuccessIsExitCodeZero) {
  auto r = runner_.Run({"true"}, {}, 10s);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE(r->succeeded());
  EXPECT_EQ(r->out, "");
}

TEST_F(CommandRunnerTest, ReportsTheTerminatingSignal) {
  auto r = runner_.Run({"/bin/sh", "-c", "kill -TERM $$"}, {}, 10s);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->signal, SIGTERM);
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_FALSE(r->succeeded());
}

TEST_F(CommandRunnerTest, CapturesLargeOutputOnBothStreams) {
  // More than a pipe buffer on each stream at once: both must be drained concurrently.
  auto r = runner_.Run({"/bin/sh", "-c", "head -c 300000 /dev/zero | tr '\\0' a; head -c 200000 /dev/zero >&2"},
                       {}, 30s);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->out, std::string(300000, 'a'));
  EXPECT_EQ(r->err.size(), 200000u);
}

TEST_F(CommandRunnerTest, AddsAndReplacesEnvironmentEntries) {
  ASSERT_EQ(setenv("OFFMON_RUNNER_TEST_OLD", "old", 1), 0);
  auto r = runner_.Run({"/bin/sh", "-c", "echo \"$OFFMON_RUNNER_TEST_NEW $OFFMON_RUNNER_TEST_OLD $HOME\""},
                       {"OFFMON_RUNNER_TEST_NEW=added", "OFFMON_RUNNER_TEST_OLD=replaced"}, 10s);
  unsetenv("OFFMON_RUNNER_TEST_OLD");
  ASSERT_TRUE(r) << r.error().ToString();
  const char* home = std::getenv("HOME");
  EXPECT_EQ(r->out, "added replaced " + std::string(home ? home : "") + "\n");
}

TEST_F(CommandRunnerTest, StdinIsEmpty) {
  auto r = runner_.Run({"cat"}, {}, 10s);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE(r->succeeded());
  EXPECT_EQ(r->out, "");
}

TEST_F(CommandRunnerTest, ProgramMissingFromPathIsNotFound) {
  auto r = runner_.Run({"offmon-no-such-program", "jlist"}, {}, 10s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.error().message(), "offmon-no-such-program not found in PATH");
}

TEST_F(CommandRunnerTest, MissingPathIsNotFound) {
  auto r = runner_.Run({"/nonexistent/dir/pm2", "jlist"}, {}, 10s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.error().message(), "/nonexistent/dir/pm2 not found");
}

TEST_F(CommandRunnerTest, FileWithoutExecutePermissionIsRejected) {
  // Even root cannot execute a file without any execute bit.
  testing::TempDir dir;
  testing::WriteFileBytes(dir / "pm2", "#!/bin/sh\necho hi\n");
  chmod((dir / "pm2").c_str(), 0644);
  auto r = runner_.Run({(dir / "pm2").string(), "jlist"}, {}, 10s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(), (dir / "pm2").string() + " is not executable");
}

TEST_F(CommandRunnerTest, EmptyArgvIsRejected) {
  auto r = runner_.Run({}, {}, 10s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
}

TEST_F(CommandRunnerTest, HangingProgramAndItsChildAreKilledAtTheTimeout) {
  testing::TempDir dir;
  const auto pid_file = dir / "pids";
  const auto started = std::chrono::steady_clock::now();
  auto r = runner_.Run({(kTestdata / "hang_with_child.sh").string(), pid_file.string()}, {}, 1s);
  const auto elapsed = std::chrono::steady_clock::now() - started;

  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), StatusCode::kTimeout);
  EXPECT_EQ(r.error().message(), "hang_with_child.sh " + pid_file.string() + " timed out after 1s");
  EXPECT_GE(elapsed, 1s);
  EXPECT_LT(elapsed, 10s);  // the script would sleep 60 s

  std::istringstream pids(testing::ReadFileBytes(pid_file));
  pid_t script = 0, child = 0;
  ASSERT_TRUE(pids >> script >> child) << "hang_with_child.sh did not write its pids in time";
  EXPECT_TRUE(ProcessGone(script)) << "the script was not reaped";
  EXPECT_TRUE(EventuallyGone(child)) << "the script's child survived the timeout";
}

TEST_F(CommandRunnerTest, TimeoutMessageNamesTheCommandAndLimit) {
  testing::TempDir dir;
  std::filesystem::create_symlink(kTestdata / "fake_pm2_hang.sh", dir / "pm2");
  auto r = runner_.Run({(dir / "pm2").string(), "jlist"}, {}, 300ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "pm2 jlist timed out after 300ms");
}

TEST_F(CommandRunnerTest, ReturnsWhenTheProgramExitsThoughAGrandchildHoldsItsStdout) {
  // Like a CLI that spawns a daemon inheriting its stdout: waiting for EOF would hang.
  const auto started = std::chrono::steady_clock::now();
  auto r = runner_.Run({"/bin/sh", "-c", "sleep 30 & echo $!"}, {}, 20s);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE(r->succeeded());
  EXPECT_LT(elapsed, 5s);
  const pid_t sleeper = std::stoi(r->out);
  kill(sleeper, SIGKILL);
}

TEST_F(CommandRunnerTest, OutputBeyondTheCapIsAnError) {
  ProcessCommandRunner small(1024);
  auto r = small.Run({"head", "-c", "100000", "/dev/zero"}, {}, 10s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), StatusCode::kIOError);
  EXPECT_EQ(r.error().message(), "head -c 100000 /dev/zero wrote more than 1024 bytes to stdout");

  auto endless = small.Run({"/bin/sh", "-c", "yes >&2"}, {}, 10s);
  ASSERT_FALSE(endless);
  EXPECT_EQ(endless.error().message(), "sh -c yes >&2 wrote more than 1024 bytes to stderr");
}

TEST_F(CommandRunnerTest, LeavesNoDescriptorsOrChildrenBehind) {
  const int before = OpenDescriptors();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(runner_.Run({"/bin/sh", "-c", "echo x; echo y >&2"}, {}, 10s));
    ASSERT_FALSE(runner_.Run({"/bin/sh", "-c", "sleep 30"}, {}, 50ms));
    ASSERT_FALSE(runner_.Run({"offmon-no-such-program"}, {}, 10s));
    ASSERT_FALSE(ProcessCommandRunner(16).Run({"/bin/sh", "-c", "yes"}, {}, 10s));
  }
  EXPECT_EQ(OpenDescriptors(), before);
  int status = 0;
  EXPECT_EQ(waitpid(-1, &status, WNOHANG), -1) << "a child (zombie or running) is left";
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(CommandRunnerTest, ConcurrentRunsFromSeveralThreadsStayApart) {
  std::vector<std::thread> threads;
  std::vector<std::string> failures(6);
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const std::string tag = std::to_string(t) + "-" + std::to_string(i);
        // One thread keeps a slow child running meanwhile: its pipes must not leak into
        // the others' children (they would then see no EOF until it ends).
        auto r = runner_.Run({"/bin/sh", "-c", t == 0 ? "sleep 0.2; echo $0" : "echo $0", tag}, {}, 10s);
        if (!r || r->out != tag + "\n") failures[t] = "run " + tag + " failed";
      }
    });
  }
  const auto started = std::chrono::steady_clock::now();
  for (auto& th : threads) th.join();
  for (const std::string& f : failures) EXPECT_EQ(f, "");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s);
}

}  // namespace
}  // namespace offmon::collector
