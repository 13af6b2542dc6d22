// `offmon alerts`: the recorded alert history (episodes from firing to resolved, with
// durations, and per receiver what became of their notifications) and per-rule counts
// and mean time to resolve over a range; `--active` projects the transitions into the
// alerts active now (AlertTracker::Apply, as the daemon does on restart). Reads only the
// store's alert_transition and notification events.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "alert_history_impl.h"
#include "offmon/analyzer/alert_tracker.h"
#include "offmon/query/query_command.h"
#include "offmon/store/store_command.h"
#include "trend_export_impl.h"

namespace offmon::query {

namespace {

struct AlertsOptions {
  std::string since = "24h";
  std::string until = "now";
  bool active = false;
  bool undelivered = false;
  bool json = false;
};

std::string SummaryText(std::string summary, const std::string& inhibited_by) {
  if (!inhibited_by.empty()) summary += fmt::format(" [caused by {}]", inhibited_by);
  return summary;
}

bool Undelivered(const AlertEpisode& e) {
  return std::any_of(e.deliveries.begin(), e.deliveries.end(),
                     [](const Delivery& d) { return d.state != DeliveryState::kDelivered; });
}

// A time in a delivery line: the time of day when on the episode's (UTC) day, else in full.
std::string ShortTime(TimePoint t, TimePoint day_of) {
  const std::string full = FormatRfc3339Seconds(t);
  return full.substr(0, 10) == FormatRfc3339Seconds(day_of).substr(0, 10) ? full.substr(11, 8) : full;
}

std::string Attempts(int n) { return fmt::format("{} attempt{}", n, n == 1 ? "" : "s"); }

// One line per receiver of an episode: its first failed notification, else its oldest
// pending one, else its latest delivered one; with the counts when it got several.
std::vector<std::string> DeliveryLines(const AlertEpisode& e, const Config& config, bool config_loaded) {
  std::vector<std::string> receivers;  // in order of first notification
  for (const Delivery& d : e.deliveries) {
    if (std::find(receivers.begin(), receivers.end(), d.receiver) == receivers.end()) receivers.push_back(d.receiver);
  }
  auto rank = [](const Delivery& x) {
    return x.state == DeliveryState::kFailed ? 0 : x.state == DeliveryState::kPending ? 1 : 2;
  };
  std::vector<std::string> lines;
  for (const std::string& receiver : receivers) {
    const Delivery* shown = nullptr;
    DeliveryCounts counts;
    for (const Delivery& d : e.deliveries) {
      if (d.receiver != receiver) continue;
      counts.Add(d);
      if (shown == nullptr || rank(d) < rank(*shown) ||
          (rank(d) == rank(*shown) && d.state == DeliveryState::kDelivered)) {
        shown = &d;  // failed and pending: the first; delivered: the last
      }
    }
    const Delivery& d = *shown;
    std::string line = fmt::format("  \u2192 {}: ", receiver);
    switch (d.state) {
      case DeliveryState::kDelivered:
        line += fmt::format("delivered {} ({}, {}, {})", ShortTime(*d.outcome_at, e.fired_at), d.reason, d.status,
                            Attempts(d.attempts));
        break;
      case DeliveryState::kFailed:
        line += fmt::format("FAILED {} ({}, {}): {}", ShortTime(*d.outcome_at, e.fired_at), d.reason,
                            Attempts(d.attempts), d.error.empty() ? fmt::format("HTTP {}", d.status) : d.error);
        break;
      case DeliveryState::kPending:
        line += fmt::format("pending since {} ({})", ShortTime(d.queued_at, e.fired_at), d.reason);
        if (config_loaded && std::none_of(config.notify.receivers.begin(), config.notify.receivers.end(),
                                          [&](const ReceiverConfig& r) { return r.name == receiver; })) {
          line += ", not in the config: stays queued";
        }
        break;
    }
    if (counts.total() > 1) line += fmt::format(" [{} notifications: {}]", counts.total(), counts.Text());
    lines.push_back(std::move(line));
  }
  return lines;
}

nlohmann::json DeliveriesJson(const AlertEpisode& e) {
  nlohmann::json list = nlohmann::json::array();
  for (const Delivery& d : e.deliveries) {
    nlohmann::json item{{"receiver", d.receiver},
                        {"id", d.id},
                        {"notification", d.reason},
                        {"state", DeliveryStateName(d.state)},
                        {"queued_at", FormatRfc3339(d.queued_at)},
                        {"at", d.outcome_at ? nlohmann::json(FormatRfc3339(*d.outcome_at)) : nlohmann::json()},
                        {"status", d.outcome_at ? nlohmann::json(d.status) : nlohmann::json()},
                        {"attempts", d.outcome_at ? nlohmann::json(d.attempts) : nlohmann::json()}};
    if (d.state == DeliveryState::kFailed) item["error"] = d.error;
    list.push_back(std::move(item));
  }
  return list;
}

struct RuleStats {
  size_t fired = 0;     // episodes that started firing in the range
  size_t resolved = 0;  // episodes resolved in the range
  size_t open = 0;      // still firing at the end of the range
  Duration resolved_total{0};
  Duration longest{0};
  std::optional<Duration> MeanTimeToResolve() const {
    if (resolved == 0) return std::nullopt;
    return resolved_total / static_cast<int64_t>(resolved);
  }
};

void PrintActive(CliContext& ctx, const AlertsOptions& options, const analyzer::AlertTracker& tracker,
                 TimePoint until) {
  std::vector<const analyzer::ActiveAlert*> active;
  for (const auto& [fingerprint, alert] : tracker.active()) active.push_back(&alert);
  auto since = [](const analyzer::ActiveAlert& a) { return a.firing ? a.firing_since : a.active_since; };
  std::stable_sort(active.begin(), active.end(), [&](const analyzer::ActiveAlert* a, const analyzer::ActiveAlert* b) {
    if (a->firing != b->firing) return a->firing;
    if (a->severity != b->severity) return a->severity > b->severity;
    return since(*a) < since(*b);
  });
  auto state = [](const analyzer::ActiveAlert& a) {
    return a.escalated ? "escalated" : a.firing ? "firing" : "pending";
  };
  if (options.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const analyzer::ActiveAlert* a : active) {
      nlohmann::json item{{"alert", a->alert},
                          {"severity", analyzer::SeverityName(a->severity)},
                          {"state", state(*a)},
                          {"labels", LabelsJson(a->labels)},
                          {"series", a->series},
                          {"summary", a->summary},
                          {"since", FormatRfc3339(since(*a))},
                          {"active_since", FormatRfc3339(a->active_since)},
                          {"duration_s", DurationSeconds(until - since(*a))}};
      if (!a->inhibited_by.empty()) item["inhibited_by"] = a->inhibited_by;
      list.push_back(std::move(item));
    }
    nlohmann::json doc{{"at", FormatRfc3339(until)}, {"active", list}};
    *ctx.out << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    return;
  }
  std::ostream& out = *ctx.out;
  out << fmt::format("ACTIVE ALERTS at {}\n", FormatRfc3339Seconds(until));
  if (active.empty()) {
    out << "no active alerts\n";
    return;
  }
  out << fmt::format("{:<9}  {:<8}  {:<20}  {:<24}  {:<20}  {:<9}  {}\n", "STATE", "SEVERITY", "ALERT", "LABELS",
                     "SINCE", "FOR", "SUMMARY");
  size_t firing = 0;
  for (const analyzer::ActiveAlert* a : active) {
    firing += a->firing ? 1 : 0;
    out << fmt::format("{:<9}  {:<8}  {:<20}  {:<24}  {:<20}  {:<9}  {}\n", state(*a),
                       analyzer::SeverityName(a->severity), a->alert, LabelsText(a->labels), FormatRfc3339Seconds(since(*a)),
                       FormatDurationShort(until - since(*a)), SummaryText(a->summary, a->inhibited_by));
  }
  out << fmt::format("{} active ({} firing, {} pending)\n", active.size(), firing, active.size() - firing);
}

void PrintHistory(CliContext& ctx, const AlertsOptions& options, const std::vector<analyzer::Transition>& transitions,
                  std::vector<Delivery> deliveries, TimePoint from, TimePoint until) {
  std::vector<AlertEpisode> all = BuildEpisodes(transitions);
  AttachDeliveries(std::move(deliveries), &all);
  std::vector<AlertEpisode> episodes;
  DeliveryCounts notifications;
  for (AlertEpisode& e : all) {
    if (!e.Overlaps(from, until) || (options.undelivered && !Undelivered(e))) continue;
    for (const Delivery& d : e.deliveries) notifications.Add(d);
    episodes.push_back(std::move(e));
  }
  std::map<std::string, RuleStats> rules;
  for (const AlertEpisode& e : episodes) {
    RuleStats& r = rules[e.alert];
    const Duration duration = e.DurationUntil(until);
    if (e.fired_at >= from) ++r.fired;
    if (e.resolved_at) {
      ++r.resolved;
      r.resolved_total += duration;
    } else {
      ++r.open;
    }
    r.longest = std::max(r.longest, duration);
  }
  if (options.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const AlertEpisode& e : episodes) {
      nlohmann::json item = EpisodeJson(e, until);
      item["deliveries"] = DeliveriesJson(e);
      list.push_back(std::move(item));
    }
    nlohmann::json per_rule = nlohmann::json::array();
    for (const auto& [alert, r] : rules) {
      auto mttr = r.MeanTimeToResolve();
      per_rule.push_back({{"alert", alert},
                          {"fired", r.fired},
                          {"resolved", r.resolved},
                          {"still_firing", r.open},
                          {"mttr_s", mttr ? nlohmann::json(DurationSeconds(*mttr)) : nlohmann::json()},
                          {"longest_s", DurationSeconds(r.longest)}});
    }
    nlohmann::json doc{{"from", FormatRfc3339(from)},
                       {"to", FormatRfc3339(until)},
                       {"alerts", list},
                       {"rules", per_rule},
                       {"notifications",
                        {{"delivered", notifications.delivered},
                         {"failed", notifications.failed},
                         {"pending", notifications.pending}}}};
    *ctx.out << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    return;
  }
  std::ostream& out = *ctx.out;
  out << fmt::format("ALERT HISTORY {} to {} (last {}{})\n", FormatRfc3339Seconds(from), FormatRfc3339Seconds(until), options.since,
                     options.undelivered ? ", undelivered notifications only" : "");
  if (notifications.undelivered() > 0) {
    DeliveryCounts bad = notifications;
    bad.delivered = 0;
    out << fmt::format("NOT DELIVERED: {} notification{} ({}); see the \u2192 lines\n", bad.total(),
                       bad.total() == 1 ? "" : "s", bad.Text());
  }
  if (episodes.empty()) {
    out << (options.undelivered ? "no undelivered notification in the range\n" : "no alert fired in the range\n");
    return;
  }
  out << fmt::format("{:<20}  {:<20}  {:<9}  {:<8}  {:<20}  {:<24}  {}\n", "FIRED", "RESOLVED", "DURATION", "SEVERITY",
                     "ALERT", "LABELS", "SUMMARY");
  for (const AlertEpisode& e : episodes) {
    out << fmt::format("{:<20}  {:<20}  {:<9}  {:<8}  {:<20}  {:<24}  {}\n", FormatRfc3339Seconds(e.fired_at),
                       e.resolved_at ? FormatRfc3339Seconds(*e.resolved_at) : std::string("still firing"),
                       FormatDurationShort(e.DurationUntil(until)), analyzer::SeverityName(e.severity), e.alert,
                       LabelsText(e.labels), SummaryText(e.summary, e.inhibited_by));
    for (const std::string& line : DeliveryLines(e, ctx.config, !ctx.config_path.empty())) out << line << '\n';
  }
  out << "\nPER RULE\n";
  out << fmt::format("{:<20}  {:>5}  {:>8}  {:>12}  {:<9}  {}\n", "ALERT", "FIRED", "RESOLVED", "STILL FIRING", "MTTR",
                     "LONGEST");
  size_t open = 0;
  for (const auto& [alert, r] : rules) {
    auto mttr = r.MeanTimeToResolve();
    open += r.open;
    out << fmt::format("{:<20}  {:>5}  {:>8}  {:>12}  {:<9}  {}\n", alert, r.fired, r.resolved, r.open,
                       mttr ? FormatDurationShort(*mttr) : std::string("-"), FormatDurationShort(r.longest));
  }
  out << fmt::format("{} alert{}; {} still firing\n", episodes.size(), episodes.size() == 1 ? "" : "s", open);
  if (notifications.total() > 0) out << fmt::format("notifications: {}\n", notifications.Text());
}

void RunAlerts(CliContext& ctx, const AlertsOptions& options) {
  auto since = ParseDuration(options.since);
  if (!since) return ctx.Fail(since.error().WithContext("alerts: --since"));
  if (*since <= Duration(0)) return ctx.Fail(Status::InvalidArgument("alerts: --since must be longer than 0s"));
  auto until = ParseTimeArg(options.until, ctx.clock->Now());
  if (!until) return ctx.Fail(until.error().WithContext("alerts: --until"));
  auto store = store::OpenStoreForCommand(ctx, /*read_only=*/true);
  if (!store) return ctx.Fail(store.error());
  if (options.active) {
    analyzer::AlertTracker tracker(ctx.config.analyzer);
    if (Status status = analyzer::ReplayTransitions(**store, tracker, *until); !status.ok()) {
      return ctx.Fail(status.WithContext("alerts"));
    }
    return PrintActive(ctx, options, tracker, *until);
  }
  auto transitions = analyzer::ReadTransitions(**store, *until);
  if (!transitions) return ctx.Fail(transitions.error().WithContext("alerts"));
  auto deliveries = ReadDeliveries(**store, *until);
  if (!deliveries) return ctx.Fail(deliveries.error().WithContext("alerts"));
  PrintHistory(ctx, options, *transitions, std::move(*deliveries), *until - *since, *until);
}

}  // namespace

void AddAlertsCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("alerts", "Alert history with durations, per-rule counts and mean time to resolve");
  auto options = std::make_shared<AlertsOptions>();
  cmd->add_option("--since", options->since, "How far back, e.g. 24h, 7d (default 24h)");
  cmd->add_option("--until", options->until, "End of the range: RFC 3339, unix seconds or now-2h (default now)");
  cmd->add_flag("--active", options->active, "Only the alerts active (firing or pending) at the end of the range");
  cmd->add_flag("--undelivered", options->undelivered,
                "Only the alerts with a notification that failed or is still pending");
  cmd->add_flag("--json", options->json, "One JSON document instead of tables");
  cmd->callback([&ctx, options] { RunAlerts(ctx, *options); });
}

}  // namespace offmon::query
