#include "offmon/analyzer/alert_tracker.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>

#include "offmon/store/store.h"

namespace offmon::analyzer {

namespace {

constexpr size_t kEventPage = 1024;

// Calls fn(transition) for each transition recorded at or before `until`, in record order.
template <typename Fn>
Status ForEachTransition(store::Store& store, TimePoint until, Fn fn) {
  int64_t after = 0;
  while (true) {
    auto page = store.ReadEvents(after, EventKind::kAlertTransition, kEventPage);
    if (!page) return page.error();
    if (page->empty()) return Status::Ok();
    for (store::Event& event : *page) {
      if (event.time > until) continue;
      auto transition = DecodeTransition(event.payload, event.time);
      if (!transition) return transition.error().WithContext(fmt::format("alert transition event {}", event.seq));
      fn(std::move(*transition));
    }
    after = page->back().seq;
  }
}

Transition MakeTransition(TimePoint t, const ActiveAlert& a, AlertState state) {
  return Transition{t, a.alert, a.severity, state, a.labels, a.series, a.summary, a.active_since, a.inhibited_by};
}

// The labels as a fingerprint has them: SeriesKey sorts them by name and drops empty values.
Labels FingerprintLabels(const Labels& labels) { return SeriesKey("x", labels).labels; }

// Whether `labels` already are in that form (a series' own labels are), so that they equal
// the fingerprint's exactly when the fingerprints do.
bool InFingerprintForm(const Labels& labels) {
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i].value.empty() || (i > 0 && !(labels[i - 1].name < labels[i].name))) return false;
  }
  return true;
}

}  // namespace

AlertTracker::AlertTracker(const AnalyzerConfig& config) : config_(config) {}

void AlertTracker::Track(const ActiveAlert& a) { active_labels_.insert(FingerprintLabels(a.labels)); }

void AlertTracker::Untrack(const ActiveAlert& a) {
  auto it = active_labels_.find(FingerprintLabels(a.labels));
  if (it != active_labels_.end()) active_labels_.erase(it);
}

bool AlertTracker::IsFiring(std::string_view alert, const Labels& labels) const {
  if (!active_names_.contains(alert)) return false;
  if (InFingerprintForm(labels) && !active_labels_.contains(labels)) return false;
  auto it = active_.find(Fingerprint(alert, labels));
  return it != active_.end() && it->second.firing;
}

std::vector<Transition> AlertTracker::Update(TimePoint t, std::vector<Finding> findings) {
  std::vector<Transition> out;
  std::optional<std::vector<Finding>> causes;  // built when an inhibited alert is judged again
  // One finding per alert: the most severe, and a full one over a pending or hold-only.
  auto rank = [](const Finding& f) { return std::tuple(!f.hold_only && !f.pending, f.severity, !f.hold_only); };
  std::map<std::string, const Finding*> by_fingerprint;
  for (const Finding& f : findings) {
    const Finding*& best = by_fingerprint[Fingerprint(f.alert, f.labels)];
    if (best == nullptr || rank(f) > rank(*best)) best = &f;
  }
  for (const auto& [fingerprint, f] : by_fingerprint) {
    auto it = active_.find(fingerprint);
    if (it == active_.end()) {
      if (f->hold_only) continue;
      ActiveAlert a{f->alert,
                    f->severity,
                    f->labels,
                    f->series,
                    f->summary,
                    false,
                    false,
                    t,
                    t,
                    t,
                    InhibitedBy(*f, findings, config_)};
      it = active_.emplace(fingerprint, std::move(a)).first;
      Track(it->second);
      if (f->pending) out.push_back(MakeTransition(t, it->second, AlertState::kPending));
    }
    ActiveAlert& a = it->second;
    a.last_seen = t;
    a.summary = f->summary;
    if (!a.firing && !f->pending && !f->hold_only) {
      a.firing = true;
      a.firing_since = t;
      a.severity = f->severity;
      a.inhibited_by = InhibitedBy(*f, findings, config_);
      out.push_back(MakeTransition(t, a, AlertState::kFiring));
    } else if (a.firing && !f->pending && !f->hold_only && f->severity != a.severity) {
      a.severity = f->severity;  // re-announced at the new severity
      out.push_back(MakeTransition(t, a, AlertState::kFiring));
    }
    // An inhibited alert is judged again at every evaluation, so it is no longer held back
    // once its cause resolves (the router's Reconcile then sends it). An alert announced
    // uninhibited is not inhibited later: its receivers were told and await the resolve.
    if (a.firing && !a.inhibited_by.empty()) {
      const std::vector<Finding>& all = Causes(findings, &causes);
      a.inhibited_by = InhibitedBy(all[static_cast<size_t>(f - findings.data())], all, config_);
    }
    // INFO is recorded, never escalated (the guide: "log only").
    if (a.firing && !a.escalated && a.severity != Severity::kInfo &&
        (a.severity == Severity::kCritical || t - a.firing_since >= config_.escalate_warning_after)) {
      a.escalated = true;
      out.push_back(MakeTransition(t, a, AlertState::kEscalated));
    }
  }
  for (auto it = active_.begin(); it != active_.end();) {
    ActiveAlert& a = it->second;
    const bool seen = by_fingerprint.contains(it->first);
    const auto rule = config_.rules.find(a.alert);
    const Duration keep = a.firing && rule != config_.rules.end() ? rule->second.keep_firing_for : Duration(0);
    // A pending alert whose hold-only finding remains has not resolved either.
    if (seen || (a.firing && t - a.last_seen < keep)) {
      ++it;
      continue;
    }
    // A pending alert that lapses was never announced: it does not resolve.
    Transition ended = MakeTransition(t, a, a.firing ? AlertState::kResolved : AlertState::kPending);
    ended.lapsed = !a.firing;
    out.push_back(std::move(ended));
    Untrack(a);
    it = active_.erase(it);
  }
  IndexNames();
  return out;
}

const std::vector<Finding>& AlertTracker::Causes(const std::vector<Finding>& findings,
                                                std::optional<std::vector<Finding>>* causes) const {
  if (!*causes) {
    // A firing cause whose rule reports only its hold (hysteresis: the resolve condition
    // holds, not yet long enough) has not resolved: it still explains what it inhibits.
    *causes = findings;
    for (Finding& f : **causes) {
      if (f.hold_only && IsFiring(f.alert, f.labels)) f.hold_only = false;
    }
  }
  return **causes;
}

void AlertTracker::IndexNames() {
  active_names_.clear();
  for (const auto& [fingerprint, a] : active_) active_names_.insert(a.alert);
}

void AlertTracker::Apply(const Transition& t) {
  const std::string fingerprint = Fingerprint(t.alert, t.labels);
  if (t.state == AlertState::kResolved || t.lapsed) {
    if (auto it = active_.find(fingerprint); it != active_.end()) {
      Untrack(it->second);
      active_.erase(it);
    }
    IndexNames();
    return;
  }
  auto [entry, added] = active_.try_emplace(fingerprint);
  ActiveAlert& a = entry->second;
  if (added) active_labels_.insert(FingerprintLabels(t.labels));
  a.alert = t.alert;
  a.severity = t.severity;
  a.labels = t.labels;
  a.series = t.series;
  a.summary = t.summary;
  a.active_since = t.active_since;
  a.inhibited_by = t.inhibited_by;
  a.last_seen = t.at;
  if (t.state == AlertState::kFiring && !a.firing) {
    a.firing = true;
    a.firing_since = t.at;
  }
  if (t.state == AlertState::kEscalated) a.escalated = true;
  active_names_.insert(a.alert);
}

Result<std::vector<Transition>> ReadTransitions(store::Store& store, TimePoint until) {
  std::vector<Transition> out;
  OFFMON_RETURN_IF_ERROR(ForEachTransition(store, until, [&](Transition t) { out.push_back(std::move(t)); }));
  return out;
}

Status ReplayTransitions(store::Store& store, AlertTracker& tracker, TimePoint until) {
  return ForEachTransition(store, until, [&](const Transition& t) { tracker.Apply(t); });
}

std::string InhibitedBy(const Finding& finding, const std::vector<Finding>& findings, const AnalyzerConfig& config) {
  static const std::set<std::string, std::less<>> kDataFlow{"EventRateLow", "EpochSealingStale", "ParticipantDrop",
                                                            "ZeroParticipants", "EpochMissing"};
  static const std::set<std::string, std::less<>> kSealing{"EpochSealingStale", "EpochMissing", "EpochUnpublished",
                                                           "ZeroParticipants"};
  auto in = [](const std::vector<std::string>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  const std::string_view target = finding.alert;
  for (const Finding& cause : findings) {
    if (cause.pending || cause.hold_only || &cause == &finding) continue;
    const SeriesKey cause_key("x", cause.labels);  // outlives `process`, a view into it
    const std::string_view process = cause_key.Label("process");
    bool explains = false;
    if (cause.alert == "AllProcessesOffline") {
      explains = kDataFlow.contains(target) || kSealing.contains(target) || target == "ProcessOffline" ||
                 target == "RestartLoop";
    } else if (cause.alert == "DatabaseUnreachable") {
      explains = kDataFlow.contains(target) || kSealing.contains(target) || target == "DatabaseSlow" ||
                 (target == "CollectorFailing" && SeriesKey("x", finding.labels).Label("collector") == "postgres");
    } else if (cause.alert == "ProcessOffline" || cause.alert == "RestartLoop") {
      explains = (in(config.aggregator, process) && kDataFlow.contains(target)) ||
                 (in(config.sealer, process) && kSealing.contains(target));
    } else if (cause.alert == "EventRateLow") {
      explains = target == "ParticipantDrop" || target == "ZeroParticipants";
    }
    if (explains) return SeriesKey(cause.alert, cause.labels).ToString();
  }
  return "";
}

}  // namespace offmon::analyzer
