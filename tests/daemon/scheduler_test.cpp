#include "scheduler_impl.h"

#include <gtest/gtest.h>

namespace offmon::daemon {
namespace {

using std::chrono::seconds;

TimePoint At(int64_t s) { return FromMillis(s * 1000); }

TEST(SchedulerTest, RunsOnTheGridWithItsOffset) {
  Scheduler scheduler({{"system", seconds(30), seconds(2)}}, At(1000));
  // 1000 is not on the 30 s grid: the first run is at 1020 (+2 s offset).
  EXPECT_EQ(scheduler.NextWake(), At(1022));
  EXPECT_TRUE(scheduler.DueAt(At(1021)).empty());
  auto due = scheduler.DueAt(At(1022));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].grid, At(1020));  // samples carry the grid time, not the jittered one
  scheduler.Finished(0);
  EXPECT_EQ(scheduler.NextWake(), At(1052));
}

TEST(SchedulerTest, ARunningCollectorSkipsTicksInsteadOfOverlapping) {
  Scheduler scheduler({{"postgres", seconds(10), seconds(0)}, {"pm2", seconds(10), seconds(0)}}, At(0));
  auto first = scheduler.DueAt(At(0));
  ASSERT_EQ(first.size(), 2u);
  scheduler.Finished(1);  // pm2 finished; postgres hangs
  auto second = scheduler.DueAt(At(10));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].index, 1u);  // a hung database does not delay pm2
  EXPECT_EQ(scheduler.skipped(0), 1u);
  scheduler.Finished(0);
  scheduler.Finished(1);
  auto third = scheduler.DueAt(At(20));
  EXPECT_EQ(third.size(), 2u);
}

TEST(SchedulerTest, MissedTicksAreCountedNotRunLate) {
  Scheduler scheduler({{"system", seconds(10), seconds(0)}}, At(0));
  ASSERT_EQ(scheduler.DueAt(At(0)).size(), 1u);
  scheduler.Finished(0);
  // The daemon was suspended for 35 s: one run for the latest tick (30), two skipped.
  auto due = scheduler.DueAt(At(35));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].grid, At(30));
  EXPECT_EQ(scheduler.skipped(0), 2u);
  EXPECT_EQ(scheduler.NextWake(), At(40));
}

TEST(SchedulerTest, JitterIsStableAndWithinATenth) {
  auto a = Scheduler::JitterFor("pm2", seconds(30));
  EXPECT_EQ(a, Scheduler::JitterFor("pm2", seconds(30)));
  EXPECT_LT(a, seconds(3));
  EXPECT_GE(a.count(), 0);
}

}  // namespace
}  // namespace offmon::daemon
