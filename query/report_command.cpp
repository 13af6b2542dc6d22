// `offmon report [--at TIME] [--json] [--color auto|always|never]`: the guide's health
// report from the store. Building the report: health_report.cpp; its forms:
// report_render.cpp.
#include <CLI/CLI.hpp>
#include <ostream>

#include "offmon/query/health_report.h"
#include "offmon/query/query_command.h"
#include "offmon/query/report_render.h"
#include "offmon/store/store_command.h"

namespace offmon::query {

namespace {

struct ReportOptions {
  std::string at;  // empty: now
  bool json = false;
  std::string color = "auto";
};

void RunReport(CliContext& ctx, const ReportOptions& options) {
  const TimePoint now = ctx.clock->Now();
  TimePoint at = now;
  if (!options.at.empty()) {
    auto parsed = ParseTimeArg(options.at, now);
    if (!parsed) return ctx.Fail(parsed.error().WithContext("report: --at"));
    at = *parsed;
  }
  auto store = store::OpenStoreForCommand(ctx, /*read_only=*/true);
  if (!store) return ctx.Fail(store.error());
  auto report = BuildHealthReport(**store, ctx.config, at);
  if (!report) return ctx.Fail(report.error().WithContext("report"));
  if (options.json) {
    *ctx.out << RenderReportJson(*report);
    return;
  }
  const bool terminal = options.color == "always" || (options.color == "auto" && StdoutWantsTerminalForm());
  *ctx.out << RenderReportText(*report, RenderOptions{terminal});
}

}  // namespace

void AddReportCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("report", "Print the health report from the store");
  auto options = std::make_shared<ReportOptions>();
  cmd->add_option("--at", options->at, "The report as it was at TIME (RFC 3339, unix seconds, now-2h)");
  cmd->add_flag("--json", options->json, "One JSON document (docs/report.md)");
  cmd->add_option("--color", options->color, "Icons and colour: auto (a terminal without NO_COLOR), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->callback([&ctx, options] { RunReport(ctx, *options); });
}

}  // namespace offmon::query
