// Number and time phrases the report and the escalation message share, so that both say
// "2,150" and "3m ago" the same way.
#pragma once

#include <fmt/format.h>

#include <string>

#include "offmon/common/time.h"

namespace offmon::query {

// 1234567 -> "1,234,567"; rounds to a whole number.
inline std::string Thousands(double value) {
  std::string digits = fmt::format("{:.0f}", value);
  const size_t sign = !digits.empty() && digits[0] == '-' ? 1 : 0;
  for (int pos = static_cast<int>(digits.size()) - 3; pos > static_cast<int>(sign); pos -= 3) {
    digits.insert(static_cast<size_t>(pos), ",");
  }
  return digits;
}

// How long before `at` the time `t` was: "3m ago", or "in the future".
inline std::string Ago(TimePoint at, TimePoint t) {
  return at >= t ? FormatDurationShort(std::chrono::duration_cast<Duration>(at - t)) + " ago" : "in the future";
}

}  // namespace offmon::query
