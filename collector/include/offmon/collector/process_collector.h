// Processes read from /proc, for deployments without PM2 (found by PID file or by
// command name) and for offmon itself.
//
// Watched processes: process_up, process_memory_bytes (RSS), process_cpu_percent (over
// the last cycle), process_uptime_seconds and process_restarts_total (counts PID
// changes seen, since without PM2 a new PID is the only sign of a restart), label
// `process` (the PID file's name without ".pid", or the command name).
// Self: offmon_resident_memory_bytes, offmon_cpu_seconds_total, offmon_open_fds.
// Thread safety: one collector is driven by one thread at a time.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "offmon/collector/collector.h"
#include "offmon/collector/proc_fs.h"

namespace offmon::collector {

// Fields of /proc/PID/stat that offmon uses.
struct ProcStat {
  std::string comm;
  char state = '?';
  double cpu_seconds = 0;       // utime + stime
  double start_seconds = 0;     // since boot
  int64_t rss_bytes = 0;
};
// Parses /proc/PID/stat text (the command name may contain spaces and parentheses).
Result<ProcStat> ParseProcStat(std::string_view text);

class ProcessCollector final : public Collector {
 public:
  ProcessCollector(ProcFs proc, std::vector<std::string> pid_files, std::vector<std::string> names)
      : proc_(std::move(proc)), pid_files_(std::move(pid_files)), names_(std::move(names)) {}
  std::string_view name() const override { return "processes"; }
  void Collect(TimePoint now, SampleSink& sink) override;

 private:
  struct Seen {
    int64_t pid = 0;
    double cpu_seconds = 0;
    TimePoint at;
    int64_t restarts = 0;
  };
  void Observe(const std::string& label, std::optional<int64_t> pid, TimePoint now, SampleSink& sink);
  std::optional<int64_t> FindByName(const std::string& name) const;

  ProcFs proc_;
  std::vector<std::string> pid_files_;
  std::vector<std::string> names_;
  std::map<std::string, Seen> seen_;
};

class SelfCollector final : public Collector {
 public:
  explicit SelfCollector(ProcFs proc) : proc_(std::move(proc)) {}
  std::string_view name() const override { return "self"; }
  void Collect(TimePoint now, SampleSink& sink) override;

 private:
  ProcFs proc_;
};

}  // namespace offmon::collector
