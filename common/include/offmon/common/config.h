// offmon's configuration: a plain struct with declared defaults, loaded from a TOML file
// and validated once, then passed by const reference. docs/configuration.md lists every
// key. Secrets (DATABASE_URL) come from the environment, never from this file's output.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "offmon/common/result.h"
#include "offmon/common/rules_config.h"
#include "offmon/common/time.h"

namespace offmon {

struct StoreConfig {
  // [store] path. Default: $OFFMON_STORE, else var/offmon.db (relative to the cwd).
  std::string path;
  // [store] retention_raw / retention_5m / retention_1h. Defaults 30d / 180d / 800d.
  Duration retention_raw = std::chrono::days(30);
  Duration retention_5m = std::chrono::days(180);
  Duration retention_1h = std::chrono::days(800);
};

struct SystemConfig {
  // [system] interval between cycles. Default 30s.
  Duration interval = std::chrono::seconds(30);
  // [system] disk_mounts: mount points whose free space is recorded. Default ["/"].
  std::vector<std::string> disk_mounts{"/"};
  // [system] proc_root: where /proc is read from (tests point it at fixtures).
  std::string proc_root = "/proc";
};

// How the PM2 collector asks for the process list; the values in Pm2Config's order.
enum class Pm2Method { kRpc, kJlist };

struct Pm2Config {
  // [pm2] enabled. Default true.
  bool enabled = true;
  // [pm2] method: "rpc" asks the PM2 daemon over $PM2_HOME/rpc.sock the question `pm2
  // jlist` asks it (getMonitorData), without starting node, which costs `pm2 jlist` about
  // 0.4 CPU s a call; "jlist" runs `binary jlist`, for a PM2 whose RPC offmon does not
  // speak. Default "rpc".
  Pm2Method method = Pm2Method::kRpc;
  // [pm2] binary: the pm2 executable, looked up in PATH when it has no slash; run by
  // method "jlist" (and `offmon init`). Default "pm2".
  std::string binary = "pm2";
  // [pm2] home: PM2_HOME for pm2; empty keeps the environment's. Default "".
  std::string home;
  // [pm2] processes: names to watch; empty watches every process pm2 lists. A watched
  // name missing from the list is reported as offline. Default [].
  std::vector<std::string> processes;
  // [pm2] interval. Default 30s: ten samples in the 5 minutes CpuHigh must hold, and
  // restart counter increases resolve well inside an hour.
  Duration interval = std::chrono::seconds(30);
  // [pm2] timeout: how long the daemon may take to answer (method "rpc"), or `pm2 jlist`
  // to finish before it is killed (method "jlist"). Default 10s.
  Duration timeout = std::chrono::seconds(10);
};

struct ProcessesConfig {
  // [processes] pid_files: processes (not under PM2) found by their PID file. Default [].
  std::vector<std::string> pid_files;
  // [processes] names: processes found by their command name (/proc/PID/comm). Default [].
  std::vector<std::string> names;
  // [processes] interval. Default 30s.
  Duration interval = std::chrono::seconds(30);
};

struct PostgresConfig {
  // [postgres] enabled. Default true; with no URL found the collector reports why.
  bool enabled = true;
  // [postgres] url_env: environment variable holding the URL. Default "DATABASE_URL".
  std::string url_env = "DATABASE_URL";
  // [postgres] env_file: a .env file read for url_env when the environment lacks it,
  // as the guide's start-monitor.sh does. Default ".env".
  std::string env_file = ".env";
  // [postgres] url_file: a file whose whole content is the URL (for secret stores);
  // takes precedence over url_env. Default "".
  std::string url_file;
  // [postgres] interval. Default 60s: the epoch and event queries are cheap, and
  // staleness is judged in hours.
  Duration interval = std::chrono::seconds(60);
  // [postgres] connect_timeout. Default 5s.
  Duration connect_timeout = std::chrono::seconds(5);
  // [postgres] statement_timeout, applied to every query. Default 5s.
  Duration statement_timeout = std::chrono::seconds(5);
  // [postgres] lock_timeout: a statement waiting this long for a lock (a table locked by
  // a migration or a stuck transaction) fails as "locked". Default 2s; below
  // statement_timeout, or the statement timeout fires first.
  Duration lock_timeout = std::chrono::seconds(2);
  // [postgres] backfill: how far back sealed epochs are read from the database (their
  // participant counts), newest first, a bounded slice per cycle. Default 30d, the
  // store's raw retention.
  Duration backfill = std::chrono::days(30);
  // [postgres] participant_sets: sealed epochs this recent also have their participant
  // sets read (EpochDataLoss, who is missing in a drop); older ones only their counts.
  // Also the audit window for changed or vanished epochs (at least 48 h). Default 3d.
  Duration participant_sets = std::chrono::days(3);
};

struct LogConfig {
  // [log] file: the monitor log, the guide's monitor.log; not a directory. Default
  // "var/monitor.log".
  std::string file = "var/monitor.log";
  // [log] max_bytes before rotation to file.1. Default 10 MiB.
  int64_t max_bytes = 10 * 1024 * 1024;
  // [log] keep: rotated files kept, 0 to 1000. Default 3.
  int64_t keep = 3;
};

struct AnalyzerConfig {
  // [analyzer] enabled: evaluate the rules in the daemon. Default true.
  bool enabled = true;
  // [analyzer] interval between evaluations in the daemon. Default 30s, the PM2 and
  // system collectors' interval.
  Duration interval = std::chrono::seconds(30);
  // [analyzer] escalate_warning_after: the guide's "investigate within 1 hour". Default 1h.
  Duration escalate_warning_after = std::chrono::hours(1);
  // [analyzer] aggregator / sealer: the pipeline's processes, for inhibition (an
  // offline aggregator explains low events; an offline sealer explains stale epochs).
  std::vector<std::string> aggregator{"twzrd-aggregator"};
  std::vector<std::string> sealer{"tree-builder-worker"};
  // [rules.NAME] tables: overrides of DefaultRules().
  RuleSet rules = DefaultRules();
};

// One notification receiver: [notify.receivers.NAME] or an entry of [[notify.receivers]]
// (with `name`). docs/notifications.md.
struct ReceiverConfig {
  std::string name;
  // type: "alertmanager", "webhook", "slack", "discord" or "pagerduty". Required.
  std::string type;
  // url / url_file: where to POST, http:// or https://. Secrets: never logged or
  // printed unredacted. url_file (its whole trimmed content) wins over url. One (or
  // urls) is required except for pagerduty (default: the Events API v2 endpoint).
  std::string url;
  std::string url_file;
  // urls: alertmanager only, instead of url / url_file: the Alertmanagers of a cluster.
  // Every notification goes to each of them, and is delivered (and retried) per URL, as
  // Prometheus sends to every Alertmanager it knows. Secrets like url; no entry twice.
  // Default empty.
  std::vector<std::string> urls;
  // routing_key_file: pagerduty's integration key, a secret file. Required for pagerduty.
  std::string routing_key_file;
  // min_severity: "WARNING" or "CRITICAL" (INFO is never notified). Default "WARNING".
  std::string min_severity = "WARNING";
  // transitions: which of "firing", "escalated", "resolved" this receiver gets. Default
  // the guide's policy: escalated (CRITICAL at once, WARNING after
  // [analyzer] escalate_warning_after) and resolved (only where the firing went).
  std::vector<std::string> transitions{"escalated", "resolved"};
  // repeat_interval: re-send a still-firing alert this often; 0 never. Default 0, and 1h
  // for alertmanager (which expires an alert not re-sent).
  Duration repeat_interval{0};
  // https:// receivers' certificates are verified (chain and host name) against the
  // system's trust store, or against ca_file: a PEM bundle of the CAs to trust instead
  // (a private CA), readable at load. Default "" (the system store).
  std::string ca_file;
  // tls_insecure_skip_verify: accept any certificate (no chain or host name check);
  // logged as a warning at start. Default false; excludes ca_file.
  bool tls_insecure_skip_verify = false;
};

struct NotifyConfig {
  std::vector<ReceiverConfig> receivers;
  // [notify] retry_initial / retry_max: exponential backoff between attempts (with
  // jitter), doubling from retry_initial up to retry_max. Defaults 1s / 5m. Attempts
  // never stop for retryable failures (5xx, 408, 429, timeouts, refused connections).
  Duration retry_initial = std::chrono::seconds(1);
  Duration retry_max = std::chrono::minutes(5);
  // [notify] timeout: one attempt (connect, send, response). Default 10s.
  Duration timeout = std::chrono::seconds(10);
};

// One Prometheus remote-write endpoint: [remote_write.NAME] (docs/remote-write.md). The
// daemon sends it every sample in the store's event log, oldest first, from a durable
// cursor.
struct RemoteWriteConfig {
  std::string name;
  // url: http:// or https:// (the receiver's push path, e.g. Prometheus'
  // /api/v1/write). Required. May hold credentials; printed redacted only.
  std::string url;
  // external_labels: a table of labels added to every series; `instance` defaults to
  // the host name. A label the series has already is overridden, as Prometheus does.
  std::vector<std::pair<std::string, std::string>> external_labels;
  // Basic auth: username and password_file (a secret file), both or neither. Or
  // bearer_token_file (a secret file). Not both kinds. Checked readable at load.
  std::string username;
  std::string password_file;
  std::string bearer_token_file;
  // https:// certificates are verified as for receivers: the system's trust store or
  // ca_file; tls_insecure_skip_verify turns verification off (warned at start).
  std::string ca_file;
  bool tls_insecure_skip_verify = false;
  // max_samples_per_send: samples in one request, 1 to 100,000. Default 2000 (as
  // Prometheus' queue_config). A single event larger than this is sent in several requests.
  int64_t max_samples_per_send = 2000;
  // min_backoff / max_backoff: retry delays after 5xx, 429 or a connection error,
  // doubling (with jitter). Defaults 30ms / 5s, as Prometheus'. Retry-After is honoured.
  Duration min_backoff = std::chrono::milliseconds(30);
  Duration max_backoff = std::chrono::seconds(5);
  // timeout: one request (connect, send, response). Default 30s.
  Duration timeout = std::chrono::seconds(30);
};

// The daemon's HTTP listener: /metrics, /healthz, /api/report (docs/metrics.md).
struct HttpConfig {
  // [http] listen: "HOST:PORT" with a numeric IPv4 address or a bracketed IPv6 one
  // ("[::1]:9470"); port 0 picks a free port (logged). "" disables the listener.
  // Default "127.0.0.1:9470": loopback only; any other address must be written here.
  std::string listen = "127.0.0.1:9470";
  // [http] max_connections: open connections at once (each a socket and at most about
  // 12 KiB). When all are open, a new connection closes the one that has waited longest
  // for a request (idle or slow); only when every one is busy answering is the new one
  // refused: /healthz is still answered, anything else gets 503. Default 256.
  int64_t max_connections = 256;
  // [http] read_timeout: a request's header must arrive whole within this of the
  // connection opening (or of its first byte on a kept-alive connection), else the
  // connection is dropped. Default 10s.
  Duration read_timeout = std::chrono::seconds(10);
  // [http] idle_timeout: a kept-alive connection with no request started is closed after
  // this. Default 30s.
  Duration idle_timeout = std::chrono::seconds(30);
  // [http] write_timeout: a response (or one piece of it) must be taken by the client
  // within this. Default 10s.
  Duration write_timeout = std::chrono::seconds(10);
  // [http] stale_after: /metrics leaves out series whose newest sample is older. Default 1h.
  Duration stale_after = std::chrono::hours(1);
  // [http] token_file: a file holding one bearer token (a secret: never logged or
  // printed). When set, every path but /healthz needs "Authorization: Bearer TOKEN"
  // (else 401). Read at start and on SIGHUP. Default "" (none); `offmon config check`
  // warns when a listener on a non-loopback address has none. docs/dashboard.md.
  std::string token_file;
};

// Splits a [http] listen value into host and port. InvalidArgument with the reason when
// it is not "IPV4:PORT" or "[IPV6]:PORT" with numeric addresses. Not for "" (disabled).
Status ParseListenAddress(std::string_view listen, std::string* host, uint16_t* port);

// Whether a [http] listen value binds a loopback address only (127.0.0.0/8 or [::1]);
// false for anything else, 0.0.0.0 and [::] included, and for a value that does not parse.
bool IsLoopbackListen(std::string_view listen);

struct Config {
  StoreConfig store;
  SystemConfig system;
  Pm2Config pm2;
  ProcessesConfig processes;
  PostgresConfig postgres;
  LogConfig log;
  AnalyzerConfig analyzer;
  NotifyConfig notify;
  HttpConfig http;
  std::vector<RemoteWriteConfig> remote_write;  // [remote_write.NAME], by name
};

// Parses and validates a TOML file. InvalidArgument naming the file, line and key on a
// syntax error, an unknown key, a wrong type or a bad value; NotFound when missing.
Result<Config> LoadConfig(const std::filesystem::path& path);
// Same, from text (for tests and --config -).
Result<Config> ParseConfig(std::string_view toml_text, std::string_view source_name);

}  // namespace offmon
