// The instants offmon accepts from command lines and imported files: from 2000-01-01 up
// to (not including) 2200-01-01 UTC. Outside that, a timestamp is a unit mistake
// (milliseconds read as seconds land near the year 55000) and would be stored for good.
// ParseTimeArg (time.h) applies it to every --at/--from/--to/--since/--until.
// Thread safety: pure functions and constants.
#pragma once

#include <chrono>
#include <string_view>

#include "offmon/common/status.h"
#include "offmon/common/time.h"

namespace offmon {

inline constexpr TimePoint kEarliestTime{std::chrono::sys_days(std::chrono::year(2000) / 1 / 1)};
inline constexpr TimePoint kLatestTime{std::chrono::sys_days(std::chrono::year(2200) / 1 / 1)};

// How a timestamp's text was read, for the unit hint of CheckTimeInRange.
enum class TimeUnitHint {
  kNone,
  kSeconds,       // read as seconds: a thousandth of it would be in range ("looks like milliseconds")
  kMilliseconds,  // read as milliseconds: a thousandfold value would be in range ("looks like seconds")
};

// Ok when kEarliestTime <= t < kLatestTime. Else InvalidArgument naming `text` and the
// range, plus "it looks like milliseconds" (or seconds) when `read_as` says how the text
// was read and the other unit would land in range; callers add how to say so.
Status CheckTimeInRange(TimePoint t, std::string_view text, TimeUnitHint read_as = TimeUnitHint::kNone);

}  // namespace offmon
