#include <ostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "offmon/collector/collect_command.h"
#include "offmon/collector/collector_registry.h"
#include "offmon/collector/daemon.h"
#include "offmon/store/daemon_lock.h"
#include "offmon/store/store_command.h"

namespace offmon::collector {

void AddCollectCommand(CLI::App& app, CliContext& ctx, AfterAnalysis after_analysis, ReportJson report_json,
                       Dashboard dashboard) {
  auto* cmd = app.add_subcommand("collect",
                                 "Run the collectors in the foreground until SIGTERM/SIGINT (SIGHUP reloads the config)");
  auto* once = cmd->add_flag("--once")->description("Run one cycle of every collector, store it and exit");
  cmd->callback([&ctx, once, after_analysis = std::move(after_analysis), report_json = std::move(report_json),
                 dashboard = std::move(dashboard)] {
    // Held until the command returns; a second daemon on this store refuses (exit 16) before it
    // touches the running one's log.
    auto lock = store::LockStoreForDaemon(ctx.store_path);
    if (!lock) return ctx.Fail(lock.error());
    auto log = MakeDaemonLogger(ctx.config.log);
    if (!log) return ctx.Fail(log.error());
    auto store = store::OpenStoreForCommand(ctx, /*read_only=*/false);
    if (!store) return ctx.Fail(store.error());
    DaemonOptions options{ctx.config, ctx.config_path, ctx.store_path, once->count() > 0, &BuildCollectors,
                          after_analysis, report_json, dashboard};
    ctx.exit_code = RunDaemon(options, **store, *ctx.clock, **log);
    if (once->count() > 0 && ctx.exit_code == kExitOk) {
      auto info = (*store)->Info();
      if (info) *ctx.out << fmt::format("stored one cycle in {} ({} series)\n", ctx.store_path, info->series);
    }
  });
}

}  // namespace offmon::collector
