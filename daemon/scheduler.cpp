#include "scheduler_impl.h"

#include <algorithm>
#include <cassert>
#include <functional>

namespace offmon::daemon {

namespace {
TimePoint CeilToGrid(TimePoint t, Duration interval) {
  auto ms = ToMillis(t), step = interval.count();
  auto floor = ms >= 0 ? ms / step * step : -((-ms + step - 1) / step) * step;
  return FromMillis(floor == ms ? ms : floor + step);
}
}  // namespace

Scheduler::Scheduler(std::vector<Entry> entries, TimePoint start) : entries_(std::move(entries)) {
  for (const Entry& e : entries_) {
    assert(e.interval.count() > 0 && e.offset < e.interval);
    state_.push_back(State{CeilToGrid(start - e.offset, e.interval)});
  }
}

std::vector<Scheduler::Due> Scheduler::DueAt(TimePoint now) {
  std::vector<Due> due;
  for (size_t i = 0; i < entries_.size(); ++i) {
    State& s = state_[i];
    const Entry& e = entries_[i];
    if (now < s.next_grid + e.offset) continue;
    // The latest grid tick that has started; older ones were missed.
    TimePoint latest = CeilToGrid(now - e.offset - e.interval + Duration(1), e.interval);
    s.skipped += static_cast<size_t>((latest - s.next_grid) / e.interval);
    s.next_grid = latest + e.interval;
    if (s.running) {
      ++s.skipped;
      continue;
    }
    s.running = true;
    due.push_back(Due{i, latest});
  }
  return due;
}

void Scheduler::Finished(size_t index) { state_[index].running = false; }

TimePoint Scheduler::NextWake() const {
  TimePoint next = TimePoint::max();
  for (size_t i = 0; i < entries_.size(); ++i) next = std::min(next, state_[i].next_grid + entries_[i].offset);
  return next;
}

Duration Scheduler::JitterFor(const std::string& name, Duration interval) {
  const auto span = std::max<int64_t>(1, interval.count() / 10);
  return Duration(static_cast<int64_t>(std::hash<std::string>{}(name) % static_cast<size_t>(span)));
}

}  // namespace offmon::daemon
