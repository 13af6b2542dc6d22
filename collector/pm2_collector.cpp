#include "offmon/collector/pm2_collector.h"

#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "offmon/common/metric_names.h"
#include "pm2_jlist_parser_impl.h"
#include "pm2_rpc_impl.h"

namespace offmon::collector {

namespace {

namespace fs = std::filesystem;

fs::path ResolvePm2Home(const std::string& configured) {
  if (!configured.empty()) return configured;
  if (const char* env = std::getenv("PM2_HOME"); env != nullptr && *env != '\0') return env;
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') return fs::path(home) / ".pm2";
  // No HOME (a bare service environment): the account's home from the password database.
  std::vector<char> buffer(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (getpwuid_r(getuid(), &pw, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
    return fs::path(found->pw_dir) / ".pm2";
  }
  return fs::path(".pm2");
}

void Append(SampleSink& sink, std::string_view name, const Labels& labels, TimePoint now, double value) {
  sink.Append(SeriesKey(name, labels), Sample{now, value});
}

}  // namespace

Pm2Collector::Pm2Collector(Pm2Config config, CommandRunner& runner)
    : config_(std::move(config)), runner_(runner), home_(ResolvePm2Home(config_.home)) {}

void Pm2Collector::Collect(TimePoint now, SampleSink& sink) {
  try {
    CollectOnce(now, sink);
  } catch (const std::exception& e) {
    // Nothing in CollectOnce parses pm2's output, so the text cannot hold pm2_env.
    sink.CollectorFailed("pm2", fmt::format("internal error: {}", e.what()));
  } catch (...) {
    sink.CollectorFailed("pm2", "internal error");
  }
}

std::optional<Pm2Collector::DaemonProblem> Pm2Collector::CheckDaemon() const {
  const fs::path socket_path = home_ / "rpc.sock";
  struct stat st {};
  if (stat(socket_path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return DaemonProblem{true, fmt::format("PM2 daemon not running (no {})", socket_path.string())};
    }
    return DaemonProblem{false, fmt::format("PM2 daemon: cannot check {}: {}", socket_path.string(), std::strerror(errno))};
  }
  if (!S_ISSOCK(st.st_mode)) {
    return DaemonProblem{true, fmt::format("PM2 daemon not running ({} is not a socket)", socket_path.string())};
  }
  // A daemon killed with SIGKILL leaves its socket file behind; pm2 jlist would then
  // start a new daemon. Connecting tells a live socket from a stale one.
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string& native = socket_path.native();
  if (native.size() >= sizeof(address.sun_path)) return std::nullopt;  // too long to check: let pm2 try
  std::memcpy(address.sun_path, native.c_str(), native.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return std::nullopt;
  const int rc = connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  const int error = rc == 0 ? 0 : errno;
  close(fd);
  if (error == ECONNREFUSED) {
    return DaemonProblem{true,
                         fmt::format("PM2 daemon not running (stale {}: connection refused)", socket_path.string())};
  }
  if (error == EACCES || error == EPERM) {
    return DaemonProblem{false, fmt::format("PM2 daemon: {}: permission denied", socket_path.string())};
  }
  return std::nullopt;  // connected, or busy (EAGAIN): a daemon is there
}

void Pm2Collector::CollectOnce(TimePoint now, SampleSink& sink) {
  if (auto problem = CheckDaemon()) {
    sink.CollectorFailed("pm2", problem->reason);
    // No daemon, so none of its processes runs: every watched one is down. When the
    // state is unknown (the socket cannot be checked) nothing is recorded.
    if (problem->not_running) {
      std::set<std::string> watched(config_.processes.begin(), config_.processes.end());
      if (watched.empty()) watched = seen_names_;
      for (const std::string& name : watched) ReportOffline(name, now, sink);
    }
    return;
  }

  auto parsed = config_.method == Pm2Method::kRpc ? AskDaemon() : RunJlist();
  if (!parsed) return sink.CollectorFailed("pm2", parsed.error().message());
  if (parsed->skipped_entries > 0) {
    sink.CollectorFailed("pm2", fmt::format("pm2: {} entries without a name skipped", parsed->skipped_entries));
  }

  std::map<std::string, int> instances;
  for (const Pm2Process& p : parsed->processes) ++instances[p.name];
  const bool watch_all = config_.processes.empty();
  std::set<std::string> watched(config_.processes.begin(), config_.processes.end());
  if (watch_all) {
    for (const auto& [name, count] : instances) seen_names_.insert(name);
    watched = seen_names_;
  }

  for (const Pm2Process& p : parsed->processes) {
    if (!watched.contains(p.name)) continue;
    Labels labels{{"process", p.name}};
    InstanceKey key{p.name, std::nullopt};
    if (instances[p.name] > 1 && p.pm_id) {
      labels.push_back({"pm_id", std::to_string(*p.pm_id)});
      key.second = p.pm_id;
    }
    const bool online = p.status == "online";
    Append(sink, metric::kProcessUp, labels, now, online ? 1 : 0);
    Append(sink, metric::kProcessRestartsTotal, labels, now, static_cast<double>(p.restart_time));
    Append(sink, metric::kProcessUnstableRestartsTotal, labels, now, static_cast<double>(p.unstable_restarts));
    if (!online) {
      Append(sink, metric::kProcessUptimeSeconds, labels, now, 0);
    } else if (p.pm_uptime) {
      // The cycle time sits on the sampling grid and may precede a very recent start.
      const auto uptime = std::chrono::duration<double>(now - *p.pm_uptime).count();
      Append(sink, metric::kProcessUptimeSeconds, labels, now, std::max(0.0, uptime));
    }
    if (p.memory_bytes) Append(sink, metric::kProcessMemoryBytes, labels, now, static_cast<double>(*p.memory_bytes));
    if (p.cpu_percent) Append(sink, metric::kProcessCpuPercent, labels, now, *p.cpu_percent);
    ReportInfo(key, p.pm_id, Reported{p.status, p.pid, p.out_log_path, p.err_log_path}, sink);
  }

  for (const std::string& name : watched) {
    if (!instances.contains(name)) ReportOffline(name, now, sink);
  }
}

Result<Pm2Jlist> Pm2Collector::AskDaemon() const {
  auto list = CallPm2Daemon(home_ / "rpc.sock", "getMonitorData", config_.timeout);
  if (!list) return list.error();
  return Pm2ListFromJson(*list);
}

Result<Pm2Jlist> Pm2Collector::RunJlist() const {
  auto run = runner_.Run({config_.binary, "jlist"}, {"PM2_HOME=" + home_.string()}, config_.timeout);
  if (!run) return run.error();
  if (!run->succeeded()) {
    std::string reason = run->signal != 0 ? fmt::format("pm2 jlist killed by signal {}", run->signal)
                                          : fmt::format("pm2 jlist exited with code {}", run->exit_code);
    // pm2 prints its errors to stderr, some to stdout; neither is JSON when it fails.
    std::string detail = FirstLine(run->err);
    if (detail.empty()) detail = FirstLine(run->out);
    if (!detail.empty()) reason += ": " + detail;
    return Status::Unavailable(std::move(reason));
  }
  return ParsePm2Jlist(run->out);
}

void Pm2Collector::ReportOffline(const std::string& name, TimePoint now, SampleSink& sink) {
  Labels labels{{"process", name}};
  Append(sink, metric::kProcessUp, labels, now, 0);
  Append(sink, metric::kProcessUptimeSeconds, labels, now, 0);
  // The logs of a vanished process are what an escalation wants: keep their paths.
  Reported offline{"offline", 0, {}, {}};
  if (auto it = reported_.find(InstanceKey{name, std::nullopt}); it != reported_.end()) {
    offline.out_log = it->second.out_log;
    offline.err_log = it->second.err_log;
  }
  ReportInfo(InstanceKey{name, std::nullopt}, std::nullopt, std::move(offline), sink);
}

void Pm2Collector::ReportInfo(const InstanceKey& key, std::optional<int64_t> pm_id, Reported now_state,
                              SampleSink& sink) {
  auto it = reported_.find(key);
  if (it != reported_.end() && it->second == now_state) return;
  nlohmann::json event = {{"process", key.first},
                          {"status", now_state.status},
                          {"pid", now_state.pid},
                          {"pm_id", pm_id ? nlohmann::json(*pm_id) : nlohmann::json(nullptr)},
                          {"out_log", now_state.out_log},
                          {"err_log", now_state.err_log}};
  sink.RecordEvent(EventKind::kProcessInfo, event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  reported_[key] = std::move(now_state);
}

}  // namespace offmon::collector
