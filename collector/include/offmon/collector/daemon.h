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
#pragma once

#include <functional>
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

namespace offmon::collector {

// One collector and how often it runs.
struct CollectorSlot {
  std::shared_ptr<Collector> collector;
  Duration interval;
};

// Builds the collectors a config asks for, reading what they resume from (the newest
// epoch seen) from the store and logging setup warnings. Failures to set one up (say, no
// database URL) are not errors here: the collector itself reports them every cycle.
using CollectorFactory = std::vector<CollectorSlot> (*)(const Config& config, store::Store& store,
                                                        spdlog::logger& log);

// What the daemon hands to DaemonOptions::after_analysis after each evaluation of the
// rules (transitions recorded and logged, log tails stored), even a failed one.
struct AnalysisDone {
  const Config& config;  // the running config: the reloaded one after a SIGHUP
  store::Store& store;   // the daemon's store; use it within the call only
  TimePoint at;          // the evaluation time
  size_t announced;      // transitions logged by this evaluation (firing, escalated, resolved)
  spdlog::logger& log;   // the daemon's logger: stderr and the monitor log
};
// Runs on the event loop thread, so it delays the next writes while it runs; it must not
// throw. The app layer uses it to append the report to the monitor log (tools/), which
// the collector cannot build: query reads what the collector writes, never the reverse.
using AfterAnalysis = std::function<void(const AnalysisDone&)>;

// The health report as of `at` as one JSON document, for the HTTP listener's
// GET /api/report (docs/metrics.md, "HTTP endpoints"). Set by the app layer for the same
// reason as AfterAnalysis. Runs on the event loop thread; must not throw; an error
// becomes a 500 response with its message.
using ReportJson = std::function<Result<std::string>(store::Store& store, const Config& config, TimePoint at)>;

// One answer of the web dashboard (query/dashboard.h) for the HTTP listener.
struct DashboardReply {
  unsigned status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // security headers
};
// The dashboard's answer to GET `target` as of `at` (a 404 reply for a path it does not
// serve), for every path the listener has no endpoint of its own for. Set by the app
// layer for the same reason as ReportJson; same thread and error rules.
using Dashboard = std::function<Result<DashboardReply>(store::Store& store, const Config& config, TimePoint at,
                                                       std::string_view target)>;

struct DaemonOptions {
  Config config;
  std::string config_path;  // reread on SIGHUP; empty: nothing to reload
  std::string store_path;  // for log lines; the store itself is passed to RunDaemon
  bool once = false;        // one cycle of every collector, then exit
  CollectorFactory factory = nullptr;
  AfterAnalysis after_analysis = nullptr;  // default: none
  ReportJson report_json = nullptr;        // GET /api/report; default none (404)
  Dashboard dashboard = nullptr;           // GET /, /charts, /alerts, /static/*, /api/*; default none
};

// Runs until a signal (or, with once, one cycle), writing to `store`, which it uses from
// its event loop thread only. Returns the process exit code: 0 when stopped by
// SIGTERM/SIGINT or when the --once cycle was stored; a store write failure's code
// otherwise.
int RunDaemon(const DaemonOptions& options, store::Store& store, const Clock& clock, spdlog::logger& log);

// The loggers the daemon writes to: stderr and the rotating monitor log from config.
// IOError when the monitor log cannot be opened (a directory, no permission).
Result<std::shared_ptr<spdlog::logger>> MakeDaemonLogger(const LogConfig& config);

}  // namespace offmon::collector
