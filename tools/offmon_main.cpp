// offmon: only builds the subcommand tree and wires the modules together.
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "check_command.h"
#include "http_report.h"
#include "monitor_log_report.h"
#include "offmon/analyzer/analyze_command.h"
#include "offmon/analyzer/silence_command.h"
#include "offmon/collector/collect_command.h"
#include "offmon/common/cli.h"
#include "offmon/query/query_command.h"
#include "offmon/store/store_command.h"

int main(int argc, char** argv) {
  offmon::SystemClock clock;
  offmon::CliContext ctx;
  ctx.clock = &clock;
  ctx.out = &std::cout;
  ctx.err = &std::cerr;

  CLI::App app{"offmon: an off-chain monitor for PM2 workers and their PostgreSQL pipeline"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "offmon " OFFMON_VERSION);
  std::string config_path;
  std::string store_path;
  app.add_option("--config", config_path, "TOML config file (default: $OFFMON_CONFIG)")->envname("OFFMON_CONFIG");
  app.add_option("--store", store_path, "Store file (default: $OFFMON_STORE, else [store] path, else var/offmon.db)");
  // Every subcommand accepts --store too, after its name.
  app.fallthrough();

  offmon::store::AddStoreCommand(app, ctx);
  // The daemon appends the report to the monitor log, serves it on /api/report and the
  // dashboard on /, through these hooks.
  offmon::collector::AddCollectCommand(app, ctx, offmon::tools::MonitorLogReport(),
                                       offmon::tools::HttpReportJson(), offmon::tools::HttpDashboard());
  offmon::collector::AddImportCommand(app, ctx);
  offmon::collector::AddConfigCommand(app, ctx);
  offmon::collector::AddInitCommand(app, ctx);
  offmon::query::AddReportCommand(app, ctx);
  offmon::query::AddTrendCommand(app, ctx);
  offmon::query::AddAlertsCommand(app, ctx);
  offmon::query::AddEscalateCommand(app, ctx);
  offmon::analyzer::AddAnalyzeCommand(app, ctx);
  offmon::analyzer::AddSilenceCommands(app, ctx);
  offmon::tools::AddCheckCommand(app, ctx);

  // The config and store path are settled before any subcommand callback runs.
  app.parse_complete_callback([&] {
    if (!config_path.empty()) {
      auto config = offmon::LoadConfig(config_path);
      if (!config) {
        ctx.Fail(config.error());
        throw CLI::RuntimeError(ctx.exit_code);
      }
      ctx.config = std::move(*config);
      ctx.config_path = config_path;
    }
    ctx.store_path = !store_path.empty() ? store_path
                     : std::getenv("OFFMON_STORE") != nullptr && *std::getenv("OFFMON_STORE") != '\0'
                         ? std::string(std::getenv("OFFMON_STORE"))
                     : !ctx.config.store.path.empty() ? ctx.config.store.path
                                                      : offmon::DefaultStorePath();
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : offmon::kExitUsage;
  }
  return ctx.exit_code;
}
