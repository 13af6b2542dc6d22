#include "offmon/analyzer/analyze_command.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>

#include "offmon/analyzer/analyzer.h"
#include "offmon/store/store_command.h"

namespace offmon::analyzer {

namespace {

struct AnalyzeOptions {
  std::string from = "now-24h";
  std::string to = "now";
  std::string step = "5m";
  bool json = false;
};

std::string LabelsText(const Labels& labels) {
  std::string out;
  for (const Label& l : labels) out += fmt::format("{}{}={}", out.empty() ? "" : ",", l.name, l.value);
  return out;
}

void PrintJson(std::ostream& out, const Transition& t) {
  nlohmann::json labels = nlohmann::json::object();
  for (const Label& l : t.labels) labels[l.name] = l.value;
  nlohmann::json line{{"ts", ToMillis(t.at) / 1000},
                      {"alert", t.alert},
                      {"severity", SeverityName(t.severity)},
                      {"state", AlertStateName(t.state)},
                      {"labels", labels},
                      {"series", t.series},
                      {"summary", t.summary}};
  if (!t.inhibited_by.empty()) line["inhibited_by"] = t.inhibited_by;
  out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

void RunAnalyze(CliContext& ctx, const AnalyzeOptions& options) {
  const TimePoint now = ctx.clock->Now();
  auto from = ParseTimeArg(options.from, now);
  if (!from) return ctx.Fail(from.error().WithContext("analyze: --from"));
  auto to = ParseTimeArg(options.to, now);
  if (!to) return ctx.Fail(to.error().WithContext("analyze: --to"));
  auto step = ParseDuration(options.step);
  if (!step) return ctx.Fail(step.error().WithContext("analyze: --step"));
  if (*step < std::chrono::seconds(1)) return ctx.Fail(Status::InvalidArgument("analyze: --step must be at least 1s"));
  if (*to < *from) return ctx.Fail(Status::InvalidArgument("analyze: --to is before --from"));
  auto store = store::OpenStoreForCommand(ctx, /*read_only=*/true);
  if (!store) return ctx.Fail(store.error());

  Analyzer analyzer(ctx.config, **store, AnalyzerMode::kBacktest);
  // Only what fired is reported: pending conditions that never fired are not alerts,
  // and escalations are the delivery's business.
  std::set<std::string> fired;
  size_t count = 0;
  if (!options.json) {
    *ctx.out << fmt::format("{:<20} {:<9} {:<8} {:<20} {:<32} {}\n", "TIME", "STATE", "SEVERITY", "ALERT", "LABELS",
                            "SUMMARY");
  }
  for (TimePoint t = *from; t <= *to; t += *step) {
    auto transitions = analyzer.Evaluate(t);
    if (!transitions) return ctx.Fail(transitions.error().WithContext("analyze"));
    for (const Transition& tr : *transitions) {
      const std::string fingerprint = Fingerprint(tr.alert, tr.labels);
      if (tr.state == AlertState::kFiring) {
        fired.insert(fingerprint);
      } else if (tr.state != AlertState::kResolved || fired.erase(fingerprint) == 0) {
        continue;
      }
      ++count;
      if (options.json) {
        PrintJson(*ctx.out, tr);
        continue;
      }
      std::string summary = tr.summary;
      if (!tr.inhibited_by.empty()) summary += fmt::format(" [caused by {}]", tr.inhibited_by);
      *ctx.out << fmt::format("{:<20} {:<9} {:<8} {:<20} {:<32} {}\n",
                              FormatRfc3339(std::chrono::floor<std::chrono::seconds>(tr.at)).substr(0, 19),
                              AlertStateName(tr.state), SeverityName(tr.severity), tr.alert, LabelsText(tr.labels),
                              summary);
    }
  }
  if (!options.json) {
    *ctx.out << fmt::format("{} transition{}; {} alert{} still firing at {}\n", count, count == 1 ? "" : "s",
                            fired.size(), fired.size() == 1 ? "" : "s", FormatRfc3339(*to));
  }
}

}  // namespace

void AddAnalyzeCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd =
      app.add_subcommand("analyze", "Replay history through the alert rules (a backtest) and print transitions");
  auto options = std::make_shared<AnalyzeOptions>();
  cmd->add_option("--from", options->from, "Start: RFC 3339, unix seconds or now-24h (default now-24h)");
  cmd->add_option("--to", options->to, "End (default now)");
  cmd->add_option("--step", options->step, "Evaluation step (default 5m)");
  cmd->add_flag("--json", options->json, "One JSON object per firing/resolved transition, one per line");
  cmd->callback([&ctx, options] { RunAnalyze(ctx, *options); });
}

}  // namespace offmon::analyzer
