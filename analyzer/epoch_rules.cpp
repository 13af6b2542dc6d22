// The guide's "Epoch Sealing Cadence" and "Data Anomalies" rules, and the pipeline's own
// invariants: hourly epochs per live channel, immutable once sealed, counts that match
// what was collected.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "offmon/analyzer/participant_baseline.h"
#include "offmon/analyzer/participant_insights.h"
#include "offmon/common/format.h"
#include "offmon/common/metric_names.h"
#include "rules_impl.h"

namespace offmon::analyzer {

namespace {

using std::chrono::hours;
using std::chrono::minutes;

std::string Channel(const store::SeriesInfo& info) { return std::string(info.key.Label("channel")); }

int64_t HourOf(TimePoint t) { return ToMillis(t) / 3'600'000; }

std::string FormatTime(TimePoint t) { return FormatRfc3339(std::chrono::floor<std::chrono::seconds>(t)); }

}  // namespace

Status EpochSealingStaleRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  const Duration lookback = Duration(static_cast<int64_t>(*rule.critical * 1000)) + hours(2);
  // The newest sealed epoch: the database's own answer when current, else the newest
  // epoch sample (imported history has only those).
  std::optional<Duration> age;
  auto db_age = Windows(ctx, metric::kDbLatestEpochAgeSeconds, hours(1));
  if (!db_age) return db_age.error();
  for (const SeriesWindow& w : *db_age) {
    if (auto latest = LatestFresh(w.samples, ctx.now, ctx.config.postgres.interval)) {
      age = Duration(static_cast<int64_t>(latest->value * 1000)) + (ctx.now - latest->time);
    }
  }
  if (!age) {
    auto epochs = Windows(ctx, metric::kEpochParticipants, lookback);
    if (!epochs) return epochs.error();
    std::optional<TimePoint> newest;
    bool any = false;
    for (const SeriesWindow& w : *epochs) {
      any = true;
      newest = std::max(newest.value_or(w.samples.back().time), w.samples.back().time);
    }
    if (!any) return Status::Ok();  // nothing ever sealed in reach: nothing to go stale
    age = ctx.now - *newest;
  }
  // No participation events at all means nothing to seal (channels offline, or the
  // aggregator down, which EventRateLow reports): not a sealing stall.
  auto events = Windows(ctx, metric::kDbEventsLastHour, hours(1));
  if (!events) return events.error();
  for (const SeriesWindow& w : *events) {
    auto latest = LatestFresh(w.samples, ctx.now, ctx.config.postgres.interval);
    if (latest && latest->value < 1) return Status::Ok();
  }
  const double seconds = static_cast<double>(age->count()) / 1000;
  for (auto [level, severity] : {std::pair{rule.critical, Severity::kCritical}, {rule.warning, Severity::kWarning}}) {
    if (!level || seconds <= *level) continue;
    out.push_back(Finding{
        "EpochSealingStale",
        severity,
        {},
        std::string(metric::kDbLatestEpochAgeSeconds),
        fmt::format("latest sealed epoch is {} old ({} above {})", FormatDurationShort(*age), SeverityName(severity),
                    FormatDurationShort(Duration(static_cast<int64_t>(*level * 1000))))});
    break;
  }
  return Status::Ok();
}

Status ZeroParticipantsRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  const Duration hold = rule.ParamDuration("hold"), recent = rule.ParamDuration("recent");
  auto epochs = Windows(ctx, metric::kEpochParticipants, std::max(hold, recent));
  if (!epochs) return epochs.error();
  size_t recent_epochs = 0, recent_zero = 0;
  for (const SeriesWindow& w : *epochs) {
    const Sample& latest = w.samples.back();
    if (latest.value == 0 && ctx.now - latest.time <= hold) {
      out.push_back(MakeFinding("ZeroParticipants", Severity::kWarning, *w.info,
                                fmt::format("{}: epoch sealed at {} has zero participants (sealing broken?)",
                                            Channel(*w.info), FormatTime(latest.time))));
    }
    for (const Sample& s : w.samples) {
      if (ctx.now - s.time > recent) continue;
      ++recent_epochs;
      recent_zero += s.value == 0 ? 1 : 0;
    }
  }
  if (recent_epochs >= 2 && recent_zero == recent_epochs) {
    out.push_back(Finding{"ZeroParticipants",
                          Severity::kCritical,
                          {},
                          std::string(metric::kEpochParticipants),
                          fmt::format("all {} epochs sealed in the last {} have zero participants", recent_epochs,
                                      FormatDurationShort(recent))});
  }
  return Status::Ok();
}

Status EpochUnpublishedRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  const Duration grace = rule.ParamDuration("grace");
  auto published = Windows(ctx, metric::kEpochPublished, rule.ParamDuration("lookback"));
  if (!published) return published.error();
  for (const SeriesWindow& w : *published) {
    size_t unpublished = 0;
    std::optional<TimePoint> oldest;
    for (const Sample& s : w.samples) {
      if (s.value >= 1 || ctx.now - s.time < grace) continue;
      ++unpublished;
      if (!oldest) oldest = s.time;
    }
    if (unpublished == 0) continue;
    out.push_back(MakeFinding(
        "EpochUnpublished", Severity::kWarning, *w.info,
        fmt::format("{}: {} sealed epoch{} not published after {} (oldest sealed at {})", Channel(*w.info), unpublished,
                    unpublished == 1 ? "" : "s", FormatDurationShort(grace), FormatTime(*oldest))));
  }
  return Status::Ok();
}

Status ParticipantDropRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  DropOptions options;
  options.drop_ratio = rule.Param("drop_ratio");
  options.consecutive = static_cast<int>(rule.Param("consecutive"));
  options.min_sigmas = rule.Param("min_sigmas");
  options.resolve_ratio = rule.Param("resolve_ratio");
  options.baseline.window = rule.ParamDuration("baseline_window");
  auto epochs = Windows(ctx, metric::kEpochParticipants, options.baseline.window + hours(48));
  if (!epochs) return epochs.error();
  // The open epochs' participation so far, where the collector writes it: enough hours
  // back to learn how much of an hour's count is seen by each minute.
  auto live = Windows(ctx, "channel_participation_current", hours(static_cast<int64_t>(options.live_learn_epochs) + 2));
  if (!live) return live.error();
  for (const SeriesWindow& w : *epochs) {
    const bool firing = ctx.is_firing("ParticipantDrop", w.info->key.labels);
    std::span<const Sample> open_epoch;
    for (const SeriesWindow& l : *live) {
      if (l.info->key.labels == w.info->key.labels) open_epoch = l.samples;
    }
    auto drop = DetectParticipantDrop(w.samples, ctx.now, firing, options, open_epoch);
    if (!drop) continue;
    // Who is missing, from the sealed participant sets (when offmon collected them).
    std::optional<ParticipantInsights> insights;
    if (!firing) {
      // Up to the judged epoch: a later (zero) epoch must not stand in for it.
      auto records = ctx.store_epochs(Channel(*w.info), ctx.now - std::chrono::days(7), drop->latest);
      // Only epochs whose set was read (backfilled history may have counts only), and
      // only when the judged epoch is one of them.
      if (records) std::erase_if(*records, [](const store::EpochRecord& e) { return !e.has_participant_set(); });
      if (records && !records->empty() && records->back().sealed_at == drop->latest) {
        if (auto found = InsightsFor(*records)) insights = *found;
      }
    }
    out.push_back(
        MakeFinding("ParticipantDrop", Severity::kWarning, *w.info, DropSummary(Channel(*w.info), *drop, insights)));
  }
  return Status::Ok();
}

Status ParticipantVarianceRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  BaselineOptions options;
  options.window = ctx.config.analyzer.rules.at("ParticipantDrop").ParamDuration("baseline_window");
  const double drop_ratio = ctx.config.analyzer.rules.at("ParticipantDrop").Param("drop_ratio");
  const double variance = rule.Param("variance");
  const Duration offline_after = rule.ParamDuration("offline_after");
  auto epochs = Windows(ctx, metric::kEpochParticipants, options.window + offline_after);
  if (!epochs) return epochs.error();
  for (const SeriesWindow& w : *epochs) {
    const Sample& latest = w.samples.back();
    if (ctx.now - latest.time > offline_after || !(latest.value > 0)) continue;
    // The latest epoch against the baseline of the epochs before it.
    auto baseline = ChannelBaseline(w.samples, latest.time, options);
    if (!baseline || !(baseline->median > 0)) continue;
    const double change = latest.value / baseline->median - 1;
    // Beyond the guide's normal "variance <20%", short of a ParticipantDrop.
    if (std::abs(change) < variance || change < -drop_ratio) continue;
    out.push_back(MakeFinding("ParticipantVariance", Severity::kInfo, *w.info,
                              fmt::format("{}: {} participants vs {} ({:+d}%)", Channel(*w.info),
                                          GroupThousands(latest.value), FormatBaseline(*baseline),
                                          std::lround(change * 100))));
  }
  return Status::Ok();
}

Status EpochMissingRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  const Duration hold = rule.ParamDuration("hold");
  const int64_t max_missing = static_cast<int64_t>(rule.Param("max_missing"));
  auto epochs = Windows(ctx, metric::kEpochParticipants, hold + hours(max_missing + 2));
  if (!epochs) return epochs.error();
  // Hours in which each channel sealed, to tell "the pipeline skipped this channel"
  // from "nothing was sealed anywhere" (EpochSealingStale's business).
  std::map<std::string, std::set<int64_t>> sealed_hours;
  for (const SeriesWindow& w : *epochs) {
    for (const Sample& s : w.samples) sealed_hours[Channel(*w.info)].insert(HourOf(s.time));
  }
  for (const SeriesWindow& w : *epochs) {
    const std::string channel = Channel(*w.info);
    for (size_t i = 1; i < w.samples.size(); ++i) {
      if (ctx.now - w.samples[i].time > hold) continue;
      const int64_t before = HourOf(w.samples[i - 1].time), after = HourOf(w.samples[i].time);
      const int64_t missing = after - before - 1;
      if (missing < 1 || missing > max_missing) continue;  // consecutive, or offline for a while
      for (int64_t hour = before + 1; hour < after; ++hour) {
        bool others_sealed = sealed_hours.size() == 1;
        for (const auto& [other, hours_sealed] : sealed_hours) {
          others_sealed = others_sealed || (other != channel && hours_sealed.contains(hour));
        }
        if (!others_sealed) continue;
        Labels labels = w.info->key.labels;
        // The epoch key is the hour's start; it is sealed within the next hour.
        const int64_t epoch = (hour - 1) * 3600;
        labels.push_back({"epoch", std::to_string(epoch)});
        Finding finding{"EpochMissing", Severity::kWarning, SeriesKey("x", std::move(labels)).labels,
                        w.info->key.ToString(),
                        fmt::format("{}: no epoch sealed in the hour from {} although the channel sealed before and "
                                    "after it and other channels sealed then",
                                    channel, FormatTime(FromMillis(hour * 3'600'000)))};
        out.push_back(std::move(finding));
      }
    }
  }
  return Status::Ok();
}

Status EpochDataLossRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  const Duration hold = rule.ParamDuration("hold");
  for (const EventLedger::DataLoss& loss : ctx.ledger.data_loss()) {
    if (ctx.now - loss.at > hold || loss.at > ctx.now) continue;
    out.push_back(Finding{
        "EpochDataLoss", Severity::kCritical,
        SeriesKey("x", {{"channel", loss.channel}, {"epoch", std::to_string(loss.epoch)}}).labels,
        SeriesKey(metric::kEpochParticipants, {{"channel", loss.channel}}).ToString(),
        fmt::format("{} epoch {}: {} (data loss or corruption: escalate now)", loss.channel, loss.epoch, loss.what)});
  }
  return Status::Ok();
}

Status EpochCountMismatchRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  const Duration hold = rule.ParamDuration("hold");
  auto collected = Windows(ctx, metric::kEpochParticipationUsers, hold);
  if (!collected) return collected.error();
  auto sealed = Windows(ctx, metric::kEpochParticipants, hold);
  if (!sealed) return sealed.error();
  for (const SeriesWindow& c : *collected) {
    for (const SeriesWindow& s : *sealed) {
      if (s.info->key.labels != c.info->key.labels) continue;
      for (auto users = c.samples.rbegin(); users != c.samples.rend(); ++users) {
        auto it = std::lower_bound(s.samples.begin(), s.samples.end(), users->time,
                                   [](const Sample& x, TimePoint t) { return x.time < t; });
        if (it == s.samples.end() || it->time != users->time || it->value == users->value) continue;
        out.push_back(MakeFinding(
            "EpochCountMismatch", Severity::kWarning, *c.info,
            fmt::format("{}: epoch sealed at {} has {:.0f} participants but {:.0f} distinct users were recorded "
                        "before it was sealed",
                        Channel(*c.info), FormatTime(users->time), it->value, users->value)));
        break;  // one finding per channel; the newest mismatch is in the text
      }
    }
  }
  return Status::Ok();
}

}  // namespace offmon::analyzer
