// BatchSink: what one collector run observed, buffered on the collector's worker thread
// and written to the store afterwards by the thread that owns it.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "offmon/common/sample_sink.h"
#include "offmon/store/store.h"

namespace offmon::daemon {

class BatchSink final : public SampleSink {
 public:
  void Append(const SeriesKey& series, Sample sample) override { samples_.emplace_back(series, sample); }
  void CollectorFailed(std::string_view collector, std::string_view reason) override {
    failures_.emplace_back(std::string(collector), std::string(reason));
    recorded_failures_.push_back(failures_.back());
  }
  // Counts against the collector's health, adds no collector_failure event.
  void CollectorStillFailing(std::string_view collector, std::string_view reason) override {
    failures_.emplace_back(std::string(collector), std::string(reason));
  }
  void RecordEpoch(EpochObservation epoch) override { epochs_.push_back(std::move(epoch)); }
  void RecordEvent(EventKind kind, std::string payload) override { events_.emplace_back(kind, std::move(payload)); }

  const std::vector<std::pair<std::string, std::string>>& failures() const { return failures_; }
  size_t sample_count() const { return samples_.size(); }

  // Moves everything into `appender` (not committed).
  void MoveTo(store::Appender& appender) {
    for (auto& [key, sample] : samples_) {
      if (auto id = appender.Ref(key)) appender.Add(*id, sample.time, sample.value);
    }
    for (auto& [collector, reason] : recorded_failures_) {
      appender.AttachEvent(EventKind::kCollectorFailure, nlohmann::json{{"collector", collector}, {"reason", reason}}
                                                             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    for (auto& epoch : epochs_) appender.AddEpoch(std::move(epoch));
    for (auto& [kind, payload] : events_) appender.AttachEvent(kind, std::move(payload));
    samples_.clear();
    recorded_failures_.clear();
    epochs_.clear();
    events_.clear();
  }

 private:
  std::vector<std::pair<SeriesKey, Sample>> samples_;
  std::vector<std::pair<std::string, std::string>> failures_;  // every failure of the run
  std::vector<std::pair<std::string, std::string>> recorded_failures_;  // those that are events
  std::vector<EpochObservation> epochs_;
  std::vector<std::pair<EventKind, std::string>> events_;
};

}  // namespace offmon::daemon
