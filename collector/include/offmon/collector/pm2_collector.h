// PM2 process health (guide section 1): asks the PM2 daemon for its process list, the
// list `pm2 jlist` prints, over its RPC socket (Pm2Config::method "rpc", the default:
// no node process per cycle) or by running `pm2 jlist` through a CommandRunner
// ("jlist"), and records, per watched process (label `process`):
//   process_up                      1 when pm2 reports it online, else 0
//   process_restarts_total          pm2_env.restart_time
//   process_unstable_restarts_total pm2_env.unstable_restarts (restarts within min_uptime)
//   process_uptime_seconds          now - pm2_env.pm_uptime while online, else 0
//   process_memory_bytes            monit.memory (RSS), when pm2 reports it
//   process_cpu_percent             monit.cpu (percent of one core), when pm2 reports it
// and an EventKind::kProcessInfo event {"process", "status", "pid", "pm_id", "out_log",
// "err_log"} when a process is first seen and whenever its status, pid or log paths
// change. A watched process pm2 does not list has status "offline" and process_up 0.
//
// Watched processes: Pm2Config::processes, or, when that is empty, every process pm2
// lists; a process seen earlier in this run and since gone from the list (`pm2 delete`,
// a daemon restarted without its dump) is then reported offline rather than forgotten,
// because a vanished worker is exactly what the "worker offline" alert is for.
//
// Cluster mode: several instances may share one name. Their series then carry a `pm_id`
// label next to `process` (process_up{pm_id="3",process="api"}), one series per
// instance, and each instance has its own kProcessInfo state. A name with one instance
// has no `pm_id` label, so fork-mode series keep their identity across restarts (which
// keep the pm_id anyway) and across `pm2 delete` + `pm2 start` (which do not).
//
// Failures become sink.CollectorFailed("pm2", reason) with one line and no pm2_env
// content: "PM2 daemon not running (no <home>/rpc.sock)" (checked first, because
// `pm2 jlist` would spawn a daemon); with "rpc" the call's ("PM2 daemon did not answer
// within 10s", pm2_rpc_impl.h); with "jlist" the runner's NotFound/Timeout messages ("pm2
// not found in PATH", "pm2 jlist timed out after 10s"), "pm2 jlist exited with code N:
// <first stderr line>"; or the parser's message.
//
// PM2 daemon not running (no rpc.sock, not a socket, or a stale one that refuses
// connections): no process of it runs, so besides the failure every watched process
// (the configured list, else every name seen listed earlier in this run) is recorded
// down as above: process_up 0, process_uptime_seconds 0, status "offline". Any other
// failure that stops the cycle (socket not checkable, pm2 missing, timeout, bad exit,
// unparsable output) leaves the processes' state unknown: no samples are recorded then.
//
// Thread safety: one thread drives Collect() (see collector.h); the runner may be shared.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "offmon/collector/collector.h"
#include "offmon/collector/command_runner.h"
#include "offmon/common/config.h"

namespace offmon::collector {

struct Pm2Jlist;  // pm2_jlist_parser_impl.h

class Pm2Collector final : public Collector {
 public:
  // `runner` (used by method "jlist") must outlive the collector. PM2_HOME is resolved
  // here, once: config.home, else $PM2_HOME, else $HOME/.pm2 (pm2's own rule); pm2 is
  // run with it set.
  Pm2Collector(Pm2Config config, CommandRunner& runner);

  std::string_view name() const override { return "pm2"; }
  void Collect(TimePoint now, SampleSink& sink) override;

  const std::filesystem::path& pm2_home() const { return home_; }

 private:
  struct Reported {
    std::string status;
    int64_t pid = 0;
    std::string out_log, err_log;
    friend bool operator==(const Reported&, const Reported&) = default;
  };

  // Why pm2 cannot be asked. `not_running`: the daemon is known to be down (no socket,
  // not a socket, or a stale one); false when its state is unknown (cannot check).
  struct DaemonProblem {
    bool not_running = false;
    std::string reason;
  };

  void CollectOnce(TimePoint now, SampleSink& sink);
  // The process list, by Pm2Config::method.
  Result<Pm2Jlist> AskDaemon() const;
  Result<Pm2Jlist> RunJlist() const;
  // nullopt when the daemon looks reachable (or cannot be checked before pm2 tries).
  std::optional<DaemonProblem> CheckDaemon() const;
  // A series' identity: the name, and the pm_id for an instance of a shared name.
  using InstanceKey = std::pair<std::string, std::optional<int64_t>>;

  // Emits kProcessInfo when `now_state` differs from what was last reported for `key`.
  void ReportInfo(const InstanceKey& key, std::optional<int64_t> pm_id, Reported now_state, SampleSink& sink);
  // Records `name` down (process_up 0, process_uptime_seconds 0, status "offline",
  // keeping the log paths last reported for it).
  void ReportOffline(const std::string& name, TimePoint now, SampleSink& sink);

  Pm2Config config_;
  CommandRunner& runner_;
  std::filesystem::path home_;
  // Last kProcessInfo reported per series.
  std::map<InstanceKey, Reported> reported_;
  // Names seen in pm2's list during this run: the watched set when none is configured.
  std::set<std::string> seen_names_;
};

}  // namespace offmon::collector
