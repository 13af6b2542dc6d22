#include <fstream>
#include <ostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "offmon/daemon/commands.h"
#include "offmon/collector/database_url.h"
#include "offmon/notify/notification_payload.h"
#include "offmon/serve/http_endpoints.h"

namespace offmon::daemon {

namespace {

// Whether a receiver's URL is https://. A URL in url_file is read for its scheme only
// (nothing of it is printed); an unreadable one counts as not https (the sender reports
// it at start).
bool UsesHttps(const ReceiverConfig& r) {
  for (const std::string& each : r.urls) {
    if (auto parsed = notify::ParseHttpUrl(each); parsed && parsed->https) return true;  // any of a cluster's
  }
  std::string url = r.url;
  if (!r.url_file.empty()) {
    std::ifstream in(r.url_file);
    url.clear();
    in >> url;  // the first word: the trimmed URL starts there
  } else if (r.url.empty()) {
    return r.type == "pagerduty";  // the default URL is https://
  }
  auto parsed = notify::ParseHttpUrl(url);
  return parsed && parsed->https;
}

// How an https:// receiver's certificate is checked; "" for http://.
std::string TlsSummary(const ReceiverConfig& r) {
  if (!UsesHttps(r)) return "";
  if (r.tls_insecure_skip_verify) return "; tls: NOT VERIFIED (tls_insecure_skip_verify)";
  if (!r.ca_file.empty()) return fmt::format("; tls: verified (ca_file {})", r.ca_file);
  return "; tls: verified (system CA)";
}

void RunConfigCheck(CliContext& ctx, const std::string& file) {
  Config config = ctx.config;
  std::string source = ctx.config_path.empty() ? "built-in defaults" : ctx.config_path;
  if (!file.empty()) {
    auto loaded = LoadConfig(file);
    if (!loaded) return ctx.Fail(loaded.error());
    config = std::move(*loaded);
    source = file;
  }
  std::ostream& out = *ctx.out;
  out << fmt::format("config OK: {}\n", source);
  out << fmt::format("store: retention raw {}, 5m rollups {}, 1h rollups {}\n",
                     FormatDurationShort(config.store.retention_raw), FormatDurationShort(config.store.retention_5m),
                     FormatDurationShort(config.store.retention_1h));
  out << fmt::format("system: every {}, disks {}\n", FormatDurationShort(config.system.interval),
                     fmt::join(config.system.disk_mounts, ", "));
  if (config.pm2.enabled) {
    out << fmt::format("pm2: {} every {} (timeout {}), watching {}\n", config.pm2.binary,
                       FormatDurationShort(config.pm2.interval), FormatDurationShort(config.pm2.timeout),
                       config.pm2.processes.empty() ? "every process" : fmt::format("{}", fmt::join(config.pm2.processes, ", ")));
  } else {
    out << "pm2: disabled\n";
  }
  if (config.postgres.enabled) {
    auto url = collector::ResolveDatabaseUrl(config.postgres);
    if (url) {
      out << fmt::format("postgres: {} (from {}) every {}\n", collector::RedactUrl(url->url), url->origin,
                         FormatDurationShort(config.postgres.interval));
      if (!url->warning.empty()) out << "warning: " << url->warning << '\n';
    } else {
      out << fmt::format("postgres: no URL: {}\n", url.error().message());
    }
  } else {
    out << "postgres: disabled\n";
  }
  out << fmt::format("log: {} (rotated at {} bytes, {} kept)\n", config.log.file, config.log.max_bytes, config.log.keep);
  if (config.http.listen.empty()) {
    out << "http: disabled\n";
  } else {
    out << fmt::format("http: listening on {} (/metrics, /healthz, /api/report), up to {} connections{}\n",
                       config.http.listen, config.http.max_connections,
                       config.http.token_file.empty()
                           ? ""
                           : fmt::format("; bearer token from token_file {}", config.http.token_file));
    if (!config.http.token_file.empty()) {
      if (auto token = serve::ReadHttpToken(config.http); !token) out << "warning: " << token.error().message() << '\n';
    } else if (!IsLoopbackListen(config.http.listen)) {
      out << fmt::format("warning: http: {} is not a loopback address and [http] token_file is not set: anyone who "
                         "can reach it reads the metrics and the dashboard\n",
                         config.http.listen);
    }
  }
  for (const ReceiverConfig& r : config.notify.receivers) {
    std::vector<std::string> redacted;
    for (const std::string& url : r.urls) redacted.push_back(notify::RedactHttpUrl(url));
    const std::string where = !r.url_file.empty() ? fmt::format("url from url_file {}", r.url_file)
                              : !r.urls.empty()   ? fmt::format("{} URLs, each gets every alert: {}", r.urls.size(),
                                                                fmt::join(redacted, ", "))
                              : !r.url.empty()    ? notify::RedactHttpUrl(r.url)
                                                  : "the default URL";
    out << fmt::format("notify: {} ({}) {}, {} and above on {}{}{}\n", r.name, r.type, where, r.min_severity,
                       fmt::join(r.transitions, ", "),
                       r.repeat_interval > Duration(0)
                           ? fmt::format(", repeated every {}", FormatDurationShort(r.repeat_interval))
                           : "",
                       TlsSummary(r));
  }
  for (const RemoteWriteConfig& rw : config.remote_write) {
    const std::string auth = !rw.username.empty()            ? fmt::format("basic auth as {} (password_file {})",
                                                                           rw.username, rw.password_file)
                             : !rw.bearer_token_file.empty() ? fmt::format("bearer token (bearer_token_file {})",
                                                                           rw.bearer_token_file)
                                                             : std::string("no auth");
    const bool https = rw.url.starts_with("https://");
    const std::string tls = !https                        ? "tls: none (http://)"
                            : rw.tls_insecure_skip_verify ? "tls: NOT VERIFIED (tls_insecure_skip_verify)"
                            : !rw.ca_file.empty()         ? fmt::format("tls: verified (ca_file {})", rw.ca_file)
                                                          : "tls: verified (system CA)";
    std::string labels;
    for (const auto& [name, value] : rw.external_labels) labels += fmt::format(", {}=\"{}\"", name, value);
    out << fmt::format("remote_write: {} {}; {}; {}; up to {} samples per request{}\n", rw.name,
                       notify::RedactHttpUrl(rw.url), auth, tls, rw.max_samples_per_send, labels);
  }
}

}  // namespace

void AddConfigCommand(CLI::App& app, CliContext& ctx) {
  auto* config = app.add_subcommand("config", "Validate and show the configuration");
  config->require_subcommand(1);
  auto* check = config->add_subcommand("check", "Validate a config file and show what it sets, secrets redacted");
  auto file = std::make_shared<std::string>();
  check->add_option("file", *file, "Config file (default: the one given with --config)");
  check->callback([&ctx, file] { RunConfigCheck(ctx, *file); });
}

}  // namespace offmon::daemon
