#include "peers.h"

#include <algorithm>

#include "offmon/analyzer/leak_detector.h"

namespace offmon::accuracy {

namespace {

constexpr double kGiB = 1024.0 * 1024 * 1024;
constexpr size_t kGuideDropEpochs = 10;

// The index one past the last sample at or before t.
size_t UpTo(const std::vector<Sample>& samples, TimePoint t) {
  return static_cast<size_t>(
      std::partition_point(samples.begin(), samples.end(), [&](const Sample& s) { return s.time <= t; }) -
      samples.begin());
}

// The guide's verdicts for one series at time t.
void GuideVerdicts(const SeriesData& s, TimePoint t, std::vector<std::pair<Kind, std::string>>& firing) {
  const size_t n = UpTo(s.samples, t);
  if (n == 0) return;
  const double latest = s.samples[n - 1].value;
  if (s.metric == "process_memory_bytes") {
    if (latest > 3 * kGiB) firing.emplace_back(Kind::kMemoryLeak, s.subject);
  } else if (s.metric == "process_cpu_percent") {
    if (latest > 90) firing.emplace_back(Kind::kCpuHigh, s.subject);
  } else if (s.metric == "process_restarts_total") {
    if (latest > 20) firing.emplace_back(Kind::kRestartLoop, s.subject);
  } else if (s.metric == "epoch_participants") {
    if (latest == 0) firing.emplace_back(Kind::kZeroParticipants, s.subject);
    if (n > kGuideDropEpochs) {
      double sum = 0;
      for (size_t i = n - 1 - kGuideDropEpochs; i < n - 1; ++i) sum += s.samples[i].value;
      if (latest < 0.5 * sum / kGuideDropEpochs) firing.emplace_back(Kind::kParticipantDrop, s.subject);
    }
  }
}

void PredictLinearVerdicts(const SeriesData& s, TimePoint t, std::vector<std::pair<Kind, std::string>>& firing) {
  if (s.metric != "process_memory_bytes") return;
  // Defaults: last 6 h, 24 h horizon, 4 GiB.
  if (analyzer::PredictLinearLeak(s.samples, t)) firing.emplace_back(Kind::kMemoryLeak, s.subject);
}

}  // namespace

std::string_view MethodName(Method method) {
  switch (method) {
    case Method::kOffmon:
      return "offmon";
    case Method::kGuide:
      return "guide rules";
    case Method::kPredictLinear:
      return "predict_linear";
  }
  return "?";
}

bool MethodCovers(Method method, Kind kind) { return method != Method::kPredictLinear || kind == Kind::kMemoryLeak; }

std::vector<Episode> RunPeer(Method method, const Scenario& scenario) {
  EpisodeBuilder builder;
  std::vector<std::pair<Kind, std::string>> firing;
  for (TimePoint t = scenario.from; t <= scenario.to; t += scenario.step) {
    firing.clear();
    for (const SeriesData& s : scenario.series) {
      if (method == Method::kGuide) GuideVerdicts(s, t, firing);
      if (method == Method::kPredictLinear) PredictLinearVerdicts(s, t, firing);
    }
    builder.Step(t, firing);
  }
  return builder.Take();
}

}  // namespace offmon::accuracy
