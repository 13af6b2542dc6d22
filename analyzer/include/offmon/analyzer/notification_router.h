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
#include "offmon/analyzer/notification.h"
#include "offmon/common/config.h"

namespace offmon::analyzer {

// Decides who gets what. Policy per receiver (ReceiverConfig): INFO never; only
// severities >= min_severity; "firing" / "escalated" transitions as listed (the default
// lists escalated, which the tracker emits for CRITICAL at once and for WARNING after
// escalate_warning_after); "resolved" only to receivers that got a notification of that
// episode; a severity change of a notified episode goes to the receivers that got it;
// inhibited alerts (explained by an upstream cause) are not notified; a firing and an
// escalation of one alert in the same evaluation make one notification (escalated).
// State: the (receiver, alert) episodes notified and when last, only for active alerts.
class NotificationRouter {
 public:
  explicit NotificationRouter(const NotifyConfig& config);

  // The notifications for one evaluation's transitions, in order.
  std::vector<Notification> Route(const std::vector<Transition>& transitions);
  // Repeats of still-firing notified alerts whose receiver's repeat_interval has passed.
  std::vector<Notification> Repeats(TimePoint now, const std::map<std::string, ActiveAlert>& active);
  // Folds a queued notification in (restoring state from the store after a restart).
  void Apply(const Notification& queued);

  size_t episodes() const { return notified_.size(); }

 private:
  Notification Make(const ReceiverConfig& receiver, std::string reason, const Transition& t, std::string key);

  const NotifyConfig& config_;
  // (receiver, fingerprint) -> when last notified.
  std::map<std::pair<std::string, std::string>, TimePoint> notified_;
};

}  // namespace offmon::analyzer
