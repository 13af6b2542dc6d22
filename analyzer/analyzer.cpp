#include "offmon/analyzer/analyzer.h"

#include <algorithm>
#include <deque>
#include <optional>

#include <fmt/format.h>

#include "event_ledger_impl.h"
#include "offmon/analyzer/history.h"
#include "rules_impl.h"

namespace offmon::analyzer {

namespace {
// A backtest reads each series this far ahead of the evaluation time.
constexpr Duration kReadAhead = std::chrono::hours(24);
// Transitions kept for a store that cannot take them (a full disk); beyond this the oldest
// go, as a flapping rule on a store full for days would otherwise grow without bound.
constexpr size_t kMaxUnrecorded = 10'000;
}  // namespace

struct Analyzer::State {
  State(store::Store& store, bool live) : ledger(store, /*follow=*/live) {}
  EventLedger ledger;
  std::optional<History> history;  // kept across evaluations in a backtest
  // Rules with an `evaluate_every` parameter (slow trends) reuse their last findings
  // between evaluations.
  struct Cached {
    TimePoint at;
    std::vector<Finding> findings;
  };
  std::map<std::string, Cached, std::less<>> cached;
  // Transitions the store refused, oldest first, recorded before any newer one.
  std::deque<Transition> unrecorded;
};

Analyzer::Analyzer(const Config& config, store::Store& store, AnalyzerMode mode)
    : config_(config),
      store_(store),
      mode_(mode),
      tracker_(config.analyzer),
      state_(std::make_unique<State>(store, mode == AnalyzerMode::kLive)) {
  if (mode == AnalyzerMode::kBacktest) state_->history.emplace(store, kReadAhead);
}

Analyzer::~Analyzer() = default;

Status Analyzer::Restore() { return ReplayTransitions(store_, tracker_); }

Result<std::vector<Transition>> Analyzer::Evaluate(TimePoint t) {
  OFFMON_RETURN_IF_ERROR(state_->ledger.AdvanceTo(t));
  std::optional<History> fresh;
  History& history = mode_ == AnalyzerMode::kLive ? fresh.emplace(store_, Duration(0)) : *state_->history;
  RuleContext ctx{
      t,
      config_,
      history,
      state_->ledger,
      [this](std::string_view alert, const Labels& labels) { return tracker_.IsFiring(alert, labels); },
      [this](const std::string& channel, TimePoint from, TimePoint to) -> Result<std::vector<store::EpochRecord>> {
        auto epochs = store_.ReadEpochs(from, to + Duration(1));
        if (!epochs) return epochs.error();
        std::erase_if(*epochs, [&](const store::EpochRecord& e) { return e.channel != channel; });
        return epochs;
      }};
  std::vector<Finding> findings;
  for (const RuleEntry& entry : AllRules()) {
    const RuleConfig& rule = config_.analyzer.rules.at(std::string(entry.name));
    if (!rule.enabled) continue;
    if (entry.every_evaluation != nullptr) OFFMON_RETURN_IF_ERROR(entry.every_evaluation(ctx, rule, findings));
    if (rule.params.contains("evaluate_every")) {
      auto cached = state_->cached.find(entry.name);
      if (cached != state_->cached.end() && t >= cached->second.at &&
          t - cached->second.at < rule.ParamDuration("evaluate_every")) {
        findings.insert(findings.end(), cached->second.findings.begin(), cached->second.findings.end());
        continue;
      }
      std::vector<Finding> fresh_findings;
      OFFMON_RETURN_IF_ERROR(entry.fn(ctx, rule, fresh_findings));
      findings.insert(findings.end(), fresh_findings.begin(), fresh_findings.end());
      state_->cached[std::string(entry.name)] = State::Cached{t, std::move(fresh_findings)};
      continue;
    }
    OFFMON_RETURN_IF_ERROR(entry.fn(ctx, rule, findings));
  }
  return tracker_.Update(t, std::move(findings));
}

std::optional<Analyzer::LogPaths> Analyzer::ProcessLogs(std::string_view process) const {
  auto it = state_->ledger.processes().find(process);
  if (it == state_->ledger.processes().end()) return std::nullopt;
  return LogPaths{it->second.out_log, it->second.err_log};
}

Status Analyzer::Record(const std::vector<Transition>& transitions) {
  std::deque<Transition>& queue = state_->unrecorded;
  queue.insert(queue.end(), transitions.begin(), transitions.end());
  while (queue.size() > kMaxUnrecorded) queue.pop_front();
  while (!queue.empty()) {
    const Transition& t = queue.front();
    auto seq = store_.AppendEvent(EventKind::kAlertTransition, "analyzer", EncodeTransition(t), t.at);
    if (!seq) {
      return seq.error().WithContext(fmt::format("{} transition(s) kept for the next evaluation", queue.size()));
    }
    queue.pop_front();
  }
  return Status::Ok();
}

}  // namespace offmon::analyzer
