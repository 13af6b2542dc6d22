#include "scorer.h"

#include <fmt/format.h>

#include <algorithm>

namespace offmon::accuracy {

namespace {

double HoursBetween(TimePoint from, TimePoint to) {
  return std::chrono::duration<double, std::ratio<3600>>(to - from).count();
}

std::string At(const Scenario& scenario, TimePoint t) {
  return fmt::format("+{:.1f}h", HoursBetween(scenario.from, t));
}

}  // namespace

size_t KindIndex(Kind kind) { return static_cast<size_t>(kind); }

void KindTally::Add(const KindTally& other) {
  windows += other.windows;
  detected += other.detected;
  episodes += other.episodes;
  false_alarms += other.false_alarms;
  series_days += other.series_days;
  delays_hours.insert(delays_hours.end(), other.delays_hours.begin(), other.delays_hours.end());
  leads_hours.insert(leads_hours.end(), other.leads_hours.begin(), other.leads_hours.end());
  leads_10_100_hours.insert(leads_10_100_hours.end(), other.leads_10_100_hours.begin(), other.leads_10_100_hours.end());
  for (const auto& [rate, leads] : other.leads_by_rate) {
    leads_by_rate[rate].insert(leads_by_rate[rate].end(), leads.begin(), leads.end());
  }
  for (const auto& [rate, counts] : other.leaks_by_rate) {
    leaks_by_rate[rate].first += counts.first;
    leaks_by_rate[rate].second += counts.second;
  }
}

std::optional<double> KindTally::Precision() const {
  if (episodes == 0) return std::nullopt;
  return static_cast<double>(episodes - false_alarms) / episodes;
}

std::optional<double> KindTally::Recall() const {
  if (windows == 0) return std::nullopt;
  return static_cast<double>(detected) / windows;
}

std::optional<double> KindTally::F1() const {
  if (episodes == 0 && windows == 0) return std::nullopt;
  const double p = Precision().value_or(1.0), r = Recall().value_or(1.0);
  return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

std::optional<double> KindTally::FalseAlarmsPerSeriesDay() const {
  if (series_days <= 0) return std::nullopt;
  return false_alarms / series_days;
}

std::optional<double> Median(std::vector<double> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

ScenarioScore Score(const Scenario& scenario, const std::vector<Episode>& episodes) {
  ScenarioScore score;
  for (Kind kind : kAllKinds) score.kinds[KindIndex(kind)].series_days = SeriesDays(scenario, kind);
  std::vector<std::optional<TimePoint>> first_match(scenario.windows.size());
  for (const Episode& e : episodes) {
    KindTally& tally = score.kinds[KindIndex(e.kind)];
    ++tally.episodes;
    bool matched = false;
    for (size_t i = 0; i < scenario.windows.size(); ++i) {
      const Window& w = scenario.windows[i];
      if (w.kind != e.kind || (!e.subject.empty() && w.subject != e.subject)) continue;
      if (e.start < w.accept_from || e.start > w.accept_until) continue;
      matched = true;
      if (!first_match[i] || e.start < *first_match[i]) first_match[i] = e.start;
    }
    if (!matched) {
      ++tally.false_alarms;
      score.notes.push_back(fmt::format("false alarm {} {} at {}", KindName(e.kind), e.subject, At(scenario, e.start)));
    }
  }
  for (size_t i = 0; i < scenario.windows.size(); ++i) {
    const Window& w = scenario.windows[i];
    KindTally& tally = score.kinds[KindIndex(w.kind)];
    ++tally.windows;
    if (w.leak_mib_per_hour > 0) {
      ++tally.leaks_by_rate[w.leak_mib_per_hour].first;
      if (first_match[i]) ++tally.leaks_by_rate[w.leak_mib_per_hour].second;
    }
    if (!first_match[i]) {
      score.notes.push_back(fmt::format("miss {} {} window {}..{}", KindName(w.kind), w.subject, At(scenario, w.start),
                                        At(scenario, w.accept_until)));
      continue;
    }
    ++tally.detected;
    tally.delays_hours.push_back(HoursBetween(w.start, *first_match[i]));
    if (w.crossing) {
      const double lead = HoursBetween(*first_match[i], *w.crossing);
      tally.leads_hours.push_back(lead);
      tally.leads_by_rate[w.leak_mib_per_hour].push_back(lead);
      if (w.leak_mib_per_hour >= 10 && w.leak_mib_per_hour <= 100) tally.leads_10_100_hours.push_back(lead);
    }
  }
  return score;
}

}  // namespace offmon::accuracy
