// DaemonStatus: what the collection daemon knows about its own health (each collector's
// last run and last success, failed runs, the last store write), kept by the daemon's
// event loop and read by /healthz and /metrics (docs/metrics.md, "HTTP endpoints").
//
// Thread safety: a value type; the daemon updates and reads it on its event loop thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "offmon/common/time.h"

namespace offmon::serve {

struct CollectorHealth {
  std::string name;
  Duration interval{0};
  TimePoint installed;                    // when the daemon started running it
  std::optional<TimePoint> last_run;      // when the last run was written
  std::optional<TimePoint> last_success;  // when the last run without a failure was written
  uint64_t errors_total = 0;              // runs that reported a failure, since the daemon started
  std::string last_error;                 // the last run's failures; empty when it succeeded
};

struct DaemonStatus {
  std::vector<CollectorHealth> collectors;
  std::string store_error;  // the last store write's failure; empty once one succeeds

  // The collectors now running (after a start or a config reload): `names_intervals` in
  // order. A collector kept across a reload keeps its history; the others start anew at
  // `now`.
  void Install(const std::vector<std::pair<std::string, Duration>>& names_intervals, TimePoint now);
  // One run of `name` written at `at`; `failures` are its failure reasons (none: success).
  void RecordRun(std::string_view name, TimePoint at, const std::vector<std::pair<std::string, std::string>>& failures);
};

// Why the daemon is unhealthy at `now`, one reason per line-worthy string: a collector
// whose last success (before its first one: its install) is more than twice its
// interval ago, with its last error; a failing store
// write. Empty when healthy.
std::vector<std::string> HealthProblems(const DaemonStatus& status, TimePoint now);

}  // namespace offmon::serve
