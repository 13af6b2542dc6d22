// Units of a series, inferred from its metric name (Prometheus suffix conventions,
// docs/metrics.md), and how values are printed for people: bytes in binary units,
// percent, seconds scaled to ms/s/min/h/d, counts with k/M/G. Machine output (CSV, JSON)
// never goes through here: it carries raw values. Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace offmon::query {

enum class UnitKind { kBytes, kPercent, kSeconds, kCount };

// `_bytes` -> bytes, `_percent` -> percent, `_seconds` -> seconds, anything else a count.
UnitKind UnitOfMetric(std::string_view metric_name);
std::string_view UnitKindName(UnitKind unit);  // "bytes", "percent", "seconds", "count"

// A display scale: shown value = value / divisor, followed by suffix (e.g. 1048576, " MiB").
struct DisplayScale {
  double divisor = 1;
  std::string suffix;
  std::string_view Name() const;  // the suffix without its leading blank, e.g. "MiB"
};

// The scale that keeps values of about `magnitude` (absolute value) readable.
DisplayScale ScaleFor(UnitKind unit, double magnitude);

// The number alone in `scale`, at most 4 significant digits: "100", "1.5", "0.25".
std::string FormatScaled(double value, const DisplayScale& scale);
// A value with its unit, scaled for itself: "100 MiB", "97.3%", "250 ms", "12.35k".
std::string FormatValue(UnitKind unit, double value);
// A signed change per `per` ("h", "d"): "+1 MiB/h", "-3.5%/d".
std::string FormatRate(UnitKind unit, double value, std::string_view per);

// A step or range in the notation it was probably given in: "30m", "1h", "1h 30m", "7d".
std::string FormatStep(std::chrono::milliseconds step);

}  // namespace offmon::query
