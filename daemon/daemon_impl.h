// The collection daemon behind `offmon collect`: runs every configured collector on its
// own interval on a Boost.Asio event loop and appends what each run observed to the
// store in one transaction.
//
// Threads: the event loop thread owns the store, the timers and the signal handling;
// collector runs execute on a small pool (one thread per collector), so a hung database
// never delays PM2 or the system collector. Each collector's results are handed back to
// the loop thread and written there.
// Signals: SIGTERM/SIGINT finish the write in progress and stop (exit 0); SIGHUP reloads
// the config file, or keeps the running config and logs why the new one is invalid.
// After each evaluation of the rules the daemon appends the health report to the monitor
// log (monitor_log_report_impl.h); its HTTP listener (serve/) serves /metrics, /healthz
// and /api/report.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "offmon/collector/collector.h"
#include "offmon/common/config.h"
#include "offmon/common/result.h"
#include "offmon/common/time.h"

namespace spdlog {
class logger;
}
namespace offmon::store {
class Store;
}

namespace offmon::daemon {

// One collector and how often it runs.
struct CollectorSlot {
  std::shared_ptr<collector::Collector> collector;
  Duration interval;
};

// Builds the collectors a config asks for, reading what they resume from (the newest
// epoch seen) from the store and logging setup warnings. Failures to set one up (say, no
// database URL) are not errors here: the collector itself reports them every cycle.
using CollectorFactory = std::vector<CollectorSlot> (*)(const Config& config, store::Store& store,
                                                        spdlog::logger& log);

struct DaemonOptions {
  Config config;
  std::string config_path;  // reread on SIGHUP; empty: nothing to reload
  std::string store_path;  // for log lines; the store itself is passed to RunDaemon
  bool once = false;        // one cycle of every collector, then exit
  CollectorFactory factory = nullptr;
};

// Runs until a signal (or, with once, one cycle), writing to `store`, which it uses from
// its event loop thread only. Returns the process exit code: 0 when stopped by
// SIGTERM/SIGINT or when the --once cycle was stored; a store write failure's code
// otherwise.
int RunDaemon(const DaemonOptions& options, store::Store& store, const Clock& clock, spdlog::logger& log);

// The loggers the daemon writes to: stderr and the rotating monitor log from config.
// IOError when the monitor log cannot be opened (a directory, no permission).
Result<std::shared_ptr<spdlog::logger>> MakeDaemonLogger(const LogConfig& config);

}  // namespace offmon::daemon
