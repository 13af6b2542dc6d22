// Alert history as the query tool reads it: the recorded kAlertTransition events folded
// into episodes, one per alert (rule and label set) from its first `firing` transition
// to its `resolved` one. Conditions that were only pending and never fired are not
// episodes, as in `offmon analyze`. Shared by `offmon trend` (markers) and `offmon alerts`.
// The notification outbox (analyzer/notification.h) read back as deliveries, attached to
// the episodes they were about (`offmon alerts`, docs/notifications.md "Delivery state").
// Thread safety: pure functions over values, except ReadDeliveries, which reads the store.
#pragma once

#include <fmt/format.h>

#include <optional>
#include <string>
#include <vector>

#include "offmon/analyzer/alert.h"
#include "offmon/analyzer/alert_tracker.h"
#include "offmon/common/series_key.h"
#include "offmon/store/store.h"

namespace offmon::query {

// One queued notification and what became of it, as recorded in the store.
enum class DeliveryState { kDelivered, kFailed, kPending };
std::string_view DeliveryStateName(DeliveryState state);  // "delivered", "failed", "pending"

struct Delivery {
  int64_t queued_seq = 0;  // the kNotificationQueued event
  std::string id, receiver;
  std::string key;                // the alert fingerprint
  std::string reason;             // "firing", "escalated", "resolved" or "repeat"
  TimePoint transition_at;        // the time of the transition (or repeat) it announces
  TimePoint queued_at;            // when it was queued
  DeliveryState state = DeliveryState::kPending;
  std::optional<TimePoint> outcome_at;  // delivered or failed: when the outcome was recorded
  int status = 0;                       // HTTP status of the last attempt (0: none)
  int attempts = 0;
  std::string error;  // failed: the receiver's answer, already scrubbed of secrets
};

// Notifications by outcome.
struct DeliveryCounts {
  size_t delivered = 0, failed = 0, pending = 0;
  void Add(const Delivery& d) {
    switch (d.state) {
      case DeliveryState::kDelivered:
        ++delivered;
        break;
      case DeliveryState::kFailed:
        ++failed;
        break;
      case DeliveryState::kPending:
        ++pending;
        break;
    }
  }
  size_t total() const { return delivered + failed + pending; }
  size_t undelivered() const { return failed + pending; }
  // "2 delivered, 1 failed": the non-zero counts.
  std::string Text() const {
    std::string out;
    auto add = [&out](size_t n, std::string_view what) {
      if (n == 0) return;
      if (!out.empty()) out += ", ";
      out += fmt::format("{} {}", n, what);
    };
    add(delivered, "delivered");
    add(failed, "failed");
    add(pending, "pending");
    return out;
  }
};

struct AlertEpisode {
  std::string alert;
  Labels labels;
  std::string series, summary, inhibited_by;                   // from the latest firing/escalated transition
  analyzer::Severity severity = analyzer::Severity::kWarning;  // the highest while it fired
  TimePoint active_since;                                      // the condition started to hold (pending start)
  TimePoint fired_at;                                          // the first firing transition
  std::optional<TimePoint> resolved_at;                        // nullopt: still firing at the end of the history read
  bool escalated = false;
  std::vector<Delivery> deliveries;  // in queue order; filled by AttachDeliveries

  // Firing to resolved; for an episode still firing, firing to `until`.
  Duration DurationUntil(TimePoint until) const { return (resolved_at ? *resolved_at : until) - fired_at; }
  // Fired before `to` and not resolved before `from`.
  bool Overlaps(TimePoint from, TimePoint to) const { return fired_at < to && (!resolved_at || *resolved_at >= from); }
};

// Folds transitions, in record order (analyzer::ReadTransitions), into episodes, in the
// order they first fired.
std::vector<AlertEpisode> BuildEpisodes(const std::vector<analyzer::Transition>& transitions);

// Every notification queued at or before `until`, in queue order, with its outcome when
// one was recorded at or before `until` (else pending). Corruption when a notification
// or outcome event does not decode; the store's read errors otherwise.
Result<std::vector<Delivery>> ReadDeliveries(store::Store& store, TimePoint until);

// Moves each delivery to the episode it was about: the same alert fingerprint (its key)
// and its transition time within the episode (fired_at to resolved_at, both included).
// Returns the deliveries that match no episode.
std::vector<Delivery> AttachDeliveries(std::vector<Delivery> deliveries, std::vector<AlertEpisode>* episodes);

// An alert belongs to a series when its `series` field is the series' key text, or when
// it has labels, shares at least one label name with the series, and agrees with the
// series on the value of every label name they share (so CpuHigh{process="w1"} marks
// every w1 series, EpochMissing{channel="a",epoch="7"} marks epoch_participants{channel="a"},
// and an alert without labels, such as SystemMemoryLow, only its own series).
bool BelongsTo(const AlertEpisode& episode, const SeriesKey& key);

// "process=w1,mount=/": labels for a table cell.
std::string LabelsText(const Labels& labels);

}  // namespace offmon::query
