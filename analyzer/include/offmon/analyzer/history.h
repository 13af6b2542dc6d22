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

#include <map>
#include <span>
#include <string>
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
  Result<std::span<const store::SeriesInfo>> Series(const std::string& name, Duration lookback);

  // Samples of `series` with from <= time <= to, sorted by time.
  Result<std::span<const Sample>> Window(store::SeriesId series, TimePoint from, TimePoint to);

 private:
  struct Cached {
    bool loaded = false;
    TimePoint from, to;  // the samples held cover [from, to)
    Duration lookback{0};
    std::vector<Sample> samples;
  };
  store::Store& store_;
  Duration read_ahead_;
  std::map<store::SeriesId, Duration> lookback_;
  std::map<std::string, std::vector<store::SeriesInfo>, std::less<>> catalogue_;
  std::map<store::SeriesId, Cached> cache_;
};

}  // namespace offmon::analyzer
