// SampleSink: where collectors put what they observe. The store's appender implements
// it (through the collect command), so collectors never depend on the store.
#pragma once

#include <string>
#include <string_view>

#include "offmon/common/event_kind.h"
#include "offmon/common/observation.h"
#include "offmon/common/sample.h"
#include "offmon/common/series_key.h"

namespace offmon {

class SampleSink {
 public:
  virtual ~SampleSink() = default;
  virtual void Append(const SeriesKey& series, Sample sample) = 0;
  // A collector could not observe its source this cycle: recorded as an event, never
  // a crash. `reason` is one line and holds no secret.
  virtual void CollectorFailed(std::string_view collector, std::string_view reason) = 0;
  // A collector did not try its source this cycle because it is backing off after
  // `reason`: the cycle is no success (a source is healthy only after a real one), but
  // nothing new happened to record. By default a failure like any other.
  virtual void CollectorStillFailing(std::string_view collector, std::string_view reason) {
    CollectorFailed(collector, reason);
  }
  // A sealed epoch seen for the first time, or seen again with something changed. By
  // value: a caller that moves its observation in (a participant set of thousands of
  // ids) hands it over without a copy.
  virtual void RecordEpoch(EpochObservation epoch) = 0;
  // Any other typed event (a log tail, a process status change); payload is JSON.
  virtual void RecordEvent(EventKind kind, std::string payload) = 0;
};

}  // namespace offmon
