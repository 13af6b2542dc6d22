// Kinds of events in the store's log. Collectors name the events they emit with these;
// the store gives each a sequence number. Stored as integers: never renumber, only add.
#pragma once

#include <optional>
#include <string_view>

namespace offmon {

enum class EventKind : int {
  kSeriesDefined = 1,     // {"id": 7, "series": "name{...}"}
  kSamples = 2,           // binary sample batch within one chunk window
  kImport = 3,            // {"file", "format", "samples", "skipped_lines"}
  kCheckpoint = 4,        // {"windows", "events", "samples", "dropped_expired", "through_ms"}
  kRetention = 5,         // {"raw_before_ms", "rollup_5m_before_ms", "rollup_1h_before_ms", ...}
  kCollectorFailure = 6,  // {"collector", "reason"}
  kEpochSealed = 7,       // JSON header + participant bitmap (docs/store-schema.md)
  kUsersRegistered = 8,   // {"first_id": n, "hashes": [...]}: ids n, n+1, ...
  kLogTail = 9,           // {"process", "stream", "path", "lines": [...]}
  kProcessInfo = 10,      // {"process", "status", "pid", "pm_id", "out_log", "err_log"}: on change
  kEpochVanished = 11,    // {"channel", "epoch", "root"}: a sealed epoch no longer in the database
  kAlertTransition = 12,  // {"alert", "severity", "state", "labels", ...}: analyzer/alert.h
  // The notification outbox (analyzer/notification.h, docs/notifications.md):
  kNotificationQueued = 13,     // {"id", "receiver", "key", "reason", "transition": {...}}
  kNotificationDelivered = 14,  // {"id", "receiver", "queued_seq", "status", "attempts"}
  kNotificationFailed = 15,     // {"id", "receiver", "queued_seq", "status", "reason", "attempts"}: permanent
  // Silences and acknowledgements (analyzer/silence.h, docs/notifications.md):
  kSilenceAdded = 16,       // {"id", "matchers": [{"name", "value"}], "starts_ms", "ends_ms", "reason", "by"}
  kSilenceExpired = 17,     // {"id", "by"}: ended early by hand
  kAlertAcknowledged = 18,  // {"key", "alert", "labels", "severity", "active_since_ms", "until_ms", "reason", "by"}
  // Remote write (docs/remote-write.md): retention deleted sample events an endpoint had
  // not been sent.
  kRemoteWriteGap = 19,  // {"endpoint", "after_seq", "through_seq", "events", "samples"}
};

std::string_view EventKindName(EventKind kind);
std::optional<EventKind> EventKindFromName(std::string_view name);

}  // namespace offmon
