// AlertTracker: the alert lifecycle. Turns each evaluation's findings into transitions
// (pending -> firing -> resolved, plus escalation; a pending alert that lapses is
// recorded as `lapsed`, not resolved) with one alert per rule and label set, and keeps
// the set of active alerts, which is the projection of those transitions:
// replaying recorded transitions through Apply() restores it after a restart
// (ReplayTransitions: the daemon, the report, `offmon alerts --active` and `ack` all
// fold the log this one way).
//
// Damping: rules judge "sustained" on their samples and report hold-only findings while
// only their resolve condition holds (hysteresis); a rule's keep_firing_for keeps an
// alert firing through short gaps in its findings.
//
// Thread safety: one thread.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "offmon/analyzer/alert.h"
#include "offmon/common/config.h"

namespace offmon::store {
class Store;
}

namespace offmon::analyzer {

struct ActiveAlert {
  std::string alert;
  Severity severity = Severity::kWarning;
  Labels labels;
  std::string series, summary;
  bool firing = false;  // else pending
  bool escalated = false;
  TimePoint active_since;  // the condition started to hold
  TimePoint firing_since;
  TimePoint last_seen;  // the last evaluation with a finding
  // The firing upstream cause that explains this alert ("Alert{labels}"), or empty. Set
  // when the alert fires; while set, judged again at every evaluation, so it clears when
  // the cause resolves (and the notification it held back is sent then).
  std::string inhibited_by;
};

class AlertTracker {
 public:
  explicit AlertTracker(const AnalyzerConfig& config);

  // Applies the findings of one evaluation at `t` (every finding of every rule; absent
  // alerts resolve) and returns the transitions, in a stable order.
  std::vector<Transition> Update(TimePoint t, std::vector<Finding> findings);

  // Folds a recorded transition into the active set (restoring state after a restart).
  void Apply(const Transition& transition);

  bool IsFiring(std::string_view alert, const Labels& labels) const;
  // Active (pending or firing) alerts by fingerprint.
  const std::map<std::string, ActiveAlert>& active() const { return active_; }

 private:
  void IndexNames();
  // `findings` with the hold-only findings of firing alerts counted as full: what can
  // inhibit. Copied into *causes on first use in an evaluation.
  const std::vector<Finding>& Causes(const std::vector<Finding>& findings,
                                     std::optional<std::vector<Finding>>* causes) const;

  const AnalyzerConfig& config_;
  std::map<std::string, ActiveAlert> active_;
  // The alert names in active_: rules ask IsFiring for every subject at every evaluation,
  // and most are about alerts with nothing active, answered without a fingerprint.
  std::set<std::string, std::less<>> active_names_;
  // The labels of every alert in active_ as its fingerprint has them (sorted, no empty
  // values), kept with active_ as it changes: IsFiring answers "no" for a subject with
  // no active alert of any name without building its fingerprint.
  std::multiset<Labels> active_labels_;
  void Track(const ActiveAlert& a);
  void Untrack(const ActiveAlert& a);
};

// Every transition recorded in `store` at or before `until`, in record order: the order
// the analyzer applied them in, which is the order to fold them in (a transition recorded
// after a clock stepped back has an earlier time than the one before it). Corruption,
// naming the event, when one does not decode; the store's read errors otherwise.
Result<std::vector<Transition>> ReadTransitions(store::Store& store, TimePoint until = TimePoint::max());

// Applies ReadTransitions' transitions to `tracker`, page by page: the active set as of
// `until`. Errors as ReadTransitions; `tracker` then holds what was applied before it.
Status ReplayTransitions(store::Store& store, AlertTracker& tracker, TimePoint until = TimePoint::max());

// Pipeline-aware inhibition: the firing upstream cause (as "Alert{labels}") that explains
// `finding`, or empty. The chain is aggregator -> events -> tree builder -> sealed epochs
// -> publishing, with the database under all of it (docs/alert-rules.md).
std::string InhibitedBy(const Finding& finding, const std::vector<Finding>& findings, const AnalyzerConfig& config);

}  // namespace offmon::analyzer
