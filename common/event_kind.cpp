#include "offmon/common/event_kind.h"

#include <array>
#include <utility>

namespace offmon {

namespace {
constexpr std::array<std::pair<EventKind, std::string_view>, 19> kKindNames{{
    {EventKind::kSeriesDefined, "series_defined"},
    {EventKind::kSamples, "samples"},
    {EventKind::kImport, "import"},
    {EventKind::kCheckpoint, "checkpoint"},
    {EventKind::kRetention, "retention"},
    {EventKind::kCollectorFailure, "collector_failure"},
    {EventKind::kEpochSealed, "epoch_sealed"},
    {EventKind::kUsersRegistered, "users_registered"},
    {EventKind::kLogTail, "log_tail"},
    {EventKind::kProcessInfo, "process_info"},
    {EventKind::kEpochVanished, "epoch_vanished"},
    {EventKind::kAlertTransition, "alert_transition"},
    {EventKind::kNotificationQueued, "notification_queued"},
    {EventKind::kNotificationDelivered, "notification_delivered"},
    {EventKind::kNotificationFailed, "notification_failed"},
    {EventKind::kSilenceAdded, "silence_added"},
    {EventKind::kSilenceExpired, "silence_expired"},
    {EventKind::kAlertAcknowledged, "alert_acknowledged"},
    {EventKind::kRemoteWriteGap, "remote_write_gap"},
}};
}  // namespace

std::string_view EventKindName(EventKind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<EventKind> EventKindFromName(std::string_view name) {
  for (const auto& [k, n] : kKindNames) {
    if (n == name) return k;
  }
  return std::nullopt;
}

}  // namespace offmon
