#include "offmon/serve/metrics_exposition.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "offmon/common/metric_names.h"

namespace offmon::serve {

namespace {

struct Help {
  std::string_view name;
  std::string_view text;
};
// docs/metrics.md, "Metrics offmon records".
constexpr Help kHelp[] = {
    {metric::kProcessUp, "1 when the process is online, 0 otherwise (stopped, errored, not listed)."},
    {metric::kProcessRestartsTotal, "Restarts of the process (PM2 restart_time, or PID changes)."},
    {metric::kProcessUnstableRestartsTotal, "PM2 restarts within min_uptime."},
    {metric::kProcessUptimeSeconds, "Seconds since the process started; 0 when not online."},
    {metric::kProcessMemoryBytes, "Resident memory of the process."},
    {metric::kProcessCpuPercent, "CPU use of the process in percent of one core."},
    {metric::kSystemMemoryTotalBytes, "Total memory (/proc/meminfo MemTotal)."},
    {metric::kSystemMemoryAvailableBytes, "Available memory (/proc/meminfo MemAvailable)."},
    {metric::kSystemCpuPercent, "Busy share of all cores in percent."},
    {metric::kSystemLoad1, "1-minute load average."},
    {metric::kSystemLoad5, "5-minute load average."},
    {metric::kSystemLoad15, "15-minute load average."},
    {metric::kSystemUptimeSeconds, "Seconds since boot."},
    {metric::kDiskTotalBytes, "Size of the file system at the mount point."},
    {metric::kDiskFreeBytes, "Bytes available to non-root users at the mount point."},
    {metric::kDbUp, "1 when PostgreSQL is connected and answering."},
    {metric::kDbResponseSeconds, "Round trip of SELECT 1 to PostgreSQL."},
    {metric::kDbEventsLastHour, "Participation rows first seen in the last hour."},
    {metric::kDbLatestEpoch, "Newest sealed epoch."},
    {metric::kDbLatestEpochAgeSeconds, "Age of the newest sealed epoch."},
    {metric::kEpochParticipants, "Participants of the channel's latest sealed epoch."},
    {metric::kEpochPublished, "1 when the channel's latest sealed epoch is published."},
    {metric::kEpochParticipationUsers, "Distinct participating users of the channel's latest sealed epoch."},
    {metric::kOffmonResidentMemoryBytes, "offmon's resident memory, as its self collector last saw it."},
    {metric::kOffmonCpuSecondsTotal, "CPU time offmon has used."},
    {metric::kOffmonOpenFds, "File descriptors offmon has open."},
    {metric::kCollectorUp, "1 when the collector's last run reported no failure."},
    {metric::kCollectorDurationSeconds, "Wall time of the collector's last run."},
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
