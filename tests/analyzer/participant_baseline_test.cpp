#include "offmon/analyzer/participant_baseline.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "offmon/analyzer/participant_insights.h"

namespace offmon::analyzer {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kBaselineStart = FromMillis(1'761'955'200'000);  // 2025-11-01T00:00:00Z

// A family of synthetic channels. Epochs are hourly, sealed at :45 plus up to 90 s of
// jitter, with multiplicative log-normal noise around a level that may follow the day.
struct Family {
  double level = 3000;
  double daily_amplitude = 0;  // level ± amplitude over the day, peak at 18:00 UTC
  double noise = 0.1;          // σ of the log-normal noise
  int offline_from = -1;       // no epochs in [offline_from, offline_from + offline_hours)
  int offline_hours = 0;
  bool partial_edges = false;         // first and last epoch of a stream at 30–80 %
  double single_low_chance = 0;       // per epoch: an isolated epoch at 10–45 %
  bool poisson = false;               // small channels: an over-dispersed Poisson count
};

bool Offline(const Family& f, int hour_of_day) {
  if (f.offline_hours <= 0) return false;
  return (hour_of_day - f.offline_from + 24) % 24 < f.offline_hours;
}

double Level(const Family& f, int hour_of_day) {
  return f.level + f.daily_amplitude * std::sin(2 * std::numbers::pi * (hour_of_day - 12) / 24.0);
}

std::vector<Sample> Generate(const Family& f, int number_of_days, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0, f.noise);
  std::uniform_real_distribution<double> unit(0, 1);
  std::uniform_int_distribution<int> jitter_ms(0, 90'000);
  std::vector<Sample> out;
  bool previous_low = false;
  for (int h = 0; h < number_of_days * 24; ++h) {
    const int hod = h % 24;
    if (Offline(f, hod)) continue;
    double value = Level(f, hod) * std::exp(noise(rng));
    const bool edge = f.partial_edges && (Offline(f, (hod + 23) % 24) || Offline(f, (hod + 1) % 24));
    if (edge) value *= 0.3 + 0.5 * unit(rng);
    // Single low epochs are isolated: two in a row would be a (short) drop.
    const bool low = !edge && !previous_low && unit(rng) < f.single_low_chance;
    if (low) value *= 0.1 + 0.35 * unit(rng);
    previous_low = low || edge;
    if (f.poisson) value = std::poisson_distribution<int>(value)(rng);
    const TimePoint sealed = kBaselineStart + hours(h) + minutes(45) + Duration(jitter_ms(rng));
    out.push_back({sealed, std::round(value)});
  }
  return out;
}

struct Episode {
  TimePoint fired;
  std::optional<TimePoint> resolved;
  DropFinding first;
};

// Evaluates the detector every `step` of analysed time, as the alert evaluator does, and
// records each inactive → firing transition.
std::vector<Episode> Backtest(std::span<const Sample> epochs, TimePoint from, TimePoint to,
                              const DropOptions& options = {}, Duration step = minutes(5)) {
  std::vector<Episode> episodes;
  bool firing = false;
  size_t visible = 0;
  for (TimePoint now = from; now < to; now += step) {
    while (visible < epochs.size() && epochs[visible].time <= now) ++visible;
    std::optional<DropFinding> f = DetectParticipantDrop(epochs.first(visible), now, firing, options);
    if (f && !firing) episodes.push_back({now, std::nullopt, *f});
    if (!f && firing) episodes.back().resolved = now;
    firing = f.has_value();
  }
  return episodes;
}

// ---- baseline ----

std::vector<Sample> Hourly(const std::vector<double>& values, TimePoint from = kBaselineStart) {
  std::vector<Sample> out;
  for (size_t i = 0; i < values.size(); ++i) out.push_back({from + hours(i) + minutes(45), values[i]});
  return out;
}

TEST(ParticipantBaselineTest, MedianAndScaledMadOfAFlatHistory) {
  // 30 hourly epochs of 1,000 to 1,029 participants.
  std::vector<double> values;
  for (int i = 0; i < 30; ++i) values.push_back(1000 + i);
  std::vector<Sample> history = Hourly(values);
  BaselineOptions options;
  options.seasonal_tolerance = Duration::zero();
  std::optional<Baseline> b = ChannelBaseline(history, history.back().time + hours(1), options);
  ASSERT_TRUE(b);
  EXPECT_DOUBLE_EQ(b->median, 1014.5);
  // |x - 1014.5| is 0.5, 0.5, 1.5, 1.5, ..., 14.5, 14.5: its median is 7.5.
  EXPECT_DOUBLE_EQ(b->spread, 7.5 * 1.4826);
  EXPECT_EQ(b->epochs, 30u);
  EXPECT_FALSE(b->seasonal);
}

TEST(ParticipantBaselineTest, UsesTheSameHourOfDayWhenThereAreEnoughEpochs) {
  // Ten days where every hour of day h has 100 * (h + 1) participants.
  std::vector<double> values;
  for (int h = 0; h < 10 * 24; ++h) values.push_back(100.0 * (h % 24 + 1));
  std::vector<Sample> history = Hourly(values);
  // Judged at 12:45: the subset is 11:45, 12:45 and 13:45 of each day.
  std::optional<Baseline> b = ChannelBaseline(history, kBaselineStart + days(10) + hours(12) + minutes(45));
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->seasonal);
  EXPECT_EQ(b->epochs, 30u);
  EXPECT_DOUBLE_EQ(b->median, 1300);
  // Across midnight: 23:45, 00:45 and 01:45 are one neighbourhood.
  b = ChannelBaseline(history, kBaselineStart + days(10) + minutes(45));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->epochs, 30u);
  EXPECT_DOUBLE_EQ(b->median, 200);  // 100, 200 and 2,400, ten of each
}

TEST(ParticipantBaselineTest, FallsBackToAllEpochsWhenTheSameHourIsThin) {
  // Two days: the 12:45 neighbourhood has 6 epochs, fewer than min_seasonal_epochs.
  std::vector<double> values;
  for (int h = 0; h < 2 * 24; ++h) values.push_back(100.0 * (h % 24 + 1));
  std::vector<Sample> history = Hourly(values);
  std::optional<Baseline> b = ChannelBaseline(history, kBaselineStart + days(2) + hours(12) + minutes(45));
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->seasonal);
  EXPECT_EQ(b->epochs, 48u);
  EXPECT_DOUBLE_EQ(b->median, 1250);
}

TEST(ParticipantBaselineTest, IgnoresZeroParticipantEpochsAndMissingHours) {
  Family family;
  family.offline_from = 2;
  family.offline_hours = 8;
  std::vector<Sample> history = Generate(family, 15, 7);
  const TimePoint at = kBaselineStart + days(15) + hours(20) + minutes(45);
  std::optional<Baseline> clean = ChannelBaseline(history, at);
  ASSERT_TRUE(clean);
  // Zero epochs (a broken seal) add nothing: same median, same count.
  std::vector<Sample> with_zeros = history;
  for (size_t i = 5; i < with_zeros.size(); i += 7) with_zeros[i].value = 0;
  std::vector<Sample> kept;
  for (const Sample& s : with_zeros) {
    if (s.value > 0) kept.push_back(s);
  }
  std::optional<Baseline> zeros = ChannelBaseline(with_zeros, at);
  std::optional<Baseline> without = ChannelBaseline(kept, at);
  ASSERT_TRUE(zeros && without);
  EXPECT_EQ(zeros->median, without->median);
  EXPECT_EQ(zeros->epochs, without->epochs);
  // Offline hours are not zeros: the median stays at the level (3,000 ± noise).
  EXPECT_NEAR(clean->median, 3000, 150);
}

TEST(ParticipantBaselineTest, UsesOnlyEpochsInTheWindowBeforeAt) {
  std::vector<double> values(20 * 24, 1000);
  for (size_t i = 0; i < 6 * 24; ++i) values[i] = 5000;  // days 0-5: outside a 14-day window
  std::vector<Sample> history = Hourly(values);
  history.push_back({kBaselineStart + days(20) + hours(2), 9000});  // after `at`
  std::optional<Baseline> b = ChannelBaseline(history, kBaselineStart + days(20) + minutes(50));
  ASSERT_TRUE(b);
  EXPECT_DOUBLE_EQ(b->median, 1000);
  EXPECT_DOUBLE_EQ(b->spread, 0);
}

TEST(ParticipantBaselineTest, TooLittleHistoryHasNoBaseline) {
  std::vector<Sample> history = Hourly(std::vector<double>(23, 2000));
  EXPECT_FALSE(ChannelBaseline(history, kBaselineStart + days(2)));
  history.push_back({kBaselineStart + hours(23) + minutes(45), 2000});
  EXPECT_TRUE(ChannelBaseline(history, kBaselineStart + days(2)));
  EXPECT_FALSE(ChannelBaseline({}, kBaselineStart));
}

TEST(ParticipantBaselineTest, FormatsWithThousandsSeparators) {
  Baseline b;
  b.median = 2150.4;
  b.spread = 179.6;
  EXPECT_EQ(FormatBaseline(b), "baseline 2,150 ±180");
  b.median = 1234567;
  b.spread = 12;
  EXPECT_EQ(FormatBaseline(b), "baseline 1,234,567 ±12");
}

// ---- ParticipantDrop ----

const Family kSeasonal = [] {
  Family f;
  f.level = 3000;
  f.daily_amplitude = 1000;  // 2,000–4,000 over the day
  f.noise = 0.08;
  return f;
}();

// 15 days of a 24/7 seasonal channel, then `factors` applied to the expected level of each
// following hour (noise-free, so the test knows the exact change).
std::vector<Sample> WithTail(const Family& f, const std::vector<double>& factors, uint32_t seed = 1) {
  std::vector<Sample> epochs = Generate(f, 15, seed);
  for (size_t i = 0; i < factors.size(); ++i) {
    const int h = 15 * 24 + static_cast<int>(i);
    epochs.push_back({kBaselineStart + hours(h) + minutes(45), std::round(Level(f, h % 24) * factors[i])});
  }
  return epochs;
}

TEST(ParticipantDropTest, RealDropFiresOnTheSecondLowEpochAndResolvesAfterRecovery) {
  // Five epochs 68 % down, then back to normal.
  std::vector<Sample> epochs = WithTail(kSeasonal, {1, 1, 0.32, 0.32, 0.32, 0.32, 0.32, 1, 1});
  const size_t first_low = 15 * 24 + 2;
  auto at = [&](size_t i) { return epochs[i].time + minutes(1); };
  std::span<const Sample> all(epochs);  // later samples are ignored by the detector

  EXPECT_FALSE(DetectParticipantDrop(all, at(first_low - 1), false));
  EXPECT_FALSE(DetectParticipantDrop(all, at(first_low), false)) << "a single low epoch fired";
  std::optional<DropFinding> f = DetectParticipantDrop(all, at(first_low + 1), false);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->consecutive, 2);
  EXPECT_EQ(f->since, epochs[first_low].time);
  EXPECT_EQ(f->latest, epochs[first_low + 1].time);
  EXPECT_EQ(f->participants, epochs[first_low + 1].value);
  EXPECT_NEAR(f->change, -0.68, 0.05);
  EXPECT_TRUE(f->baseline.seasonal);
  EXPECT_NEAR(f->baseline.median, Level(kSeasonal, (15 * 24 + 3) % 24), 100);

  for (size_t i = first_low + 2; i < first_low + 5; ++i) {
    f = DetectParticipantDrop(all, at(i), true);
    ASSERT_TRUE(f) << "epoch " << i - first_low;
    EXPECT_EQ(f->consecutive, static_cast<int>(i - first_low + 1));
    EXPECT_EQ(f->since, epochs[first_low].time);
  }
  EXPECT_FALSE(DetectParticipantDrop(all, at(first_low + 5), true)) << "did not resolve after recovery";

  std::vector<Episode> episodes = Backtest(epochs, kBaselineStart + days(14), epochs.back().time + hours(1));
  ASSERT_EQ(episodes.size(), 1u);
  EXPECT_EQ(episodes[0].fired, epochs[first_low + 1].time);
  ASSERT_TRUE(episodes[0].resolved);
  EXPECT_EQ(*episodes[0].resolved, epochs[first_low + 5].time);

  // The finding's alert line (the hand-built exact case is in participant_insights_test).
  f = DetectParticipantDrop(all, at(first_low + 1), false);
  ASSERT_TRUE(f);
  ParticipantInsights insights;
  insights.regulars = 120;
  insights.regulars_absent_share = 0.71;
  const std::string line = DropSummary("train", *f, insights);
  EXPECT_EQ(line.rfind("train: 734 participants vs baseline 2,", 0), 0u) << line;
  EXPECT_NE(line.find("(-6"), std::string::npos) << line;
  EXPECT_TRUE(line.ends_with("%); 71% of regulars absent")) << line;
}

TEST(ParticipantDropTest, ExactlyHalfBelowDoesNotFireAndJustOverHalfDoes) {
  const std::vector<Sample> history = Generate(kSeasonal, 15, 3);
  // Three epochs at `factor` times the baseline each will be judged against: the one at its
  // own time of day, from the epochs before the run.
  auto with_run = [&](double factor) {
    std::vector<Sample> epochs = history;
    for (int k = 0; k < 3; ++k) {
      const TimePoint t = kBaselineStart + days(15) + hours(k) + minutes(45);
      std::optional<Baseline> b = ChannelBaseline(history, t);
      EXPECT_TRUE(b);
      epochs.push_back({t, b ? b->median * factor : 0});
    }
    return epochs;
  };
  const std::vector<Sample> half = with_run(0.5);
  DropOptions seasonal_only;  // the long-term reference is another level, judged on its own
  seasonal_only.long_term_window = Duration(0);
  for (size_t i = history.size(); i < half.size(); ++i) {
    EXPECT_FALSE(DetectParticipantDrop(half, half[i].time + minutes(1), false, seasonal_only)) << "exactly -50% fired";
  }
  const std::vector<Sample> over = with_run(0.499);
  const size_t second = history.size() + 1;
  EXPECT_FALSE(DetectParticipantDrop(over, over[second - 1].time + minutes(1), false));
  std::optional<DropFinding> f = DetectParticipantDrop(over, over[second].time + minutes(1), false);
  ASSERT_TRUE(f) << "-50.1% did not fire";
  EXPECT_NEAR(f->change, -0.501, 1e-12);
  EXPECT_EQ(f->consecutive, 2);
}

TEST(ParticipantDropTest, SingleLowEpochNeverFires) {
  std::vector<Sample> epochs = WithTail(kSeasonal, {1, 1, 0.1, 1, 1, 1, 0.05, 1, 1});
  EXPECT_TRUE(Backtest(epochs, kBaselineStart + days(14), epochs.back().time + hours(3)).empty());
}

TEST(ParticipantDropTest, GradualDeclineToThirtyPercentOverTwoDaysFires) {
  std::vector<double> factors;
  for (int i = 0; i < 48; ++i) factors.push_back(1 - 0.7 * i / 47.0);
  factors.insert(factors.end(), 24, 0.3);
  factors.insert(factors.end(), 12, 1.0);
  std::vector<Sample> epochs = WithTail(kSeasonal, factors);
  const TimePoint decline = kBaselineStart + days(15);
  std::vector<Episode> episodes = Backtest(epochs, kBaselineStart + days(14), epochs.back().time + hours(1));
  ASSERT_EQ(episodes.size(), 1u);
  const Episode& e = episodes[0];
  // Fires once the decline passes half of the baseline (about hour 33), before it ends.
  EXPECT_GT(e.fired, decline + hours(30));
  EXPECT_LT(e.fired, decline + hours(48));
  EXPECT_LT(e.first.since, e.fired - hours(6)) << "the run starts when the decline passes 70 %";
  EXPECT_LT(e.first.change, -0.5);
  ASSERT_TRUE(e.resolved);
  EXPECT_EQ(*e.resolved, decline + hours(72) + minutes(45));
}

// The live stack's case (issue 15): 15 days at about 2,753, each hour's epoch sealed two
// minutes after the hour, then one epoch of 702. `channel_participation_current` counts
// the distinct users seen so far in the open hour, most of them early (1 − e^(−t/15 min)).
struct LiveCase {
  std::vector<Sample> epochs, live;
  TimePoint open;  // the hour after the low epoch
};
double SeenBy(Duration elapsed) {
  return (1 - std::exp(-std::chrono::duration<double>(elapsed) / minutes(15))) / (1 - std::exp(-4.0));
}
LiveCase PlainDrop(double open_hour_final, bool live_history) {
  LiveCase c;
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 0.05);
  const int hours_total = 15 * 24;
  for (int h = 0; h < hours_total; ++h) {
    const double final_count = h == hours_total - 1 ? 702 : std::round(2753 * std::exp(noise(rng)));
    const TimePoint start = kBaselineStart + hours(h);
    c.epochs.push_back({start + hours(1) + minutes(2), final_count});
    if (!live_history && h < hours_total - 1) continue;
    for (auto m = minutes(0); m < minutes(60); m += minutes(1)) {
      c.live.push_back({start + m, std::round(final_count * SeenBy(m))});
    }
  }
  c.open = kBaselineStart + hours(hours_total);
  for (auto m = minutes(0); m < minutes(60); m += minutes(1)) {
    c.live.push_back({c.open + m, std::round(open_hour_final * SeenBy(m))});
  }
  return c;
}
// The first evaluation (every minute of the open hour) with a finding.
std::optional<std::pair<Duration, DropFinding>> FirstFinding(const LiveCase& c, bool with_live = true) {
  for (auto m = minutes(0); m < minutes(60); m += minutes(1)) {
    auto f = DetectParticipantDrop(c.epochs, c.open + m, false, {}, with_live ? c.live : std::span<const Sample>());
    if (f) return std::pair{Duration(m), *f};
  }
  return std::nullopt;
}

TEST(ParticipantDropTest, ALowEpochThatTheLiveHourConfirmsFiresWithinMinutes) {
  const LiveCase low = PlainDrop(690, /*live_history=*/true);
  auto found = FirstFinding(low);
  ASSERT_TRUE(found) << "the live hour did not confirm";
  EXPECT_EQ(found->first, minutes(10)) << "as soon as 10 minutes of the hour are seen";
  const DropFinding& f = found->second;
  EXPECT_EQ(f.participants, 702);
  EXPECT_EQ(f.consecutive, 1);
  ASSERT_TRUE(f.live);
  EXPECT_NEAR(f.live->expected, 2753 * SeenBy(minutes(10)), 150) << "the baseline hour at the same minute";
  EXPECT_EQ(f.live->elapsed, minutes(10));
  const std::string line = DropSummary("ch", f, std::nullopt);
  EXPECT_NE(line.find("ch: 702 participants vs baseline 2,7"), std::string::npos) << line;
  EXPECT_NE(line.find("; this hour 342 so far vs "), std::string::npos) << line;
  EXPECT_TRUE(line.ends_with("expected 10 min in")) << line;

  // Without the live series: one low epoch, nothing until the next one.
  EXPECT_FALSE(FirstFinding(low, /*with_live=*/false));
}

TEST(ParticipantDropTest, ASingleDipTheLiveHourDoesNotConfirmStaysQuiet) {
  // The open hour is back to normal, or only 30 % down: one low epoch, no finding.
  EXPECT_FALSE(FirstFinding(PlainDrop(2700, true)));
  EXPECT_FALSE(FirstFinding(PlainDrop(1900, true)));
}

TEST(ParticipantDropTest, WithoutLiveHistoryTheLiveHourConfirmsLaterNeverSooner) {
  // No past hours to learn the curve from: expected = baseline × the fraction of the
  // hour, which the front-loaded real count stays above for longer.
  auto found = FirstFinding(PlainDrop(690, /*live_history=*/false));
  ASSERT_TRUE(found);
  EXPECT_GT(found->first, minutes(10));
  EXPECT_LT(found->first, minutes(45));
  EXPECT_FALSE(FirstFinding(PlainDrop(2700, false)));
}

TEST(ParticipantDropTest, ZeroParticipantEpochsAreNotADrop) {
  // Trailing zeros are ZeroParticipants' business, not a drop.
  std::vector<Sample> epochs = WithTail(kSeasonal, {1, 0, 0, 0});
  for (size_t i = epochs.size() - 3; i < epochs.size(); ++i) {
    EXPECT_FALSE(DetectParticipantDrop(epochs, epochs[i].time + minutes(1), false));
    EXPECT_FALSE(DetectParticipantDrop(epochs, epochs[i].time + minutes(1), true));
  }
  // Zero epochs added to the history (half an hour before every fifth epoch) change
  // neither the findings nor the baseline.
  const std::vector<Sample> clean = WithTail(kSeasonal, {1, 0.3, 0.3});
  std::vector<Sample> zeros;
  for (size_t i = 0; i < clean.size(); ++i) {
    if (i % 5 == 3 && i + 10 < clean.size()) zeros.push_back({clean[i].time - minutes(30), 0});
    zeros.push_back(clean[i]);
  }
  const TimePoint end = clean.back().time + minutes(1);
  EXPECT_EQ(Backtest(zeros, kBaselineStart + days(14), end).size(), 1u);
  std::optional<DropFinding> f = DetectParticipantDrop(zeros, end, false);
  std::optional<DropFinding> without = DetectParticipantDrop(clean, end, false);
  ASSERT_TRUE(f && without);
  EXPECT_EQ(f->baseline.median, without->baseline.median);
  EXPECT_EQ(f->baseline.epochs, without->baseline.epochs);
  EXPECT_EQ(f->consecutive, 2);
}

TEST(ParticipantDropTest, ZeroEpochInsideARunIsSkippedNotCounted) {
  std::vector<Sample> epochs = WithTail(kSeasonal, {1, 0.3, 0, 0.3});
  std::optional<DropFinding> f = DetectParticipantDrop(epochs, epochs.back().time + minutes(1), false);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->consecutive, 2);
  EXPECT_EQ(f->since, epochs.end()[-3].time);
}

TEST(ParticipantDropTest, HysteresisKeepsFiringUntilAboveSeventyPercent) {
  std::vector<Sample> epochs = WithTail(kSeasonal, {1, 0.3, 0.3, 0.6, 0.65, 0.75, 1});
  auto at = [&](int from_end) { return epochs.end()[-from_end].time + minutes(1); };
  ASSERT_TRUE(DetectParticipantDrop(epochs, at(5), false));
  EXPECT_TRUE(DetectParticipantDrop(epochs, at(4), true)) << "60 % resolved a firing drop";
  EXPECT_FALSE(DetectParticipantDrop(epochs, at(4), false)) << "60 % fired a new drop";
  std::optional<DropFinding> f = DetectParticipantDrop(epochs, at(3), true);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->consecutive, 4);
  EXPECT_FALSE(DetectParticipantDrop(epochs, at(2), true)) << "75 % did not resolve";
}

TEST(ParticipantDropTest, OfflineChannelIsNeverADrop) {
  std::vector<Sample> epochs = WithTail(kSeasonal, {1, 0.3, 0.3});
  const TimePoint last = epochs.back().time;
  EXPECT_TRUE(DetectParticipantDrop(epochs, last + minutes(149), true));
  EXPECT_FALSE(DetectParticipantDrop(epochs, last + minutes(151), true)) << "offline and still firing";

  // A low last epoch of one stream and a low first epoch of the next are not a run.
  Family night = kSeasonal;
  night.offline_from = 2;
  night.offline_hours = 8;
  std::vector<Sample> streams = Generate(night, 15, 5);
  const TimePoint day15 = kBaselineStart + days(15);
  streams.push_back({day15 + minutes(45), 3000});
  streams.push_back({day15 + hours(1) + minutes(45), 600});   // stream ends early
  streams.push_back({day15 + hours(10) + minutes(45), 500});  // starts late
  streams.push_back({day15 + hours(11) + minutes(45), 2500});
  EXPECT_TRUE(Backtest(streams, kBaselineStart + days(14), day15 + hours(13)).empty());
}

TEST(ParticipantDropTest, TooLittleHistoryNeverFires) {
  std::vector<double> values(10, 2000);
  values.insert(values.end(), 5, 200);
  std::vector<Sample> epochs = Hourly(values);
  EXPECT_FALSE(ChannelBaseline(epochs, epochs.back().time));
  EXPECT_TRUE(Backtest(epochs, kBaselineStart, epochs.back().time + hours(1)).empty());
  EXPECT_FALSE(DetectParticipantDrop({}, kBaselineStart, false));
}

const Family kSmallNoisy = [] {
  Family f;
  f.level = 20;
  f.noise = 0.5;  // over-dispersed: hourly counts from about 5 to 60
  f.poisson = true;
  f.offline_from = 4;
  f.offline_hours = 8;
  f.partial_edges = true;
  return f;
}();

TEST(ParticipantDropTest, SmallNoisyChannelHasNoFindingsInAMonth) {
  std::vector<Sample> epochs = Generate(kSmallNoisy, 44, 11);
  std::optional<Baseline> b = ChannelBaseline(epochs, kBaselineStart + days(44));
  ASSERT_TRUE(b);
  EXPECT_NEAR(b->median, 20, 3);
  EXPECT_GT(b->spread, 5);
  std::vector<Episode> episodes = Backtest(epochs, kBaselineStart, kBaselineStart + days(44));
  EXPECT_TRUE(episodes.empty()) << "first at " << FormatRfc3339(episodes.front().fired) << ": "
                                << episodes.front().first.participants << " vs "
                                << episodes.front().first.baseline.median;
}

TEST(ParticipantDropTest, SmallChannelIsJudgedWithCountStatistics) {
  // About 12 participants an epoch (over-dispersed Poisson), streaming 16 h a day; then
  // six epochs at about 1 fire, six at about 8 never do.
  Family small;
  small.level = 12;
  small.noise = 0.25;
  small.poisson = true;
  small.offline_from = 4;
  small.offline_hours = 8;
  for (uint32_t seed = 1; seed <= 5; ++seed) {
    const std::vector<Sample> history = Generate(small, 15, seed);
    auto with_tail = [&](double level) {
      std::vector<Sample> epochs = history;
      std::mt19937 rng(seed);
      for (int k = 0; k < 6; ++k) {
        const TimePoint t = kBaselineStart + days(15) + hours(14 + k) + minutes(45);
        epochs.push_back({t, static_cast<double>(std::poisson_distribution<int>(level)(rng))});
      }
      return epochs;
    };
    const std::vector<Sample> one = with_tail(1), eight = with_tail(8), none = with_tail(0.2);
    EXPECT_EQ(Backtest(one, kBaselineStart + days(15), one.back().time + minutes(30)).size(), 1u) << "12 -> 1, seed " << seed;
    // Mostly zeros: in a channel this small, zero is a low count, not broken sealing.
    EXPECT_EQ(Backtest(none, kBaselineStart + days(15), none.back().time + minutes(30)).size(), 1u) << "12 -> 0, seed " << seed;
    EXPECT_TRUE(Backtest(eight, kBaselineStart + days(15), eight.back().time + minutes(30)).empty()) << "12 -> 8, seed " << seed;
  }
}

TEST(ParticipantDropTest, CreepingDeclineBelowHalfOfTheLongTermLevelFires) {
  // Offline 8 h a night, so every stream's run starts afresh and the seasonal baseline
  // follows a slow decline down: over 10 days to 15 %, then flat there.
  Family night = kSeasonal;
  night.offline_from = 2;
  night.offline_hours = 8;
  std::vector<Sample> epochs = Generate(night, 32, 9);
  const TimePoint decline = kBaselineStart + days(16);
  for (Sample& s : epochs) {
    const double days_in = std::chrono::duration<double>(s.time - decline) / days(1);
    if (days_in > 0) s.value = std::round(s.value * std::max(0.15, 1 - 0.85 * days_in / 10));
  }
  std::vector<Episode> episodes = Backtest(epochs, kBaselineStart + days(14), kBaselineStart + days(32));
  ASSERT_FALSE(episodes.empty());
  // Below half of the level a week earlier from about day 5.9 of the decline, and first
  // seen so: the seasonal baseline has come down with it.
  EXPECT_GT(episodes[0].fired, decline + days(5));
  EXPECT_LT(episodes[0].fired, decline + days(7));
  EXPECT_TRUE(episodes[0].first.long_term);
  EXPECT_LT(episodes[0].first.change, -0.5);
  // Days after the seasonal baseline has caught up with the decline, the long-term
  // reference still reports it (each stream anew: offline nights resolve it).
  DropOptions seasonal_only;
  seasonal_only.long_term_window = Duration(0);
  const std::vector<Episode> seasonal = Backtest(epochs, kBaselineStart + days(14), kBaselineStart + days(32), seasonal_only);
  ASSERT_FALSE(seasonal.empty());
  EXPECT_GT(seasonal[0].fired, episodes[0].fired);
  EXPECT_GT(episodes.back().fired, seasonal.back().fired + days(2));
  EXPECT_TRUE(episodes.back().first.long_term);
}

struct NamedFamily {
  const char* name;
  Family family;
};

std::vector<NamedFamily> NormalFamilies() {
  std::vector<NamedFamily> out;
  out.push_back({"seasonal 24/7", kSeasonal});
  Family night = kSeasonal;
  night.noise = 0.12;
  night.offline_from = 2;
  night.offline_hours = 8;
  night.partial_edges = true;
  out.push_back({"seasonal, offline 8 h a night, partial edge epochs", night});
  Family lows;
  lows.level = 1500;
  lows.noise = 0.1;
  lows.single_low_chance = 0.03;
  out.push_back({"flat with single low epochs", lows});
  out.push_back({"small and noisy", kSmallNoisy});
  Family medium;
  medium.level = 150;
  medium.daily_amplitude = 60;
  medium.noise = 0.25;
  medium.poisson = true;
  medium.offline_from = 6;
  medium.offline_hours = 10;
  medium.partial_edges = true;
  medium.single_low_chance = 0.02;
  out.push_back({"medium, noisy, seasonal, offline", medium});
  return out;
}

TEST(ParticipantDropTest, NormalFamiliesHaveAtMostOneFalseFindingPerChannelMonth) {
  // 44 days from the first epoch (so the warm-up without a baseline is included), every
  // 5 minutes, three channels per family.
  size_t false_findings = 0;
  for (const NamedFamily& nf : NormalFamilies()) {
    for (uint32_t seed = 100; seed < 103; ++seed) {
      std::vector<Sample> epochs = Generate(nf.family, 44, seed);
      std::vector<Episode> episodes = Backtest(epochs, kBaselineStart, kBaselineStart + days(44));
      EXPECT_LE(episodes.size(), 1u) << nf.name << ", seed " << seed;
      false_findings += episodes.size();
    }
  }
  std::printf("normal families: %zu false findings in %zu channel-months of 44 days\n", false_findings,
              3 * NormalFamilies().size());
}

struct Injected {
  TimePoint from, to;  // sealed_at of the first and last affected epoch
};

// Multiplies runs of 3–8 consecutive hourly epochs by 0.1–0.45 (drops of 55–90 %), one
// every 2–3 days after the first 15 days, each inside one stream.
std::vector<Injected> InjectDrops(std::vector<Sample>& epochs, std::mt19937& rng) {
  std::vector<Injected> out;
  std::uniform_int_distribution<int> length(3, 8), spacing(48, 72);
  std::uniform_real_distribution<double> depth(0.55, 0.9);
  size_t i = 0;
  while (i < epochs.size() && epochs[i].time < kBaselineStart + days(15)) ++i;
  for (i += static_cast<size_t>(spacing(rng)) / 2; i < epochs.size(); i += static_cast<size_t>(spacing(rng))) {
    const size_t n = static_cast<size_t>(length(rng));
    if (i + n > epochs.size()) break;
    bool one_stream = true;
    for (size_t k = i + 1; k < i + n; ++k) one_stream &= epochs[k].time - epochs[k - 1].time < minutes(75);
    if (!one_stream) {
      i -= static_cast<size_t>(spacing(rng)) / 2;  // try a little later
      continue;
    }
    const double keep = 1 - depth(rng);
    for (size_t k = i; k < i + n; ++k) epochs[k].value = std::round(epochs[k].value * keep);
    out.push_back({epochs[i].time, epochs[i + n - 1].time});
    i += n;
  }
  return out;
}

TEST(ParticipantDropTest, InjectedDropsAndDeclinesAreFoundWithF1AtLeast95Percent) {
  int findings = 0, true_findings = 0, episodes_total = 0, detected = 0;
  auto score = [&](const std::vector<Episode>& episodes, const std::vector<Injected>& injected) {
    std::vector<bool> hit(injected.size(), false);
    for (const Episode& e : episodes) {
      ++findings;
      bool inside = false;
      for (size_t k = 0; k < injected.size(); ++k) {
        if (e.fired >= injected[k].from && e.fired <= injected[k].to + minutes(90)) {
          inside = true;
          hit[k] = true;
        }
      }
      true_findings += inside;
    }
    episodes_total += static_cast<int>(injected.size());
    for (bool h : hit) detected += h;
  };

  Family night = kSeasonal;
  night.noise = 0.1;
  night.offline_from = 2;
  night.offline_hours = 8;
  night.partial_edges = true;
  for (const Family& family : {kSeasonal, night}) {
    for (uint32_t seed = 200; seed < 204; ++seed) {
      std::mt19937 rng(seed * 7 + 1);
      std::vector<Sample> epochs = Generate(family, 44, seed);
      std::vector<Injected> injected = InjectDrops(epochs, rng);
      score(Backtest(epochs, kBaselineStart, kBaselineStart + days(44)), injected);
    }
  }
  // Gradual declines to 30 % over two days on a 24/7 channel, held for half a day.
  for (uint32_t seed = 300; seed < 304; ++seed) {
    std::vector<Sample> epochs = Generate(kSeasonal, 44, seed);
    std::vector<Injected> injected;
    for (int start_day : {17, 30}) {
      const TimePoint from = kBaselineStart + days(start_day);
      for (Sample& s : epochs) {
        const double h = std::chrono::duration<double, std::ratio<3600>>(s.time - from).count();
        if (h < 0 || h >= 60) continue;
        s.value = std::round(s.value * (h < 48 ? 1 - 0.7 * h / 48 : 0.3));
      }
      injected.push_back({from, from + hours(60)});
    }
    score(Backtest(epochs, kBaselineStart, kBaselineStart + days(44)), injected);
  }

  const double precision = findings ? static_cast<double>(true_findings) / findings : 0;
  const double recall = static_cast<double>(detected) / episodes_total;
  const double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
  EXPECT_GE(f1, 0.95) << "precision " << precision << " (" << true_findings << "/" << findings
                      << "), recall " << recall << " (" << detected << "/" << episodes_total << ")";
  RecordProperty("f1", std::to_string(f1));
  std::printf("injected: %d episodes, %d detected; %d findings, %d true; F1 %.3f\n", episodes_total, detected,
              findings, true_findings, f1);
}

}  // namespace
}  // namespace offmon::analyzer
