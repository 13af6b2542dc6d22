// `offmon check [--json] [--color auto|always|never]`: one collection cycle (the code of
// `offmon collect --once`), one evaluation of the alert rules recorded in the store, then
// the health report. Exit codes follow Nagios, so cron, systemd timers and other monitors
// can use it: 0 OK, 1 WARNING, 2 CRITICAL (the highest severity among firing and pending
// alerts not inhibited by a firing upstream cause), 3 UNKNOWN (the store cannot be opened
// or written, or the analysis failed). A pending alert is a Nagios soft state: a check
// reports what it sees on its first run (a stopped worker is WARNING at once, named
// "(pending)"), and the scheduler's retries debounce it, as they do for any plugin.
#include "offmon/daemon/commands.h"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>

#include "offmon/analyzer/analyzer.h"
#include "collector_registry_impl.h"
#include "daemon_impl.h"
#include "offmon/query/health_report.h"
#include "offmon/query/report_render.h"
#include "offmon/store/daemon_lock.h"
#include "offmon/store/store_command.h"

namespace offmon::daemon {

namespace {

// Nagios plugin exit codes.
enum CheckExit : int { kCheckOk = 0, kCheckWarning = 1, kCheckCritical = 2, kCheckUnknown = 3 };

struct CheckOptions {
  bool json = false;
  std::string color = "auto";
};

void Unknown(CliContext& ctx, const Status& status) {
  ctx.Fail(status.WithContext("check: UNKNOWN"));
  ctx.exit_code = kCheckUnknown;
}

// With a daemon on the store (it holds the daemon lock) the check judges on the daemon's
// own cycles and alert state, read-only: a second collector would record every transition
// twice, and the daemon keeps the store current anyway.
void ReportFromTheDaemon(CliContext& ctx, const CheckOptions& options);
void Render(CliContext& ctx, const CheckOptions& options, store::Store& store, TimePoint now);

void RunCheck(CliContext& ctx, const CheckOptions& options) {
  auto lock = store::LockStoreForDaemon(ctx.store_path);
  if (!lock && lock.error().code() == StatusCode::kBusy) return ReportFromTheDaemon(ctx, options);
  if (!lock) return Unknown(ctx, lock.error());
  auto store = store::OpenStoreForCommand(ctx, /*read_only=*/false);
  if (!store) return Unknown(ctx, store.error());

  // The collection cycle of `collect --once`. Its warnings (a collector that cannot run)
  // go to stderr only: the daemon owns the monitor log. The analysis runs below, so its
  // failure can be told apart.
  auto log = std::make_shared<spdlog::logger>("offmon-check", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  log->set_level(spdlog::level::warn);
  log->set_pattern("offmon: %v");
  DaemonOptions cycle{ctx.config, ctx.config_path, ctx.store_path, /*once=*/true,
                      &BuildCollectors};
  cycle.config.analyzer.enabled = false;
  if (int code = RunDaemon(cycle, **store, *ctx.clock, *log); code != kExitOk) {
    return Unknown(ctx, Status::IOError(fmt::format("the collection cycle could not be stored (exit {})", code)));
  }

  const TimePoint now = ctx.clock->Now();
  analyzer::Analyzer analyzer(ctx.config, **store, analyzer::AnalyzerMode::kLive);
  if (Status status = analyzer.Restore(); !status.ok()) return Unknown(ctx, status.WithContext("analyzer"));
  auto transitions = analyzer.Evaluate(now);
  if (!transitions) return Unknown(ctx, transitions.error().WithContext("analyzer"));
  if (Status status = analyzer.Record(*transitions); !status.ok()) return Unknown(ctx, status.WithContext("analyzer"));

  Render(ctx, options, **store, now);
}

void ReportFromTheDaemon(CliContext& ctx, const CheckOptions& options) {
  auto store = store::OpenStoreForCommand(ctx, /*read_only=*/true);
  if (!store) return Unknown(ctx, store.error());
  if (!options.json) {
    *ctx.out << fmt::format("offmon check: a daemon is collecting into {}: judged on its cycles\n", ctx.store_path);
  }
  Render(ctx, options, **store, ctx.clock->Now());
}

void Render(CliContext& ctx, const CheckOptions& options, store::Store& store, TimePoint now) {
  auto report = query::BuildHealthReport(store, ctx.config, now);
  if (!report) return Unknown(ctx, report.error().WithContext("report"));
  if (options.json) {
    *ctx.out << query::RenderReportJson(*report);
  } else {
    const bool terminal = options.color == "always" || (options.color == "auto" && query::StdoutWantsTerminalForm());
    *ctx.out << query::RenderReportText(*report, query::RenderOptions{terminal});
    std::string counted;
    for (const query::AlertRow& a : report->alerts) {
      if (!a.counted || (!a.firing && a.severity == analyzer::Severity::kInfo)) continue;
      counted += (counted.empty() ? ": " : ", ") + SeriesKey(a.alert, a.labels).ToString() +
                 (a.firing ? "" : " (pending)");
    }
    *ctx.out << fmt::format("offmon check: {}{}{}\n", query::HealthStatusName(report->status),
                            report->soft() ? " (soft)" : "", counted);
  }
  ctx.exit_code = static_cast<int>(report->status);
}

}  // namespace

void AddCheckCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand(
      "check", "One collection cycle, the analysis and the report; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN");
  auto options = std::make_shared<CheckOptions>();
  cmd->add_flag("--json", options->json, "The report as one JSON document (docs/report.md)");
  cmd->add_option("--color", options->color, "Icons and colour: auto (a terminal without NO_COLOR), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->callback([&ctx, options] { RunCheck(ctx, *options); });
}

}  // namespace offmon::daemon
