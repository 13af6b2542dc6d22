// Scheduler: decides which collectors are due, on a grid per collector. It holds no
// timer and reads no clock: the daemon's Asio timer asks DueAt(now) and NextWake(), so
// tests drive it with explicit times.
//
// Each collector runs at multiples of its interval since the unix epoch, shifted by a
// fixed per-collector offset (jitter, so collectors do not all start in the same
// millisecond); its samples carry the grid time without the offset, which keeps
// timestamps on the sampling grid (a grid timestamp costs one bit in a chunk). A
// collector still running when its next tick comes skips that tick: runs never overlap.
// Thread safety: used from the daemon's event loop thread only.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "offmon/common/time.h"

namespace offmon::daemon {

class Scheduler {
 public:
  struct Entry {
    std::string name;
    Duration interval;
    Duration offset;  // 0 <= offset < interval
  };
  struct Due {
    size_t index;    // into the entries given to the constructor
    TimePoint grid;  // the sample time of this run
  };

  // The first run of each entry is its first grid tick at or after `start`.
  Scheduler(std::vector<Entry> entries, TimePoint start);

  // Entries due at `now` and not running; they are marked running. A tick missed
  // because the entry was running, or because the daemon was asleep, is skipped and
  // counted, not run late.
  std::vector<Due> DueAt(TimePoint now);
  // Marks a run finished.
  void Finished(size_t index);
  // When the next due run starts (its grid time plus offset).
  TimePoint NextWake() const;
  size_t skipped(size_t index) const { return state_[index].skipped; }
  bool running(size_t index) const { return state_[index].running; }
  const Entry& entry(size_t index) const { return entries_[index]; }
  size_t size() const { return entries_.size(); }

  // A stable offset within the first tenth of `interval`, derived from `name`.
  static Duration JitterFor(const std::string& name, Duration interval);

 private:
  struct State {
    TimePoint next_grid;
    bool running = false;
    size_t skipped = 0;
  };
  std::vector<Entry> entries_;
  std::vector<State> state_;
};

}  // namespace offmon::daemon
