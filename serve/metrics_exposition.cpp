#include "offmon/serve/metrics_exposition.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace offmon::serve {

namespace {

struct Help {
  std::string_view name;
  std::string_view text;
};
// docs/metrics.md, "Metrics offmon records".
constexpr Help kHelp[] = {
    {"process_up", "1 when the process is online, 0 otherwise (stopped, errored, not listed)."},
    {"process_restarts_total", "Restarts of the process (PM2 restart_time, or PID changes)."},
    {"process_unstable_restarts_total", "PM2 restarts within min_uptime."},
    {"process_uptime_seconds", "Seconds since the process started; 0 when not online."},
    {"process_memory_bytes", "Resident memory of the process."},
    {"process_cpu_percent", "CPU use of the process in percent of one core."},
    {"system_memory_total_bytes", "Total memory (/proc/meminfo MemTotal)."},
    {"system_memory_available_bytes", "Available memory (/proc/meminfo MemAvailable)."},
    {"system_cpu_percent", "Busy share of all cores in percent."},
    {"system_load1", "1-minute load average."},
    {"system_load5", "5-minute load average."},
    {"system_load15", "15-minute load average."},
    {"system_uptime_seconds", "Seconds since boot."},
    {"disk_total_bytes", "Size of the file system at the mount point."},
    {"disk_free_bytes", "Bytes available to non-root users at the mount point."},
    {"db_up", "1 when PostgreSQL is connected and answering."},
    {"db_response_seconds", "Round trip of SELECT 1 to PostgreSQL."},
    {"db_events_last_hour", "Participation rows first seen in the last hour."},
    {"db_latest_epoch", "Newest sealed epoch."},
    {"db_latest_epoch_age_seconds", "Age of the newest sealed epoch."},
    {"epoch_participants", "Participants of the channel's latest sealed epoch."},
    {"epoch_published", "1 when the channel's latest sealed epoch is published."},
    {"epoch_participation_users", "Distinct participating users of the channel's latest sealed epoch."},
    {"offmon_resident_memory_bytes", "offmon's resident memory, as its self collector last saw it."},
    {"offmon_cpu_seconds_total", "CPU time offmon has used."},
    {"offmon_open_fds", "File descriptors offmon has open."},
    {"collector_up", "1 when the collector's last run reported no failure."},
    {"collector_duration_seconds", "Wall time of the collector's last run."},
};

bool ByNameThenLabels(const store::LatestSample& a, const store::LatestSample& b) {
  if (a.key.name != b.key.name) return a.key.name < b.key.name;
  return a.key.labels < b.key.labels;
}

}  // namespace

std::string MetricHelp(std::string_view metric_name) {
  for (const Help& h : kHelp) {
    if (h.name == metric_name) return std::string(h.text);
  }
  return fmt::format("{} as stored by offmon (newest sample).", metric_name);
}

MetricsExposition::MetricsExposition(std::vector<store::LatestSample> latest, std::vector<OwnFamily> own,
                                     ExpositionFormat format)
    : latest_(std::move(latest)), own_(std::move(own)), format_(format) {
  std::set<std::string_view> own_names;
  for (const OwnFamily& f : own_) own_names.insert(f.name);
  std::erase_if(latest_, [&](const store::LatestSample& s) { return own_names.contains(s.key.name); });
  std::sort(latest_.begin(), latest_.end(), ByNameThenLabels);
}

bool MetricsExposition::Next(std::string* piece) {
  piece->clear();
  if (next_series_ < latest_.size()) {
    const std::string& name = latest_[next_series_].key.name;
    MetricType type = TypeForName(name);
    // OpenMetrics names a counter family without _total: it must not collide with a
    // gauge of that name.
    if (format_ == ExpositionFormat::kOpenMetrics && type == MetricType::kCounter) {
      const std::string_view base = std::string_view(name).substr(0, name.size() - 6);
      auto clash = std::lower_bound(latest_.begin(), latest_.end(), base,
                                    [](const store::LatestSample& s, std::string_view n) { return s.key.name < n; });
      if (clash != latest_.end() && clash->key.name == base) type = MetricType::kUnknown;
    }
    AppendFamilyHeader(piece, format_, name, type, MetricHelp(name));
    for (; next_series_ < latest_.size() && latest_[next_series_].key.name == name; ++next_series_) {
      AppendSampleLine(piece, name, latest_[next_series_].key.labels, latest_[next_series_].sample.value);
    }
    return true;
  }
  if (next_own_ < own_.size()) {
    const OwnFamily& family = own_[next_own_++];
    AppendFamilyHeader(piece, format_, family.name, family.type, family.help);
    for (const auto& [labels, value] : family.samples) AppendSampleLine(piece, family.name, labels, value);
    return true;
  }
  if (ended_) return false;
  ended_ = true;
  AppendEnd(piece, format_);
  return !piece->empty();
}

}  // namespace offmon::serve
