// The names of the series offmon writes: collectors and the daemon write them, the rules,
// the report, the trend shortcuts and /metrics read them. The names are a contract
// (docs/metrics.md; tests spell them out literally to pin it), written once here so that
// a writer and its readers cannot drift apart. Thread safety: constants.
#pragma once

#include <string_view>

namespace offmon::metric {

// pm2 and processes collectors; label `process` (+ `pm_id` in PM2 cluster mode).
inline constexpr std::string_view kProcessUp = "process_up";
inline constexpr std::string_view kProcessRestartsTotal = "process_restarts_total";
inline constexpr std::string_view kProcessUnstableRestartsTotal = "process_unstable_restarts_total";
inline constexpr std::string_view kProcessUptimeSeconds = "process_uptime_seconds";
inline constexpr std::string_view kProcessMemoryBytes = "process_memory_bytes";
inline constexpr std::string_view kProcessCpuPercent = "process_cpu_percent";

// system collector; the disk series carry label `mount`.
inline constexpr std::string_view kSystemMemoryTotalBytes = "system_memory_total_bytes";
inline constexpr std::string_view kSystemMemoryAvailableBytes = "system_memory_available_bytes";
inline constexpr std::string_view kSystemCpuPercent = "system_cpu_percent";
inline constexpr std::string_view kSystemLoad1 = "system_load1";
inline constexpr std::string_view kSystemLoad5 = "system_load5";
inline constexpr std::string_view kSystemLoad15 = "system_load15";
inline constexpr std::string_view kSystemUptimeSeconds = "system_uptime_seconds";
inline constexpr std::string_view kDiskTotalBytes = "disk_total_bytes";
inline constexpr std::string_view kDiskFreeBytes = "disk_free_bytes";

// postgres collector; the epoch series carry label `channel`.
inline constexpr std::string_view kDbUp = "db_up";
inline constexpr std::string_view kDbResponseSeconds = "db_response_seconds";
inline constexpr std::string_view kDbEventsLastHour = "db_events_last_hour";
inline constexpr std::string_view kDbLatestEpoch = "db_latest_epoch";
inline constexpr std::string_view kDbLatestEpochAgeSeconds = "db_latest_epoch_age_seconds";
inline constexpr std::string_view kDbBackfillOldestEpoch = "db_backfill_oldest_epoch";
inline constexpr std::string_view kDbBackfillDone = "db_backfill_done";
inline constexpr std::string_view kEpochParticipants = "epoch_participants";
inline constexpr std::string_view kEpochPublished = "epoch_published";
inline constexpr std::string_view kEpochParticipationUsers = "epoch_participation_users";

// The self collector: offmon watching itself.
inline constexpr std::string_view kOffmonResidentMemoryBytes = "offmon_resident_memory_bytes";
inline constexpr std::string_view kOffmonCpuSecondsTotal = "offmon_cpu_seconds_total";
inline constexpr std::string_view kOffmonOpenFds = "offmon_open_fds";

// The daemon, per run of a collector; label `collector`.
inline constexpr std::string_view kCollectorUp = "collector_up";
inline constexpr std::string_view kCollectorDurationSeconds = "collector_duration_seconds";

// Baselines the analyzer records hourly (analyzer/baselines.h), with the labels of the
// series they are the baseline of; `offmon trend` and the report read them back.
inline constexpr std::string_view kBaselineParticipantsMedian = "baseline_participants_median";
inline constexpr std::string_view kBaselineParticipantsSpread = "baseline_participants_spread";
inline constexpr std::string_view kBaselineProcessMemoryBytesMedian = "baseline_process_memory_bytes_median";
inline constexpr std::string_view kBaselineProcessMemoryBytesSpread = "baseline_process_memory_bytes_spread";
inline constexpr std::string_view kBaselineProcessCpuPercentMedian = "baseline_process_cpu_percent_median";
inline constexpr std::string_view kBaselineProcessCpuPercentSpread = "baseline_process_cpu_percent_spread";

// Fleet series (docs/metrics.md, docs/remote-write.md): written by the daemon every
// cycle, so /metrics and remote write carry them. A contract with the fleet rules over
// many hosts (each host told apart by remote write's `instance` external label).
inline constexpr std::string_view kOffmonUp = "offmon_up";
inline constexpr std::string_view kOffmonLastCycleTimestampSeconds = "offmon_last_cycle_timestamp_seconds";
// Labels alertname, severity, state ("pending" or "firing") and the alert's labels; 1
// while active, a staleness marker when it resolves.
inline constexpr std::string_view kOffmonAlert = "offmon_alert";
// Per [remote_write.NAME]: label `endpoint`; dropped also `reason` (rejected, too_old,
// retention).
inline constexpr std::string_view kRemoteWritePendingEvents = "offmon_remote_write_pending_events";
inline constexpr std::string_view kRemoteWriteCursorLagSeconds = "offmon_remote_write_cursor_lag_seconds";
inline constexpr std::string_view kRemoteWriteSamplesSentTotal = "offmon_remote_write_samples_sent_total";
inline constexpr std::string_view kRemoteWriteSamplesDroppedTotal = "offmon_remote_write_samples_dropped_total";

}  // namespace offmon::metric
