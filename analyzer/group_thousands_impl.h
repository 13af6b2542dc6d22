// "3,150": counts for people, as the guide's reports print them.
#pragma once

#include <cmath>
#include <string>

#include <fmt/format.h>

namespace offmon::analyzer {

// The value rounded to an integer with a comma every three digits. Hand-written: fmt's
// locale grouping ("{:L}") depends on which locales the host has installed.
inline std::string GroupThousands(double value) {
  const long long n = std::llround(value);
  std::string digits = fmt::format("{}", n < 0 ? -n : n);
  std::string out = n < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace offmon::analyzer
