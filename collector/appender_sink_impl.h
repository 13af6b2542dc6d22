// Adapts the store's Appender to the SampleSink collectors write to.
#pragma once

#include <nlohmann/json.hpp>

#include "offmon/common/sample_sink.h"
#include "offmon/store/store.h"

namespace offmon::collector {

class AppenderSink final : public SampleSink {
 public:
  AppenderSink(store::Appender& appender, TimePoint now) : appender_(appender), now_(now) {}
  void Append(const SeriesKey& series, Sample sample) override {
    auto id = appender_.Ref(series);
    if (id) appender_.Add(*id, sample.time, sample.value);
  }
  void CollectorFailed(std::string_view collector, std::string_view reason) override {
    ++failures_;
    appender_.AttachEvent(store::EventKind::kCollectorFailure,
                          nlohmann::json{{"collector", collector}, {"reason", reason}}.dump());
  }
  void RecordEpoch(const EpochObservation& epoch) override { appender_.AddEpoch(epoch); }
  void RecordEvent(EventKind kind, std::string payload) override { appender_.AttachEvent(kind, std::move(payload)); }
  int failures() const { return failures_; }

 private:
  store::Appender& appender_;
  TimePoint now_;
  int failures_ = 0;
};

}  // namespace offmon::collector
