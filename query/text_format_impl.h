// Time phrases the report and the escalation message share, so that both say "3m ago"
// the same way (numbers: offmon/common/format.h).
#pragma once

#include <string>

#include "offmon/common/time.h"

namespace offmon::query {

// How long before `at` the time `t` was: "3m ago", or "in the future".
inline std::string Ago(TimePoint at, TimePoint t) {
  return at >= t ? FormatDurationShort(std::chrono::duration_cast<Duration>(at - t)) + " ago" : "in the future";
}

}  // namespace offmon::query
