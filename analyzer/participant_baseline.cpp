#include "offmon/analyzer/participant_baseline.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include <fmt/format.h>

#include "offmon/analyzer/robust_trend.h"
#include "offmon/common/format.h"

namespace offmon::analyzer {
namespace {

constexpr int64_t kDayMs = 24 * 3'600'000;

// Zero-participant epochs belong to the ZeroParticipants alert; NaN/Inf are not counts.
bool Usable(double value, const BaselineOptions& options) {
  return std::isfinite(value) && (value > 0 || (options.include_zero && value == 0));
}

int64_t TimeOfDayMs(TimePoint t) {
  const int64_t ms = ToMillis(t) % kDayMs;
  return ms < 0 ? ms + kDayMs : ms;
}

// Distance between two times of day on the 24 h circle: 23:30 and 00:30 are 1 h apart.
int64_t CircularDistanceMs(int64_t a, int64_t b) {
  const int64_t d = std::abs(a - b);
  return std::min(d, kDayMs - d);
}

// Working space for the values of one window. The default window holds at most 336 hourly
// epochs, so the common case stays on the stack; the detector calls ChannelBaseline once
// per judged epoch, every evaluation, and should not touch the allocator for it.
class Scratch {
 public:
  explicit Scratch(size_t capacity) {
    if (capacity > inline_.size()) heap_.resize(capacity);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  double* data() { return heap_.empty() ? inline_.data() : heap_.data(); }

 private:
  std::array<double, 512> inline_;  // written before read; left uninitialised on purpose
  std::vector<double> heap_;
};

// Median of v[0, n), n > 0, reordering v. nth_element is linear; a full sort is not needed.
double MedianInPlace(double* v, size_t n) {
  const size_t mid = n / 2;
  std::nth_element(v, v + mid, v + n);
  if (n % 2 == 1) return v[mid];
  // nth_element leaves the lower half in [0, mid); its maximum is the other middle value.
  return (*std::max_element(v, v + mid) + v[mid]) / 2;
}

double EffectiveSpread(const Baseline& b) {
  // A count of N independent arrivals has Poisson noise sqrt(N). The MAD of a small,
  // integer-valued channel can collapse to 0 or 1 (ten epochs of exactly 3 people); without
  // this floor any dip of such a channel would look like many sigmas.
  return std::max(b.spread, std::sqrt(b.median));
}

bool SignificantlyBelow(double value, const Baseline& b, const DropOptions& o) {
  return value < b.median - o.min_sigmas * EffectiveSpread(b);
}

// A single observation that fires on its own merits (the live hour): more than drop_ratio
// below the median ("more than 50 %": exactly half is not low) and significantly so.
bool IsLow(double value, const Baseline& b, const DropOptions& o) {
  return value < (1 - o.drop_ratio) * b.median && SignificantlyBelow(value, b, o);
}

// A deciding epoch of a run: more than drop_ratio below; its significance is judged with
// the run's other epochs (RunEvidence).
bool BelowRatio(double value, const Baseline& b, const DropOptions& o) {
  return value < (1 - o.drop_ratio) * b.median;
}

// Keeps a firing drop firing, and bounds the run: not yet back above resolve_ratio, and
// more than one spread below the median (a small channel's dip within its noise is not
// part of a drop).
bool NotRecovered(double value, const Baseline& b, const DropOptions& o) {
  return value <= o.resolve_ratio * b.median && value < b.median - EffectiveSpread(b);
}

// Count statistics over the epochs of a run: the participants missing against each
// epoch's baseline, summed, against the noise of that sum (each epoch's spread, at least
// its Poisson sqrt(median)). A small channel's one low epoch is within its noise; six in a
// row are not: 12 -> 1 for six epochs is 66 missing against a noise of about 8.5.
struct RunEvidence {
  double count = 0, expected = 0, missing = 0, variance = 0;
  void Add(double value, const Baseline& b) {
    count += value;
    expected += b.median;
    missing += b.median - value;
    variance += EffectiveSpread(b) * EffectiveSpread(b);
  }
  bool Significant(const DropOptions& o) const { return missing > o.min_sigmas * std::sqrt(variance); }
};

// Whether an epoch takes part in a run. Zero-participant epochs are the ZeroParticipants
// alert's business and are skipped, except in a small channel (baseline under
// small_channel), where a drop to a handful draws zeros as often as not: there zero is
// just a low count.
bool Judged(double value, const std::optional<Baseline>& b, const DropOptions& o) {
  return value > 0 || (value == 0 && b && b->median < o.small_channel);
}

// Whether `count` participants over `epochs` epochs, whose baselines add up to `expected`,
// are more than drop_ratio below it; for a small channel beyond counting noise: the
// count's Poisson upper bound (min_sigmas standard deviations) is under the threshold
// (12 -> 8 can draw 5 and 4 in a row; 12 -> 1 draws 0 to 3).
bool CountBelowRatio(double count, double expected, int epochs, const DropOptions& o) {
  // A census of thousands is its own level: the ratio alone decides, exactly.
  if (expected >= o.small_channel * epochs) return count < (1 - o.drop_ratio) * expected;
  return count + o.min_sigmas * std::sqrt(count + 1) < (1 - o.drop_ratio) * expected;
}

// How much of an epoch's final count its live series had seen `elapsed` into the hour,
// the median over the latest past epochs of `history` that have a live sample near that
// minute; without enough of them, the fraction of the hour (a lower bound for the usual
// front-loaded curve: most of an hour's users are seen early).
double SeenShare(std::span<const Sample> live, std::span<const Sample> history, Duration elapsed,
                 const DropOptions& o) {
  using std::chrono::hours;
  constexpr size_t kMinLearned = 4;
  const Duration tolerance = o.live_max_age / 2;
  auto before = [](const Sample& s, TimePoint t) { return s.time < t; };
  std::vector<double> shares;
  for (size_t i = history.size(); i-- > 0 && shares.size() < o.live_learn_epochs;) {
    const Sample& epoch = history[i];
    if (!(epoch.value > 0) || !std::isfinite(epoch.value)) continue;
    const TimePoint start = std::chrono::floor<hours>(epoch.time) - hours(1);  // the hour it covered
    const TimePoint target = start + elapsed;
    auto it = std::lower_bound(live.begin(), live.end(), target - tolerance, before);
    const Sample* nearest = nullptr;
    for (; it != live.end() && it->time <= target + tolerance; ++it) {
      if (it->time < start || it->time >= start + hours(1)) continue;
      if (nearest == nullptr || std::abs((it->time - target).count()) < std::abs((nearest->time - target).count())) {
        nearest = &*it;
      }
    }
    if (nearest != nullptr && std::isfinite(nearest->value)) shares.push_back(nearest->value / epoch.value);
  }
  const double fraction = std::chrono::duration<double>(elapsed) / hours(1);
  if (shares.size() < kMinLearned) return fraction;
  return std::clamp(MedianInPlace(shares.data(), shares.size()), 0.01, 1.0);
}

// The open epoch's live count as a low observation: see DetectParticipantDrop.
std::optional<LiveConfirmation> ConfirmLive(std::span<const Sample> live, std::span<const Sample> history,
                                            TimePoint latest_sealed, TimePoint now, const DropOptions& o) {
  using std::chrono::hours;
  const auto end = std::partition_point(live.begin(), live.end(), [now](const Sample& s) { return s.time <= now; });
  if (end == live.begin()) return std::nullopt;
  const Sample& current = *(end - 1);
  if (now - current.time > o.live_max_age || !std::isfinite(current.value) || current.value < 0) return std::nullopt;
  const TimePoint open = std::chrono::floor<hours>(current.time);
  const Duration elapsed = current.time - open;
  // Enough of the hour to count, and the run's latest epoch is the hour just before it
  // (sealed once that hour was over): no unobserved hour in between.
  if (elapsed < o.live_min_elapsed || latest_sealed < open || latest_sealed >= open + hours(1)) return std::nullopt;
  // The open epoch will be sealed about an hour after it opened: its baseline is that
  // time of day's.
  const std::optional<Baseline> b = ChannelBaseline(history, open + hours(1), o.baseline);
  if (!b || !(b->median > 0)) return std::nullopt;
  const double share = SeenShare(live.first(static_cast<size_t>(end - live.begin())), history, elapsed, o);
  Baseline scaled{b->median * share, b->spread * share, b->epochs, b->seasonal};
  if (!IsLow(current.value, scaled, o)) return std::nullopt;
  return LiveConfirmation{current.value, scaled.median, elapsed};
}

// The long-term path of DetectParticipantDrop: `epochs` end at the latest epoch, which is
// recent. The trailing epochs not recovered against their long-term reference, the last
// `consecutive` of them each below the drop ratio and all together significantly low.
std::optional<DropFinding> LongTermDrop(std::span<const Sample> epochs, bool already_firing, const DropOptions& o) {
  if (o.long_term_window.count() <= 0) return std::nullopt;
  BaselineOptions reference = o.baseline;
  reference.window = o.long_term_window;
  const int needed = already_firing ? 1 : std::max(o.consecutive, 1);
  constexpr int kMaxRun = 48;  // enough evidence for any channel; bounds the cost
  RunEvidence evidence;
  bool below_ratio = false;
  DropFinding f;
  int run = 0;
  TimePoint later = epochs.back().time;
  for (size_t i = epochs.size(); i-- > 0 && run < kMaxRun;) {
    const Sample& s = epochs[i];
    if (later - s.time > o.offline_after) break;  // runs do not span offline hours
    later = s.time;
    if (!std::isfinite(s.value) || s.value < 0) continue;
    const std::optional<Baseline> b = ChannelBaseline(epochs.first(i), s.time - o.long_term_lag, reference);
    if (!Judged(s.value, b, o)) continue;
    if (!b || !(b->median > 0) || !NotRecovered(s.value, *b, o)) break;
    if (run < needed && !already_firing && !BelowRatio(s.value, *b, o)) return std::nullopt;
    if (run == 0) {
      f.participants = s.value;
      f.baseline = *b;
      f.latest = s.time;
    }
    f.since = s.time;
    evidence.Add(s.value, *b);
    ++run;
    if (already_firing) break;  // the latest has not recovered: it holds
    below_ratio = below_ratio || (run >= needed && CountBelowRatio(evidence.count, evidence.expected, run, o));
  }
  if (run < needed || (!already_firing && (!below_ratio || !evidence.Significant(o)))) return std::nullopt;
  f.change = f.participants / f.baseline.median - 1;
  f.consecutive = run;
  f.long_term = true;
  return f;
}

}  // namespace

std::optional<Baseline> ChannelBaseline(std::span<const Sample> history, TimePoint at,
                                        const BaselineOptions& options) {
  auto before = [](const Sample& s, TimePoint t) { return s.time < t; };
  const auto first = std::lower_bound(history.begin(), history.end(), at - options.window, before);
  const auto last = std::lower_bound(first, history.end(), at, before);
  const auto in_window = static_cast<size_t>(last - first);
  if (in_window == 0 || in_window < options.min_epochs) return std::nullopt;

  Scratch scratch(in_window);
  double* values = scratch.data();
  // One pass collects the seasonal subset and counts every usable epoch; a second pass is
  // only needed when the subset is too thin (a new channel, an unusual hour).
  const int64_t at_tod = TimeOfDayMs(at);
  const int64_t tolerance = options.seasonal_tolerance.count();
  size_t usable = 0, seasonal = 0;
  for (auto it = first; it != last; ++it) {
    if (!Usable(it->value, options)) continue;
    ++usable;
    if (tolerance > 0 && CircularDistanceMs(TimeOfDayMs(it->time), at_tod) <= tolerance) {
      values[seasonal++] = it->value;
    }
  }
  if (usable == 0 || usable < options.min_epochs) return std::nullopt;

  Baseline b;
  b.seasonal = tolerance > 0 && seasonal >= options.min_seasonal_epochs && seasonal > 0;
  size_t n = seasonal;
  if (!b.seasonal) {
    n = 0;
    for (auto it = first; it != last; ++it) {
      if (Usable(it->value, options)) values[n++] = it->value;
    }
  }
  b.epochs = n;
  b.median = MedianInPlace(values, n);
  for (size_t i = 0; i < n; ++i) values[i] = std::abs(values[i] - b.median);
  b.spread = kMadToSigma * MedianInPlace(values, n);
  return b;
}

std::string FormatBaseline(const Baseline& baseline) {
  return fmt::format("baseline {} ±{}", GroupThousands(baseline.median), GroupThousands(baseline.spread));
}

std::optional<DropFinding> DetectParticipantDrop(std::span<const Sample> epochs, TimePoint now,
                                                 bool already_firing, const DropOptions& options,
                                                 std::span<const Sample> live) {
  const auto end = std::partition_point(epochs.begin(), epochs.end(),
                                        [now](const Sample& s) { return s.time <= now; });
  epochs = epochs.first(static_cast<size_t>(end - epochs.begin()));
  if (epochs.empty() || now - epochs.back().time > options.offline_after) return std::nullopt;

  // Pass 1: find the run, walking back from the latest epoch. Each candidate is compared
  // with the baseline from the epochs before it, which excludes the later members of the
  // run; the usual case stops at the first (latest) epoch after one baseline.
  constexpr size_t kNone = static_cast<size_t>(-1);
  size_t start = kNone, latest = kNone;
  int run = 0;
  TimePoint later = epochs.back().time;
  for (size_t i = epochs.size(); i-- > 0;) {
    const Sample& s = epochs[i];
    if (later - s.time > options.offline_after) break;  // offline in between
    later = s.time;
    if (!std::isfinite(s.value) || s.value < 0) continue;
    const std::optional<Baseline> own = ChannelBaseline(epochs.first(i), s.time, options.baseline);
    if (!Judged(s.value, own, options)) continue;
    if (!own || !NotRecovered(s.value, *own, options)) break;
    ++run;
    start = i;
    if (latest == kNone) latest = i;
  }
  if (run == 0) return LongTermDrop(epochs, already_firing, options);
  const int needed = already_firing ? 1 : std::max(options.consecutive, 1);

  // Pass 2: judge the deciding epochs against baselines from the epochs before the run
  // only. Usually agrees with pass 1, since removing low epochs from a history only raises
  // its median; it can differ when that removal switches the seasonal subset off.
  const std::span<const Sample> before_run = epochs.first(start);
  // The baseline of the latest epoch when the last `n` epochs of the run all hold and,
  // to fire, the whole run is significantly low.
  auto judge = [&](int n) -> std::optional<Baseline> {
    if (run < n) return std::nullopt;
    std::optional<Baseline> latest_baseline;
    RunEvidence evidence;
    bool below_ratio = false;  // the last n or more epochs' total, beyond counting noise
    int judged = 0;
    for (size_t i = latest + 1; i-- > start && (judged < n || !already_firing);) {
      const Sample& s = epochs[i];
      if (!std::isfinite(s.value) || s.value < 0) continue;
      const std::optional<Baseline> b = ChannelBaseline(before_run, s.time, options.baseline);
      if (!Judged(s.value, b, options)) continue;
      if (!b) return std::nullopt;  // the run has outlasted the window: nothing to compare with
      if (judged < n) {
        const bool holds = already_firing ? NotRecovered(s.value, *b, options) : BelowRatio(s.value, *b, options);
        if (!holds) return std::nullopt;
      }
      evidence.Add(s.value, *b);
      if (i == latest) latest_baseline = b;
      ++judged;
      below_ratio = below_ratio || (judged >= n && CountBelowRatio(evidence.count, evidence.expected, judged, options));
    }
    if (!already_firing && (!below_ratio || !evidence.Significant(options))) return std::nullopt;
    return latest_baseline;
  };
  std::optional<Baseline> latest_baseline = judge(needed);
  std::optional<LiveConfirmation> live_low;
  if (!latest_baseline && !already_firing && needed > 1 && run >= needed - 1) {
    // The open hour, seen live, as the last of the `consecutive` low observations.
    live_low = ConfirmLive(live, before_run, epochs[latest].time, now, options);
    if (live_low) latest_baseline = judge(needed - 1);
  }
  if (!latest_baseline) return LongTermDrop(epochs, already_firing, options);

  DropFinding f;
  f.live = live_low;
  f.participants = epochs[latest].value;
  f.baseline = *latest_baseline;
  f.change = f.participants / f.baseline.median - 1;
  f.consecutive = run;
  f.since = epochs[start].time;
  f.latest = epochs[latest].time;
  return f;
}

}  // namespace offmon::analyzer
