#include "offmon/analyzer/history.h"

#include <algorithm>

namespace offmon::analyzer {

namespace {

bool Before(const Sample& s, TimePoint t) { return s.time < t; }

// The first sample at or after t, searched from `hint`, the answer of the previous call:
// evaluations move forward a few samples at a time, and a search that stays near the
// previous position touches a cache line or two instead of a binary search's dozen.
size_t SeekForward(std::span<const Sample> samples, size_t hint, TimePoint t) {
  size_t i = std::min(hint, samples.size());
  for (int steps = 0; steps < 32; ++steps) {
    if (i > 0 && !Before(samples[i - 1], t)) return static_cast<size_t>(
        std::lower_bound(samples.begin(), samples.begin() + static_cast<ptrdiff_t>(i), t, Before) - samples.begin());
    if (i == samples.size() || !Before(samples[i], t)) return i;
    ++i;
  }
  return static_cast<size_t>(std::lower_bound(samples.begin() + static_cast<ptrdiff_t>(i), samples.end(), t, Before) -
                             samples.begin());
}

// The first sample at or after t among samples[0, end), galloping back from `end`: a
// window's start lies a lookback before its end, usually a few hundred samples back.
size_t SeekBackward(std::span<const Sample> samples, size_t end, TimePoint t) {
  size_t hi = end, step = 1;
  while (hi > 0 && !Before(samples[hi - 1], t)) {
    const size_t lo = hi > step ? hi - step : 0;
    if (Before(samples[lo], t)) {
      return static_cast<size_t>(std::lower_bound(samples.begin() + static_cast<ptrdiff_t>(lo),
                                                  samples.begin() + static_cast<ptrdiff_t>(hi), t, Before) -
                                 samples.begin());
    }
    hi = lo;
    step *= 2;
  }
  return hi;
}

}  // namespace

History::History(store::Store& store, Duration read_ahead) : store_(store), read_ahead_(read_ahead) {}

Result<std::span<const store::SeriesInfo>> History::Series(std::string_view name, Duration lookback) {
  auto it = catalogue_.find(name);
  if (it == catalogue_.end()) {
    store::Selector selector = *store::Selector::Parse(name);
    auto series = store_.Select(selector);
    if (!series) return series.error();
    it = catalogue_.emplace(std::string(name), Metric{std::move(*series)}).first;
  }
  Metric& metric = it->second;
  if (lookback > metric.lookback) {
    metric.lookback = lookback;
    for (const store::SeriesInfo& info : metric.series) {
      Duration& kept = cache_[info.id].lookback;
      kept = std::max(kept, lookback);
    }
  }
  return std::span<const store::SeriesInfo>(metric.series);
}

Result<std::span<const Sample>> History::Window(store::SeriesId series, TimePoint from, TimePoint to) {
  const TimePoint end = to + Duration(1);  // `to` is inclusive
  // Every rule's window ends at the evaluation time and reaches back at most the
  // lookback its rules declared, so keeping that much serves them all from one read.
  Cached& c = cache_[series];
  const TimePoint keep_from = std::min(from, to - c.lookback);
  if (!c.loaded || from < c.from || keep_from > c.to) {
    auto samples = store_.ReadRange(series, keep_from, end + read_ahead_);
    if (!samples) return samples.error();
    c.loaded = true;
    c.from = keep_from;
    c.to = end + read_ahead_;
    c.samples = std::move(*samples);
    c.end_hint = 0;
    c.start_hints = {};
    c.reduced.clear();
    c.complete = 0;
    c.changes.clear();
  } else if (end > c.to) {
    // Moving forward: drop what no window can reach any more, read only the new tail.
    auto first_kept = std::lower_bound(c.samples.begin(), c.samples.end(), keep_from,
                                       [](const Sample& s, TimePoint t) { return s.time < t; });
    const auto dropped = static_cast<size_t>(first_kept - c.samples.begin());
    c.samples.erase(c.samples.begin(), first_kept);
    c.end_hint -= std::min(c.end_hint, dropped);
    for (Cached::StartHint& h : c.start_hints) h.index -= std::min(h.index, dropped);
    c.from = std::max(c.from, keep_from);
    auto tail = store_.ReadRange(series, c.to, end + read_ahead_);
    if (!tail) return tail.error();
    c.samples.insert(c.samples.end(), tail->begin(), tail->end());
    c.to = end + read_ahead_;
  }
  const std::span<const Sample> all(c.samples);
  const size_t hi = c.end_hint = SeekForward(all, c.end_hint, end);
  // The start, from where the last window of this length began (searching forward, as
  // the end): the binary searches back from the end missed the cache at every step.
  const Duration length = to - from;
  auto hint = std::find_if(c.start_hints.begin(), c.start_hints.end(),
                           [&](const Cached::StartHint& h) { return h.length == length; });
  size_t lo;
  if (hint != c.start_hints.end()) {
    lo = hint->index = std::min(SeekForward(all, hint->index, from), hi);
  } else {
    lo = SeekBackward(all, hi, from);
    // Remembered in the first free slot; a fifth length is searched for each time.
    hint = std::find_if(c.start_hints.begin(), c.start_hints.end(),
                        [](const Cached::StartHint& h) { return h.length < Duration(0); });
    if (hint != c.start_hints.end()) *hint = {length, lo};
  }
  return all.subspan(lo, hi - lo);
}

Result<std::span<const Sample>> History::Reduced(store::SeriesId series, TimePoint from, TimePoint to,
                                                 Duration cell) {
  auto raw = Window(series, from, to);
  if (!raw) return raw.error();
  Cached& c = cache_[series];
  const TimePoint first_cell = FromMillis(ToMillis(from) / cell.count() * cell.count());
  if (c.cell != cell || c.complete == 0 || first_cell < c.reduced_from || c.reduced_through < first_cell) {
    c.cell = cell;
    c.reduced.clear();
    c.complete = 0;
    c.reduced_from = c.reduced_through = first_cell;
  }
  c.reduced.resize(c.complete);  // the open cell of the last call is reduced again
  // The samples not yet in a complete cell, up to `to`.
  std::span<const Sample> rest = *raw;
  rest = rest.subspan(static_cast<size_t>(
      std::lower_bound(rest.begin(), rest.end(), c.reduced_through, Before) - rest.begin()));
  while (!rest.empty()) {
    const TimePoint cell_end = FromMillis((ToMillis(rest.front().time) / cell.count() + 1) * cell.count());
    size_t n = 1, lowest = 0;
    for (; n < rest.size() && rest[n].time < cell_end; ++n) {
      if (rest[n].value < rest[lowest].value) lowest = n;
    }
    c.reduced.push_back(rest[0]);
    if (lowest != 0 && lowest != n - 1) c.reduced.push_back(rest[lowest]);
    if (n > 1) c.reduced.push_back(rest[n - 1]);
    // A cell is complete once `to` has passed its end; later samples cannot join it.
    if (cell_end <= to) {
      c.complete = c.reduced.size();
      c.reduced_through = cell_end;
    }
    rest = rest.subspan(n);
  }
  // Forget cells no window reaches any more, a batch at a time.
  const auto lo = static_cast<size_t>(
      std::lower_bound(c.reduced.begin(), c.reduced.end(), from, Before) - c.reduced.begin());
  if (lo > 4096 && lo * 2 > c.complete && lo <= c.complete) {
    c.reduced.erase(c.reduced.begin(), c.reduced.begin() + static_cast<ptrdiff_t>(lo));
    c.complete -= lo;
    c.reduced_from = first_cell;
    return std::span<const Sample>(c.reduced);
  }
  return std::span<const Sample>(c.reduced).subspan(lo);
}

Result<std::span<const Sample>> History::Changes(store::SeriesId series, TimePoint from, TimePoint to) {
  auto raw = Window(series, from, to);
  if (!raw) return raw.error();
  Cached& c = cache_[series];
  // Changes are relative to the sample before; after a jump past what was seen, that
  // sample was never looked at, so start again.
  if (c.changes.empty() || from < c.changes_from || from > c.changes_through || to < c.changes_through) {
    c.changes.clear();
    c.changes_from = from;
    c.changes_through = from - Duration(1);
  }
  for (auto it = std::upper_bound(raw->begin(), raw->end(), c.changes_through,
                                  [](TimePoint t, const Sample& s) { return t < s.time; });
       it != raw->end(); ++it) {
    if (c.changes.empty() || it->value != c.changes.back().value) c.changes.push_back(*it);
  }
  if (raw->empty()) return *raw;
  c.changes_through = std::max(c.changes_through, raw->back().time);
  // The window's first sample leads, then the changes after it.
  auto after = std::upper_bound(c.changes.begin(), c.changes.end(), raw->front().time,
                                [](TimePoint t, const Sample& s) { return t < s.time; });
  c.changes_view.assign(1, raw->front());
  c.changes_view.insert(c.changes_view.end(), after, c.changes.end());
  // Forget changes no window reaches any more, a batch at a time.
  if (const auto old = static_cast<size_t>(after - c.changes.begin()); old > 1024 && old * 2 > c.changes.size()) {
    c.changes.erase(c.changes.begin(), after - 1);
    c.changes_from = c.changes.front().time;
  }
  return std::span<const Sample>(c.changes_view);
}

}  // namespace offmon::analyzer
