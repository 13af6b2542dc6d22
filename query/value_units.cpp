#include <fmt/format.h>

#include <cmath>

#include "value_units_impl.h"

namespace offmon::query {

UnitKind UnitOfMetric(std::string_view metric_name) {
  if (metric_name.ends_with("_bytes")) return UnitKind::kBytes;
  if (metric_name.ends_with("_percent")) return UnitKind::kPercent;
  if (metric_name.ends_with("_seconds")) return UnitKind::kSeconds;
  return UnitKind::kCount;
}

std::string_view UnitKindName(UnitKind unit) {
  switch (unit) {
    case UnitKind::kBytes:
      return "bytes";
    case UnitKind::kPercent:
      return "percent";
    case UnitKind::kSeconds:
      return "seconds";
    case UnitKind::kCount:
      return "count";
  }
  return "count";
}

std::string_view DisplayScale::Name() const {
  std::string_view name = suffix;
  while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
  return name;
}

DisplayScale ScaleFor(UnitKind unit, double magnitude) {
  const double m = std::isfinite(magnitude) ? std::fabs(magnitude) : 0;
  switch (unit) {
    case UnitKind::kBytes: {
      static constexpr const char* kNames[] = {" B", " KiB", " MiB", " GiB", " TiB", " PiB"};
      double divisor = 1;
      size_t i = 0;
      while (i + 1 < std::size(kNames) && m >= divisor * 1024) {
        divisor *= 1024;
        ++i;
      }
      return {divisor, kNames[i]};
    }
    case UnitKind::kPercent:
      return {1, "%"};
    case UnitKind::kSeconds:
      if (m > 0 && m < 1) return {0.001, " ms"};
      if (m < 120) return {1, " s"};
      if (m < 2 * 3600) return {60, " min"};
      if (m < 2 * 86400) return {3600, " h"};
      return {86400, " d"};
    case UnitKind::kCount:
      if (m >= 1e10) return {1e9, "G"};
      if (m >= 1e7) return {1e6, "M"};
      if (m >= 1e4) return {1e3, "k"};
      return {1, ""};
  }
  return {1, ""};
}

std::string FormatScaled(double value, const DisplayScale& scale) {
  double shown = value / scale.divisor;
  if (shown == 0) shown = 0;  // no "-0"
  return fmt::format("{:.4g}", shown);
}

std::string FormatValue(UnitKind unit, double value) {
  DisplayScale scale = ScaleFor(unit, value);
  return FormatScaled(value, scale) + scale.suffix;
}

std::string FormatRate(UnitKind unit, double value, std::string_view per) {
  return fmt::format("{}{}/{}", value >= 0 ? "+" : "", FormatValue(unit, value), per);
}

std::string FormatStep(std::chrono::milliseconds step) {
  int64_t s = std::chrono::duration_cast<std::chrono::seconds>(step).count();
  std::string out;
  for (auto [unit, name] : {std::pair<int64_t, const char*>{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}}) {
    if (s < unit) continue;
    out += fmt::format("{}{}{}", out.empty() ? "" : " ", s / unit, name);
    s %= unit;
  }
  return out.empty() ? fmt::format("{}ms", step.count()) : out;
}

}  // namespace offmon::query
