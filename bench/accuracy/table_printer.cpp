#include "table_printer.h"

#include <fmt/format.h>

#include <cmath>

namespace offmon::accuracy {

namespace {

std::string Ratio(std::optional<double> v) { return v ? fmt::format("{:.3f}", *v) : "—"; }

std::string Hours(std::optional<double> h) {
  if (!h) return "—";
  if (std::abs(*h) < 1) return fmt::format("{:.0f} min", *h * 60);
  return fmt::format("{:.1f} h", *h);
}

std::string Rate(std::optional<double> v) { return v ? fmt::format("{:.4f}", *v) : "—"; }

// The families treated as normal operation for each kind's false-alarm target.
const std::vector<std::string> kMemoryNonLeak = {"memory/flat", "memory/sawtooth", "memory/step", "memory/level-off",
                                                 "memory/daily-cycle"};  // and daily-cycle-restarts
const std::vector<std::string> kParticipantNormal = {"participants/seasonal", "participants/offline-hours",
                                                     "participants/small-noisy", "participants/single-low"};

}  // namespace

void PrintTable(std::ostream& out, const RunInfo& info, const Results& results) {
  out << fmt::format("offmon accuracy suite, {} corpus ({} scenarios, seed {}), {} ({:.0f} s)\n", info.subset,
                     results.scenarios, info.seed, info.date, info.elapsed_seconds);
  out << fmt::format("machine: {}\ncommand: {}\n\n", info.machine, info.command);
  out << "| alert | method | windows | firings | precision | recall | F1 | false alarms / series-day | "
         "median delay | median lead before 4 GiB (10–100 MiB/h; all) |\n";
  out << "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (Kind kind : kAllKinds) {
    for (Method method : kAllMethods) {
      if (!MethodCovers(method, kind)) continue;
      const KindTally& t = results.Total(method, kind);
      std::string lead = "";
      if (kind == Kind::kMemoryLeak) {
        lead = fmt::format("{}; {}", Hours(Median(t.leads_10_100_hours)), Hours(Median(t.leads_hours)));
      }
      out << fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", KindName(kind), MethodName(method),
                         t.windows, t.episodes, Ratio(t.Precision()), Ratio(t.Recall()), Ratio(t.F1()),
                         Rate(t.FalseAlarmsPerSeriesDay()), Hours(Median(t.delays_hours)), lead);
    }
  }
}

void PrintFamilies(std::ostream& out, const Results& results) {
  out << "\n| family | scenarios | alert | method | windows | detected | firings | false alarms | "
         "false alarms / series-day | median delay |\n";
  out << "|---|---:|---|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& [family, methods] : results.by_family) {
    for (Kind kind : kAllKinds) {
      for (Method method : kAllMethods) {
        if (!MethodCovers(method, kind)) continue;
        auto it = methods.find(method);
        if (it == methods.end()) continue;
        const KindTally& t = it->second[KindIndex(kind)];
        if (t.windows == 0 && t.episodes == 0) continue;
        out << fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", family,
                           results.scenarios_by_family.at(family), KindName(kind), MethodName(method), t.windows,
                           t.detected, t.episodes, t.false_alarms, Rate(t.FalseAlarmsPerSeriesDay()),
                           Hours(Median(t.delays_hours)));
      }
    }
  }
}

void PrintLeakRates(std::ostream& out, const Results& results) {
  out << "\n| leak MiB/h |";
  for (Method method : kAllMethods) out << fmt::format(" {}: found, median lead |", MethodName(method));
  out << "\n|---:|---:|---:|---:|\n";
  const KindTally& ours = results.Total(Method::kOffmon, Kind::kMemoryLeak);
  for (const auto& [rate, counts] : ours.leaks_by_rate) {
    out << fmt::format("| {} |", rate);
    for (Method method : kAllMethods) {
      const KindTally& t = results.Total(method, Kind::kMemoryLeak);
      auto found = t.leaks_by_rate.find(rate);
      auto leads = t.leads_by_rate.find(rate);
      out << fmt::format(" {} of {}, {} |", found == t.leaks_by_rate.end() ? 0 : found->second.second, counts.first,
                         leads == t.leads_by_rate.end() ? "—" : Hours(Median(leads->second)));
    }
    out << '\n';
  }
}

int PrintTargets(std::ostream& out, const Results& results) {
  int missed = 0;
  auto line = [&](bool met, const std::string& text) {
    if (!met) ++missed;
    out << fmt::format("- [{}] {}\n", met ? "met" : "MISSED", text);
  };
  out << "\nTargets (issue 6):\n";
  const KindTally& leak = results.Total(Method::kOffmon, Kind::kMemoryLeak);
  line(leak.F1().value_or(0) >= 0.95, fmt::format("MemoryLeak F1 >= 0.95: {}", Ratio(leak.F1())));
  auto lead = Median(leak.leads_10_100_hours);
  line(lead && *lead >= 12, fmt::format("MemoryLeak median warning >= 12 h before the 4 GiB crossing, 10–100 MiB/h "
                                        "leaks: {} ({} leaks with a crossing found)",
                                        Hours(lead), leak.leads_10_100_hours.size()));
  const KindTally non_leak = results.Over(Method::kOffmon, Kind::kMemoryLeak, kMemoryNonLeak);
  std::string where;
  for (const auto& [name, methods] : results.by_family) {
    bool non_leak_family = false;
    for (const std::string& family : kMemoryNonLeak) non_leak_family = non_leak_family || name.starts_with(family);
    auto it = methods.find(Method::kOffmon);
    if (!non_leak_family || it == methods.end()) continue;
    const int firings = it->second[KindIndex(Kind::kMemoryLeak)].episodes;
    if (firings > 0) where += fmt::format("{}{}: {}", where.empty() ? "; " : ", ", name, firings);
  }
  line(non_leak.episodes == 0, fmt::format("MemoryLeak zero firings on the non-leak families: {} firings in {:.0f} "
                                           "series-days{}",
                                           non_leak.episodes, non_leak.series_days, where));
  const KindTally& drop = results.Total(Method::kOffmon, Kind::kParticipantDrop);
  line(drop.F1().value_or(0) >= 0.95, fmt::format("ParticipantDrop F1 >= 0.95: {}", Ratio(drop.F1())));
  const KindTally normal = results.Over(Method::kOffmon, Kind::kParticipantDrop, kParticipantNormal);
  const double per_month = normal.series_days > 0 ? normal.false_alarms / normal.series_days * 30 : 0;
  line(per_month <= 1, fmt::format("ParticipantDrop <= 1 false alarm per channel-month on the normal families: {:.2f} "
                                   "({} in {:.1f} channel-months)",
                                   per_month, normal.false_alarms, normal.series_days / 30));
  const KindTally spikes = results.Over(Method::kOffmon, Kind::kCpuHigh, {"cpu/spikes"});
  line(spikes.episodes == 0, fmt::format("CpuHigh no false alarm on spikes: {} firings", spikes.episodes));
  const KindTally sustained = results.Over(Method::kOffmon, Kind::kCpuHigh, {"cpu/sustained"});
  line(sustained.windows > 0 && sustained.detected == sustained.windows,
       fmt::format("CpuHigh every sustained case caught: {} of {} (sampled every 15–30 min: {} of {})",
                   sustained.detected, sustained.windows,
                   results.Over(Method::kOffmon, Kind::kCpuHigh, {"cpu/sustained-coarse"}).detected,
                   results.Over(Method::kOffmon, Kind::kCpuHigh, {"cpu/sustained-coarse"}).windows));
  const KindTally resets =
      results.Over(Method::kOffmon, Kind::kRestartLoop, {"restart/counter-reset", "restart/occasional"});
  line(
      resets.episodes == 0,
      fmt::format("RestartLoop no false alarm on counter resets and occasional restarts: {} firings", resets.episodes));
  const KindTally loops = results.Over(Method::kOffmon, Kind::kRestartLoop, {"restart/crash-loop"});
  line(loops.windows > 0 && loops.detected == loops.windows,
       fmt::format("RestartLoop every crash loop caught: {} of {}", loops.detected, loops.windows));
  for (Kind kind : kAllKinds) {
    if (!results.Total(Method::kOffmon, kind).F1()) continue;  // nothing of this kind in the corpus
    const double ours = results.Total(Method::kOffmon, kind).F1().value_or(0);
    std::string worse;
    for (Method method : kAllMethods) {
      if (method == Method::kOffmon || !MethodCovers(method, kind)) continue;
      const double theirs = results.Total(method, kind).F1().value_or(0);
      if (theirs > ours) worse += fmt::format(" {} {:.3f}", MethodName(method), theirs);
    }
    line(worse.empty(), fmt::format("{}: offmon F1 {:.3f} >= every peer's{}", KindName(kind), ours,
                                    worse.empty() ? "" : " (beaten by" + worse + ")"));
  }
  return missed;
}

}  // namespace offmon::accuracy
