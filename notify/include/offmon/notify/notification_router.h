// NotificationRouter: from alert transitions and [notify], which receivers get a
// notification (pure: no I/O; the caller queues what it returns). docs/notifications.md.
//
// Thread safety: one thread.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "offmon/analyzer/alert_tracker.h"
#include "offmon/notify/notification.h"
#include "offmon/analyzer/silence.h"
#include "offmon/common/config.h"

namespace offmon::notify {

// Decides who gets what. Policy per receiver (ReceiverConfig): INFO never; only
// severities >= min_severity; "firing" / "escalated" transitions as listed (the default
// lists escalated, which the tracker emits for CRITICAL at once and for WARNING after
// escalate_warning_after); "resolved" only to receivers that got a notification of that
// episode; a severity change of a notified episode goes to the receivers that got it;
// inhibited alerts (explained by an upstream cause) are not notified; a firing and an
// escalation of one alert in the same evaluation make one notification (escalated).
//
// Suppressions (silence.h): a silenced alert gets no firing, escalated or repeat
// notification (its resolve still goes where the episode went); an acknowledged alert
// gets no escalated and no repeat notification, except keep-alive repeats to
// Alertmanager receivers (which drop an alert at its endsAt unless it is re-sent), marked
// with who acknowledged it and until when.
//
// Reconcile() runs every evaluation and sends what each receiver should know of the
// active alerts but was not told: what a silence, an acknowledgement or an inhibition
// held back once it no longer applies, and what a crash between recording transitions
// and queueing their notifications lost. HealResolves() does the same for resolves once
// after a restart, before the first Route.
//
// State: per (receiver, alert) episode notified, when last and whether its escalation
// was sent; only for active alerts.
class NotificationRouter {
 public:
  explicit NotificationRouter(const NotifyConfig& config);

  // The notifications for one evaluation's transitions, in order; suppressions are
  // judged at each transition's time.
  std::vector<Notification> Route(const std::vector<analyzer::Transition>& transitions,
                                  const analyzer::Suppressions& suppressions = {});
  // For each receiver, the firing alerts in `active` it wants in their current state
  // (escalated: "escalated", else "firing"; or "firing" when it lists only that) and has
  // not been told of, unless suppressed at `now`.
  std::vector<Notification> Reconcile(TimePoint now, const std::map<std::string, analyzer::ActiveAlert>& active,
                                      const analyzer::Suppressions& suppressions = {});
  // Repeats of still-firing notified alerts whose receiver's repeat_interval has passed.
  std::vector<Notification> Repeats(TimePoint now, const std::map<std::string, analyzer::ActiveAlert>& active,
                                    const analyzer::Suppressions& suppressions = {});
  // Folds a queued notification in (restoring state from the store after a restart).
  // The next HealResolves checks the restored episodes against the active set.
  void Apply(const Notification& queued);
  // After Apply(), once (later calls return nothing): the "resolved" notifications a
  // crash between recording transitions and queueing them lost. For each restored
  // episode whose alert `active` (the whole active set, as of `now`) no longer holds in
  // that episode, a resolve at `now` to its receiver if it lists "resolved"; the episode
  // is forgotten either way. Call it before the first Route after a restart, so the
  // resolve of an old episode precedes the news of a new one.
  std::vector<Notification> HealResolves(TimePoint now, const std::map<std::string, analyzer::ActiveAlert>& active);

  size_t episodes() const { return notified_.size(); }

 private:
  struct Episode {
    TimePoint active_since;  // which episode of the alert (a restored one may be stale)
    TimePoint last;          // when last notified
    bool escalated = false;  // an escalated notification (or a repeat of one) was sent
    bool restored = false;   // folded in by Apply(), not yet checked against the active set
    analyzer::Transition told;         // the transition of the last notification: what a resolve repeats
  };


  Notification Make(const ReceiverConfig& receiver, std::string reason, const analyzer::Transition& t, std::string key);
  void Record(const Notification& n);
  // The receiver was told of this episode of the alert. A receiver that does not list
  // "resolved" gets no resolve notification, so after a restart the queued events can
  // leave an earlier episode behind: it does not count.
  const Episode* Notified(const std::string& receiver, const std::string& fingerprint, TimePoint active_since) const;

  const NotifyConfig& config_;
  // (receiver, fingerprint) -> what it was told.
  std::map<std::pair<std::string, std::string>, Episode> notified_;
  bool heal_pending_ = false;  // Apply() ran since the last HealResolves
};

}  // namespace offmon::notify
