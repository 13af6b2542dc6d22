#include "host_discovery_impl.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pqxx/pqxx>
#include <toml++/toml.h>

#include "offmon/collector/pm2_collector.h"
#include "offmon/common/metric_names.h"

namespace offmon::daemon {

namespace {

namespace fs = std::filesystem;

// The tables offmon reads, the columns it needs, and the checks they enable
// (docs/alert-rules.md; the columns are those the PostgreSQL collector requires).
struct PipelineTable {
  std::string_view name;
  std::vector<std::string_view> required;
  std::string_view checks;
};
const std::vector<PipelineTable>& PipelineTables() {
  static const std::vector<PipelineTable> kTables{  // NOLINT: immutable
      {"channel_participation",
       {"epoch", "channel", "user_hash", "first_seen"},
       "events in the last hour (EventRateLow), users recorded before sealing (EpochCountMismatch)"},
      {"sealed_epochs",
       {"epoch", "channel", "root", "sealed_at", "published"},
       "sealing and publication (EpochSealingStale, EpochUnpublished, EpochMissing), roots (EpochDataLoss)"},
      {"sealed_participants",
       {"epoch", "channel", "idx", "user_hash"},
       "participant counts and sets (ZeroParticipants, ParticipantDrop, ParticipantVariance, EpochDataLoss)"},
  };
  return kTables;
}

// Records what one PM2 collection cycle saw: process names and failures.
class DiscoverySink final : public SampleSink {
 public:
  void Append(const SeriesKey& series, Sample) override {
    if (series.name != metric::kProcessUp) return;
    const std::string name(series.Label("process"));
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  void CollectorFailed(std::string_view, std::string_view reason) override {
    if (failure.empty()) failure = reason;
  }
  void RecordEpoch(EpochObservation) override {}
  void RecordEvent(EventKind, std::string) override {}

  std::vector<std::string> names;
  std::string failure;
};

// `binary` as an absolute path when it has no slash and PATH has it; nullopt when PATH
// does not. A service's PATH is not the operator's shell's, so init writes where it is.
std::optional<std::string> FindInPath(const std::string& binary) {
  if (binary.find('/') != std::string::npos) return binary;
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / binary;
    if (access(candidate.c_str(), X_OK) == 0) return fs::absolute(candidate).lexically_normal().string();
  }
  return std::nullopt;
}

// A TOML basic string ("...", escaped), as the example config writes them.
std::string Quote(std::string_view text) {
  std::ostringstream out;
  const toml::value<std::string> value{std::string(text)};
  out << toml::toml_formatter(value, toml::format_flags::none);
  return out.str();
}

std::string QuotedList(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& item : items) quoted.push_back(Quote(item));
  return fmt::format("[{}]", fmt::join(quoted, ", "));
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::string Absolute(const std::string& path) {
  std::error_code ec;
  const fs::path absolute = fs::absolute(path, ec);
  return ec ? path : absolute.lexically_normal().string();
}

// The lines of [postgres] that say where the URL is read from, never the URL itself.
std::string UrlSourceLines(const collector::DatabaseUrl& url, const PostgresConfig& config) {
  switch (url.source) {
    case collector::UrlSource::kUrlFile:
      return fmt::format("url_file = {}\n", Quote(Absolute(config.url_file)));
    case collector::UrlSource::kEnvironment:
      return fmt::format(
          "# The daemon reads it from its environment: give the service {} (systemd: EnvironmentFile=,\n"
          "# PM2: env), or keep it in a file readable only by offmon and set url_file instead.\n"
          "url_env = {}\n",
          config.url_env, Quote(config.url_env));
    case collector::UrlSource::kEnvFile:
      return fmt::format("url_env = {}\nenv_file = {}\n", Quote(config.url_env), Quote(Absolute(config.env_file)));
  }
  return "";
}

bool TableUsable(const TableFound& t) { return t.present && t.readable && t.missing.empty(); }

std::string TableProblem(const TableFound& t) {
  if (!t.present) return fmt::format("table {} not found", t.name);
  if (!t.readable) return fmt::format("table {}: no SELECT privilege for this role", t.name);
  return fmt::format("table {}: column{} {} not found", t.name, t.missing.size() > 1 ? "s" : "",
                     fmt::join(t.missing, ", "));
}

}  // namespace

Pm2Found DiscoverPm2(const Pm2Config& config, collector::CommandRunner& runner, TimePoint now) {
  Pm2Found found;
  auto binary = FindInPath(config.binary);
  found.binary = binary.value_or(config.binary);
  Pm2Config once = config;
  once.binary = found.binary;
  once.processes.clear();  // every process pm2 lists
  collector::Pm2Collector collector(once, runner);
  found.home = collector.pm2_home().string();  // the collector's rule: config, $PM2_HOME, ~/.pm2
  // Method "rpc" (the default) asks the daemon over its socket: no pm2 binary needed.
  const std::string no_binary = "pm2 not found in PATH (install it, or pass --pm2 PATH)";
  if (!binary && config.method == Pm2Method::kJlist) {
    found.problem = no_binary;
    return found;
  }
  DiscoverySink sink;
  collector.Collect(now, sink);
  found.processes = std::move(sink.names);
  if (found.processes.empty()) {
    found.problem = !sink.failure.empty() ? sink.failure
                    : !binary             ? no_binary
                                          : fmt::format("PM2 (PM2_HOME {}) lists no process", found.home);
  }
  return found;
}

DatabaseFound DiscoverDatabase(const PostgresConfig& config, const collector::EnvLookup& env) {
  DatabaseFound found;
  auto url = collector::ResolveDatabaseUrl(config, env);
  if (!url) {
    found.problem = url.error().message();
    return found;
  }
  found.url = std::move(*url);
  const std::vector<std::string> secrets = collector::UrlSecrets(found.url->url);
  try {
    pqxx::connection conn(collector::ConnInfoWithTimeout(found.url->url, config.connect_timeout));
    pqxx::read_transaction tx(conn);
    tx.exec(fmt::format("SET LOCAL statement_timeout = {}", config.statement_timeout.count()));
    found.server_version = tx.exec1("SHOW server_version")[0].as<std::string>();
    for (const PipelineTable& table : PipelineTables()) {
      TableFound t;
      t.name = table.name;
      // Only the schema the bare name resolves to counts, as in the collector's queries.
      const pqxx::row info = tx.exec_params1(
          "SELECT to_regclass($1) IS NOT NULL, coalesce(has_table_privilege(to_regclass($1), 'SELECT'), false)",
          t.name);
      t.present = info[0].as<bool>();
      t.readable = info[1].as<bool>();
      if (t.present) {
        const pqxx::result columns = tx.exec_params(
            "SELECT a.attname FROM pg_catalog.pg_attribute a WHERE a.attrelid = to_regclass($1) "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            t.name);
        for (const pqxx::row& row : columns) t.columns.push_back(row[0].as<std::string>());
      }
      for (std::string_view column : table.required) {
        if (std::find(t.columns.begin(), t.columns.end(), column) == t.columns.end()) t.missing.emplace_back(column);
      }
      found.tables.push_back(std::move(t));
    }
    const auto epochs = std::find_if(found.tables.begin(), found.tables.end(),
                                     [](const TableFound& t) { return t.name == "sealed_epochs"; });
    if (epochs != found.tables.end() && TableUsable(*epochs)) {
      const pqxx::result channels = tx.exec(
          "SELECT channel FROM sealed_epochs WHERE sealed_at >= extract(epoch from now())::bigint - 7 * 86400 "
          "GROUP BY channel ORDER BY channel LIMIT 1000");
      for (const pqxx::row& row : channels) found.channels.push_back(row[0].is_null() ? "" : row[0].c_str());
    }
  } catch (const std::exception& e) {
    std::string what = e.what();
    if (const size_t newline = what.find('\n'); newline != std::string::npos) what.resize(newline);
    found.problem = ScrubSecrets(
        fmt::format("database {} (from {}): {}", collector::RedactUrl(found.url->url), found.url->origin, what),
        secrets);
    found.server_version.clear();
  }
  return found;
}

void InferRoles(HostDiscovery& host) {
  for (const std::string& name : host.pm2.processes) {
    if (Contains(name, "aggregator")) host.aggregator.push_back(name);
    if (Contains(name, "tree-builder") || Contains(name, "seal")) host.sealer.push_back(name);
  }
}

std::string ChecksEnabledBy(const std::string& table) {
  for (const PipelineTable& t : PipelineTables()) {
    if (t.name == table) return std::string(t.checks);
  }
  return "";
}

std::string RenderInitConfig(const HostDiscovery& host, const PostgresConfig& postgres, const std::string& written_by) {
  std::string out = fmt::format(
      "# offmon configuration for this host, written by {}.\n"
      "# Check it: offmon config check FILE; run it: offmon --config FILE collect.\n"
      "# Every key and its default: docs/configuration.md (docs/offmon.example.toml).\n"
      "# Findings marked CONFIRM are guesses; edit them if they are wrong.\n",
      written_by);

  out += "\n[pm2]\n";
  const Pm2Found& pm2 = host.pm2;
  if (!pm2.processes.empty()) {
    out += fmt::format("# Found: {} process{} under PM2_HOME {}.\n", pm2.processes.size(),
                       pm2.processes.size() == 1 ? "" : "es", pm2.home);
    out += fmt::format("binary = {}\nhome = {}\n", Quote(pm2.binary), Quote(pm2.home));
    out += "# The processes watched: one that later goes missing from PM2 is reported offline.\n";
    out += fmt::format("processes = {}\n", QuotedList(pm2.processes));
  } else {
    out += fmt::format("# NOT FOUND: {}.\n# Set binary and home, then enabled = true.\n", pm2.problem);
    out += fmt::format("enabled = false\nbinary = {}\nhome = {}\n", Quote(pm2.binary), Quote(pm2.home));
  }

  out += "\n[postgres]\n";
  const DatabaseFound& db = host.database;
  if (db.url && db.problem.empty()) {
    out += fmt::format("# Found: {} (from {}), PostgreSQL {}.\n", collector::RedactUrl(db.url->url), db.url->origin,
                       db.server_version);
    out += "# The URL and its password stay where they are: this file only says where to read them.\n";
    out += UrlSourceLines(*db.url, postgres);
    out += "# Pipeline schema:\n";
    for (const TableFound& t : db.tables) {
      out += TableUsable(t)
                 ? fmt::format("#   {} ({}): {}\n", t.name, fmt::join(t.columns, ", "), ChecksEnabledBy(t.name))
                 : fmt::format("#   NOT FOUND: {}: no {}\n", TableProblem(t), ChecksEnabledBy(t.name));
    }
    out += db.channels.empty() ? "# Channels: none sealed in the last 7 days.\n"
                               : fmt::format("# Channels sealed in the last 7 days ({}): {}\n", db.channels.size(),
                                             fmt::join(db.channels, ", "));
  } else if (db.url) {
    out += fmt::format("# NOT REACHABLE: {}.\n# The URL is kept where it was found; offmon retries every cycle.\n",
                       db.problem);
    out += UrlSourceLines(*db.url, postgres);
  } else {
    out += fmt::format(
        "# NOT FOUND: {}.\n"
        "# Give offmon the URL (DATABASE_URL in its environment or a .env file, or url_file),\n"
        "# then enabled = true.\n"
        "enabled = false\n",
        db.problem);
  }

  out += "\n[analyzer]\n";
  out += "# The pipeline's roles decide which alert explains which (an offline aggregator explains low\n"
         "# events; an offline sealer explains stale epochs). CONFIRM: inferred from process names.\n";
  // Unknown roles keep the defaults (the guide's names) rather than an empty list.
  const AnalyzerConfig defaults;
  out += host.aggregator.empty()
             ? fmt::format("# No process named like an aggregator: set it (default {}).\n# aggregator = []\n",
                           QuotedList(defaults.aggregator))
             : fmt::format("aggregator = {}\n", QuotedList(host.aggregator));
  out += host.sealer.empty()
             ? fmt::format("# No process named like a sealer (tree-builder): set it (default {}).\n# sealer = []\n",
                           QuotedList(defaults.sealer))
             : fmt::format("sealer = {}\n", QuotedList(host.sealer));

  const std::vector<std::string> summary = DiscoverySummary(host);
  if (std::any_of(summary.begin(), summary.end(), [](const std::string& s) { return s.starts_with("missing"); })) {
    out += "\n# What offmon init could not find:\n";
    for (const std::string& line : summary) {
      if (line.starts_with("missing")) out += "#   " + line + "\n";
    }
  }
  out += "\n# Everything else keeps its default: [store] var/offmon.db for 30 days, [system] every 30 s,\n"
         "# [http] 127.0.0.1:9470, [log] var/monitor.log, no [notify] receivers.\n";
  return out;
}

std::vector<std::string> DiscoverySummary(const HostDiscovery& host) {
  std::vector<std::string> lines;
  const Pm2Found& pm2 = host.pm2;
  if (!pm2.processes.empty()) {
    lines.push_back(fmt::format("found: pm2: {} processes under PM2_HOME {}: {}", pm2.processes.size(), pm2.home,
                                fmt::join(pm2.processes, ", ")));
  } else {
    lines.push_back(fmt::format("missing: pm2: {}", pm2.problem));
  }
  if (!pm2.processes.empty()) {
    lines.push_back(host.aggregator.empty()
                        ? "missing: role aggregator: no process named like one (set [analyzer] aggregator)"
                        : fmt::format("found: role aggregator (confirm): {}", fmt::join(host.aggregator, ", ")));
    lines.push_back(host.sealer.empty()
                        ? "missing: role sealer: no process named like one (set [analyzer] sealer)"
                        : fmt::format("found: role sealer (confirm): {}", fmt::join(host.sealer, ", ")));
  }
  const DatabaseFound& db = host.database;
  if (!db.url) {
    lines.push_back(fmt::format("missing: database: {}", db.problem));
    return lines;
  }
  if (!db.problem.empty()) {
    lines.push_back(fmt::format("missing: database: {}", db.problem));
    return lines;
  }
  lines.push_back(fmt::format("found: database: {} (from {}), PostgreSQL {}", collector::RedactUrl(db.url->url),
                              db.url->origin, db.server_version));
  for (const TableFound& t : db.tables) {
    lines.push_back(TableUsable(t) ? fmt::format("found: table {}: {}", t.name, ChecksEnabledBy(t.name))
                                   : fmt::format("missing: {}: no {}", TableProblem(t), ChecksEnabledBy(t.name)));
  }
  lines.push_back(db.channels.empty()
                      ? std::string("missing: channels: no epoch sealed in the last 7 days")
                      : fmt::format("found: channels: {}", fmt::join(db.channels, ", ")));
  return lines;
}

}  // namespace offmon::daemon
