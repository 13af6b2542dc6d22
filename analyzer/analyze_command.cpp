#include "offmon/analyzer/analyze_command.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>

#include <unistd.h>

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

// A backtest evaluates every rule at every step; past this it runs for minutes to hours
// (a year at 1 s is 31 million evaluations), so it is refused with how to narrow it.
constexpr int64_t kMaxEvaluations = 100'000;

// The first of from + k * step (k >= 0) at or after first_sample.
TimePoint StartOnGrid(TimePoint from, TimePoint first_sample, Duration step) {
  if (first_sample <= from) return from;
  const auto steps = (first_sample - from + step - Duration(1)) / step;
  return from + steps * step;
}

// The shortest round step that keeps `range` within kMaxEvaluations.
Duration StepWithin(Duration range) {
  using namespace std::chrono;
  for (Duration step : {Duration(seconds(10)), Duration(minutes(1)), Duration(minutes(5)), Duration(minutes(15)),
                        Duration(hours(1)), Duration(hours(6)), Duration(days(1))}) {
    if (range / step + 1 <= kMaxEvaluations) return step;
  }
  return std::chrono::days(7);
}

// A step as --step takes it: "5m", "1h", "90s".
std::string StepText(Duration step) {
  constexpr std::pair<int64_t, const char*> kUnits[] = {{86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}};
  for (const auto& [ms, unit] : kUnits) {
    if (step.count() % ms == 0) return fmt::format("{}{}", step.count() / ms, unit);
  }
  return fmt::format("{}ms", step.count());
}

// "analyze: 45% (at 2025-11-15T04:50:30Z)" on one rewritten stderr line, only when stderr
// is a terminal and the run has taken over a second: scripts and logs see nothing.
class Progress {
 public:
  Progress(std::ostream& err, int64_t total)
      : err_(err), total_(total), enabled_(isatty(STDERR_FILENO) == 1), started_(std::chrono::steady_clock::now()) {}
  void Update(int64_t done, TimePoint at) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - started_ < std::chrono::seconds(1) || now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    err_ << fmt::format("\ranalyze: {:3d}% (at {})", done * 100 / std::max<int64_t>(total_, 1),
                        FormatRfc3339(std::chrono::floor<std::chrono::seconds>(at)).substr(0, 19))
         << std::flush;
    shown_ = true;
  }
  void Clear() {
    if (shown_) err_ << "\r\x1b[K" << std::flush;
  }

 private:
  std::ostream& err_;
  int64_t total_;
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point started_, last_;
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
  auto info = (*store)->Info();
  if (!info) return ctx.Fail(info.error().WithContext("analyze"));
  // Before the first sample there is nothing to evaluate: start there, on --from's grid.
  const TimePoint start = info->first_sample ? StartOnGrid(*from, *info->first_sample, *step) : *to + *step;
  const int64_t evaluations = start > *to ? 0 : (*to - start) / *step + 1;
  if (evaluations > kMaxEvaluations) {
    return ctx.Fail(Status::InvalidArgument(fmt::format(
        "analyze: {} evaluations from {}{} to {} every {} is above the limit of {}: narrow --from/--to or use "
        "--step {} or longer",
        evaluations, FormatRfc3339(start), start > *from ? " (the first sample)" : "", FormatRfc3339(*to),
        StepText(*step), kMaxEvaluations, StepText(StepWithin(*to - start)))));
  }

  Analyzer analyzer(ctx.config, **store, AnalyzerMode::kBacktest);
  Progress progress(*ctx.err, evaluations);
  // Only what fired is reported: pending conditions that never fired are not alerts,
  // and escalations are the delivery's business.
  std::set<std::string> fired;
  size_t count = 0;
  if (!options.json) {
    *ctx.out << fmt::format("{:<20} {:<9} {:<8} {:<20} {:<32} {}\n", "TIME", "STATE", "SEVERITY", "ALERT", "LABELS",
                            "SUMMARY");
  }
  int64_t done = 0;
  for (TimePoint t = start; t <= *to; t += *step) {
    progress.Update(done++, t);
    auto transitions = analyzer.Evaluate(t);
    if (!transitions) {
      progress.Clear();
      return ctx.Fail(transitions.error().WithContext("analyze"));
    }
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
  progress.Clear();
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
