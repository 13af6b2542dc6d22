#include "offmon/common/time.h"

#include <charconv>
#include <limits>

#include <fmt/format.h>

#include "offmon/common/time_range.h"
#include "series_key_impl.h"

namespace offmon {

TimePoint SystemClock::Now() const {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

std::string FormatRfc3339(TimePoint t) {
  // Civil arithmetic by hand: fmt 9 formats a system_clock time_point in *local* time,
  // which would put a wrong instant behind the 'Z' whenever TZ is not UTC.
  using namespace std::chrono;
  const auto day_start = floor<days>(t);
  const year_month_day ymd{day_start};
  const hh_mm_ss<Duration> hms{t - day_start};
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                     hms.subseconds().count());
}

std::string FormatRfc3339Seconds(TimePoint t) {
  return FormatRfc3339(std::chrono::floor<std::chrono::seconds>(t)).substr(0, 19) + "Z";
}

namespace {

// A tiny cursor over text; every reader returns false on a mismatch.
struct Cursor {
  std::string_view s;
  size_t i = 0;
  bool Digits(size_t n, int* out) {
    if (i + n > s.size()) return false;
    int v = 0;
    for (size_t k = 0; k < n; ++k) {
      char c = s[i + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    i += n;
    *out = v;
    return true;
  }
  bool Char(char c) {
    if (i < s.size() && s[i] == c) { ++i; return true; }
    return false;
  }
  bool CharOf(std::string_view set) {
    if (i < s.size() && set.find(s[i]) != std::string_view::npos) { ++i; return true; }
    return false;
  }
};

}  // namespace

Result<TimePoint> ParseRfc3339(std::string_view text) {
  using namespace std::chrono;
  Cursor c{text};
  int y, mo, d, h, mi, se;
  if (!(c.Digits(4, &y) && c.Char('-') && c.Digits(2, &mo) && c.Char('-') && c.Digits(2, &d) &&
        c.CharOf("Tt ") && c.Digits(2, &h) && c.Char(':') && c.Digits(2, &mi) && c.Char(':') &&
        c.Digits(2, &se))) {
    return Status::InvalidArgument(fmt::format("not an RFC 3339 time: '{}'", internal::Snippet(text)));
  }
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || se > 60) {
    return Status::InvalidArgument(fmt::format("date or time out of range: '{}'", internal::Snippet(text)));
  }
  int64_t millis = 0;
  if (c.Char('.')) {
    size_t start = c.i;
    while (c.i < text.size() && text[c.i] >= '0' && text[c.i] <= '9') {
      const size_t k = c.i - start;
      if (k < 3) millis = millis * 10 + (text[c.i] - '0');
      // Rounded half up like fractional unix seconds, so both spellings of an instant agree.
      if (k == 3 && text[c.i] >= '5') ++millis;
      ++c.i;
    }
    const size_t digits = c.i - start;
    if (digits == 0) {
      return Status::InvalidArgument(fmt::format("empty fraction in '{}'", internal::Snippet(text)));
    }
    for (size_t k = digits; k < 3; ++k) millis *= 10;
  }
  int offset_minutes = 0;
  if (!c.CharOf("Zz")) {
    int sign = c.Char('+') ? 1 : (c.Char('-') ? -1 : 0);
    int oh, om;
    if (sign == 0 || !c.Digits(2, &oh) || !c.Char(':') || !c.Digits(2, &om)) {
      return Status::InvalidArgument(
          fmt::format("missing time zone ('Z' or '+hh:mm') in '{}'", internal::Snippet(text)));
    }
    if (oh > 23 || om > 59) {
      return Status::InvalidArgument(fmt::format("time zone offset out of range in '{}'", internal::Snippet(text)));
    }
    offset_minutes = sign * (oh * 60 + om);
  }
  if (c.i != text.size()) {
    return Status::InvalidArgument(fmt::format("trailing text after time in '{}'", internal::Snippet(text)));
  }
  auto tp = sys_days(ymd) + hours(h) + minutes(mi) + seconds(se) - minutes(offset_minutes);
  return time_point_cast<Duration>(tp) + Duration(millis);
}

Result<Duration> ParseDuration(std::string_view text) {
  if (text.empty()) return Status::InvalidArgument("empty duration");
  int64_t total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    int64_t n = 0;
    auto [ptr, ec] = std::from_chars(text.data() + i, text.data() + text.size(), n);
    if (ec != std::errc() || n < 0) {
      return Status::InvalidArgument(
          fmt::format("bad duration '{}' (expected e.g. 90s, 5m, 2h, 7d)", internal::Snippet(text)));
    }
    i = static_cast<size_t>(ptr - text.data());
    size_t unit_start = i;
    while (i < text.size() && (text[i] < '0' || text[i] > '9')) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    int64_t scale;
    if (unit == "ms") scale = 1;
    else if (unit == "s") scale = 1000;
    else if (unit == "m") scale = 60'000;
    else if (unit == "h") scale = 3'600'000;
    else if (unit == "d") scale = 86'400'000;
    else if (unit == "w") scale = 7 * 86'400'000LL;
    else return Status::InvalidArgument(
        fmt::format("bad duration unit in '{}' (use ms, s, m, h, d, w)", internal::Snippet(text)));
    if (n > (std::numeric_limits<int64_t>::max() - total_ms) / scale) {
      return Status::InvalidArgument(fmt::format("duration too long: '{}'", internal::Snippet(text)));
    }
    total_ms += n * scale;
  }
  return Duration(total_ms);
}

std::string FormatDurationShort(Duration d) {
  using namespace std::chrono;
  int64_t s = duration_cast<seconds>(d).count();
  if (s < 0) s = 0;
  int64_t days = s / 86400, hrs = s % 86400 / 3600, mins = s % 3600 / 60, secs = s % 60;
  if (days > 0) return fmt::format("{}d {}h", days, hrs);
  if (hrs > 0) return fmt::format("{}h {}m", hrs, mins);
  if (mins > 0) return fmt::format("{}m {}s", mins, secs);
  return fmt::format("{}s", secs);
}

std::string FormatDurationSetting(Duration d) {
  const int64_t ms = d.count();
  if (ms % 1000 != 0 || ms == 0) return fmt::format("{}ms", ms);
  const int64_t s = ms / 1000;
  if (s < 60) return fmt::format("{}s", s);
  if (s % 60 == 0) return fmt::format("{}m", s / 60);
  return fmt::format("{}m{}s", s / 60, s % 60);
}

Status CheckTimeInRange(TimePoint t, std::string_view text, TimeUnitHint read_as) {
  if (t >= kEarliestTime && t < kLatestTime) return Status::Ok();
  auto in_range = [](int64_t ms) { return ms >= ToMillis(kEarliestTime) && ms < ToMillis(kLatestTime); };
  const int64_t ms = ToMillis(t);
  std::string hint;
  if (read_as == TimeUnitHint::kSeconds && in_range(ms / 1000)) {
    hint = "; it looks like milliseconds";
  } else if (int64_t as_ms = 0; read_as == TimeUnitHint::kMilliseconds && !__builtin_mul_overflow(ms, 1000, &as_ms) &&
                                 in_range(as_ms)) {
    hint = "; it looks like seconds";
  }
  return Status::InvalidArgument(fmt::format("time '{}' is outside the years 2000 to 2199{}", internal::Snippet(text),
                                             hint));
}

Result<TimePoint> ParseTimeArg(std::string_view text, TimePoint now) {
  if (text == "now") return now;
  TimePoint t;
  TimeUnitHint read_as = TimeUnitHint::kNone;
  if (text.starts_with("now-")) {
    auto d = ParseDuration(text.substr(4));
    if (!d) return d.error();
    int64_t ms = 0;
    if (__builtin_sub_overflow(ToMillis(now), d->count(), &ms)) {
      return Status::InvalidArgument(fmt::format("time out of range: '{}'", internal::Snippet(text)));
    }
    t = FromMillis(ms);
  } else if (int64_t ms = 0; internal::ParseUnixSecondsToMillis(text, &ms)) {
    // Shared with the importers: exact decimal rounding, and no NaN/inf/overflow slips
    // through the double-to-integer conversion that from_chars + llround would do.
    t = FromMillis(ms);
    read_as = TimeUnitHint::kSeconds;
  } else {
    auto parsed = ParseRfc3339(text);
    if (!parsed) return parsed.error();
    t = *parsed;
  }
  OFFMON_RETURN_IF_ERROR(CheckTimeInRange(t, text, read_as));
  return t;
}

}  // namespace offmon
