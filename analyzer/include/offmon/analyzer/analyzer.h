// Analyzer: evaluates every rule at a point in time over the store's history and runs
// the alert lifecycle. The daemon calls Evaluate(now) after its collection cycles and
// records the transitions; `offmon analyze` replays a past range step by step through
// the same Evaluate (a backtest), reading the history ahead in blocks.
//
// Thread safety: one thread; the store is used from that thread only.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "offmon/analyzer/alert.h"
#include "offmon/analyzer/alert_tracker.h"
#include "offmon/common/config.h"
#include "offmon/store/store.h"

namespace offmon::analyzer {

enum class AnalyzerMode {
  kLive,      // every evaluation reads the store afresh
  kBacktest,  // evaluations move forward in time; history is read ahead and kept
};

class Analyzer {
 public:
  Analyzer(const Config& config, store::Store& store, AnalyzerMode mode);
  ~Analyzer();
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

  // Restores the active alerts from the transitions recorded in the store (a restarted
  // daemon resumes, it does not re-announce).
  Status Restore();

  // Evaluates every enabled rule at `t` and returns the lifecycle transitions. In a
  // backtest, t must not move backwards.
  Result<std::vector<Transition>> Evaluate(TimePoint t);

  // Records transitions in the store as events (the daemon does; a backtest does not),
  // each at its own time. What the store refuses (a full disk) is kept, in order, and
  // recorded first by the next call, so a full store delays the alert history but does
  // not lose it.
  Status Record(const std::vector<Transition>& transitions);

  const AlertTracker& tracker() const { return tracker_; }

  // A PM2 process's log files as last reported (for log tails when its alert fires).
  struct LogPaths {
    std::string out_log, err_log;
  };
  std::optional<LogPaths> ProcessLogs(std::string_view process) const;

 private:
  struct State;
  const Config& config_;
  store::Store& store_;
  AnalyzerMode mode_;
  AlertTracker tracker_;
  std::unique_ptr<State> state_;
};

}  // namespace offmon::analyzer
