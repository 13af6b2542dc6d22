// CounterIncreases and FromBaseAt: the one counting of counter increases that the restart
// rules, the report's "restarts in the last hour" and the escalation's attempted fixes use.
#include "offmon/analyzer/series_stats.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace offmon::analyzer {
namespace {

using ::testing::ElementsAre;

TimePoint T(int64_t seconds) { return FromMillis(seconds * 1000); }

std::vector<Sample> Counter(std::initializer_list<std::pair<int64_t, double>> points) {
  std::vector<Sample> out;
  for (auto [t, v] : points) out.push_back(Sample{T(t), v});
  return out;
}

TEST(CounterIncreasesTest, SumsTheRisesAndTheirTimes) {
  const auto samples = Counter({{0, 3}, {30, 3}, {60, 5}, {90, 6}, {120, 6}});
  const CounterIncrease increase = CounterIncreases(samples);
  EXPECT_DOUBLE_EQ(increase.total, 3);
  EXPECT_THAT(increase.at, ElementsAre(T(60), T(90)));
}

TEST(CounterIncreasesTest, AResetCountsTheNewValue) {
  // 7 -> 2: reset and two restarts since; 2 -> 0: a reset to zero counts nothing.
  const auto samples = Counter({{0, 5}, {30, 7}, {60, 2}, {90, 0}, {120, 1}});
  const CounterIncrease increase = CounterIncreases(samples);
  EXPECT_DOUBLE_EQ(increase.total, 2 + 2 + 1);
  EXPECT_THAT(increase.at, ElementsAre(T(30), T(60), T(120)));
}

TEST(CounterIncreasesTest, ADecreasingCounterCountsEachNewValue) {
  // Every decrease is a reset: 9 -> 6 -> 4 -> 1 is three resets, each to its new value.
  const CounterIncrease increase = CounterIncreases(Counter({{0, 9}, {30, 6}, {60, 4}, {90, 1}}));
  EXPECT_DOUBLE_EQ(increase.total, 6 + 4 + 1);
  EXPECT_EQ(increase.at.size(), 3u);
}

TEST(CounterIncreasesTest, AGapIsOneStep) {
  // No samples for an hour: the rise across the gap counts once, at the sample after it.
  const CounterIncrease increase = CounterIncreases(Counter({{0, 1}, {30, 1}, {3630, 4}}));
  EXPECT_DOUBLE_EQ(increase.total, 3);
  EXPECT_THAT(increase.at, ElementsAre(T(3630)));
}

TEST(CounterIncreasesTest, NoneOrOneSampleIsNoIncrease) {
  EXPECT_DOUBLE_EQ(CounterIncreases({}).total, 0);
  const CounterIncrease one = CounterIncreases(Counter({{0, 42}}));
  EXPECT_DOUBLE_EQ(one.total, 0);
  EXPECT_TRUE(one.at.empty());
}

// The copies disagreed on a NaN sample: the report summed it (its total became NaN),
// the rule skipped it and then counted the whole next value as a reset. A non-finite
// sample is now skipped: 5, NaN, 6 is one restart.
TEST(CounterIncreasesTest, SkipsNonFiniteSamples) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const CounterIncrease increase = CounterIncreases(Counter({{0, 5}, {30, nan}, {60, 6}}));
  EXPECT_DOUBLE_EQ(increase.total, 1);
  EXPECT_THAT(increase.at, ElementsAre(T(60)));
  EXPECT_DOUBLE_EQ(CounterIncreases(Counter({{0, nan}, {30, 2}})).total, 0);
}

TEST(FromBaseAtTest, StartsAtTheLastSampleAtOrBeforeTheTime) {
  const auto samples = Counter({{0, 1}, {30, 2}, {60, 3}, {90, 4}});
  EXPECT_EQ(FromBaseAt(samples, T(45)).size(), 3u);  // from {30, 2}
  EXPECT_EQ(FromBaseAt(samples, T(60)).front().value, 3);
  EXPECT_EQ(FromBaseAt(samples, T(-10)).size(), 4u);  // none before: all of them
  EXPECT_EQ(FromBaseAt(samples, T(500)).size(), 1u);  // the last one only
  EXPECT_TRUE(FromBaseAt({}, T(0)).empty());
  // Increases within the window count from the value at its start.
  EXPECT_DOUBLE_EQ(CounterIncreases(FromBaseAt(samples, T(45))).total, 2);
}

}  // namespace
}  // namespace offmon::analyzer
