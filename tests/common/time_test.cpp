#include "offmon/common/time.h"

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace offmon {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr int64_t kNov15 = 1763182230000;  // 2025-11-15T04:50:30Z

int64_t Rfc(std::string_view text) {
  auto t = ParseRfc3339(text);
  EXPECT_TRUE(t) << text << ": " << t.error().ToString();
  return t ? ToMillis(*t) : -1;
}

std::string RfcError(std::string_view text) {
  auto t = ParseRfc3339(text);
  if (t) return "parsed as " + FormatRfc3339(*t);
  EXPECT_EQ(t.error().code(), StatusCode::kInvalidArgument);
  return t.error().message();
}

TEST(TimeTest, ParseRfc3339Utc) {
  EXPECT_EQ(Rfc("2025-11-15T04:50:30Z"), kNov15);
  EXPECT_EQ(Rfc("2025-11-15t04:50:30z"), kNov15);
  EXPECT_EQ(Rfc("2025-11-15 04:50:30Z"), kNov15);
  EXPECT_EQ(Rfc("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(Rfc("2024-02-29T23:59:59Z"), 1709251199000);
}

TEST(TimeTest, ParseRfc3339Offsets) {
  EXPECT_EQ(Rfc("2025-11-15T06:50:30+02:00"), kNov15);
  EXPECT_EQ(Rfc("2025-11-14T23:20:30-05:30"), kNov15);
  EXPECT_EQ(Rfc("2025-11-15T04:50:30+00:00"), kNov15);
  EXPECT_EQ(Rfc("2025-11-15T04:50:30-00:00"), kNov15);
}

TEST(TimeTest, ParseRfc3339Fractions) {
  EXPECT_EQ(Rfc("2025-11-15T04:50:30.1Z"), kNov15 + 100);
  EXPECT_EQ(Rfc("2025-11-15T04:50:30.12Z"), kNov15 + 120);
  EXPECT_EQ(Rfc("2025-11-15T04:50:30.123Z"), kNov15 + 123);
  EXPECT_EQ(Rfc("2025-11-15T04:50:30.123456789Z"), kNov15 + 123);
  // Rounded to the nearest millisecond, like fractional unix seconds.
  EXPECT_EQ(Rfc("2025-11-15T04:50:30.1235Z"), kNov15 + 124);
  EXPECT_EQ(Rfc("2025-11-15T04:50:30.9996Z"), kNov15 + 1000);
  EXPECT_EQ(Rfc("2025-11-15T06:50:30.5+02:00"), kNov15 + 500);
}

TEST(TimeTest, ParseRfc3339RejectsBadInput) {
  EXPECT_THAT(RfcError(""), HasSubstr("not an RFC 3339 time: ''"));
  EXPECT_THAT(RfcError("yesterday"), HasSubstr("not an RFC 3339 time: 'yesterday'"));
  EXPECT_THAT(RfcError("2025-11-15"), HasSubstr("not an RFC 3339 time"));
  EXPECT_THAT(RfcError("2025-11-15T04:50Z"), HasSubstr("not an RFC 3339 time"));
  EXPECT_THAT(RfcError("2025-13-01T00:00:00Z"), HasSubstr("date or time out of range"));
  EXPECT_THAT(RfcError("2025-02-29T00:00:00Z"), HasSubstr("date or time out of range"));
  EXPECT_THAT(RfcError("2025-11-15T24:00:00Z"), HasSubstr("date or time out of range"));
  EXPECT_THAT(RfcError("2025-11-15T04:60:00Z"), HasSubstr("date or time out of range"));
  EXPECT_THAT(RfcError("2025-11-15T04:50:30"), HasSubstr("missing time zone"));
  EXPECT_THAT(RfcError("2025-11-15T04:50:30+0200"), HasSubstr("missing time zone"));
  EXPECT_THAT(RfcError("2025-11-15T04:50:30+24:00"), HasSubstr("time zone offset out of range"));
  EXPECT_THAT(RfcError("2025-11-15T04:50:30+02:60"), HasSubstr("time zone offset out of range"));
  EXPECT_THAT(RfcError("2025-11-15T04:50:30.Z"), HasSubstr("empty fraction"));
  EXPECT_THAT(RfcError("2025-11-15T04:50:30Z trailing"), HasSubstr("trailing text after time"));
}

TEST(TimeTest, ParseRfc3339ErrorIsOneShortLine) {
  std::string hostile = "2025-11-15T04:50:30Z\n" + std::string(500, 'x');
  std::string message = RfcError(hostile);
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_LT(message.size(), 150u);
}

TEST(TimeTest, FormatRfc3339) {
  EXPECT_EQ(FormatRfc3339(FromMillis(kNov15 + 123)), "2025-11-15T04:50:30.123Z");
  EXPECT_EQ(FormatRfc3339(FromMillis(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(FromMillis(-1)), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatRfc3339(FromMillis(1709251199007)), "2024-02-29T23:59:59.007Z");
}

TEST(TimeTest, FormatRfc3339RoundTrips) {
  for (int64_t ms : {int64_t{0}, int64_t{1}, kNov15, kNov15 + 999, int64_t{-86'400'001}, int64_t{253402300799999}}) {
    EXPECT_EQ(Rfc(FormatRfc3339(FromMillis(ms))), ms) << ms;
  }
}

// Regression: fmt 9 formats system_clock time points in local time; the 'Z' must not lie.
TEST(TimeTest, FormatRfc3339IgnoresLocalTimeZone) {
  const char* old = std::getenv("TZ");
  std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
  setenv("TZ", "America/New_York", 1);
  tzset();
  const std::string text = FormatRfc3339(FromMillis(kNov15));
  if (saved) {
    setenv("TZ", saved->c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
  EXPECT_EQ(text, "2025-11-15T04:50:30.000Z");
}

TEST(TimeTest, ParseDuration) {
  auto ms = [](std::string_view text) {
    auto d = ParseDuration(text);
    EXPECT_TRUE(d) << text << ": " << d.error().ToString();
    return d ? d->count() : -1;
  };
  EXPECT_EQ(ms("90s"), 90'000);
  EXPECT_EQ(ms("5m"), 300'000);
  EXPECT_EQ(ms("2h"), 7'200'000);
  EXPECT_EQ(ms("7d"), 604'800'000);
  EXPECT_EQ(ms("1w"), 604'800'000);
  EXPECT_EQ(ms("500ms"), 500);
  EXPECT_EQ(ms("1h30m"), 5'400'000);
  EXPECT_EQ(ms("1d2h3m4s5ms"), 93'784'005);
  EXPECT_EQ(ms("0s"), 0);
}

TEST(TimeTest, ParseDurationRejectsBadInput) {
  auto error = [](std::string_view text) {
    auto d = ParseDuration(text);
    if (d) return std::string("parsed");
    EXPECT_EQ(d.error().code(), StatusCode::kInvalidArgument);
    return d.error().message();
  };
  EXPECT_EQ(error(""), "empty duration");
  EXPECT_THAT(error("5"), HasSubstr("bad duration unit in '5'"));
  EXPECT_THAT(error("5x"), HasSubstr("bad duration unit in '5x' (use ms, s, m, h, d, w)"));
  EXPECT_THAT(error("1h30"), HasSubstr("bad duration unit"));
  EXPECT_THAT(error("-5m"), HasSubstr("bad duration '-5m'"));
  EXPECT_THAT(error("h"), HasSubstr("bad duration 'h'"));
  EXPECT_THAT(error("5 m"), HasSubstr("bad duration unit"));
  EXPECT_THAT(error("99999999999999999w"), HasSubstr("duration too long"));
  EXPECT_THAT(error("9223372036854775807ms1ms"), HasSubstr("duration too long"));
  EXPECT_THAT(error("99999999999999999999999s"), HasSubstr("bad duration"));
}

TEST(TimeTest, FormatDurationSettingReadsLikeConfiguration) {
  EXPECT_EQ(FormatDurationSetting(std::chrono::seconds(10)), "10s");
  EXPECT_EQ(FormatDurationSetting(std::chrono::milliseconds(300)), "300ms");
  EXPECT_EQ(FormatDurationSetting(std::chrono::seconds(90)), "1m30s");
  EXPECT_EQ(FormatDurationSetting(std::chrono::minutes(2)), "2m");
}

TEST(TimeTest, FormatDurationShort) {
  EXPECT_EQ(FormatDurationShort(0ms), "0s");
  EXPECT_EQ(FormatDurationShort(999ms), "0s");
  EXPECT_EQ(FormatDurationShort(45s), "45s");
  EXPECT_EQ(FormatDurationShort(90s), "1m 30s");
  EXPECT_EQ(FormatDurationShort(12h + 30min + 10s), "12h 30m");
  EXPECT_EQ(FormatDurationShort(std::chrono::days(2) + 5h + 59min), "2d 5h");
  EXPECT_EQ(FormatDurationShort(std::chrono::days(400)), "400d 0h");
  EXPECT_EQ(FormatDurationShort(-5s), "0s");
}

TEST(TimeTest, ParseTimeArg) {
  const TimePoint now = FromMillis(kNov15);
  auto at = [&](std::string_view text) {
    auto t = ParseTimeArg(text, now);
    EXPECT_TRUE(t) << text << ": " << t.error().ToString();
    return t ? ToMillis(*t) : -1;
  };
  EXPECT_EQ(at("now"), kNov15);
  EXPECT_EQ(at("now-2h"), kNov15 - 7'200'000);
  EXPECT_EQ(at("now-1h30m"), kNov15 - 5'400'000);
  EXPECT_EQ(at("1700000000"), 1'700'000'000'000);
  EXPECT_EQ(at("1700000000.5"), 1'700'000'000'500);
  EXPECT_EQ(at("1700000000.0005"), 1'700'000'000'001);
  EXPECT_EQ(at("1.7e9"), 1'700'000'000'000);
  EXPECT_EQ(at("2025-11-15T06:50:30+02:00"), kNov15);
}

TEST(TimeTest, ParseTimeArgRejectsBadInput) {
  const TimePoint now = FromMillis(kNov15);
  auto error = [&](std::string_view text) {
    auto t = ParseTimeArg(text, now);
    if (t) return "parsed as " + FormatRfc3339(*t);
    EXPECT_EQ(t.error().code(), StatusCode::kInvalidArgument);
    return t.error().message();
  };
  EXPECT_THAT(error("yesterday"), HasSubstr("not an RFC 3339 time: 'yesterday'"));
  EXPECT_THAT(error("now-"), HasSubstr("empty duration"));
  EXPECT_THAT(error("now-2x"), HasSubstr("bad duration unit"));
  EXPECT_THAT(error("now+2h"), HasSubstr("not an RFC 3339 time"));
  EXPECT_THAT(error("nan"), HasSubstr("not an RFC 3339 time"));
  EXPECT_THAT(error("inf"), HasSubstr("not an RFC 3339 time"));
  EXPECT_THAT(error("1e300"), HasSubstr("not an RFC 3339 time"));
  auto early = ParseTimeArg("now-9223372036854775807ms", FromMillis(-10));
  ASSERT_FALSE(early);
  EXPECT_THAT(early.error().message(), HasSubstr("time out of range"));
}

// Issue 17: `report --at 1e15` printed the year 8210. Command-line times stay within the
// years 2000 to 2199, and a millisecond value given as seconds says so.
TEST(TimeTest, ParseTimeArgRefusesImpossibleYears) {
  const TimePoint now = FromMillis(kNov15);
  auto error = [&](std::string_view text) {
    auto t = ParseTimeArg(text, now);
    return t ? "parsed as " + FormatRfc3339(*t) : t.error().message();
  };
  EXPECT_EQ(error("1e15"), "time '1e15' is outside the years 2000 to 2199");
  EXPECT_EQ(error("1763182230000"), "time '1763182230000' is outside the years 2000 to 2199; it looks like milliseconds");
  EXPECT_EQ(error("0"), "time '0' is outside the years 2000 to 2199");
  EXPECT_EQ(error("1999-12-31T23:59:59Z"), "time '1999-12-31T23:59:59Z' is outside the years 2000 to 2199");
  EXPECT_EQ(error("2200-01-01T00:00:00Z"), "time '2200-01-01T00:00:00Z' is outside the years 2000 to 2199");
  EXPECT_EQ(error("now-520w"), "parsed as 2015-11-28T04:50:30.000Z");
  EXPECT_EQ(error("now-30y"), "bad duration unit in '30y' (use ms, s, m, h, d, w)");
  EXPECT_EQ(error("now-10000d"), "time 'now-10000d' is outside the years 2000 to 2199");
  EXPECT_EQ(error("2000-01-01T00:00:00Z"), "parsed as 2000-01-01T00:00:00.000Z");
  EXPECT_EQ(error("2199-12-31T23:59:59.999Z"), "parsed as 2199-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace offmon
