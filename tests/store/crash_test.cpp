// A writer killed with SIGKILL in the middle of its batches leaves a store that opens,
// passes check, and holds every committed batch whole and nothing of an uncommitted one.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "offmon/store/store.h"
#include "store/store_test_util.h"

namespace offmon::store {
namespace {

using offmon::testing::kBase;
using offmon::testing::OpenStore;
using offmon::testing::T;
using offmon::testing::TempDir;

constexpr int kSeries = 8;

// Child: appends batch i (every series, value i, at kBase + 10 i) and reports i on the
// pipe after each commit, forever. Batches cross window ends, so checkpoints run too.
[[noreturn]] void Writer(const std::filesystem::path& path, int report_fd) {
  StoreOptions options;
  options.path = path;
  auto store = Store::Open(options);
  if (!store) _exit(3);
  for (int32_t i = 0;; ++i) {
    auto appender = (*store)->NewAppender("crash-test");
    for (int s = 0; s < kSeries; ++s) {
      appender->Add(*appender->Ref(SeriesKey("m", {{"s", std::to_string(s)}})), T(kBase + i * 10), i);
    }
    if (!appender->Commit(T(kBase + i * 10)).ok()) _exit(4);
    if (write(report_fd, &i, sizeof i) != sizeof i) _exit(5);
  }
}

class CrashTest : public ::testing::TestWithParam<int> {};

TEST_P(CrashTest, KilledWriterLosesNoCommittedBatch) {
  TempDir dir;
  const auto path = dir / "offmon.db";
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    Writer(path, fds[1]);
  }
  close(fds[1]);
  int32_t last_reported = -1;
  while (last_reported < GetParam()) {
    ASSERT_EQ(read(fds[0], &last_reported, sizeof last_reported), static_cast<ssize_t>(sizeof last_reported))
        << "writer died early";
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  close(fds[0]);
  ASSERT_TRUE(WIFSIGNALED(status));

  auto store = OpenStore(path);
  ASSERT_NE(store, nullptr);
  auto problems = store->Check();
  ASSERT_TRUE(problems.has_value()) << problems.error().ToString();
  EXPECT_TRUE(problems->empty()) << problems->front();
  auto series = store->Select(*Selector::Parse("m"));
  ASSERT_EQ(series->size(), static_cast<size_t>(kSeries));
  std::optional<size_t> batches;
  for (const auto& info : *series) {
    auto samples = store->ReadRange(info.id, T(kBase), T(kBase + 100 * 86400));
    ASSERT_TRUE(samples.has_value());
    // Batches 0..n-1, in order, none missing: n at least what was reported.
    for (size_t i = 0; i < samples->size(); ++i) {
      ASSERT_EQ((*samples)[i].value, static_cast<double>(i));
      ASSERT_EQ((*samples)[i].time, T(kBase + static_cast<int64_t>(i) * 10));
    }
    EXPECT_GE(samples->size(), static_cast<size_t>(last_reported + 1));
    // Every series holds the same batches: none was half written.
    if (batches) {
      EXPECT_EQ(samples->size(), *batches);
    }
    batches = samples->size();
  }
  // The store keeps working after the crash.
  auto appender = store->NewAppender("after");
  appender->Add(series->front().id, T(kBase + 200 * 86400), 1);
  EXPECT_TRUE(appender->Commit(T(kBase + 200 * 86400)).ok());
}

// Kill points before the first checkpoint, around it, and after several.
INSTANTIATE_TEST_SUITE_P(KillPoints, CrashTest, ::testing::Values(50, 810, 900, 2500));

}  // namespace
}  // namespace offmon::store
