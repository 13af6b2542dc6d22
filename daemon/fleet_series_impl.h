// The fleet series (docs/metrics.md, "Fleet series"): offmon's own health, its
// remote-write endpoints and its active alerts as ordinary samples in the store, so that
// /metrics and remote write carry them like any other series and a receiver that was
// down gets them from the event log too.
//
// Thread safety: the daemon's loop thread only.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "offmon/analyzer/alert_tracker.h"
#include "offmon/common/series_key.h"
#include "offmon/common/time.h"
#include "offmon/notify/remote_write_sender.h"
#include "offmon/store/store.h"

namespace offmon::daemon {

class FleetSeries {
 public:
  // Adds the samples at `t` to `appender`: offmon_up 1, offmon_last_cycle_timestamp_seconds
  // `t`, per endpoint its pending events, cursor lag and counters, and offmon_alert 1 for
  // each active alert. An alert series written by the previous call and absent now
  // (resolved, or pending turned firing) gets a staleness marker. Series ids the
  // appender cannot give are skipped (the next cycle writes them).
  void Append(TimePoint t, const std::map<std::string, analyzer::ActiveAlert>& active,
              const std::vector<store::RemoteWriteCursor>& cursors, const std::vector<notify::RemoteWriteStats>& stats,
              store::Appender& appender);

 private:
  std::map<std::string, SeriesKey> alerts_;  // written last time, by canonical key
};

}  // namespace offmon::daemon
