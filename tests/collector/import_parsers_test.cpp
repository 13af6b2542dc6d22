#include "offmon/collector/import_parsers.h"

#include <cmath>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace offmon::collector {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

struct Parsed {
  std::vector<ImportRow> rows;
  std::vector<std::pair<size_t, std::string>> errors;
};

Parsed Csv(const std::string& text) {
  std::istringstream in(text);
  Parsed out;
  ParseCsvImport(
      in, [&](ImportRow&& row) { out.rows.push_back(std::move(row)); },
      [&](size_t line, const std::string& reason) { out.errors.emplace_back(line, reason); });
  return out;
}

Parsed OpenMetrics(const std::string& text, TimestampUnit unit = TimestampUnit::kSeconds) {
  std::istringstream in(text);
  Parsed out;
  ParseOpenMetricsImport(
      in, unit, [&](ImportRow&& row) { out.rows.push_back(std::move(row)); },
      [&](size_t line, const std::string& reason) { out.errors.emplace_back(line, reason); });
  return out;
}

SeriesKey Key(std::string_view text) {
  auto key = ParseSeriesKey(text);
  EXPECT_TRUE(key) << key.error().ToString();
  return key ? *key : SeriesKey();
}

// Every reason must be one line that a terminal can print: no raw control characters.
void ExpectOneLineReasons(const Parsed& p) {
  for (const auto& [line, reason] : p.errors) {
    EXPECT_EQ(reason.find_first_of("\n\r"), std::string::npos) << "line " << line << ": " << reason;
    EXPECT_LT(reason.size(), 300u) << "line " << line << ": " << reason;
  }
}

constexpr int64_t kT = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

TEST(CsvImportTest, ParsesRowsWithAllTimestampForms) {
  Parsed p = Csv(
      "timestamp,series,value\n"
      "1700000000,up,1\n"
      "1700000000.25,node_load1,0.5\n"
      "2023-11-14T22:13:20.5Z,node_load1,-2e3\n"
      "2023-11-15T00:13:20+02:00,\"up{job=\"\"a,b\"\",instance=\"\"x\"\"}\",0\n");
  ASSERT_TRUE(p.errors.empty()) << p.errors[0].second;
  ASSERT_EQ(p.rows.size(), 4u);
  EXPECT_EQ(p.rows[0].line, 2u);
  EXPECT_EQ(p.rows[0].series, Key("up"));
  EXPECT_EQ(ToMillis(p.rows[0].sample.time), kT);
  EXPECT_EQ(p.rows[0].sample.value, 1.0);
  EXPECT_EQ(ToMillis(p.rows[1].sample.time), kT + 250);
  EXPECT_EQ(p.rows[1].sample.value, 0.5);
  EXPECT_EQ(ToMillis(p.rows[2].sample.time), kT + 500);
  EXPECT_EQ(p.rows[2].sample.value, -2000.0);
  EXPECT_EQ(p.rows[3].line, 5u);
  EXPECT_EQ(ToMillis(p.rows[3].sample.time), kT);
  EXPECT_EQ(p.rows[3].series, SeriesKey("up", {{"job", "a,b"}, {"instance", "x"}}));
}

TEST(CsvImportTest, FractionalSecondsRoundToNearestMillisecond) {
  Parsed p = Csv(
      "timestamp,series,value\n"
      "1700000000.0004,a,1\n"
      "1700000000.0005,a,1\n"
      "1700000000.123456,a,1\n"
      "1700000000.9999,a,1\n");
  ASSERT_TRUE(p.errors.empty());
  ASSERT_EQ(p.rows.size(), 4u);
  EXPECT_EQ(ToMillis(p.rows[0].sample.time), kT);
  EXPECT_EQ(ToMillis(p.rows[1].sample.time), kT + 1);
  EXPECT_EQ(ToMillis(p.rows[2].sample.time), kT + 123);
  EXPECT_EQ(ToMillis(p.rows[3].sample.time), kT + 1000);
}

TEST(CsvImportTest, SpecialValues) {
  Parsed p = Csv(
      "timestamp,series,value\n"
      "1700000000,a,NaN\n"
      "1700000000,a,+Inf\n"
      "1700000000,a,-inf\n"
      "1700000000,a,INF\n"
      "1700000000,a,nan\n"
      "1700000000,a,+1.5\n");
  ASSERT_TRUE(p.errors.empty()) << p.errors[0].second;
  ASSERT_EQ(p.rows.size(), 6u);
  EXPECT_TRUE(std::isnan(p.rows[0].sample.value));
  EXPECT_EQ(p.rows[1].sample.value, INFINITY);
  EXPECT_EQ(p.rows[2].sample.value, -INFINITY);
  EXPECT_EQ(p.rows[3].sample.value, INFINITY);
  EXPECT_TRUE(std::isnan(p.rows[4].sample.value));
  EXPECT_EQ(p.rows[5].sample.value, 1.5);
}

TEST(CsvImportTest, ToleratesBomCrlfBlanksAndBlankLines) {
  Parsed p = Csv(
      "\xEF\xBB\xBF timestamp , series ,value \r\n"
      "\r\n"
      "1700000000 , up{job=\"x\"} , 1 \r\n"
      "   \n"
      " \"1700000000\" , \"up\" , \"2\"\r\n");
  ASSERT_TRUE(p.errors.empty()) << p.errors[0].second;
  ASSERT_EQ(p.rows.size(), 2u);
  EXPECT_EQ(p.rows[0].line, 3u);
  EXPECT_EQ(p.rows[0].series, Key(R"(up{job="x"})"));
  EXPECT_EQ(p.rows[1].line, 5u);
  EXPECT_EQ(p.rows[1].sample.value, 2.0);
}

TEST(CsvImportTest, EmptyFileIsAnErrorOnLineOne) {
  for (const char* text : {"", "\n\n", "  \r\n"}) {
    Parsed p = Csv(text);
    EXPECT_TRUE(p.rows.empty());
    EXPECT_THAT(p.errors, ::testing::ElementsAre(Pair(1u, "empty file: expected header timestamp,series,value")));
  }
}

TEST(CsvImportTest, WrongHeaderStops) {
  Parsed p = Csv("1700000000,up,1\n1700000001,up,2\n");
  EXPECT_TRUE(p.rows.empty());
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].first, 1u);
  EXPECT_EQ(p.errors[0].second, "expected header 'timestamp,series,value', got '1700000000,up,1'");
  Parsed swapped = Csv("series,timestamp,value\n");
  ASSERT_EQ(swapped.errors.size(), 1u);
  EXPECT_THAT(swapped.errors[0].second, HasSubstr("got 'series,timestamp,value'"));
}

TEST(CsvImportTest, ReportsBadLinesAndContinues) {
  Parsed p = Csv(
      "timestamp,series,value\n"
      "1700000000,up,abc\n"                      // 2
      "yesterday,up,1\n"                         // 3
      "2023-13-01T00:00:00Z,up,1\n"              // 4
      "1700000000,up{a=\"1\",b=\"2\"},1\n"       // 5: unquoted commas
      "1700000000,up\n"                          // 6
      "1700000000,\"up{a=\"\"1\"\"},1\n"         // 7: unterminated quote
      "1700000000,\"up\"x,1\n"                   // 8
      "1700000000,up{a=\"1\",1\n"                // 9: bad series (unquoted, so 4 fields? no: 3)
      "1700000000,\"up{a=\"\"1\"\",a=\"\"2\"\"}\",1\n"  // 10
      "1700000000,up,\n"                         // 11
      "1700000000,up,7\n");                      // 12
  ExpectOneLineReasons(p);
  ASSERT_EQ(p.rows.size(), 1u);
  EXPECT_EQ(p.rows[0].line, 12u);
  ASSERT_EQ(p.errors.size(), 10u);
  EXPECT_THAT(p.errors[0], Pair(2u, "bad value 'abc' (expected a number, NaN, +Inf or -Inf)"));
  EXPECT_THAT(p.errors[1], Pair(3u, "bad timestamp 'yesterday' (expected unix seconds or RFC 3339)"));
  EXPECT_THAT(p.errors[2], Pair(4u, "bad timestamp: date or time out of range: '2023-13-01T00:00:00Z'"));
  EXPECT_EQ(p.errors[3].first, 5u);
  EXPECT_THAT(p.errors[3].second, HasSubstr("expected 3 fields (timestamp,series,value), got 4"));
  EXPECT_THAT(p.errors[3].second, HasSubstr("quote a series that contains commas"));
  EXPECT_THAT(p.errors[4], Pair(6u, "expected 3 fields (timestamp,series,value), got 2: '1700000000,up'"));
  EXPECT_THAT(p.errors[5], Pair(7u, "unterminated quoted field starting at column 12 (a quoted field may not span lines)"));
  EXPECT_THAT(p.errors[6], Pair(8u, "unexpected text 'x,1' after a closing quote at column 16 (write \"\" for a quote)"));
  EXPECT_EQ(p.errors[7].first, 9u);
  EXPECT_THAT(p.errors[7].second, HasSubstr("invalid series key 'up{a=\"1\"': unterminated label set"));
  EXPECT_EQ(p.errors[8].first, 10u);
  EXPECT_THAT(p.errors[8].second, HasSubstr("duplicate label name 'a' at byte 9"));
  EXPECT_THAT(p.errors[9], Pair(11u, "bad value '' (expected a number, NaN, +Inf or -Inf)"));
}

TEST(CsvImportTest, QuotedFieldMayNotSpanLines) {
  Parsed p = Csv(
      "timestamp,series,value\n"
      "1700000000,\"up{a=\"\"x\n"
      "y\"\"}\",1\n"
      "1700000000,up,1\n");
  ASSERT_EQ(p.errors.size(), 2u);
  EXPECT_EQ(p.errors[0].first, 2u);
  EXPECT_THAT(p.errors[0].second, HasSubstr("may not span lines"));
  EXPECT_EQ(p.errors[1].first, 3u);
  ASSERT_EQ(p.rows.size(), 1u);
  EXPECT_EQ(p.rows[0].line, 4u);
}

TEST(CsvImportTest, LongBadTextIsTruncated) {
  const std::string junk(500, 'z');
  Parsed p = Csv("timestamp,series,value\n1700000000,up," + junk + "\n1700000000,up,\"a\x01\tb\"\n");
  ASSERT_EQ(p.errors.size(), 2u);
  ExpectOneLineReasons(p);
  EXPECT_THAT(p.errors[0].second, HasSubstr("zzz...'"));
  EXPECT_LT(p.errors[0].second.size(), 120u);
  EXPECT_THAT(p.errors[1].second, HasSubstr(R"('a\x01\tb')"));
}

// Found by fuzzing: escapes used to be counted as one byte, so 60 NULs became 240 characters.
TEST(CsvImportTest, EscapedTextIsTruncatedByWhatIsShown) {
  Parsed p = Csv("timestamp,series,value\n1700000000,up," + std::string(200, '\0') +
                 "\n1700000000,up,a\xE2\x80\xA8" "b\xC2\x85\xFF\n");
  ASSERT_EQ(p.errors.size(), 2u);
  ExpectOneLineReasons(p);
  EXPECT_LT(p.errors[0].second.size(), 120u) << p.errors[0].second;
  EXPECT_THAT(p.errors[0].second, HasSubstr("\\x00\\x00"));
  EXPECT_THAT(p.errors[1].second, HasSubstr(R"('a\u2028b\u0085\xff')"));
}

TEST(CsvImportTest, TimestampOutOfRange) {
  Parsed p = Csv("timestamp,series,value\n99999999999999999999,up,1\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_THAT(p.errors[0].second, HasSubstr("bad timestamp '99999999999999999999'"));
}

// Issue 17: a millisecond timestamp imported as seconds was stored as the year 55000 and
// shown as -6634-02-05. Each such line is an error naming the unit mix-up.
TEST(CsvImportTest, ImpossibleYearsAreRefusedWithAHint) {
  Parsed p = Csv("timestamp,series,value\n1700000000000,up,1\n946684799,up,1\n2200-01-01T00:00:00Z,up,1\n"
                 "1700000000,up,1\n");
  ASSERT_EQ(p.rows.size(), 1u);
  ASSERT_EQ(p.errors.size(), 3u);
  EXPECT_THAT(p.errors[0], Pair(2u, "time '1700000000000' is outside the years 2000 to 2199; it looks like "
                                    "milliseconds (CSV timestamps are unix seconds or RFC 3339)"));
  EXPECT_THAT(p.errors[1], Pair(3u, HasSubstr("time '946684799' is outside the years 2000 to 2199 (CSV")));
  EXPECT_THAT(p.errors[2], Pair(4u, "time '2200-01-01T00:00:00Z' is outside the years 2000 to 2199"));
}

TEST(OpenMetricsImportTest, ImpossibleYearsAreRefusedWithAHint) {
  Parsed seconds = OpenMetrics("up 1 1700000000000\nup 1 1700000000\n");
  ASSERT_EQ(seconds.rows.size(), 1u);
  ASSERT_EQ(seconds.errors.size(), 1u);
  EXPECT_THAT(seconds.errors[0], Pair(1u, HasSubstr("time '1700000000000' is outside the years 2000 to 2199; it "
                                                    "looks like milliseconds")));
  EXPECT_THAT(seconds.errors[0].second, HasSubstr("--timestamps ms"));
  Parsed millis = OpenMetrics("up 1 1700000000\nup 1 1700000000000\n", TimestampUnit::kMilliseconds);
  ASSERT_EQ(millis.rows.size(), 1u);
  ASSERT_EQ(millis.errors.size(), 1u);
  EXPECT_THAT(millis.errors[0], Pair(1u, HasSubstr("time '1700000000' is outside the years 2000 to 2199; it looks "
                                                   "like seconds")));
  // Found by fuzz_openmetrics_import: the "looks like seconds" check multiplied a huge
  // negative value by 1000 (signed overflow).
  Parsed huge = OpenMetrics("up 3 -33300001797263565\n", TimestampUnit::kMilliseconds);
  ASSERT_EQ(huge.errors.size(), 1u);
  EXPECT_THAT(huge.errors[0].second, HasSubstr("time '-33300001797263565' is outside the years 2000 to 2199"));
  EXPECT_THAT(huge.errors[0].second, Not(HasSubstr("looks like")));
}

TEST(OpenMetricsImportTest, ParsesExposition) {
  Parsed p = OpenMetrics(
      "# HELP process_cpu_seconds_total CPU time.\n"
      "# TYPE process_cpu_seconds_total counter\n"
      "# UNIT process_cpu_seconds_total seconds\n"
      "process_cpu_seconds_total{process=\"w1\",host=\"a\"} 12.5 1700000000\n"
      "# a free comment\n"
      "up 1 1700000000.123\n"
      "http_request_duration_seconds_bucket{le=\"+Inf\"} 3 1700000001 # {trace_id=\"abc\"} 0.7 1699999999.5\n"
      "temperature{room=\"k\\\"itchen\\\\\"} -Inf 1700000002\n"
      "# EOF\n");
  ASSERT_TRUE(p.errors.empty()) << p.errors[0].first << ": " << p.errors[0].second;
  ASSERT_EQ(p.rows.size(), 4u);
  EXPECT_EQ(p.rows[0].line, 4u);
  EXPECT_EQ(p.rows[0].series, SeriesKey("process_cpu_seconds_total", {{"process", "w1"}, {"host", "a"}}));
  EXPECT_EQ(p.rows[0].sample.value, 12.5);
  EXPECT_EQ(ToMillis(p.rows[0].sample.time), kT);
  EXPECT_EQ(p.rows[1].line, 6u);
  EXPECT_EQ(ToMillis(p.rows[1].sample.time), kT + 123);
  EXPECT_EQ(p.rows[2].series.Label("le"), "+Inf");
  EXPECT_EQ(ToMillis(p.rows[2].sample.time), kT + 1000);
  EXPECT_EQ(p.rows[3].series.Label("room"), "k\"itchen\\");
  EXPECT_EQ(p.rows[3].sample.value, -INFINITY);
}

TEST(OpenMetricsImportTest, PrometheusTextWithMilliseconds) {
  Parsed p = OpenMetrics(
      "# TYPE up gauge\r\n"
      "up{job=\"node\"} 1 1700000000123\r\n"
      "\r\n"
      "up{job=\"other\"} NaN 1700000000124\r\n"
      "up 1 1700000000.5\n",
      TimestampUnit::kMilliseconds);
  ASSERT_EQ(p.rows.size(), 2u);
  EXPECT_EQ(ToMillis(p.rows[0].sample.time), kT + 123);
  EXPECT_TRUE(std::isnan(p.rows[1].sample.value));
  EXPECT_EQ(p.rows[1].line, 4u);
  EXPECT_THAT(p.errors, ::testing::ElementsAre(Pair(
                            5u, "bad timestamp '1700000000.5' (expected integer unix milliseconds)")));
}

TEST(OpenMetricsImportTest, ReportsBadLinesAndContinues) {
  Parsed p = OpenMetrics(
      "up 1\n"                                   // 1
      "up 1 # {trace_id=\"x\"} 1\n"              // 2
      "up abc 1700000000\n"                      // 3
      "up{a=\"1\",a=\"2\"} 1 1700000000\n"       // 4
      "  up-down 1 1700000000\n"                 // 5
      "up 1 1700000000 extra\n"                  // 6
      "up 1 soon\n"                              // 7
      "up{a=\"1\"}1 1700000000\n"                // 8
      "up\n"                                     // 9
      "{__name__=\"up\"} 2 1700000000\n");       // 10
  ExpectOneLineReasons(p);
  ASSERT_EQ(p.rows.size(), 1u);
  EXPECT_EQ(p.rows[0].line, 10u);
  EXPECT_EQ(p.rows[0].series, Key("up"));
  ASSERT_EQ(p.errors.size(), 9u);
  EXPECT_THAT(p.errors[0], Pair(1u, "sample has no timestamp"));
  EXPECT_THAT(p.errors[1], Pair(2u, "sample has no timestamp"));
  EXPECT_THAT(p.errors[2], Pair(3u, "bad value 'abc' (expected a number, NaN, +Inf or -Inf)"));
  EXPECT_THAT(p.errors[3], Pair(4u, "bad series: duplicate label name 'a' at column 10"));
  EXPECT_THAT(p.errors[4], Pair(5u, HasSubstr("bad character '-' in metric name 'up'")));
  EXPECT_THAT(p.errors[4].second, HasSubstr("at column 5"));
  EXPECT_THAT(p.errors[5], Pair(6u, "unexpected text 'extra' after the timestamp"));
  EXPECT_THAT(p.errors[6], Pair(7u, "bad timestamp 'soon' (expected unix seconds)"));
  EXPECT_THAT(p.errors[7], Pair(8u, "expected a blank after the series, got '1 1700000000' at column 10"));
  EXPECT_THAT(p.errors[8], Pair(9u, "sample has no value"));
}

TEST(OpenMetricsImportTest, TextAfterEofIsAnError) {
  Parsed p = OpenMetrics("up 1 1700000000\n# EOF\n\nup 2 1700000001\nup 3 1700000002\n");
  ASSERT_EQ(p.rows.size(), 1u);
  EXPECT_THAT(p.errors, ::testing::ElementsAre(Pair(4u, "unexpected text after '# EOF': 'up 2 1700000001'")));
  Parsed trailing_blank = OpenMetrics("up 1 1700000000\n# EOF\n\n  \n");
  EXPECT_TRUE(trailing_blank.errors.empty());
  Parsed comment_after = OpenMetrics("# EOF\n# HELP x y\n");
  EXPECT_THAT(comment_after.errors, ::testing::ElementsAre(Pair(2u, HasSubstr("after '# EOF'"))));
}

TEST(OpenMetricsImportTest, EmptyInputIsFine) {
  Parsed p = OpenMetrics("");
  EXPECT_TRUE(p.rows.empty());
  EXPECT_TRUE(p.errors.empty());
}

TEST(ImportParsersTest, ThrowingHandlerDoesNotEscape) {
  std::istringstream csv("timestamp,series,value\n1700000000,up,1\n");
  size_t errors = 0;
  ParseCsvImport(
      csv, [](ImportRow&&) { throw std::runtime_error("boom"); },
      [&](size_t, const std::string&) { ++errors; });
  EXPECT_EQ(errors, 1u);
  std::istringstream om("up 1 1700000000\n");
  ParseOpenMetricsImport(
      om, TimestampUnit::kSeconds, [](ImportRow&&) { throw std::runtime_error("boom"); },
      [](size_t, const std::string&) { throw std::runtime_error("again"); });
}

}  // namespace
}  // namespace offmon::collector
