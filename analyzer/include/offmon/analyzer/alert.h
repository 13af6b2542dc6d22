// Alerts: what a rule finds at one evaluation (Finding), and the lifecycle transitions the
// tracker derives from findings over time (Transition). Transitions are events in the
// store (EventKind::kAlertTransition); the set of active alerts is their projection.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "offmon/common/result.h"
#include "offmon/common/series_key.h"
#include "offmon/common/time.h"

namespace offmon::analyzer {

// The guide's levels. INFO is recorded, never notified.
enum class Severity { kInfo = 0, kWarning = 1, kCritical = 2 };
std::string_view SeverityName(Severity severity);  // "INFO", "WARNING", "CRITICAL"
std::optional<Severity> SeverityFromName(std::string_view name);

// A rule's condition holds for one subject at one evaluation.
struct Finding {
  std::string alert;  // the alert name, a contract (docs/alert-rules.md)
  Severity severity = Severity::kWarning;
  Labels labels;        // sorted; identify the subject (process, channel, mount, collector)
  std::string series;   // the series the condition is about, for drill-down; may be empty
  std::string summary;  // one line for people
  // Only the resolve condition holds (hysteresis): keeps a firing alert firing, never
  // starts one.
  bool hold_only = false;
  // The condition holds but not yet for the rule's `for` duration.
  bool pending = false;
};

// One alert per rule and label set.
std::string Fingerprint(std::string_view alert, const Labels& labels);

enum class AlertState { kPending, kFiring, kEscalated, kResolved };
std::string_view AlertStateName(AlertState state);  // "pending", "firing", "escalated", "resolved"
std::optional<AlertState> AlertStateFromName(std::string_view name);

struct Transition {
  TimePoint at;
  std::string alert;
  Severity severity = Severity::kWarning;
  AlertState state = AlertState::kPending;
  Labels labels;
  std::string series;
  std::string summary;
  TimePoint active_since;    // when the condition started to hold (pending start)
  std::string inhibited_by;  // the upstream alert that explains this one; not notified
  // A pending alert whose condition stopped holding before it fired: recorded (state
  // kPending) so that replays drop it from the active set, but never a resolve, never
  // logged or notified: nothing was announced, so nothing ends.
  bool lapsed = false;
  friend bool operator==(const Transition&, const Transition&) = default;
};

// The store payload of a kAlertTransition event (JSON), and back.
std::string EncodeTransition(const Transition& transition);
Result<Transition> DecodeTransition(std::string_view payload, TimePoint at);

}  // namespace offmon::analyzer
