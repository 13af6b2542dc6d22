#include "episode.h"

#include <algorithm>

namespace offmon::accuracy {

void EpisodeBuilder::Firing(Kind kind, const std::string& subject, TimePoint at) {
  for (size_t i : open_) {
    if (episodes_[i].kind == kind && episodes_[i].subject == subject) return;  // already open
  }
  open_.push_back(episodes_.size());
  episodes_.push_back(Episode{kind, subject, at, std::nullopt});
}

void EpisodeBuilder::Resolved(Kind kind, const std::string& subject, TimePoint at) {
  for (auto it = open_.begin(); it != open_.end(); ++it) {
    Episode& e = episodes_[*it];
    if (e.kind == kind && e.subject == subject) {
      e.end = at;
      open_.erase(it);
      return;
    }
  }
}

void EpisodeBuilder::Step(TimePoint at, const std::vector<std::pair<Kind, std::string>>& firing) {
  std::vector<size_t> still_open;
  for (size_t i : open_) {
    const Episode& e = episodes_[i];
    const bool holds = std::find(firing.begin(), firing.end(), std::pair{e.kind, e.subject}) != firing.end();
    if (holds) {
      still_open.push_back(i);
    } else {
      episodes_[i].end = at;
    }
  }
  open_ = std::move(still_open);
  for (const auto& [kind, subject] : firing) Firing(kind, subject, at);
}

}  // namespace offmon::accuracy
