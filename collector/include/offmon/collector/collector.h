// Collector: one source of observations (a /proc file, PM2, PostgreSQL). Collect() is
// called with the cycle's timestamp, which sits on the sampling grid, and appends what
// it sees to the sink. Thread safety: a collector is driven by one thread.
#pragma once

#include <string_view>

#include "offmon/common/sample_sink.h"
#include "offmon/common/time.h"

namespace offmon::collector {

class Collector {
 public:
  virtual ~Collector() = default;
  virtual std::string_view name() const = 0;
  // Failures go to sink.CollectorFailed; a collector never throws.
  virtual void Collect(TimePoint now, SampleSink& sink) = 0;
};

}  // namespace offmon::collector
