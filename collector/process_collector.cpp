#include "offmon/collector/process_collector.h"

#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <limits>

#include <fmt/format.h>

#include "offmon/common/metric_names.h"

namespace offmon::collector {

namespace {

template <typename T>
bool ParseNumber(std::string_view word, T* out) {
  auto [ptr, ec] = std::from_chars(word.data(), word.data() + word.size(), *out);
  return ec == std::errc() && ptr == word.data() + word.size();
}

const double kTicksPerSecond = static_cast<double>(sysconf(_SC_CLK_TCK));
const int64_t kPageBytes = sysconf(_SC_PAGESIZE);

// Seconds since boot, from /proc/uptime.
std::optional<double> Uptime(const ProcFs& proc) {
  auto text = proc.Read("uptime");
  if (!text) return std::nullopt;
  std::string_view line = *text, word;
  double seconds;
  if (!NextWord(&line, &word) || !ParseNumber(word, &seconds)) return std::nullopt;
  return seconds;
}

}  // namespace

Result<ProcStat> ParseProcStat(std::string_view text) {
  size_t open = text.find('('), close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return Status::InvalidArgument("stat: no command name in parentheses");
  }
  ProcStat stat;
  stat.comm = std::string(text.substr(open + 1, close - open - 1));
  std::string_view rest = text.substr(close + 1), word;
  // Fields from 3 (state) on; utime 14, stime 15, starttime 22, rss 24.
  double utime = 0, stime = 0, start = 0;
  int64_t rss_pages = 0;
  for (int field = 3; field <= 24; ++field) {
    if (!NextWord(&rest, &word)) return Status::InvalidArgument(fmt::format("stat: only {} fields", field - 1));
    bool ok = true;
    switch (field) {
      case 3: stat.state = word.empty() ? '?' : word[0]; break;
      case 14: ok = ParseNumber(word, &utime); break;
      case 15: ok = ParseNumber(word, &stime); break;
      case 22: ok = ParseNumber(word, &start); break;
      case 24: ok = ParseNumber(word, &rss_pages); break;
      default: break;
    }
    if (!ok) return Status::InvalidArgument(fmt::format("stat: field {} is not a number", field));
  }
  stat.cpu_seconds = (utime + stime) / kTicksPerSecond;
  stat.start_seconds = start / kTicksPerSecond;
  if (rss_pages < 0 || rss_pages > std::numeric_limits<int64_t>::max() / kPageBytes) {
    return Status::InvalidArgument(fmt::format("stat: rss of {} pages is out of range", rss_pages));
  }
  stat.rss_bytes = rss_pages * kPageBytes;
  return stat;
}

std::optional<int64_t> ProcessCollector::FindByName(const std::string& name) const {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(proc_.root(), ec)) {
    const std::string pid_text = entry.path().filename().string();
    int64_t pid;
    if (!ParseNumber(std::string_view(pid_text), &pid)) continue;
    auto comm = proc_.Read(pid_text + "/comm");
    if (!comm) continue;
    std::string_view c = *comm;
    while (!c.empty() && (c.back() == '\n' || c.back() == ' ')) c.remove_suffix(1);
    if (c == name) return pid;
  }
  return std::nullopt;
}

void ProcessCollector::Observe(const std::string& label, std::optional<int64_t> pid, TimePoint now,
                               SampleSink& sink) {
  Labels labels{{"process", label}};
  Seen& seen = seen_[label];
  auto up = [&](double value) { sink.Append(SeriesKey(metric::kProcessUp, labels), Sample{now, value}); };
  Result<ProcStat> stat = Status::NotFound("no pid");
  if (pid) stat = [&]() -> Result<ProcStat> {
      auto text = proc_.Read(fmt::format("{}/stat", *pid));
      if (!text) return text.error();
      return ParseProcStat(*text);
    }();
  if (!stat || stat->state == 'Z' || stat->state == 'X') {
    up(0);
    sink.Append(SeriesKey(metric::kProcessRestartsTotal, labels), Sample{now, static_cast<double>(seen.restarts)});
    return;
  }
  if (seen.pid != 0 && seen.pid != *pid) ++seen.restarts;
  up(1);
  sink.Append(SeriesKey(metric::kProcessRestartsTotal, labels), Sample{now, static_cast<double>(seen.restarts)});
  sink.Append(SeriesKey(metric::kProcessMemoryBytes, labels), Sample{now, static_cast<double>(stat->rss_bytes)});
  if (auto uptime = Uptime(proc_)) {
    sink.Append(SeriesKey(metric::kProcessUptimeSeconds, labels),
                Sample{now, std::max(0.0, *uptime - stat->start_seconds)});
  }
  if (seen.pid == *pid && now > seen.at) {
    double wall = std::chrono::duration<double>(now - seen.at).count();
    double percent = std::round(1000 * (stat->cpu_seconds - seen.cpu_seconds) / wall) / 10;
    sink.Append(SeriesKey(metric::kProcessCpuPercent, labels), Sample{now, std::max(0.0, percent)});
  }
  seen.pid = *pid;
  seen.cpu_seconds = stat->cpu_seconds;
  seen.at = now;
}

void ProcessCollector::Collect(TimePoint now, SampleSink& sink) {
  for (const std::string& file : pid_files_) {
    std::string label = std::filesystem::path(file).stem().string();
    std::optional<int64_t> pid;
    const std::filesystem::path path(file);
    auto text = ProcFs(path.parent_path()).Read(path.filename().string());
    int64_t parsed;
    std::string_view line = text ? std::string_view(*text) : std::string_view(), word;
    if (text && NextWord(&line, &word) && ParseNumber(word.substr(0, word.find('\n')), &parsed)) {
      pid = parsed;
    } else if (!text) {
      sink.CollectorFailed("processes", fmt::format("cannot read PID file {}", file));
    } else {
      sink.CollectorFailed("processes", fmt::format("PID file {} holds no PID", file));
    }
    Observe(label, pid, now, sink);
  }
  for (const std::string& name : names_) Observe(name, FindByName(name), now, sink);
}

void SelfCollector::Collect(TimePoint now, SampleSink& sink) {
  auto text = proc_.Read("self/stat");
  if (!text) return sink.CollectorFailed("self", text.error().message());
  auto stat = ParseProcStat(*text);
  if (!stat) return sink.CollectorFailed("self", stat.error().message());
  sink.Append(SeriesKey(metric::kOffmonResidentMemoryBytes, {}), Sample{now, static_cast<double>(stat->rss_bytes)});
  sink.Append(SeriesKey(metric::kOffmonCpuSecondsTotal, {}), Sample{now, std::round(stat->cpu_seconds * 100) / 100});
  std::error_code ec;
  int64_t fds = 0;
  for (auto it = std::filesystem::directory_iterator(proc_.root() / "self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  if (!ec) sink.Append(SeriesKey(metric::kOffmonOpenFds, {}), Sample{now, static_cast<double>(fds)});
}

}  // namespace offmon::collector
