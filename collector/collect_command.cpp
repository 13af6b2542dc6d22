#include <ostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "appender_sink_impl.h"
#include "offmon/collector/collect_command.h"
#include "offmon/collector/system_collector.h"
#include "offmon/store/store_command.h"

namespace offmon::collector {

namespace {

void RunCollectOnce(CliContext& ctx) {
  auto store = store::OpenStoreForCommand(ctx, /*read_only=*/false);
  if (!store) return ctx.Fail(store.error());
  // Cycle times sit on a whole second: millisecond jitter would cost chunk space.
  TimePoint now = std::chrono::floor<std::chrono::seconds>(ctx.clock->Now());
  auto appender = (*store)->NewAppender("collect");
  AppenderSink sink(*appender, now);
  SystemCollector system(ProcFs(ctx.config.system.proc_root), ctx.config.system.disk_mounts);
  system.Collect(now, sink);
  size_t samples = appender->pending_samples();
  Status status = appender->Commit(now);
  if (!status.ok()) return ctx.Fail(status.WithContext("collect"));
  *ctx.out << fmt::format("collected {} samples into {} ({} collector failure(s))\n", samples, ctx.store_path,
                          sink.failures());
}

}  // namespace

void AddCollectCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("collect", "Collect observations into the store");
  auto* once = cmd->add_flag("--once")->description("Run one collection cycle and exit");
  cmd->callback([&ctx, once] {
    if (once->count() == 0) {
      ctx.Fail(Status::InvalidArgument("collect: only --once is available in this version"));
      ctx.exit_code = kExitUsage;
      return;
    }
    RunCollectOnce(ctx);
  });
}

}  // namespace offmon::collector
