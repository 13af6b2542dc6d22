#include "results.h"

namespace offmon::accuracy {

void Results::Add(const Scenario& scenario, Method method, const ScenarioScore& score) {
  KindTallies& total = totals[method];
  KindTallies& family = by_family[scenario.family][method];
  for (size_t k = 0; k < score.kinds.size(); ++k) {
    total[k].Add(score.kinds[k]);
    family[k].Add(score.kinds[k]);
  }
  if (method == Method::kOffmon) {
    ++scenarios;
    ++scenarios_by_family[scenario.family];
    for (const std::string& note : score.notes) offmon_notes.push_back(scenario.name + ": " + note);
  }
}

const KindTally& Results::Total(Method method, Kind kind) const {
  static const KindTally kEmpty;
  auto it = totals.find(method);
  return it == totals.end() ? kEmpty : it->second[KindIndex(kind)];
}

KindTally Results::Over(Method method, Kind kind, const std::vector<std::string>& prefixes) const {
  KindTally out;
  for (const auto& [family, methods] : by_family) {
    bool wanted = false;
    for (const std::string& p : prefixes) wanted = wanted || family.starts_with(p);
    auto it = methods.find(method);
    if (wanted && it != methods.end()) out.Add(it->second[KindIndex(kind)]);
  }
  return out;
}

}  // namespace offmon::accuracy
