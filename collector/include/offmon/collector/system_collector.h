// System resources: memory (/proc/meminfo), CPU utilisation (/proc/stat deltas between
// cycles, so the first cycle has none), load averages (/proc/loadavg), uptime
// (/proc/uptime) and free disk space per configured mount (statvfs).
// Series (Prometheus naming): system_memory_total_bytes, system_memory_available_bytes,
// system_cpu_percent, system_load1, system_load5, system_load15, system_uptime_seconds,
// disk_total_bytes{mount}, disk_free_bytes{mount}.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "offmon/collector/collector.h"
#include "offmon/collector/proc_fs.h"

namespace offmon::collector {

class SystemCollector final : public Collector {
 public:
  SystemCollector(ProcFs proc, std::vector<std::string> disk_mounts)
      : proc_(std::move(proc)), disk_mounts_(std::move(disk_mounts)) {}
  std::string_view name() const override { return "system"; }
  void Collect(TimePoint now, SampleSink& sink) override;

 private:
  void CollectCpu(TimePoint now, SampleSink& sink);

  ProcFs proc_;
  std::vector<std::string> disk_mounts_;
  // Jiffies of the previous cycle's aggregate "cpu" line: busy and total.
  std::optional<std::pair<double, double>> previous_cpu_;
};

}  // namespace offmon::collector
