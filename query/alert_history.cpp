#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "alert_history_impl.h"

namespace offmon::query {

using analyzer::AlertState;

Result<std::vector<analyzer::Transition>> ReadTransitions(store::Store& store, TimePoint until) {
  std::vector<analyzer::Transition> out;
  int64_t after = 0;
  while (true) {
    auto page = store.ReadEvents(after, EventKind::kAlertTransition, 1024);
    if (!page) return page.error();
    if (page->empty()) break;
    for (const store::Event& event : *page) {
      if (event.time > until) continue;
      auto transition = analyzer::DecodeTransition(event.payload, event.time);
      if (!transition) return transition.error().WithContext(fmt::format("event {}", event.seq));
      out.push_back(std::move(*transition));
    }
    after = page->back().seq;
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const analyzer::Transition& a, const analyzer::Transition& b) { return a.at < b.at; });
  return out;
}

std::vector<AlertEpisode> BuildEpisodes(const std::vector<analyzer::Transition>& transitions) {
  std::vector<AlertEpisode> episodes;
  std::map<std::string, size_t> open;  // fingerprint -> index in episodes
  for (const analyzer::Transition& t : transitions) {
    const std::string fingerprint = analyzer::Fingerprint(t.alert, t.labels);
    auto it = open.find(fingerprint);
    switch (t.state) {
      case AlertState::kPending:
        break;
      case AlertState::kFiring:
      case AlertState::kEscalated: {
        if (it == open.end()) {
          AlertEpisode e;
          e.alert = t.alert;
          e.labels = t.labels;
          e.severity = t.severity;
          e.active_since = t.active_since;
          e.fired_at = t.at;
          it = open.emplace(fingerprint, episodes.size()).first;
          episodes.push_back(std::move(e));
        }
        AlertEpisode& e = episodes[it->second];
        e.series = t.series;
        e.summary = t.summary;
        e.inhibited_by = t.inhibited_by;
        e.severity = std::max(e.severity, t.severity);
        if (t.state == AlertState::kEscalated) e.escalated = true;
        break;
      }
      case AlertState::kResolved:
        if (it != open.end()) {
          episodes[it->second].resolved_at = t.at;
          open.erase(it);
        }
        break;
    }
  }
  return episodes;
}

bool BelongsTo(const AlertEpisode& episode, const SeriesKey& key) {
  if (!episode.series.empty() && episode.series == key.ToString()) return true;
  bool shared = false;
  for (const Label& label : episode.labels) {
    auto it = std::find_if(key.labels.begin(), key.labels.end(), [&](const Label& l) { return l.name == label.name; });
    if (it == key.labels.end()) continue;
    if (it->value != label.value) return false;
    shared = true;
  }
  return shared;
}

std::string LabelsText(const Labels& labels) {
  std::string out;
  for (const Label& l : labels) {
    if (!out.empty()) out += ',';
    out += l.name;
    out += '=';
    out += l.value;
  }
  return out;
}

}  // namespace offmon::query
