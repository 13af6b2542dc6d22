// The suite's tallies: per method and kind over the whole corpus, and per family.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "peers.h"
#include "scorer.h"

namespace offmon::accuracy {

using KindTallies = std::array<KindTally, kAllKinds.size()>;

struct Results {
  std::map<Method, KindTallies> totals;
  std::map<std::string, std::map<Method, KindTallies>> by_family;
  std::map<std::string, int> scenarios_by_family;
  std::vector<std::string> offmon_notes;  // offmon's misses and false alarms, "scenario: note"
  int scenarios = 0;

  void Add(const Scenario& scenario, Method method, const ScenarioScore& score);
  const KindTally& Total(Method method, Kind kind) const;
  // The tally of `method` and `kind` over the families whose name starts with one of `prefixes`.
  KindTally Over(Method method, Kind kind, const std::vector<std::string>& prefixes) const;
};

}  // namespace offmon::accuracy
