#include "offmon/analyzer/leak_detector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <numbers>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace offmon::analyzer {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr double kMiB = 1024.0 * 1024;
constexpr double kLimit = 4096 * kMiB;
const TimePoint kStart = FromMillis(1'761'955'200'000);  // 2025-11-01T00:00:00Z

// One process's memory, built from simple parts. Times are offsets from kStart.
struct Shape {
  Duration step = seconds(30);  // sampling interval
  Duration length = hours(96);
  double base_bytes = 500 * kMiB;
  double noise_bytes = 3 * kMiB;  // σ of Gaussian noise on every sample
  double gc_bytes = 0;            // GC sawtooth: the heap climbs this much, then drops
  Duration gc_period = minutes(8);  // mean time between collections; each 0.5–1.5×
  double leak_bytes_per_hour = 0;
  Duration leak_start{};
  double step_bytes = 0;  // one-time step up (cache warm-up) at step_at
  Duration step_at{};
  double level_off_bytes = 0;  // growth approaching level_off_bytes with time constant level_off_tau
  Duration level_off_at{};
  Duration level_off_tau = minutes(90);
  double daily_fraction = 0;       // ± fraction of base over the day
  Duration restart_every{};        // periodic restarts, each 0.75–1.25× apart; zero for none
  double restart_above_bytes = 0;  // PM2 max_memory_restart; zero for none
  Duration warmup_tau = minutes(10);  // after a restart the base climbs back from 30 %
  bool report_restarts = true;        // pass the restart times to DetectLeak
  uint32_t seed = 1;
};

struct History {
  std::vector<Sample> memory;
  std::vector<TimePoint> restarts;  // only when reported
  std::vector<TimePoint> actual_restarts;
};

double Hours(Duration d) { return std::chrono::duration<double, std::ratio<3600>>(d).count(); }

History Generate(const Shape& shape) {
  std::mt19937 rng(shape.seed);
  std::normal_distribution<double> noise(0, 1);
  std::uniform_real_distribution<double> unit(0, 1);
  History h;
  const double gc_period = Hours(shape.gc_period);
  double last_gc = -unit(rng) * gc_period, this_gc = gc_period;
  double next_restart = shape.restart_every.count() > 0 ? Hours(shape.restart_every) * (0.75 + 0.5 * unit(rng)) : 1e18;
  double last_restart = -1e18;  // the process was running before the history starts
  bool restart_pending = false;
  for (Duration at{}; at <= shape.length; at += shape.step) {
    const double t = Hours(at);
    if (t >= next_restart || restart_pending) {
      last_restart = t;
      restart_pending = false;
      if (shape.restart_every.count() > 0) next_restart = t + Hours(shape.restart_every) * (0.75 + 0.5 * unit(rng));
      h.actual_restarts.push_back(kStart + at);
      if (shape.report_restarts) h.restarts.push_back(kStart + at);
    }
    const double warm = 1 - 0.7 * std::exp(-(t - last_restart) / Hours(shape.warmup_tau));
    double v = shape.base_bytes * (1 + shape.daily_fraction * std::sin(2 * std::numbers::pi * t / 24)) * warm;
    const double leaking_since = std::max(Hours(shape.leak_start), last_restart);
    if (shape.leak_bytes_per_hour > 0 && t > leaking_since) v += shape.leak_bytes_per_hour * (t - leaking_since);
    if (shape.step_bytes != 0 && at >= shape.step_at) v += shape.step_bytes;
    if (shape.level_off_bytes != 0 && at >= shape.level_off_at) {
      v += shape.level_off_bytes * (1 - std::exp(-(t - Hours(shape.level_off_at)) / Hours(shape.level_off_tau)));
    }
    if (shape.gc_bytes > 0) {
      while (t - last_gc >= this_gc) {
        last_gc += this_gc;
        this_gc = gc_period * (0.5 + unit(rng));
      }
      v += shape.gc_bytes * (t - last_gc) / this_gc;
    }
    v += shape.noise_bytes * noise(rng);
    h.memory.push_back({kStart + at, v});
    if (shape.restart_above_bytes > 0 && v > shape.restart_above_bytes) restart_pending = true;
  }
  return h;
}

struct Evaluation {
  TimePoint at;
  std::optional<LeakFinding> finding;
};

// Evaluates every 15 min in [from, to] (offsets from kStart) as the alert rule would:
// with the history up to that instant, and already_firing from the previous evaluation.
std::vector<Evaluation> EvaluateEvery(const History& h, Duration from, Duration to,
                                      const LeakOptions& options = {}, bool hysteresis = true) {
  std::vector<Evaluation> out;
  bool firing = false;
  for (Duration at = from; at <= to; at += minutes(15)) {
    const TimePoint now = kStart + at;
    auto end = std::upper_bound(h.memory.begin(), h.memory.end(), now,
                                [](TimePoint t, const Sample& s) { return t < s.time; });
    auto restarts_end = std::upper_bound(h.restarts.begin(), h.restarts.end(), now);
    std::span<const Sample> memory(h.memory.begin(), end);
    std::span<const TimePoint> restarts(h.restarts.begin(), restarts_end);
    std::optional<LeakFinding> f = DetectLeak(memory, restarts, now, hysteresis && firing, options);
    firing = f.has_value();
    out.push_back({now, f});
  }
  return out;
}

std::optional<TimePoint> FirstFinding(const std::vector<Evaluation>& evals) {
  for (const Evaluation& e : evals) {
    if (e.finding) return e.at;
  }
  return std::nullopt;
}

size_t CountFindings(const std::vector<Evaluation>& evals) {
  return static_cast<size_t>(std::count_if(evals.begin(), evals.end(), [](const Evaluation& e) { return e.finding.has_value(); }));
}

std::string Describe(const Evaluation& e) {
  if (!e.finding) return "none";
  const LeakFinding& f = *e.finding;
  return "at +" + std::to_string(Hours(e.at - kStart)) + "h: " + std::to_string(f.bytes_per_hour / kMiB) +
         " MiB/h floor " + std::to_string(f.floor_bytes / kMiB) + " MiB window " +
         std::to_string(Hours(f.window)) + "h z " + std::to_string(f.mann_kendall_z) + " ttl " +
         (f.time_to_limit ? std::to_string(Hours(*f.time_to_limit)) + "h" : "none");
}

// All findings of a run that must have none, for the failure message.
std::string DescribeFindings(const std::vector<Evaluation>& evals) {
  std::string out;
  size_t shown = 0;
  for (const Evaluation& e : evals) {
    if (e.finding && shown++ < 5) out += Describe(e) + "\n";
  }
  return out;
}

const std::vector<Duration> kSteps = {seconds(30), minutes(5), minutes(30)};

std::string StepName(Duration step) { return std::to_string(step.count() / 1000) + "s sampling"; }

// A non-leak shape must give zero findings at every 15 min evaluation from hour 6 to the
// end, at every sampling interval and for several seeds.
void ExpectNeverFires(Shape shape, const LeakOptions& options = {}) {
  for (Duration step : kSteps) {
    for (uint32_t seed : {1u, 2u, 3u}) {
      shape.step = step;
      shape.seed = seed;
      SCOPED_TRACE(StepName(step) + ", seed " + std::to_string(seed));
      const std::vector<Evaluation> evals = EvaluateEvery(Generate(shape), hours(6), shape.length, options);
      EXPECT_EQ(CountFindings(evals), 0u) << DescribeFindings(evals);
    }
  }
}

// --- Leaks -----------------------------------------------------------------------------

// A leak from 500 MiB after two quiet days, with a GC sawtooth and noise.
Shape LeakAfterQuietDays(double mib_per_hour, Duration step = seconds(30), uint32_t seed = 1) {
  Shape s;
  s.step = step;
  s.seed = seed;
  s.gc_bytes = 60 * kMiB;
  s.leak_bytes_per_hour = mib_per_hour * kMiB;
  s.leak_start = hours(48);
  // Long enough for the floor (500 MiB plus the sawtooth's bottom) to cross the limit.
  s.length = hours(48) + Duration(static_cast<int64_t>((kLimit - s.base_bytes) / s.leak_bytes_per_hour * 3.6e6));
  return s;
}

TEST(LeakDetectorTest, FindsLeaksFromOneToFiveHundredMiBPerHour) {
  struct Case {
    double mib_per_hour;
    Duration leak_age;  // when to look
  };
  for (const Case& c : {Case{1, hours(60)}, Case{10, hours(48)}, Case{100, hours(20)}, Case{500, hours(5)}}) {
    SCOPED_TRACE(std::to_string(c.mib_per_hour) + " MiB/h");
    Shape shape = LeakAfterQuietDays(c.mib_per_hour);
    shape.length = shape.leak_start + c.leak_age;
    const History h = Generate(shape);
    const TimePoint now = kStart + shape.length;
    std::optional<LeakFinding> f = DetectLeak(h.memory, h.restarts, now, false, {});
    ASSERT_TRUE(f.has_value());
    EXPECT_NEAR(f->bytes_per_hour / kMiB, c.mib_per_hour, 0.2 * c.mib_per_hour);
    const double true_floor = shape.base_bytes + shape.leak_bytes_per_hour * Hours(c.leak_age);
    EXPECT_NEAR(f->floor_bytes, true_floor, 0.05 * true_floor + 20 * kMiB);
    EXPECT_GE(f->mann_kendall_z, 3.0);
    ASSERT_TRUE(f->time_to_limit.has_value());
    EXPECT_NEAR(Hours(*f->time_to_limit), (kLimit - true_floor) / shape.leak_bytes_per_hour,
                0.25 * (kLimit - true_floor) / shape.leak_bytes_per_hour);
  }
}

TEST(LeakDetectorTest, FirstFindingComesTwelveHoursBeforeTheLimit) {
  for (double rate : {10.0, 25.0, 50.0, 100.0}) {
    for (uint32_t seed : {1u, 2u}) {
      SCOPED_TRACE(std::to_string(rate) + " MiB/h, seed " + std::to_string(seed));
      const Shape shape = LeakAfterQuietDays(rate, seconds(30), seed);
      const std::vector<Evaluation> evals = EvaluateEvery(Generate(shape), hours(6), shape.length);
      const TimePoint crossing = kStart + shape.length;
      const std::optional<TimePoint> first = FirstFinding(evals);
      ASSERT_TRUE(first.has_value());
      EXPECT_GE(*first, kStart + shape.leak_start) << "a finding before the leak started";
      EXPECT_LE(*first, crossing - hours(12)) << "found " << Hours(crossing - *first) << " h before the crossing";
      // Once found, the alert holds until the crossing.
      for (const Evaluation& e : evals) {
        if (e.at >= *first) {
          EXPECT_TRUE(e.finding.has_value()) << "dropped at +" << Hours(e.at - kStart) << " h";
        }
      }
    }
  }
}

TEST(LeakDetectorTest, FastLeakIsCaughtBeforeItCrossesAndTurnsCritical) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const Shape shape = LeakAfterQuietDays(500, seconds(30), seed);
    const std::vector<Evaluation> evals = EvaluateEvery(Generate(shape), hours(6), shape.length);
    const std::optional<TimePoint> first = FirstFinding(evals);
    ASSERT_TRUE(first.has_value());
    EXPECT_LE(*first, kStart + shape.length - hours(1));
    // By the time fewer than 6 h remain, the finding is critical.
    const Evaluation& last = evals.back();
    ASSERT_TRUE(last.finding.has_value());
    EXPECT_TRUE(last.finding->critical) << Describe(last);
  }
}

TEST(LeakDetectorTest, SlowLeakOfOneMiBPerHourIsFoundFarFromTheLimit) {
  Shape shape = LeakAfterQuietDays(1);
  shape.length = hours(48 + 72);
  const std::vector<Evaluation> evals = EvaluateEvery(Generate(shape), hours(48), shape.length);
  const std::optional<TimePoint> first = FirstFinding(evals);
  ASSERT_TRUE(first.has_value());
  // The 48 h window needs most of its span on the leak.
  EXPECT_LE(*first, kStart + shape.leak_start + hours(60));
  const Evaluation& last = evals.back();
  ASSERT_TRUE(last.finding.has_value());
  EXPECT_FALSE(last.finding->critical);
  EXPECT_GT(*last.finding->time_to_limit, hours(24 * 100));
  EXPECT_EQ(last.finding->window, hours(48));
}

TEST(LeakDetectorTest, LeakResumingAfterEveryRestartIsFound) {
  for (bool reported : {true, false}) {
    SCOPED_TRACE(reported ? "restarts reported" : "restarts inferred from floor drops");
    // PM2's max_memory_restart at 2 GiB resets the process every ~15 h; the leak resumes.
    Shape shape;
    shape.gc_bytes = 60 * kMiB;
    shape.base_bytes = 400 * kMiB;
    shape.leak_bytes_per_hour = 100 * kMiB;
    shape.restart_above_bytes = 2048 * kMiB;
    shape.report_restarts = reported;
    shape.length = hours(120);
    const History h = Generate(shape);
    ASSERT_GE(h.actual_restarts.size(), 5u);
    const std::vector<Evaluation> evals = EvaluateEvery(h, hours(48), shape.length);
    // The 48 h window fires throughout, whatever the phase of the restart cycle.
    EXPECT_EQ(CountFindings(evals), evals.size());
    for (const Evaluation& e : evals) {
      if (!e.finding) continue;
      EXPECT_NEAR(e.finding->bytes_per_hour / kMiB, 100, 20) << Describe(e);
      // Never projects from the pre-restart level.
      EXPECT_LT(e.finding->floor_bytes, 2100 * kMiB) << Describe(e);
    }
  }
}

TEST(LeakDetectorTest, SlowLeakWithPeriodicRestartsIsFound) {
  for (bool reported : {true, false}) {
    SCOPED_TRACE(reported ? "restarts reported" : "restarts inferred from floor drops");
    Shape shape;
    shape.gc_bytes = 40 * kMiB;
    shape.base_bytes = 800 * kMiB;
    shape.leak_bytes_per_hour = 20 * kMiB;
    shape.restart_every = hours(12);
    shape.report_restarts = reported;
    shape.length = hours(120);
    const std::vector<Evaluation> evals = EvaluateEvery(Generate(shape), hours(72), shape.length);
    EXPECT_GE(CountFindings(evals), evals.size() * 9 / 10);
  }
}

TEST(LeakDetectorTest, LeakThatStartsLateIsFound) {
  Shape shape;
  shape.gc_bytes = 60 * kMiB;
  shape.base_bytes = 900 * kMiB;
  shape.leak_bytes_per_hour = 50 * kMiB;
  shape.leak_start = hours(70);
  shape.length = hours(110);
  const std::vector<Evaluation> evals = EvaluateEvery(Generate(shape), hours(6), shape.length);
  const std::optional<TimePoint> first = FirstFinding(evals);
  ASSERT_TRUE(first.has_value());
  EXPECT_GE(*first, kStart + shape.leak_start);
  EXPECT_LE(*first, kStart + shape.leak_start + hours(24));
  EXPECT_TRUE(evals.back().finding.has_value());
}

TEST(LeakDetectorTest, WorksAtSamplingIntervalsFromThirtySecondsToThirtyMinutes) {
  for (Duration step : kSteps) {
    for (double rate : {10.0, 100.0}) {
      SCOPED_TRACE(StepName(step) + ", " + std::to_string(rate) + " MiB/h");
      const Shape shape = LeakAfterQuietDays(rate, step);
      const std::vector<Evaluation> evals = EvaluateEvery(Generate(shape), hours(6), shape.length);
      const std::optional<TimePoint> first = FirstFinding(evals);
      ASSERT_TRUE(first.has_value());
      EXPECT_GE(*first, kStart + shape.leak_start);
      EXPECT_LE(*first, kStart + shape.length - hours(12));
    }
  }
  for (Duration step : kSteps) {
    SCOPED_TRACE(StepName(step) + ", 500 MiB/h");
    const Shape shape = LeakAfterQuietDays(500, step);
    const std::optional<TimePoint> first = FirstFinding(EvaluateEvery(Generate(shape), hours(6), shape.length));
    ASSERT_TRUE(first.has_value());
    EXPECT_LT(*first, kStart + shape.length);
  }
}

// --- Non-leaks: zero findings at every evaluation --------------------------------------

// One row per shape that is not a leak; each must give zero findings at every evaluation
// (ExpectNeverFires: every sampling interval, several seeds).
struct NeverFiresCase {
  std::string name;  // the test's name: NonLeaks/LeakDetectorNeverFiresTest.NeverFires/<name>
  Shape shape;
};

// Every non-leak shape below shares these: five days of one process.
Shape FiveDays(double base_mib, double gc_mib = 0) {
  Shape s;
  s.base_bytes = base_mib * kMiB;
  s.gc_bytes = gc_mib * kMiB;
  s.length = hours(120);
  return s;
}

std::vector<NeverFiresCase> NeverFiresCases() {
  std::vector<NeverFiresCase> cases;
  {
    Shape s = FiveDays(1200);
    s.noise_bytes = 25 * kMiB;
    cases.push_back({"FlatWithNoise", s});
  }
  {
    Shape s = FiveDays(900, 250);
    s.gc_period = minutes(20);
    cases.push_back({"GcSawtooth", s});
  }
  // A one-time step up (cache warm-up) at hour 50.
  for (int step_mib : {150, 600, 1500}) {
    Shape s = FiveDays(1000, 60);
    s.step_bytes = step_mib * kMiB;
    s.step_at = hours(50);
    cases.push_back({"OneTimeStepUpOf" + std::to_string(step_mib) + "MiB", s});
  }
  // Growth that levels off: +1 GiB approached exponentially, 95 % reached after 1.5 h to
  // 7.5 h. (With a time constant of 3 h or more the steep start of a 1 GiB rise can fire
  // briefly: see docs/memory-leak-detection.md.)
  for (int tau_minutes : {30, 90, 150}) {
    Shape s = FiveDays(800, 60);
    s.level_off_bytes = 1000 * kMiB;
    s.level_off_at = hours(50);
    s.level_off_tau = minutes(tau_minutes);
    cases.push_back({"GrowthThatLevelsOffWithTau" + std::to_string(tau_minutes) + "Min", s});
  }
  // A daily cycle, far from the limit and near it: at 2.6 GiB ± 20 % the rising half
  // climbs ~110 MiB/h towards 3.1 GiB, which a 6 h window alone would project across 4 GiB
  // within a day.
  for (int base_mib : {1000, 2600}) {
    Shape s = FiveDays(base_mib, 60);
    s.daily_fraction = 0.2;
    cases.push_back({"DailyCycleAt" + std::to_string(base_mib) + "MiB", s});
  }
  // Restarts every ~14 h; after each the memory takes about an hour to warm back up (from
  // 30 %, time constant 20 min), a climb that repeats after every restart.
  for (bool reported : {true, false}) {
    Shape s = FiveDays(1100, 60);
    s.restart_every = hours(14);
    s.warmup_tau = minutes(20);
    s.report_restarts = reported;
    cases.push_back({std::string("SlowRestarts") + (reported ? "Reported" : "Inferred"), s});
  }
  return cases;
}

class LeakDetectorNeverFiresTest : public ::testing::TestWithParam<NeverFiresCase> {};

TEST_P(LeakDetectorNeverFiresTest, NeverFires) { ExpectNeverFires(GetParam().shape); }

INSTANTIATE_TEST_SUITE_P(NonLeaks, LeakDetectorNeverFiresTest, ::testing::ValuesIn(NeverFiresCases()),
                         [](const ::testing::TestParamInfo<NeverFiresCase>& row) { return row.param.name; });

TEST(LeakDetectorTest, TinyStepsAfterALongTiedRunNeverFire) {
  // Memory reported as exactly the same number for hours, then one page more: the
  // Mann–Kendall tie trap (RobustTrendTest.MannKendallMisreadsALongTiedRun).
  for (Duration step : kSteps) {
    SCOPED_TRACE(StepName(step));
    History h;
    for (Duration at{}; at <= hours(96); at += step) {
      double v = 700 * kMiB;
      if (at >= hours(40)) v += 4096;
      if (at >= hours(80)) v += 4096;
      h.memory.push_back({kStart + at, v});
    }
    const std::vector<Evaluation> evals = EvaluateEvery(h, hours(6), hours(96));
    EXPECT_EQ(CountFindings(evals), 0u) << DescribeFindings(evals);
  }
}

// --- Severity, hysteresis, inputs --------------------------------------------------------

TEST(LeakDetectorTest, CriticalExactlyWhenTimeToLimitIsUnderTheHorizon) {
  // 200 MiB/h from 500 MiB crosses at +18 h; evaluate the whole run and check the flag
  // against the projection at every finding.
  const Shape shape = LeakAfterQuietDays(200);
  const History h = Generate(shape);
  for (Duration horizon : {hours(6), hours(10)}) {
    LeakOptions options;
    options.critical_horizon = horizon;
    const std::vector<Evaluation> evals = EvaluateEvery(h, shape.leak_start, shape.length, options);
    size_t critical = 0;
    for (const Evaluation& e : evals) {
      if (!e.finding) continue;
      ASSERT_TRUE(e.finding->time_to_limit.has_value());
      EXPECT_EQ(e.finding->critical, *e.finding->time_to_limit < horizon) << Describe(e);
      critical += e.finding->critical ? 1 : 0;
    }
    EXPECT_GT(critical, 0u);
    // The last evaluation is at the crossing.
    ASSERT_TRUE(evals.back().finding.has_value());
    EXPECT_TRUE(evals.back().finding->critical);
    EXPECT_LT(*evals.back().finding->time_to_limit, hours(2));
  }
}

TEST(LeakDetectorTest, TimeToLimitIsZeroOnceAboveTheLimit) {
  Shape shape = LeakAfterQuietDays(100);
  shape.base_bytes = 3000 * kMiB;
  shape.length = shape.leak_start + hours(24);  // floor ends at ~5.3 GiB
  const History h = Generate(shape);
  std::optional<LeakFinding> f = DetectLeak(h.memory, h.restarts, kStart + shape.length, false, {});
  ASSERT_TRUE(f.has_value());
  EXPECT_GT(f->floor_bytes, kLimit);
  EXPECT_EQ(f->time_to_limit, Duration::zero());
  EXPECT_TRUE(f->critical);
}

TEST(LeakDetectorTest, AlreadyFiringOnlyRelaxesTheThresholds) {
  // A noisy slow leak near the thresholds: at every instant, whatever fires fresh also
  // holds, and the stateful run flaps no more than the stateless one.
  Shape shape;
  shape.base_bytes = 900 * kMiB;
  shape.noise_bytes = 12 * kMiB;
  shape.gc_bytes = 150 * kMiB;
  shape.gc_period = minutes(25);
  shape.leak_bytes_per_hour = 3 * kMiB;
  shape.step = minutes(5);
  shape.length = hours(168);
  const History h = Generate(shape);
  size_t fresh_count = 0;
  for (Duration at = hours(48); at <= shape.length; at += minutes(15)) {
    const TimePoint now = kStart + at;
    auto end = std::upper_bound(h.memory.begin(), h.memory.end(), now,
                                [](TimePoint t, const Sample& s) { return t < s.time; });
    std::span<const Sample> memory(h.memory.begin(), end);
    const bool fresh = DetectLeak(memory, {}, now, false, {}).has_value();
    const bool held = DetectLeak(memory, {}, now, true, {}).has_value();
    if (fresh) {
      EXPECT_TRUE(held) << "at +" << Hours(at) << " h";
    }
    fresh_count += fresh ? 1 : 0;
  }
  EXPECT_GT(fresh_count, 0u);
  auto flips = [](const std::vector<Evaluation>& evals) {
    size_t n = 0;
    for (size_t i = 1; i < evals.size(); ++i) n += evals[i].finding.has_value() != evals[i - 1].finding.has_value();
    return n;
  };
  const size_t with = flips(EvaluateEvery(h, hours(48), shape.length, {}, true));
  const size_t without = flips(EvaluateEvery(h, hours(48), shape.length, {}, false));
  EXPECT_LE(with, without);
  EXPECT_LE(with, 2u);
}

TEST(LeakDetectorTest, TooLittleHistoryGivesNothing) {
  EXPECT_FALSE(DetectLeak({}, {}, kStart, false, {}).has_value());
  // Three hours of a fast leak: no window is covered yet.
  Shape shape = LeakAfterQuietDays(300);
  shape.leak_start = {};
  shape.length = hours(3);
  const History h = Generate(shape);
  EXPECT_FALSE(DetectLeak(h.memory, h.restarts, kStart + shape.length, false, {}).has_value());
  // No usable window.
  LeakOptions options;
  options.windows = {hours(72)};
  const Shape leak = LeakAfterQuietDays(100);
  const History long_history = Generate(leak);
  EXPECT_FALSE(DetectLeak(long_history.memory, {}, kStart + leak.length, false, options).has_value());
}

TEST(LeakDetectorTest, IgnoresSamplesAfterNowAndUnusableValues) {
  Shape shape = LeakAfterQuietDays(100);
  shape.length = shape.leak_start + hours(20);
  History h = Generate(shape);
  const TimePoint now = kStart + shape.length;
  const std::optional<LeakFinding> clean = DetectLeak(h.memory, {}, now, false, {});
  ASSERT_TRUE(clean.has_value());
  // Non-finite and zero values (a stopped process) are skipped, later samples ignored.
  std::vector<Sample> dirty = h.memory;
  for (size_t i = 7; i < dirty.size(); i += 97) dirty[i].value = std::nan("");
  for (size_t i = 11; i < dirty.size(); i += 131) dirty[i].value = 0;
  for (int i = 1; i <= 100; ++i) dirty.push_back({now + minutes(i), 1.0});
  const std::optional<LeakFinding> f = DetectLeak(dirty, {}, now, false, {});
  ASSERT_TRUE(f.has_value());
  EXPECT_NEAR(f->bytes_per_hour, clean->bytes_per_hour, 0.02 * clean->bytes_per_hour);
  EXPECT_EQ(f->window, clean->window);
}

// --- The least-squares peer --------------------------------------------------------------

// ---- a process's first day ----

TEST(LeakDetectorTest, SteadyLeakInAProcessFirstDayIsAWarningThatNamesTheCycle) {
  // The case: 137 MB/h from 300 MB over 12 h at 30 s, 1.6 % noise; and 30 MiB/h
  // with a GC sawtooth, from its first sample.
  Shape fast;
  fast.length = hours(12);
  fast.base_bytes = 300e6;
  fast.noise_bytes = 0.016 * 300e6;
  fast.leak_bytes_per_hour = 137e6;
  Shape slow = fast;
  slow.base_bytes = 800 * kMiB;
  slow.noise_bytes = 4 * kMiB;
  slow.gc_bytes = 60 * kMiB;
  slow.leak_bytes_per_hour = 30 * kMiB;
  slow.length = hours(20);
  for (const Shape& shape : {fast, slow}) {
    const std::vector<Evaluation> evals = EvaluateEvery(Generate(shape), hours(6), shape.length);
    const auto first = FirstFinding(evals);
    ASSERT_TRUE(first) << shape.leak_bytes_per_hour / kMiB << " MiB/h";
    EXPECT_LE(*first, kStart + hours(12));
    const Evaluation& last = evals.back();
    ASSERT_TRUE(last.finding);
    EXPECT_TRUE(last.finding->cycle_unexcluded);
    EXPECT_FALSE(last.finding->critical) << Describe(last);
  }
}

TEST(LeakDetectorTest, YoungLeakNearTheLimitIsCritical) {
  Shape s;
  s.length = hours(14);
  s.base_bytes = 1500 * kMiB;
  s.leak_bytes_per_hour = 150 * kMiB;
  const std::vector<Evaluation> evals = EvaluateEvery(Generate(s), hours(6), s.length);
  ASSERT_TRUE(evals.back().finding);
  EXPECT_TRUE(evals.back().finding->critical) << Describe(evals.back());  // about 3 h from 4 GiB
}

TEST(LeakDetectorTest, YoungWarmUpAndBoundedGrowthStayQuiet) {
  // A fresh process filling caches for 30–90 minutes, then flat; growth that decelerates
  // toward a plateau; both over their first day.
  for (Duration tau : {Duration(minutes(20)), Duration(minutes(45)), Duration(hours(4))}) {
    Shape s;
    s.length = hours(24);
    s.gc_bytes = 40 * kMiB;
    s.level_off_bytes = 800 * kMiB;
    s.level_off_tau = tau;
    ExpectNeverFires(s);
  }
}

TEST(LeakDetectorTest, AFirstDayWarningOnADailyCycleResolvesOnceADayOfHistoryShowsIt) {
  for (double base : {1000.0, 2600.0}) {
    Shape s;
    s.length = hours(72);
    s.base_bytes = base * kMiB;
    s.daily_fraction = 0.2;
    s.gc_bytes = 40 * kMiB;
    const std::vector<Evaluation> evals = EvaluateEvery(Generate(s), hours(6), s.length);
    for (const Evaluation& e : evals) {
      if (!e.finding) continue;
      EXPECT_LT(e.at, kStart + hours(26)) << base << " MiB: " << Describe(e);
      EXPECT_TRUE(e.finding->cycle_unexcluded) << Describe(e);
    }
  }
}

// ---- the minutes horizon ----

// Samples every `step` over [0, length) of f(seconds since kStart), plus Gaussian noise.
template <typename F>
std::vector<Sample> Sampled(Duration step, Duration length, F f, double noise_bytes = 2 * kMiB, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0, noise_bytes);
  std::vector<Sample> out;
  for (Duration at{}; at < length; at += step) {
    out.push_back({kStart + at, f(std::chrono::duration<double>(at).count()) + noise(rng)});
  }
  return out;
}

// The first time from `from` (every `step`) DetectFastLeak finds something.
std::optional<std::pair<Duration, LeakFinding>> FirstFast(std::span<const Sample> memory, Duration from, Duration to,
                                                          Duration step) {
  for (Duration at = from; at < to; at += step) {
    auto end = std::partition_point(memory.begin(), memory.end(), [&](const Sample& s) { return s.time <= kStart + at; });
    auto f = DetectFastLeak(memory.first(static_cast<size_t>(end - memory.begin())), {}, kStart + at, LeakOptions{});
    if (f) return std::pair{at, *f};
  }
  return std::nullopt;
}

TEST(LeakDetectorTest, MinuteScaleLeakIsCriticalWithinThreeIntervalsWhateverTheHistory) {
  // The live case: about 25 MB/s under PM2 at 5 s intervals, after 10 quiet minutes and
  // from the process's first sample.
  for (Duration quiet : {Duration(minutes(10)), Duration(0)}) {
    const double onset = std::chrono::duration<double>(quiet).count();
    auto memory = Sampled(seconds(5), quiet + minutes(3), [&](double t) {
      return 150 * kMiB + std::max(0.0, t - onset) * 25e6;
    });
    auto found = FirstFast(memory, Duration(0), quiet + minutes(3), seconds(5));
    ASSERT_TRUE(found) << "quiet " << quiet.count();
    EXPECT_LE(found->first - quiet, seconds(60));
    EXPECT_TRUE(found->second.critical);
    EXPECT_NEAR(found->second.bytes_per_hour / 3600, 25e6, 1e6);
    // The crossing at that pace, from where it is.
    const double eta = (kLimit - found->second.floor_bytes) / 25e6;
    EXPECT_NEAR(std::chrono::duration<double>(*found->second.time_to_limit).count(), eta, 10);
  }
  // 5 MB/s at the default 30 s: by the fourth sample of the climb (three intervals).
  auto slow = Sampled(seconds(30), hours(2), [](double t) { return 500 * kMiB + std::max(0.0, t - 3600) * 5e6; });
  auto found = FirstFast(slow, minutes(30), hours(2), seconds(30));
  ASSERT_TRUE(found);
  EXPECT_LE(found->first, hours(1) + seconds(90));
}

TEST(LeakDetectorTest, MinuteScaleWarmUpSawtoothAndSlowLeaksAreNotFast) {
  // +300 MB in 20 s, then flat.
  auto warm_up = Sampled(seconds(5), minutes(30), [](double t) {
    return 150 * kMiB + std::clamp(t - 600, 0.0, 20.0) * 15e6;
  });
  EXPECT_FALSE(FirstFast(warm_up, Duration(0), minutes(30), seconds(5)));
  // +300 MB with a 1-minute time constant: fast, decelerating.
  auto curve = Sampled(seconds(5), minutes(30), [](double t) {
    return 150 * kMiB + (t > 600 ? 300e6 * (1 - std::exp(-(t - 600) / 60)) : 0.0);
  });
  EXPECT_FALSE(FirstFast(curve, Duration(0), minutes(30), seconds(5)));
  // A GC sawtooth near the limit: 600 MiB climbs every 10 minutes from 3 GiB.
  auto saw = Sampled(seconds(30), hours(3), [](double t) { return 3072 * kMiB + std::fmod(t, 600) / 600 * 600 * kMiB; });
  EXPECT_FALSE(FirstFast(saw, minutes(15), hours(3), seconds(30)));
  // 500 MiB/h reaches 4 GiB from 1 GiB in six hours: the hours horizon's business.
  auto hourly = Sampled(seconds(30), hours(3), [](double t) { return 1024 * kMiB + t / 3600 * 500 * kMiB; });
  EXPECT_FALSE(FirstFast(hourly, Duration(0), hours(3), minutes(1)));
  // A crash at the limit and a restart: the fresh run is judged on its own samples.
  auto loop = Sampled(seconds(5), minutes(10), [](double t) { return 150 * kMiB + std::fmod(t, 200.0) * 20e6; });
  auto found = FirstFast(loop, minutes(4), minutes(10), seconds(5));
  ASSERT_TRUE(found) << "a fast leak that restarts at the limit is still a fast leak";
}

// ---- the steady horizon ----

// Every DetectSteadyLeak finding from `from` to `to` (every `step`), evaluated as the rule
// does: with the hold thresholds while the previous evaluation found something.
std::vector<std::pair<Duration, LeakFinding>> Steady(std::span<const Sample> memory, Duration from, Duration to,
                                                     Duration step, std::span<const TimePoint> restarts = {}) {
  std::vector<std::pair<Duration, LeakFinding>> out;
  bool firing = false;
  for (Duration at = from; at < to; at += step) {
    auto end = std::partition_point(memory.begin(), memory.end(), [&](const Sample& s) { return s.time <= kStart + at; });
    auto f = DetectSteadyLeak(memory.first(static_cast<size_t>(end - memory.begin())), restarts, kStart + at, firing,
                              LeakOptions{});
    firing = f.has_value();
    if (f) out.emplace_back(at, *f);
  }
  return out;
}

TEST(LeakDetectorTest, SteadyLeakOfGigabytesPerHourIsAWarningWithinMinutes) {
  constexpr double kRate = 2.5 * 1024 * kMiB / 3600;  // 2.5 GiB/h in bytes per second
  struct Case {
    std::string name;
    Duration step;
    Duration quiet;     // flat history before the leak
    double saw_bytes;   // a GC sawtooth on top (every 9 s)
  };
  const Case cases[] = {
      {"from the first sample, PM2 every 3 s (the demo)", seconds(3), Duration(0), 0},
      {"with a 4 MiB GC sawtooth, every 3 s", seconds(3), Duration(0), 4 * kMiB},
      {"after 30 quiet minutes, every 5 s", seconds(5), minutes(30), 0},
      {"after 2 quiet hours, every 30 s", seconds(30), hours(2), 0},
  };
  for (const Case& c : cases) {
    const double onset = std::chrono::duration<double>(c.quiet).count();
    auto memory = Sampled(c.step, c.quiet + minutes(25), [&](double t) {
      return 300 * kMiB + std::max(0.0, t - onset) * kRate + c.saw_bytes * std::fmod(t, 9.0) / 9;
    });
    auto found = Steady(memory, c.quiet, c.quiet + minutes(25), c.step);
    ASSERT_FALSE(found.empty()) << c.name;
    // Within 90 s at 3-5 s sampling; within a few minutes at 30 s.
    EXPECT_LE(found.front().first - c.quiet, c.step <= seconds(5) ? seconds(90) : minutes(5)) << c.name;
    for (const auto& [at, f] : found) {
      EXPECT_FALSE(f.critical) << c.name;
      EXPECT_NEAR(f.bytes_per_hour / 3600 / kRate, 1.0, 0.25) << c.name << " at " << Hours(at) * 60 << " min";
    }
    // Once found, it stays found until the crossing is within the hour (20 min in: 1.1 h away).
    const Duration twenty = c.quiet + minutes(20);
    const bool at_twenty = std::any_of(found.begin(), found.end(), [&](const auto& p) {
      return p.first >= twenty && p.first < twenty + c.step;
    });
    EXPECT_TRUE(at_twenty) << c.name << ": not firing 20 minutes into the leak";
    // The ETA is the actual crossing's within a third (the first window to pass may still
    // hold a little of the quiet history before the leak).
    const auto& [at, f] = found.front();
    const double actual = (kLimit - 300 * kMiB) / kRate - std::chrono::duration<double>(at - c.quiet).count();
    EXPECT_NEAR(std::chrono::duration<double>(*f.time_to_limit).count() / actual, 1.0, 0.35) << c.name;
  }
}

TEST(LeakDetectorTest, SteadyHorizonIgnoresWarmUpsSpikesSawtoothsAndSlowLeaks) {
  struct Case {
    std::string name;
    Duration step;
    Duration length;
    std::function<double(double)> memory;  // bytes at second t
    Duration judged_from;                  // evaluated from here to `length`
  };
  const Case cases[] = {
      // +300 MB over 2 minutes, then flat: during the climb the crossing is within the
      // hour (the minutes horizon's), after it the newer half is flat.
      {"linear warm-up of 300 MB in 2 min", seconds(2), minutes(30),
       [](double t) { return 150 * kMiB + std::clamp(t - 600, 0.0, 120.0) * 2.5e6; }, Duration(0)},
      // +300 MB with a 2-minute time constant: decelerating to its plateau.
      {"warm-up of 300 MB, time constant 2 min", seconds(2), minutes(30),
       [](double t) { return 150 * kMiB + (t > 600 ? 300e6 * (1 - std::exp(-(t - 600) / 120)) : 0.0); }, Duration(0)},
      // A climb at the leak's pace that levels off after 2 minutes: found while it climbs
      // (a linear warm-up that slow reads as a leak), gone once it is flat.
      {"2.5 GiB/h for 2 min, then flat (after the plateau)", seconds(3), minutes(30),
       [](double t) { return 300 * kMiB + std::clamp(t - 600, 0.0, 120.0) * 2.5 * 1024 * kMiB / 3600; },
       minutes(14)},
      // +500 MB for 8 s.
      {"8 s spike", seconds(2), minutes(30),
       [](double t) { return 300 * kMiB + (t >= 900 && t < 908 ? 500e6 : 0.0); }, Duration(0)},
      // A GC sawtooth near the limit: 300 MiB climbs every 10 minutes from 1 GiB
      // (1.8 GiB/h while it climbs), judged once an earlier peak is in the history.
      {"GC sawtooth of 300 MiB every 10 min", seconds(10), hours(3),
       [](double t) { return 1024 * kMiB + std::fmod(t, 600) / 600 * 300 * kMiB; }, minutes(15)},
      // 500 MiB/h from 1 GiB: the limit is six hours away, the hours horizon's business.
      {"500 MiB/h from 1 GiB", seconds(30), hours(2),
       [](double t) { return 1024 * kMiB + t / 3600 * 500 * kMiB; }, Duration(0)},
  };
  for (const Case& c : cases) {
    auto memory = Sampled(c.step, c.length, c.memory);
    auto found = Steady(memory, c.judged_from, c.length, c.step);
    EXPECT_TRUE(found.empty()) << c.name << ": found at " << Hours(found.front().first) * 60 << " min, "
                               << found.front().second.bytes_per_hour / kMiB << " MiB/h";
  }
  // The climb itself, at the leak's pace, is found while it lasts and not 2 minutes after.
  auto levels_off = Sampled(seconds(3), minutes(30), cases[2].memory);
  auto found = Steady(levels_off, Duration(0), minutes(30), seconds(3));
  ASSERT_FALSE(found.empty());
  EXPECT_LE(found.back().first, minutes(12) + minutes(2));
}

TEST(LeakDetectorTest, SteadyHorizonWaitsOutTheWarmUpAfterARestart) {
  // PM2 restarted the process at minute 10; it climbs at 2.5 GiB/h for 20 minutes: a
  // warm-up until restart_settle (2 h) says otherwise.
  auto memory = Sampled(seconds(5), minutes(30), [](double t) {
    return t < 600 ? 900 * kMiB : 300 * kMiB + (t - 600) * 2.5 * 1024 * kMiB / 3600;
  });
  const TimePoint restart = kStart + minutes(10);
  EXPECT_TRUE(Steady(memory, minutes(10), minutes(30), seconds(5), std::span(&restart, 1)).empty());
  // Unreported, the fall to a third is a restart too.
  EXPECT_TRUE(Steady(memory, minutes(10), minutes(30), seconds(5)).empty());
}

TEST(LeakDetectorTest, PredictLinearFitsAStraightLine) {
  std::vector<Sample> memory;
  for (int i = 0; i <= 720; ++i) memory.push_back({kStart + seconds(30 * i), 3000 * kMiB + i * 0.5 * kMiB});
  const TimePoint now = kStart + hours(6);
  // 60 MiB/h from 3360 MiB: 736 MiB to go, 12.27 h.
  const std::optional<LeakFinding> f = PredictLinearLeak(memory, now, hours(6), hours(24), kLimit);
  ASSERT_TRUE(f.has_value());
  EXPECT_NEAR(f->bytes_per_hour / kMiB, 60, 1e-6);
  EXPECT_NEAR(f->floor_bytes / kMiB, 3360, 1e-6);
  EXPECT_NEAR(Hours(*f->time_to_limit), 736.0 / 60, 1e-3);
  EXPECT_FALSE(PredictLinearLeak(memory, now, hours(6), hours(12), kLimit).has_value());
  EXPECT_FALSE(PredictLinearLeak(std::span<const Sample>(memory).first(1), now, hours(6), hours(24), kLimit));
}

TEST(LeakDetectorTest, StepUpFoolsPredictLinearButNotDetectLeak) {
  // A cache warming up at 2.4 GiB adds 900 MiB in one go. Least squares over 6 h reads
  // the step as a steep slope and projects it past 4 GiB; DetectLeak sees flat thirds.
  Shape shape;
  shape.base_bytes = 2400 * kMiB;
  shape.gc_bytes = 60 * kMiB;
  shape.step_bytes = 900 * kMiB;
  shape.step_at = hours(50);
  shape.length = hours(72);
  const History h = Generate(shape);
  size_t predict_linear = 0;
  for (const Evaluation& e : EvaluateEvery(h, hours(48), shape.length)) {
    EXPECT_FALSE(e.finding.has_value()) << Describe(e);
    auto end = std::upper_bound(h.memory.begin(), h.memory.end(), e.at,
                                [](TimePoint t, const Sample& s) { return t < s.time; });
    predict_linear += PredictLinearLeak({h.memory.begin(), end}, e.at, hours(6), hours(24), kLimit) ? 1 : 0;
  }
  EXPECT_GT(predict_linear, 8u);  // fires for hours after the step
}

TEST(LeakDetectorTest, SlowLeakFarFromTheLimitIsMissedByPredictLinear) {
  // 10 MiB/h at 1.2 GiB: 290 h from the limit. predict_linear's 24 h horizon never sees
  // it; DetectLeak reports it with its projection, not critical.
  Shape shape = LeakAfterQuietDays(10);
  shape.length = shape.leak_start + hours(72);
  const History h = Generate(shape);
  const TimePoint now = kStart + shape.length;
  EXPECT_FALSE(PredictLinearLeak(h.memory, now, hours(6), hours(24), kLimit).has_value());
  const std::optional<LeakFinding> f = DetectLeak(h.memory, h.restarts, now, false, {});
  ASSERT_TRUE(f.has_value());
  EXPECT_NEAR(f->bytes_per_hour / kMiB, 10, 2);
  EXPECT_FALSE(f->critical);
  EXPECT_GT(*f->time_to_limit, hours(200));
}

TEST(LeakDetectorTest, SlowGcSawtoothFoolsPredictLinearButNotDetectLeak) {
  // A big heap near 3 GiB that a major collection (or a batch job) resets every ~3 h:
  // each 700 MiB climb spans half of a 6 h least-squares fit, which then projects 4 GiB
  // within a day. Bucket minima cannot flatten a cycle longer than a bucket either;
  // DetectLeak rejects it because the floor falls back by a whole climb (drawdown).
  Shape shape;
  shape.base_bytes = 2800 * kMiB;
  shape.gc_bytes = 700 * kMiB;
  shape.gc_period = hours(3);
  shape.length = hours(96);
  const History h = Generate(shape);
  size_t predict_linear = 0;
  for (const Evaluation& e : EvaluateEvery(h, hours(6), shape.length)) {
    EXPECT_FALSE(e.finding.has_value()) << Describe(e);
    auto end = std::upper_bound(h.memory.begin(), h.memory.end(), e.at,
                                [](TimePoint t, const Sample& s) { return t < s.time; });
    predict_linear += PredictLinearLeak({h.memory.begin(), end}, e.at, hours(6), hours(24), kLimit) ? 1 : 0;
  }
  EXPECT_GT(predict_linear, 10u);
}

}  // namespace
}  // namespace offmon::analyzer
