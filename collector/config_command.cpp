#include <ostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "offmon/collector/collect_command.h"
#include "offmon/collector/database_url.h"
#include "offmon/collector/notification_payload.h"

namespace offmon::collector {

namespace {

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
    auto url = ResolveDatabaseUrl(config.postgres);
    if (url) {
      out << fmt::format("postgres: {} (from {}) every {}\n", RedactUrl(url->url), url->origin,
                         FormatDurationShort(config.postgres.interval));
      if (!url->warning.empty()) out << "warning: " << url->warning << '\n';
    } else {
      out << fmt::format("postgres: no URL: {}\n", url.error().message());
    }
  } else {
    out << "postgres: disabled\n";
  }
  out << fmt::format("log: {} (rotated at {} bytes, {} kept)\n", config.log.file, config.log.max_bytes, config.log.keep);
  for (const ReceiverConfig& r : config.notify.receivers) {
    const std::string where = !r.url_file.empty() ? fmt::format("url from url_file {}", r.url_file)
                              : !r.url.empty()    ? RedactHttpUrl(r.url)
                                                  : "the default URL";
    out << fmt::format("notify: {} ({}) {}, {} and above on {}{}\n", r.name, r.type, where, r.min_severity,
                       fmt::join(r.transitions, ", "),
                       r.repeat_interval > Duration(0)
                           ? fmt::format(", repeated every {}", FormatDurationShort(r.repeat_interval))
                           : "");
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

}  // namespace offmon::collector
