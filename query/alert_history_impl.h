// Alert history as the query tool reads it: the recorded kAlertTransition events folded
// into episodes, one per alert (rule and label set) from its first `firing` transition
// to its `resolved` one. Conditions that were only pending and never fired are not
// episodes, as in `offmon analyze`. Shared by `offmon trend` (markers) and `offmon alerts`.
// Thread safety: pure functions over values, except ReadTransitions, which reads the store.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "offmon/analyzer/alert.h"
#include "offmon/common/series_key.h"
#include "offmon/store/store.h"

namespace offmon::query {

struct AlertEpisode {
  std::string alert;
  Labels labels;
  std::string series, summary, inhibited_by;                   // from the latest firing/escalated transition
  analyzer::Severity severity = analyzer::Severity::kWarning;  // the highest while it fired
  TimePoint active_since;                                      // the condition started to hold (pending start)
  TimePoint fired_at;                                          // the first firing transition
  std::optional<TimePoint> resolved_at;                        // nullopt: still firing at the end of the history read
  bool escalated = false;

  // Firing to resolved; for an episode still firing, firing to `until`.
  Duration DurationUntil(TimePoint until) const { return (resolved_at ? *resolved_at : until) - fired_at; }
  // Fired before `to` and not resolved before `from`.
  bool Overlaps(TimePoint from, TimePoint to) const { return fired_at < to && (!resolved_at || *resolved_at >= from); }
};

// Every recorded transition at or before `until`, ordered by time (then record order).
// Corruption when a transition does not decode; the store's read errors otherwise.
Result<std::vector<analyzer::Transition>> ReadTransitions(store::Store& store, TimePoint until);

// Folds transitions (ordered by time) into episodes, ordered by fired_at.
std::vector<AlertEpisode> BuildEpisodes(const std::vector<analyzer::Transition>& transitions);

// An alert belongs to a series when its `series` field is the series' key text, or when
// it has labels, shares at least one label name with the series, and agrees with the
// series on the value of every label name they share (so CpuHigh{process="w1"} marks
// every w1 series, EpochMissing{channel="a",epoch="7"} marks epoch_participants{channel="a"},
// and an alert without labels, such as SystemMemoryLow, only its own series).
bool BelongsTo(const AlertEpisode& episode, const SeriesKey& key);

// "process=w1,mount=/": labels for a table cell.
std::string LabelsText(const Labels& labels);

}  // namespace offmon::query
