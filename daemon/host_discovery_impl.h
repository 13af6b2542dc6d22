// What `offmon init` finds on this host, and the commented config it writes from that.
// Internal to the daemon module: discovery reuses the collectors' own pieces (the PM2
// collector's daemon check and `pm2 jlist` parser, the database URL resolution), so init
// sees exactly what `offmon collect` will see.
//
// Thread safety: free functions without shared state.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "offmon/collector/command_runner.h"
#include "offmon/collector/database_url.h"
#include "offmon/common/config.h"

namespace offmon::daemon {

// A pipeline table offmon reads, as found in the database.
struct TableFound {
  std::string name;
  bool present = false;
  bool readable = false;              // SELECT granted to the connecting role
  std::vector<std::string> columns;   // in ordinal order
  std::vector<std::string> missing;   // required columns not there
};

struct Pm2Found {
  std::string binary;  // what init wrote for [pm2] binary (absolute when found in PATH)
  std::string home;    // the PM2_HOME used (config, else $PM2_HOME, else ~/.pm2)
  std::vector<std::string> processes;  // names pm2 lists, in its order, each once
  std::string problem;  // why none were found ("PM2 daemon not running (no ...)"); empty when found
};

struct DatabaseFound {
  std::optional<collector::DatabaseUrl> url;  // secret inside: only collector::RedactUrl(url->url) is ever shown
  std::string problem;             // no URL, or the connection failed (secret scrubbed)
  std::string server_version;      // "15.5", empty unless connected
  std::vector<TableFound> tables;  // channel_participation, sealed_epochs, sealed_participants
  std::vector<std::string> channels;  // channels with an epoch sealed in the last 7 days
};

struct HostDiscovery {
  Pm2Found pm2;
  DatabaseFound database;
  // Inferred from process names, for [analyzer] aggregator / sealer; to be confirmed.
  std::vector<std::string> aggregator, sealer;
};

// PM2: runs the PM2 collector once (its daemon check first, so init never starts a PM2
// daemon) with `pm2` (binary, home) from `config`; a binary without a slash is looked
// up in PATH and written as found.
Pm2Found DiscoverPm2(const Pm2Config& config, collector::CommandRunner& runner, TimePoint now);

// The database: the URL as `offmon collect` resolves it, one read-only connection, the
// server version, the pipeline tables' columns and privileges, the recent channels.
DatabaseFound DiscoverDatabase(const PostgresConfig& config,
                               const collector::EnvLookup& env = collector::ProcessEnvironment());

// Roles from names: an aggregator's name contains "aggregator"; a sealer's contains
// "tree-builder", "sealer" or "seal".
void InferRoles(HostDiscovery& host);

// The checks each pipeline table enables (for the comments and the summary).
std::string ChecksEnabledBy(const std::string& table);

// The commented TOML config for `host`: [pm2], [postgres] and [analyzer] from what was
// found, every other section at its defaults (commented), and a "not found" list. Never
// holds the database URL or password: only where offmon reads it from (url_env,
// env_file or url_file). `written_by` goes into the header comment.
std::string RenderInitConfig(const HostDiscovery& host, const PostgresConfig& postgres, const std::string& written_by);

// One line per finding, for the terminal: "found: ..." and "missing: ...".
std::vector<std::string> DiscoverySummary(const HostDiscovery& host);

}  // namespace offmon::daemon
