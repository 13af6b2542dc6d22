// Sample: one observed value of one series at one instant.
#pragma once

#include "offmon/common/time.h"

namespace offmon {

struct Sample {
  TimePoint time;
  double value = 0;
  friend bool operator==(const Sample&, const Sample&) = default;
};

}  // namespace offmon
