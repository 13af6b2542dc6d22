// Matches a method's episodes against a scenario's labelled windows, per alert kind.
//
// Matching (docs/accuracy.md): an episode of kind K for subject S detects every window
// of K for S (an episode without a subject: any window of K in the scenario) whose
// [accept_from, accept_until] contains the episode's start. An episode that detects no
// window is a false alarm. A window no episode detects is a miss. Precision counts
// episodes (correct / all), recall windows (detected / all); delay is the first matching
// episode's start minus the window's start, lead time the leak's 4 GiB crossing minus
// that start.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "episode.h"
#include "scenario.h"

namespace offmon::accuracy {

struct KindTally {
  int windows = 0;
  int detected = 0;
  int episodes = 0;
  int false_alarms = 0;
  double series_days = 0;
  std::vector<double> delays_hours;
  std::vector<double> leads_hours;                      // leaks with a crossing
  std::vector<double> leads_10_100_hours;               // leaks of 10–100 MiB/h with a crossing
  std::map<double, std::vector<double>> leads_by_rate;  // MiB/h → leads of detected leaks with a crossing
  std::map<double, std::pair<int, int>> leaks_by_rate;  // MiB/h → (windows, detected)

  void Add(const KindTally& other);
  // nullopt when undefined (no episodes, no windows).
  std::optional<double> Precision() const;
  std::optional<double> Recall() const;
  // 2PR/(P+R) with a vacuous P = 1 when nothing fired and R = 1 when nothing was expected;
  // nullopt when neither episodes nor windows exist.
  std::optional<double> F1() const;
  std::optional<double> FalseAlarmsPerSeriesDay() const;
};

std::optional<double> Median(std::vector<double> values);

struct ScenarioScore {
  std::array<KindTally, kAllKinds.size()> kinds;
  std::vector<std::string> notes;  // one line per miss and per false alarm, for --details
};

ScenarioScore Score(const Scenario& scenario, const std::vector<Episode>& episodes);

size_t KindIndex(Kind kind);

}  // namespace offmon::accuracy
