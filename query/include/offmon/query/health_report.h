// HealthReport: the guide's health report ("Monitoring Reports") as plain data, built from
// the store as it was at one instant. `offmon report` renders it (report_render.h);
// `offmon check` builds it after a collection cycle and derives its exit code from it.
//
// Everything is read from what the store held at or before `at`: samples with time <= at,
// events with time <= at, so a report of a past moment shows the past. A value older than
// twice its collector's interval is kept but marked stale.
//
// Thread safety: BuildHealthReport uses `store` from the calling thread only; the result
// is a value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "offmon/analyzer/alert.h"
#include "offmon/analyzer/participant_baseline.h"
#include "offmon/analyzer/silence.h"
#include "offmon/common/config.h"
#include "offmon/common/result.h"
#include "offmon/common/series_key.h"
#include "offmon/common/time.h"
#include "offmon/store/store.h"

namespace offmon::query {

// The newest sample of one series at or before the report time. `value` is empty when the
// series has no sample in the lookback; `stale` when it is older than the tolerance.
struct Reading {
  std::optional<double> value;
  TimePoint time;
  bool stale = false;
  bool present() const { return value.has_value(); }
};

struct ProcessStatus {
  std::string name;
  // PM2's status from the latest process_info event, else "online"/"offline" from
  // process_up; empty when neither is known.
  std::string status;
  Reading up, uptime_seconds, restarts_total, memory_bytes, cpu_percent;
  // Counter increases of process_restarts_total over the hour before the report time; a
  // decrease is a counter reset and counts only the new value (as the RestartLoop rule).
  std::optional<double> restarts_last_hour;
};

struct DatabaseHealth {
  Reading up, events_last_hour, latest_epoch, latest_epoch_age_seconds, response_seconds;
  // The PostgreSQL collector's backfill (docs/metrics.md): how far back history is read.
  Reading backfill_oldest_epoch, backfill_done;
  // Whether the store is behind the database: the backfill is not done, or the newest
  // stored epoch is older than the database's newest. RECENT EPOCHS and CHANNELS say so.
  bool Behind(std::optional<int64_t> newest_stored_epoch) const {
    if (backfill_done.present() && *backfill_done.value < 1) return true;
    return latest_epoch.present() && newest_stored_epoch &&
           static_cast<double>(*newest_stored_epoch) < *latest_epoch.value;
  }
};

struct EpochRow {
  std::optional<int64_t> epoch;  // absent for imported history, which has only samples
  std::string channel;
  int64_t participants = 0;
  TimePoint sealed_at;
  std::optional<bool> published;  // absent when unknown
};

struct ChannelRow {
  std::string channel;
  std::optional<double> last_participants;  // the channel's latest sealed epoch
  std::optional<TimePoint> last_sealed_at;
  std::optional<analyzer::Baseline> baseline;
  // "series" when read from baseline_participants_* series, "computed" when computed
  // here from epoch_participants, empty when there is no baseline.
  std::string baseline_source;
};

// A silence or acknowledgement that holds back an alert's notifications at the report
// time (analyzer/silence.h).
struct SuppressionNote {
  std::string id;  // the silence's id; empty for an acknowledgement
  TimePoint until;
  std::string by, reason;
};

struct AlertRow {
  std::string alert;
  analyzer::Severity severity = analyzer::Severity::kWarning;
  bool firing = false;  // else pending
  bool escalated = false;
  Labels labels;
  std::string summary;
  TimePoint since;           // firing since (pending: since the condition started to hold)
  TimePoint active_since;    // the condition started to hold
  std::string inhibited_by;  // "Alert{labels}" of the upstream cause, or empty
  std::string first_action;  // the guide's first step (runbook.h); empty when none
  std::string guide_section;
  // Not explained by a firing cause: counts toward the overall status, as a hard state
  // when firing and as a soft one when pending.
  bool counted = false;
  // Muted at the report time: notifications held back; still counted in the status.
  std::optional<SuppressionNote> silenced, acknowledged;
};

struct DiskRow {
  std::string mount;
  Reading free_bytes, total_bytes;
};

struct SystemResources {
  Reading memory_total_bytes, memory_available_bytes, cpu_percent, load1, load5, load15;
  std::vector<DiskRow> disks;
};

// The overall verdict: the highest severity among alerts not inhibited by a firing
// upstream cause. The order is also the Nagios exit code of `offmon check`.
enum class HealthStatus { kOk = 0, kWarning = 1, kCritical = 2 };
std::string_view HealthStatusName(HealthStatus status);  // "OK", "WARNING", "CRITICAL"

struct HealthReport {
  TimePoint at;                          // the report's "now"
  std::vector<ProcessStatus> processes;  // by name
  DatabaseHealth database;
  std::vector<EpochRow> epochs;      // the last 10 sealed, newest first
  std::vector<ChannelRow> channels;  // by name
  std::vector<AlertRow> alerts;      // causes first, each followed by what it explains
  std::vector<analyzer::Silence> silences;  // active at the report time, in order added
  SystemResources system;
  // The verdict over firing and pending alerts (counted ones): what the status line says
  // and `offmon check` exits with. A report states what it sees, as a Nagios plugin
  // does: a condition seen but not yet held for its rule's `for` (a process just found
  // down) is a soft state, never OK; the scheduler that runs the check debounces it.
  HealthStatus status = HealthStatus::kOk;
  // The same over firing alerts only (Nagios' hard state). status > hard_status: the
  // verdict comes from pending alerts alone.
  HealthStatus hard_status = HealthStatus::kOk;
  bool soft() const { return status > hard_status; }
};

// How many sealed epochs RECENT EPOCHS lists.
inline constexpr size_t kRecentEpochs = 10;

// Builds the report of the store as of `at`. Fails with the store's error (Corruption,
// IOError, ...) when a read fails; missing data is not an error, it leaves the field empty.
Result<HealthReport> BuildHealthReport(store::Store& store, const Config& config, TimePoint at);

}  // namespace offmon::query
