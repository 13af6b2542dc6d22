// Time types used across offmon: wall-clock instants with millisecond resolution, and
// the Clock interface through which everything reads "now" so tests can inject time.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "offmon/common/result.h"

namespace offmon {

using Duration = std::chrono::milliseconds;
using TimePoint = std::chrono::sys_time<Duration>;

inline int64_t ToMillis(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint FromMillis(int64_t ms) { return TimePoint(Duration(ms)); }

// Source of the current time. Implementations: SystemClock; tests use a fake one.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override;
};

// RFC 3339 in UTC with milliseconds: "2025-11-15T04:50:30.123Z".
std::string FormatRfc3339(TimePoint t);
// The same to the whole second (rounded down): "2025-11-15T04:50:30Z".
std::string FormatRfc3339Seconds(TimePoint t);
// A duration in seconds, for JSON fields such as "duration_s".
inline double DurationSeconds(Duration d) { return static_cast<double>(d.count()) / 1000.0; }
// Parses RFC 3339 ("2025-11-15T04:50:30Z", fractional seconds, rounded to the
// millisecond, and "+02:00" offsets allowed). InvalidArgument when the text is not such
// a time.
Result<TimePoint> ParseRfc3339(std::string_view text);
// Parses a duration such as "90s", "5m", "2h", "7d", "1w", "500ms", "1h30m".
Result<Duration> ParseDuration(std::string_view text);
// "2d 5h", "12h 30m", "45s": the guide's uptime notation.
std::string FormatDurationShort(Duration d);
// "10s", "500ms", "2m", "1m30s": a duration as a setting is written, for messages that
// quote one ("pm2 jlist timed out after 10s").
std::string FormatDurationSetting(Duration d);
// A point in time given on a command line: RFC 3339, unix seconds (fractions rounded to
// the millisecond), or "now"/"now-2h". InvalidArgument outside the years 2000 to 2199
// (time_range.h).
Result<TimePoint> ParseTimeArg(std::string_view text, TimePoint now);

}  // namespace offmon
