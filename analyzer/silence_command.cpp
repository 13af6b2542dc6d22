#include "offmon/analyzer/silence_command.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <ostream>
#include <random>

#include "offmon/analyzer/alert_tracker.h"
#include "offmon/analyzer/silence.h"
#include "offmon/store/selector.h"
#include "offmon/store/store.h"

namespace offmon::analyzer {

namespace {

constexpr std::string_view kSource = "cli";

struct SilenceAddOptions {
  std::string alert;
  std::vector<std::string> labels;
  std::string duration;
  std::string reason;
  std::string by;
};

struct SilenceListOptions {
  bool all = false;
  bool json = false;
};

struct SilenceExpireOptions {
  std::string id;
  std::string by;
};

struct AckOptions {
  std::string selector;
  std::string duration;
  std::string reason;
  std::string by;
};

// --by, else $USER, else "unknown".
std::string Who(const std::string& by) {
  if (!by.empty()) return by;
  const char* user = std::getenv("USER");
  return user != nullptr && *user != '\0' ? std::string(user) : std::string("unknown");
}

// A positive duration for --for.
Result<Duration> ForDuration(std::string_view command, const std::string& text) {
  if (text.empty()) return Status::InvalidArgument(fmt::format("{}: --for is required (e.g. --for 2h)", command));
  auto d = ParseDuration(text);
  if (!d) return d.error().WithContext(fmt::format("{}: --for", command));
  if (*d <= Duration(0)) return Status::InvalidArgument(fmt::format("{}: --for must be positive", command));
  return *d;
}

Status RequireReason(std::string_view command, const std::string& reason) {
  if (reason.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Status::InvalidArgument(fmt::format("{}: --reason is required: say why, for whoever reads it later", command));
  }
  return Status::Ok();
}

// Silences and acks go into the store the daemon reads: a writer that never creates
// one, since a silence in a store nobody reads silences nothing (a mistyped --store).
Result<std::unique_ptr<store::Store>> OpenForWrite(const CliContext& ctx) {
  store::StoreOptions options;
  options.path = ctx.store_path;
  options.create_if_missing = false;
  options.retention.raw = ctx.config.store.retention_raw;
  options.retention.rollup_5m = ctx.config.store.retention_5m;
  options.retention.rollup_1h = ctx.config.store.retention_1h;
  return store::Store::Open(options);
}

Result<std::unique_ptr<store::Store>> OpenForRead(const CliContext& ctx) {
  store::StoreOptions options;
  options.path = ctx.store_path;
  options.read_only = true;
  return store::Store::Open(options);
}

std::string NewSilenceId(const Suppressions& existing) {
  std::random_device random;
  while (true) {
    const uint64_t bits = (static_cast<uint64_t>(random()) << 32) ^ random();
    std::string id = fmt::format("{:012x}", bits & 0xffffffffffffULL);
    if (existing.FindSilence(id) == nullptr) return id;
  }
}

std::string_view SilenceState(const Silence& s, TimePoint now) {
  if (s.ActiveAt(now)) return "active";
  return now < s.starts ? "pending" : "expired";
}

void RunSilenceAdd(CliContext& ctx, const SilenceAddOptions& options) {
  Silence silence;
  if (!options.alert.empty()) silence.matchers.push_back({std::string(kAlertNameLabel), options.alert});
  for (const std::string& text : options.labels) {
    auto matcher = ParseMatcher(text);
    if (!matcher) return ctx.Fail(matcher.error().WithContext("silence add: --label"));
    silence.matchers.push_back(std::move(*matcher));
  }
  if (silence.matchers.empty()) {
    return ctx.Fail(Status::InvalidArgument("silence add: give --alert NAME and/or --label name=value (at least one)"));
  }
  auto duration = ForDuration("silence add", options.duration);
  if (!duration) return ctx.Fail(duration.error());
  if (Status status = RequireReason("silence add", options.reason); !status.ok()) return ctx.Fail(status);
  auto store = OpenForWrite(ctx);
  if (!store) return ctx.Fail(store.error());
  auto known = ReadSuppressions(**store);
  if (!known) return ctx.Fail(known.error().WithContext("silence add"));
  const TimePoint now = ctx.clock->Now();
  silence.id = NewSilenceId(*known);
  silence.starts = now;
  silence.ends = now + *duration;
  silence.reason = options.reason;
  silence.by = Who(options.by);
  auto seq = (*store)->AppendEvent(EventKind::kSilenceAdded, kSource, EncodeSilence(silence), now);
  if (!seq) return ctx.Fail(seq.error().WithContext("silence add"));
  *ctx.out << fmt::format("silence {} until {}: {}\n", silence.id, FormatRfc3339(silence.ends),
                          MatchersText(silence.matchers));
}

void RunSilenceList(CliContext& ctx, const SilenceListOptions& options) {
  auto store = OpenForRead(ctx);
  if (!store) return ctx.Fail(store.error());
  auto suppressions = ReadSuppressions(**store);
  if (!suppressions) return ctx.Fail(suppressions.error().WithContext("silence list"));
  const TimePoint now = ctx.clock->Now();
  std::vector<const Silence*> shown;
  for (const Silence& s : suppressions->silences()) {
    if (options.all || now < s.end()) shown.push_back(&s);
  }
  if (options.json) {
    nlohmann::json doc = nlohmann::json::array();
    for (const Silence* s : shown) {
      nlohmann::json matchers = nlohmann::json::array();
      for (const Matcher& m : s->matchers) matchers.push_back({{"name", m.name}, {"value", m.value}});
      nlohmann::json row{{"id", s->id},
                         {"state", SilenceState(*s, now)},
                         {"matchers", matchers},
                         {"starts", FormatRfc3339(s->starts)},
                         {"ends", FormatRfc3339(s->end())},
                         {"reason", s->reason},
                         {"by", s->by}};
      if (s->expired_at) row["expired_by"] = s->expired_by;
      doc.push_back(std::move(row));
    }
    *ctx.out << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    return;
  }
  if (shown.empty()) {
    *ctx.out << (options.all ? "no silences\n" : "no active silences (--all lists expired ones)\n");
    return;
  }
  *ctx.out << fmt::format("{:<13} {:<8} {:<25} {:<10} {}\n", "ID", "STATE", "UNTIL", "BY", "MATCHERS");
  for (const Silence* s : shown) {
    *ctx.out << fmt::format("{:<13} {:<8} {:<25} {:<10} {}\n{:<13} reason: {}\n", s->id, SilenceState(*s, now),
                            FormatRfc3339(s->end()), s->by, MatchersText(s->matchers), "", s->reason);
    if (s->expired_at) *ctx.out << fmt::format("{:<13} expired by {}\n", "", s->expired_by);
  }
}

void RunSilenceExpire(CliContext& ctx, const SilenceExpireOptions& options) {
  auto store = OpenForWrite(ctx);
  if (!store) return ctx.Fail(store.error());
  auto suppressions = ReadSuppressions(**store);
  if (!suppressions) return ctx.Fail(suppressions.error().WithContext("silence expire"));
  const Silence* silence = suppressions->FindSilence(options.id);
  if (silence == nullptr) {
    return ctx.Fail(Status::NotFound(fmt::format("silence expire: no silence {} (offmon silence list --all)", options.id)));
  }
  const TimePoint now = ctx.clock->Now();
  if (silence->end() <= now) {
    *ctx.out << fmt::format("silence {} already ended at {}\n", silence->id, FormatRfc3339(silence->end()));
    return;
  }
  auto seq = (*store)->AppendEvent(EventKind::kSilenceExpired, kSource,
                                   EncodeSilenceExpired(silence->id, Who(options.by)), now);
  if (!seq) return ctx.Fail(seq.error().WithContext("silence expire"));
  *ctx.out << fmt::format("silence {} expired: {}\n", silence->id, MatchersText(silence->matchers));
}

// The active alerts: the recorded transitions replayed, as the daemon restores them.
Result<std::map<std::string, ActiveAlert>> ActiveAlerts(store::Store& store, const Config& config) {
  AlertTracker tracker(config.analyzer);
  OFFMON_RETURN_IF_ERROR(ReplayTransitions(store, tracker));
  return tracker.active();
}

void RunAck(CliContext& ctx, const AckOptions& options) {
  auto selector = store::Selector::Parse(options.selector);
  if (!selector) {
    return ctx.Fail(selector.error().WithContext(fmt::format("ack: \"{}\" (an alert name or selector)", options.selector)));
  }
  auto duration = ForDuration("ack", options.duration);
  if (!duration) return ctx.Fail(duration.error());
  if (Status status = RequireReason("ack", options.reason); !status.ok()) return ctx.Fail(status);
  auto store = OpenForWrite(ctx);
  if (!store) return ctx.Fail(store.error());
  auto active = ActiveAlerts(**store, ctx.config);
  if (!active) return ctx.Fail(active.error().WithContext("ack"));
  const TimePoint now = ctx.clock->Now();
  std::vector<Acknowledgement> acks;
  for (const auto& [fingerprint, a] : *active) {
    if (!selector->Matches(SeriesKey(a.alert, a.labels))) continue;
    Acknowledgement ack;
    ack.key = fingerprint;
    ack.alert = a.alert;
    ack.labels = a.labels;
    ack.severity = a.severity;
    ack.active_since = a.active_since;
    ack.at = now;
    ack.until = now + *duration;
    ack.reason = options.reason;
    ack.by = Who(options.by);
    acks.push_back(std::move(ack));
  }
  if (acks.empty()) {
    return ctx.Fail(Status::NotFound(fmt::format("ack: no active alert matches {} (offmon report lists them)",
                                                 options.selector)));
  }
  for (const Acknowledgement& ack : acks) {
    auto seq = (*store)->AppendEvent(EventKind::kAlertAcknowledged, kSource, EncodeAcknowledgement(ack), now);
    if (!seq) return ctx.Fail(seq.error().WithContext("ack"));
    *ctx.out << fmt::format("acknowledged {} ({}) until {}\n", ack.key, SeverityName(ack.severity),
                            FormatRfc3339(ack.until));
  }
}

}  // namespace

void AddSilenceCommands(CLI::App& app, CliContext& ctx) {
  auto* silence = app.add_subcommand("silence", "Mute notifications of matching alerts for a while");
  silence->require_subcommand(1);

  auto* add = silence->add_subcommand("add", "Silence the alerts that match, from now for --for");
  auto add_options = std::make_shared<SilenceAddOptions>();
  add->add_option("--alert", add_options->alert, "Alert name (the matcher alertname=NAME)");
  add->add_option("--label", add_options->labels, "Label matcher name=value (exact); repeatable");
  add->add_option("--for", add_options->duration, "How long, e.g. 30m, 2h, 1d (required)");
  add->add_option("--reason", add_options->reason, "Why (required)");
  add->add_option("--by", add_options->by, "Who (default $USER)");
  add->callback([&ctx, add_options] { RunSilenceAdd(ctx, *add_options); });

  auto* list = silence->add_subcommand("list", "List active silences");
  auto list_options = std::make_shared<SilenceListOptions>();
  list->add_flag("--all", list_options->all, "Include expired silences");
  list->add_flag("--json", list_options->json, "Print one JSON array");
  list->callback([&ctx, list_options] { RunSilenceList(ctx, *list_options); });

  auto* expire = silence->add_subcommand("expire", "End a silence now");
  auto expire_options = std::make_shared<SilenceExpireOptions>();
  expire->add_option("id", expire_options->id, "The silence's id (offmon silence list)")->required();
  expire->add_option("--by", expire_options->by, "Who (default $USER)");
  expire->callback([&ctx, expire_options] { RunSilenceExpire(ctx, *expire_options); });

  auto* ack = app.add_subcommand(
      "ack", "Acknowledge active alerts: no repeats or escalation until --for passes or the severity changes");
  auto ack_options = std::make_shared<AckOptions>();
  ack->add_option("alert", ack_options->selector, "An alert name or selector, e.g. 'ProcessOffline{process=\"w1\"}'")
      ->required();
  ack->add_option("--for", ack_options->duration, "How long, e.g. 2h (required)");
  ack->add_option("--reason", ack_options->reason, "Why (required)");
  ack->add_option("--by", ack_options->by, "Who (default $USER)");
  ack->callback([&ctx, ack_options] { RunAck(ctx, *ack_options); });
}

}  // namespace offmon::analyzer
