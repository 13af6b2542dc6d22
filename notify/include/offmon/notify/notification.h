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
#include <string_view>
#include <vector>

#include "offmon/analyzer/alert.h"
#include "offmon/common/config.h"
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
  // The URLs it goes to, by DeliveryTargets() when it was queued: a receiver with `urls`
  // (an Alertmanager cluster) delivers to each and records an outcome per target. Empty:
  // the receiver's one URL (and, after `url` became `urls`, every URL of the receiver).
  std::vector<std::string> targets;
  friend bool operator==(const Notification&, const Notification&) = default;
};

// How the outbox names each URL of a receiver with `urls`, in their order: scheme, host
// and port (RedactHttpUrl: never a secret), "#2", "#3"... appended when two redact alike
// (credentials in the URL). Names, not positions, so reordering the list resends nothing.
// Empty for a receiver with `url` or `url_file`.
std::vector<std::string> DeliveryTargets(const ReceiverConfig& receiver);

// Whether the lane of `target` ("" for a one-URL receiver) delivers `n`, and whether an
// outcome recorded for `outcome_target` completes `n` for it.
bool ForTarget(const Notification& n, std::string_view target);
bool OutcomeCounts(std::string_view outcome_target, std::string_view target);

// The kNotificationQueued payload (JSON) and back. Corruption when it does not decode.
std::string EncodeNotification(const Notification& notification);
Result<Notification> DecodeNotification(std::string_view payload, int64_t seq);

// The outcome payloads. `status` is the HTTP status (0 when none was received);
// `target` the URL's DeliveryTargets() name, "" (left out) for a one-URL receiver.
std::string EncodeDelivered(const Notification& n, int status, int attempts, std::string_view target = {});
std::string EncodeFailed(const Notification& n, int status, std::string_view reason, int attempts,
                         std::string_view target = {});
struct Outcome {
  std::string id, receiver;
  std::string target;  // "" for a one-URL receiver
  int64_t queued_seq = 0;
  int status = 0;
  int attempts = 0;
  std::string reason;  // failures only
};
Result<Outcome> DecodeOutcome(std::string_view payload);

}  // namespace offmon::notify
