// `offmon escalate [ALERT] [--process NAME] [--all-critical] [--at TIME]`: the guide's
// escalation message for active alerts, ready to paste. ALERT is a selector over the
// alert name and labels (`MemoryLeak`, `MemoryLeak{process="w1"}`, `{process="w1"}`) and
// picks every active alert it matches, pending ones included; --all-critical picks every
// firing CRITICAL alert that no firing upstream cause explains (the ones the report's
// status counts). The active set is the report's (health_report.h): the replay of the
// recorded transitions. The message itself: escalation.cpp. docs/report.md.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <ostream>

#include "escalation_impl.h"
#include "offmon/query/health_report.h"
#include "offmon/query/query_command.h"
#include "offmon/store/selector.h"
#include "offmon/store/store_command.h"

namespace offmon::query {

namespace {

struct EscalateOptions {
  std::string alert;    // selector text; empty with --all-critical
  std::string process;  // an extra process="NAME" condition
  bool all_critical = false;
  std::string at;  // empty: now
};

// Between two messages: each is pasted on its own.
const std::string kSeparator = "\n" + std::string(80, '-') + "\n\n";

void RunEscalate(CliContext& ctx, const EscalateOptions& options) {
  if (options.alert.empty() == !options.all_critical) {
    ctx.Fail(Status::InvalidArgument("escalate: name an ALERT or give --all-critical (one of them)"));
    ctx.exit_code = kExitUsage;
    return;
  }
  std::optional<store::Selector> selector;
  if (!options.alert.empty()) {
    auto parsed = store::Selector::Parse(options.alert);
    if (!parsed) return ctx.Fail(parsed.error().WithContext("escalate: ALERT"));
    selector = std::move(*parsed);
  }
  const TimePoint now = ctx.clock->Now();
  TimePoint at = now;
  if (!options.at.empty()) {
    auto parsed = ParseTimeArg(options.at, now);
    if (!parsed) return ctx.Fail(parsed.error().WithContext("escalate: --at"));
    at = *parsed;
  }
  auto store = store::OpenStoreForCommand(ctx, /*read_only=*/true);
  if (!store) return ctx.Fail(store.error());
  auto report = BuildHealthReport(**store, ctx.config, at);
  if (!report) return ctx.Fail(report.error().WithContext("escalate"));

  std::vector<const AlertRow*> chosen;
  for (const AlertRow& a : report->alerts) {
    const SeriesKey key(a.alert, a.labels);
    if (!options.process.empty() && key.Label("process") != options.process) continue;
    const bool match =
        options.all_critical ? a.counted && a.firing && a.severity == analyzer::Severity::kCritical : selector->Matches(key);
    if (match) chosen.push_back(&a);
  }
  if (chosen.empty()) {
    std::string what = options.all_critical
                           ? std::string("no firing CRITICAL alert")
                           : fmt::format("no active alert matches {}{}", options.alert,
                                         options.process.empty() ? "" : " --process " + options.process);
    std::string active;
    for (const AlertRow& a : report->alerts)
      active += (active.empty() ? "" : ", ") + SeriesKey(a.alert, a.labels).ToString();
    return ctx.Fail(Status::NotFound(
        fmt::format("escalate: {} at {} (active: {})", what, FormatRfc3339(at), active.empty() ? "none" : active)));
  }
  bool first = true;
  for (const AlertRow* a : chosen) {
    auto message = RenderEscalation(**store, ctx.config, *report, *a);
    if (!message) return ctx.Fail(message.error().WithContext("escalate"));
    *ctx.out << (first ? "" : kSeparator) << *message;
    first = false;
  }
}

}  // namespace

void AddEscalateCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("escalate", "Print the guide's escalation message for active alerts, ready to paste");
  auto options = std::make_shared<EscalateOptions>();
  cmd->add_option("ALERT", options->alert,
                  "Alert name, optionally with labels as a selector: MemoryLeak, 'MemoryLeak{process=\"w1\"}'");
  cmd->add_option("--process", options->process, "Only alerts about this PM2 process");
  cmd->add_flag("--all-critical", options->all_critical,
                "One message per firing CRITICAL alert not explained by an upstream cause");
  cmd->add_option("--at", options->at, "The message as it would have been at TIME (RFC 3339, unix seconds, now-2h)");
  cmd->callback([&ctx, options] { RunEscalate(ctx, *options); });
}

}  // namespace offmon::query
