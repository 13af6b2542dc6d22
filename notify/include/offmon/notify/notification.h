// Notifications: what the outbox holds. Routing (notification_router.h) decides from each
// recorded alert transition and [notify] which receivers get a notification; each one is
// queued as a kNotificationQueued event, and the sender (notification_sender.h) records a
// kNotificationDelivered or kNotificationFailed event for it. The store is the queue:
// a queued notification without such an event is still to be sent, also after a restart.
// docs/notifications.md.
//
// Thread safety: values and free functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "offmon/analyzer/alert.h"
#include "offmon/common/result.h"

namespace offmon::notify {

struct Notification {
  int64_t seq = 0;       // the kNotificationQueued event's sequence number (0 before queueing)
  std::string id;        // stable: a hash of receiver, reason, time and key (16 hex digits)
  std::string receiver;  // [notify] receiver name
  std::string key;       // the idempotency / dedup key: the alert fingerprint
  std::string reason;    // "firing", "escalated", "resolved" or "repeat"
  analyzer::Transition transition;
  // Set while the alert is acknowledged (keep-alive repeats to Alertmanager): who
  // acknowledged it and until when (silence.h).
  std::string acknowledged_by;
  std::optional<TimePoint> acknowledged_until;
  friend bool operator==(const Notification&, const Notification&) = default;
};

// The kNotificationQueued payload (JSON) and back. Corruption when it does not decode.
std::string EncodeNotification(const Notification& notification);
Result<Notification> DecodeNotification(std::string_view payload, int64_t seq);

// The outcome payloads. `status` is the HTTP status (0 when none was received).
std::string EncodeDelivered(const Notification& n, int status, int attempts);
std::string EncodeFailed(const Notification& n, int status, std::string_view reason, int attempts);
struct Outcome {
  std::string id, receiver;
  int64_t queued_seq = 0;
  int status = 0;
  int attempts = 0;
  std::string reason;  // failures only
};
Result<Outcome> DecodeOutcome(std::string_view payload);

}  // namespace offmon::notify
