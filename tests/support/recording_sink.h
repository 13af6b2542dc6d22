// A SampleSink that keeps everything it is given, for collector tests.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "offmon/common/sample_sink.h"

namespace offmon::testing {

class RecordingSink final : public SampleSink {
 public:
  void Append(const SeriesKey& series, Sample sample) override { samples[series.ToString()].push_back(sample); }
  void CollectorFailed(std::string_view collector, std::string_view reason) override {
    failures.emplace_back(std::string(collector), std::string(reason));
  }
  void CollectorStillFailing(std::string_view collector, std::string_view reason) override {
    still_failing.emplace_back(std::string(collector), std::string(reason));
  }
  void RecordEpoch(EpochObservation epoch) override { epochs.push_back(std::move(epoch)); }
  void RecordEvent(EventKind kind, std::string payload) override { events.emplace_back(kind, std::move(payload)); }

  // The last value recorded for a series in canonical notation, or nullopt.
  std::optional<double> Last(const std::string& series) const {
    auto it = samples.find(series);
    if (it == samples.end() || it->second.empty()) return std::nullopt;
    return it->second.back().value;
  }

  std::map<std::string, std::vector<Sample>> samples;
  std::vector<std::pair<std::string, std::string>> still_failing;  // cycles spent backing off
  std::vector<std::pair<std::string, std::string>> failures;
  std::vector<EpochObservation> epochs;
  std::vector<std::pair<EventKind, std::string>> events;
};

}  // namespace offmon::testing
