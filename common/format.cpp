#include "offmon/common/format.h"

#include <cmath>

#include <fmt/format.h>

namespace offmon {

std::string GroupThousands(double value) {
  if (!std::isfinite(value)) return fmt::format("{}", value);
  const double rounded = std::round(value);
  const std::string digits = fmt::format("{:.0f}", std::fabs(rounded));
  std::string out = rounded < 0 ? "-" : "";  // -0.0 (from -0.4) is not below zero
  out.reserve(out.size() + digits.size() + digits.size() / 3);
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace offmon
