// The `pm2 jlist` parser, shared by Pm2Collector, its tests and the fuzz target; not part
// of the collector's public API. Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "offmon/common/result.h"
#include "offmon/common/time.h"

namespace offmon::collector {

// One entry of `pm2 jlist`, reduced to what offmon records. pm2_env also carries the
// process's environment (DATABASE_URL with its password, API keys): nothing else of it
// is ever copied out.
struct Pm2Process {
  std::string name;
  std::optional<int64_t> pm_id;         // absent in malformed entries only
  std::string status;                   // pm2_env.status: "online", "stopped", ...; "unknown" when absent
  int64_t pid = 0;                      // 0 when not running
  std::optional<TimePoint> pm_uptime;   // pm2_env.pm_uptime: when it was last (re)started
  int64_t restart_time = 0;             // pm2_env.restart_time: restarts since `pm2 start`
  int64_t unstable_restarts = 0;        // pm2_env.unstable_restarts: those before min_uptime
  std::optional<uint64_t> memory_bytes; // monit.memory (RSS); absent when pm2 has no monit
  std::optional<double> cpu_percent;    // monit.cpu: percent of one core, may exceed 100
  std::string out_log_path;             // pm2_env.pm_out_log_path, empty when absent
  std::string err_log_path;             // pm2_env.pm_err_log_path, empty when absent
};

struct Pm2Jlist {
  std::vector<Pm2Process> processes;  // in pm2's order
  size_t skipped_entries = 0;         // array elements that are not objects or lack a name
};

// Parses the stdout of `pm2 jlist`. Lines pm2 prints before the JSON array ("[PM2] ...",
// the in-memory-version warning) are skipped. Fields pm2 omits or mistypes fall back to
// the defaults above. InvalidArgument when there is no JSON array: "pm2 jlist: output is
// not a JSON array (first bytes: ...)", or "pm2 jlist: JSON parse error at byte N" when
// one starts but does not parse. Messages never quote the JSON itself (it holds secrets).
Result<Pm2Jlist> ParsePm2Jlist(std::string_view output);

// The first non-empty line of pm2's complaint, without colour codes or control bytes, cut
// to 100 characters: enough to tell "daemon not reachable" from "unknown command".
std::string FirstLine(std::string_view text);

// The same for the array itself, as the PM2 daemon's getMonitorData answers it
// (pm2_rpc_impl.h). InvalidArgument when `list` is not an array.
Result<Pm2Jlist> Pm2ListFromJson(const nlohmann::json& list);

}  // namespace offmon::collector
