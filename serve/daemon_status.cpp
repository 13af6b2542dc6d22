#include "offmon/serve/daemon_status.h"

#include <algorithm>

#include <fmt/format.h>

namespace offmon::serve {

void DaemonStatus::Install(const std::vector<std::pair<std::string, Duration>>& names_intervals, TimePoint now) {
  std::vector<CollectorHealth> next;
  next.reserve(names_intervals.size());
  for (const auto& [name, interval] : names_intervals) {
    // Not captured by the lambda as a structured binding: clang 14 (the fuzz build) lacks it.
    const std::string& wanted = name;
    auto it = std::find_if(collectors.begin(), collectors.end(),
                           [&](const CollectorHealth& c) { return c.name == wanted; });
    CollectorHealth health;
    if (it != collectors.end()) {
      health = std::move(*it);
    } else {
      health.name = name;
      health.installed = now;
    }
    health.interval = interval;
    next.push_back(std::move(health));
  }
  collectors = std::move(next);
}

void DaemonStatus::RecordRun(std::string_view name, TimePoint at,
                             const std::vector<std::pair<std::string, std::string>>& failures) {
  auto it = std::find_if(collectors.begin(), collectors.end(), [&](const CollectorHealth& c) { return c.name == name; });
  if (it == collectors.end()) return;  // a run of a collector removed by a reload
  it->last_run = at;
  it->last_error.clear();
  for (const auto& [collector, reason] : failures) {
    it->last_error += (it->last_error.empty() ? "" : "; ") + reason;
  }
  if (failures.empty()) {
    it->last_success = at;
  } else {
    ++it->errors_total;
  }
}

std::vector<std::string> HealthProblems(const DaemonStatus& status, TimePoint now) {
  std::vector<std::string> problems;
  for (const CollectorHealth& c : status.collectors) {
    const TimePoint since = c.last_success.value_or(c.installed);
    if (now - since <= 2 * c.interval) continue;
    const std::string when =
        c.last_success ? fmt::format("last succeeded {} ago", FormatDurationShort(now - *c.last_success))
                       : fmt::format("no successful run in {}", FormatDurationShort(now - c.installed));
    const std::string limit = fmt::format("(limit {}, twice its interval)", FormatDurationShort(2 * c.interval));
    if (!c.last_error.empty()) {
      problems.push_back(fmt::format("collector {}: {} {}: {}", c.name, when, limit, c.last_error));
    } else if (!c.last_run) {
      problems.push_back(fmt::format("collector {}: {} {}: it has not finished a run", c.name, when, limit));
    } else {
      problems.push_back(fmt::format("collector {}: {} {}", c.name, when, limit));
    }
  }
  if (!status.store_error.empty()) problems.push_back(fmt::format("store: last write failed: {}", status.store_error));
  return problems;
}

}  // namespace offmon::serve
