#include "offmon/collector/system_collector.h"

#include <sys/statvfs.h>

#include <charconv>

#include <fmt/format.h>

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
    const char* metric = key == "MemTotal:" ? "system_memory_total_bytes"
                         : key == "MemAvailable:" ? "system_memory_available_bytes"
                                                  : nullptr;
    double kib;
    if (metric == nullptr || !ParseDouble(value, &kib)) continue;
    sink.Append(SeriesKey(metric, {}), Sample{now, kib * 1024});
    ++found;
  }
  if (found < 2) sink.CollectorFailed("system", "meminfo: MemTotal or MemAvailable missing");
}

void CollectLoadavg(const ProcFs& proc, TimePoint now, SampleSink& sink) {
  auto text = proc.Read("loadavg");
  if (!text) return sink.CollectorFailed("system", text.error().message());
  std::string_view line = *text, word;
  for (const char* metric : {"system_load1", "system_load5", "system_load15"}) {
    double load;
    if (!NextWord(&line, &word) || !ParseDouble(word, &load)) {
      return sink.CollectorFailed("system", fmt::format("loadavg: cannot parse '{}'", *text));
    }
    sink.Append(SeriesKey(metric, {}), Sample{now, load});
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
  sink.Append(SeriesKey("system_uptime_seconds", {}), Sample{now, seconds});
}

}  // namespace

void SystemCollector::Collect(TimePoint now, SampleSink& sink) {
  CollectMeminfo(proc_, now, sink);
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
    sink.Append(SeriesKey("disk_total_bytes", labels), Sample{now, static_cast<double>(fs.f_blocks) * block});
    sink.Append(SeriesKey("disk_free_bytes", labels), Sample{now, static_cast<double>(fs.f_bavail) * block});
  }
}

}  // namespace offmon::collector
