#include "offmon/analyzer/history.h"

#include <algorithm>

namespace offmon::analyzer {

History::History(store::Store& store, Duration read_ahead) : store_(store), read_ahead_(read_ahead) {}

Result<std::span<const store::SeriesInfo>> History::Series(const std::string& name, Duration lookback) {
  auto it = catalogue_.find(name);
  if (it == catalogue_.end()) {
    store::Selector selector = *store::Selector::Parse(name);
    auto series = store_.Select(selector);
    if (!series) return series.error();
    it = catalogue_.emplace(name, std::move(*series)).first;
  }
  for (const store::SeriesInfo& info : it->second) {
    Duration& kept = cache_[info.id].lookback;
    kept = std::max(kept, lookback);
  }
  return std::span<const store::SeriesInfo>(it->second);
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
  } else if (end > c.to) {
    // Moving forward: drop what no window can reach any more, read only the new tail.
    auto first_kept = std::lower_bound(c.samples.begin(), c.samples.end(), keep_from,
                                       [](const Sample& s, TimePoint t) { return s.time < t; });
    c.samples.erase(c.samples.begin(), first_kept);
    c.from = std::max(c.from, keep_from);
    auto tail = store_.ReadRange(series, c.to, end + read_ahead_);
    if (!tail) return tail.error();
    c.samples.insert(c.samples.end(), tail->begin(), tail->end());
    c.to = end + read_ahead_;
  }
  auto lo = std::lower_bound(c.samples.begin(), c.samples.end(), from,
                             [](const Sample& s, TimePoint t) { return s.time < t; });
  auto hi = std::lower_bound(lo, c.samples.end(), end, [](const Sample& s, TimePoint t) { return s.time < t; });
  return std::span<const Sample>(lo, hi);
}

}  // namespace offmon::analyzer
