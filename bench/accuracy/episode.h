// What a method reported for one scenario: its alert episodes. An episode is one
// alert (kind and subject) from its first WARNING/CRITICAL firing to its resolution;
// a change of severity while firing (MemoryLeak WARNING → CRITICAL) stays one episode.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "scenario.h"

namespace offmon::accuracy {

struct Episode {
  Kind kind = Kind::kMemoryLeak;
  std::string subject;  // process or channel; empty for an alert without one (ZeroParticipants CRITICAL)
  TimePoint start;
  std::optional<TimePoint> end;  // nullopt: still firing at the end of the range
};

// Turns per-step verdicts into episodes: call Step for every evaluation time in order,
// with the (kind, subject) pairs that fire at that time.
class EpisodeBuilder {
 public:
  void Firing(Kind kind, const std::string& subject, TimePoint at);
  void Resolved(Kind kind, const std::string& subject, TimePoint at);
  // Resolves, at `at`, every open episode not in `firing` and opens the new ones.
  void Step(TimePoint at, const std::vector<std::pair<Kind, std::string>>& firing);
  std::vector<Episode> Take() { return std::move(episodes_); }

 private:
  std::vector<Episode> episodes_;
  std::vector<size_t> open_;  // indices into episodes_
};

}  // namespace offmon::accuracy
