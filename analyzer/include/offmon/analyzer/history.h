// History: the rules' view of the store's samples, by metric name and time window.
//
// A live evaluation builds a fresh History over the store (every read is current). A
// backtest keeps one History for the whole range and reads each series ahead in blocks,
// so replaying 30 days step by step decodes every chunk once. Rules only ever see samples
// at or before the evaluation time, so reading ahead never leaks the future into a
// verdict.
//
// Thread safety: one thread; the spans it returns live until the next call.
#pragma once

#include <array>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "offmon/common/sample.h"
#include "offmon/store/store.h"

namespace offmon::analyzer {

class History {
 public:
  // read_ahead: how far past a requested window a series is read (0 for live use).
  History(store::Store& store, Duration read_ahead);

  // Series with metric name `name`, in the store's catalogue (read once per History).
  // `lookback`: the longest window the caller will ask of them; that much of each is kept.
  Result<std::span<const store::SeriesInfo>> Series(std::string_view name, Duration lookback);

  // Samples of `series` with from <= time <= to, sorted by time.
  Result<std::span<const Sample>> Window(store::SeriesId series, TimePoint from, TimePoint to);

  // Like Window, with every `cell`-long stretch (aligned to the Unix epoch) cut to its
  // first, lowest and last sample: all a trend of post-GC floors and restarts needs, in a
  // fraction of the samples (576 cells for 48 h at 5 min instead of 5,760 samples at
  // 30 s). Reductions of complete cells are kept between calls, so a backtest reduces
  // every sample once. Samples of a cell keep their times and order.
  Result<std::span<const Sample>> Reduced(store::SeriesId series, TimePoint from, TimePoint to, Duration cell);

  // The first sample of `series` in [from, to], then every later one in it whose value
  // differs from the sample before it: a counter's increases and resets, exactly, from a
  // handful of samples. Changes are kept between calls like Reduced.
  Result<std::span<const Sample>> Changes(store::SeriesId series, TimePoint from, TimePoint to);

 private:
  struct Cached {
    bool loaded = false;
    TimePoint from, to;  // the samples held cover [from, to)
    Duration lookback{0};
    std::vector<Sample> samples;
    size_t end_hint = 0;  // where the last window ended, to search the next one from
    // Where the last window of each length began: rules ask a series for windows of a few
    // lengths, and each moves forward a few samples between evaluations.
    struct StartHint {
      Duration length{-1};
      size_t index = 0;
    };
    std::array<StartHint, 4> start_hints;
    // Reduced(): complete cells in reduced[0, complete), then the open cell's samples.
    std::vector<Sample> reduced;
    size_t complete = 0;
    TimePoint reduced_from{};     // the start of the first cell reduced
    TimePoint reduced_through{};  // the end of the last complete cell
    Duration cell{0};
    // Changes(): value changes since changes_from, through changes_through.
    std::vector<Sample> changes, changes_view;
    TimePoint changes_from{}, changes_through{};
  };
  store::Store& store_;
  Duration read_ahead_;
  struct Metric {
    std::vector<store::SeriesInfo> series;
    Duration lookback{0};  // the longest lookback asked of them so far
  };
  std::map<std::string, Metric, std::less<>> catalogue_;
  std::unordered_map<store::SeriesId, Cached> cache_;
};

}  // namespace offmon::analyzer
