#include "offmon/analyzer/participant_baseline.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include <fmt/format.h>

#include "group_thousands_impl.h"

namespace offmon::analyzer {
namespace {

// 1 / Φ⁻¹(3/4): scales a median absolute deviation to σ for normally distributed data.
constexpr double kMadToSigma = 1.4826;
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

// Fires: more than drop_ratio below the median ("more than 50 %": exactly half is not low).
bool IsLow(double value, const Baseline& b, const DropOptions& o) {
  return value < (1 - o.drop_ratio) * b.median && SignificantlyBelow(value, b, o);
}

// Keeps a firing drop firing, and bounds the run: not yet back above resolve_ratio.
bool NotRecovered(double value, const Baseline& b, const DropOptions& o) {
  return value <= o.resolve_ratio * b.median && SignificantlyBelow(value, b, o);
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
                                                 bool already_firing, const DropOptions& options) {
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
    if (!Usable(s.value, options.baseline)) continue;
    const std::optional<Baseline> own = ChannelBaseline(epochs.first(i), s.time, options.baseline);
    if (!own || !NotRecovered(s.value, *own, options)) break;
    ++run;
    start = i;
    if (latest == kNone) latest = i;
  }
  if (run == 0) return std::nullopt;
  const int needed = already_firing ? 1 : std::max(options.consecutive, 1);
  if (run < needed) return std::nullopt;

  // Pass 2: judge the deciding epochs against baselines from the epochs before the run
  // only. Usually agrees with pass 1, since removing low epochs from a history only raises
  // its median; it can differ when that removal switches the seasonal subset off.
  const std::span<const Sample> before_run = epochs.first(start);
  std::optional<Baseline> latest_baseline;
  int judged = 0;
  for (size_t i = latest + 1; i-- > start && judged < needed;) {
    const Sample& s = epochs[i];
    if (!Usable(s.value, options.baseline)) continue;
    const std::optional<Baseline> b = ChannelBaseline(before_run, s.time, options.baseline);
    if (!b) return std::nullopt;  // the run has outlasted the window: nothing to compare with
    const bool holds = already_firing ? NotRecovered(s.value, *b, options) : IsLow(s.value, *b, options);
    if (!holds) return std::nullopt;
    if (i == latest) latest_baseline = b;
    ++judged;
  }

  DropFinding f;
  f.participants = epochs[latest].value;
  f.baseline = *latest_baseline;
  f.change = f.participants / f.baseline.median - 1;
  f.consecutive = run;
  f.since = epochs[start].time;
  f.latest = epochs[latest].time;
  return f;
}

}  // namespace offmon::analyzer
