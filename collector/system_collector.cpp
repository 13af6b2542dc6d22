#include "offmon/collector/system_collector.h"

#include <sys/statvfs.h>

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "offmon/common/metric_names.h"

namespace offmon::collector {

namespace {

bool ParseDouble(std::string_view word, double* out) {
  auto [ptr, ec] = std::from_chars(word.data(), word.data() + word.size(), *out);
  return ec == std::errc() && ptr == word.data() + word.size();
}

void CollectMeminfo(const ProcFs& proc, TimePoint now, SampleSink& sink) {
  auto text = proc.Read("meminfo");
  if (!text) return sink.CollectorFailed("system", text.error().message());
  ProcLines lines(*text);
  std::string_view line;
  int found = 0;
  while (lines.Next(&line)) {
    std::string_view key, value;
    if (!NextWord(&line, &key) || !NextWord(&line, &value)) continue;
    const std::string_view name = key == "MemTotal:"       ? metric::kSystemMemoryTotalBytes
                                  : key == "MemAvailable:" ? metric::kSystemMemoryAvailableBytes
                                                           : std::string_view();
    double kib;
    if (name.empty() || !ParseDouble(value, &kib)) continue;
    sink.Append(SeriesKey(name, {}), Sample{now, kib * 1024});
    ++found;
  }
  if (found < 2) sink.CollectorFailed("system", "meminfo: MemTotal or MemAvailable missing");
}

void CollectLoadavg(const ProcFs& proc, TimePoint now, SampleSink& sink) {
  auto text = proc.Read("loadavg");
  if (!text) return sink.CollectorFailed("system", text.error().message());
  std::string_view line = *text, word;
  for (const std::string_view name : {metric::kSystemLoad1, metric::kSystemLoad5, metric::kSystemLoad15}) {
    double load;
    if (!NextWord(&line, &word) || !ParseDouble(word, &load)) {
      return sink.CollectorFailed("system", fmt::format("loadavg: cannot parse '{}'", *text));
    }
    sink.Append(SeriesKey(name, {}), Sample{now, load});
  }
}

void CollectUptime(const ProcFs& proc, TimePoint now, SampleSink& sink) {
  auto text = proc.Read("uptime");
  if (!text) return sink.CollectorFailed("system", text.error().message());
  std::string_view line = *text, word;
  double seconds;
  if (!NextWord(&line, &word) || !ParseDouble(word, &seconds)) {
    return sink.CollectorFailed("system", "uptime: cannot parse");
  }
  sink.Append(SeriesKey(metric::kSystemUptimeSeconds, {}), Sample{now, seconds});
}

}  // namespace

void SystemCollector::CollectCpu(TimePoint now, SampleSink& sink) {
  auto text = proc_.Read("stat");
  if (!text) return sink.CollectorFailed("system", text.error().message());
  ProcLines lines(*text);
  std::string_view line, word;
  if (!lines.Next(&line) || !NextWord(&line, &word) || word != "cpu") {
    return sink.CollectorFailed("system", "stat: first line is not the cpu total");
  }
  // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
  double total = 0, idle = 0, value;
  for (int field = 0; field < 8 && NextWord(&line, &word); ++field) {
    if (!ParseDouble(word, &value)) return sink.CollectorFailed("system", "stat: cpu field is not a number");
    total += value;
    if (field == 3 || field == 4) idle += value;
  }
  const std::pair<double, double> current{total - idle, total};
  if (previous_cpu_ && current.second > previous_cpu_->second) {
    double percent = 100 * (current.first - previous_cpu_->first) / (current.second - previous_cpu_->second);
    sink.Append(SeriesKey(metric::kSystemCpuPercent, {}), Sample{now, std::round(percent * 10) / 10});
  }
  previous_cpu_ = current;
}

void SystemCollector::Collect(TimePoint now, SampleSink& sink) {
  CollectMeminfo(proc_, now, sink);
  CollectCpu(now, sink);
  CollectLoadavg(proc_, now, sink);
  CollectUptime(proc_, now, sink);
  for (const std::string& mount : disk_mounts_) {
    struct statvfs fs {};
    if (statvfs(mount.c_str(), &fs) != 0) {
      sink.CollectorFailed("system", fmt::format("statvfs {}: cannot read", mount));
      continue;
    }
    Labels labels{{"mount", mount}};
    auto block = static_cast<double>(fs.f_frsize);
    sink.Append(SeriesKey(metric::kDiskTotalBytes, labels), Sample{now, static_cast<double>(fs.f_blocks) * block});
    sink.Append(SeriesKey(metric::kDiskFreeBytes, labels), Sample{now, static_cast<double>(fs.f_bavail) * block});
  }
}

}  // namespace offmon::collector
