#include "offmon/common/series_key.h"

#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace offmon {
namespace {

using ::testing::HasSubstr;

std::string ParseError(std::string_view text) {
  auto key = ParseSeriesKey(text);
  if (key) return "parsed as " + key->ToString();
  EXPECT_EQ(key.error().code(), StatusCode::kInvalidArgument);
  return key.error().message();
}

TEST(SeriesKeyTest, ConstructorSortsLabels) {
  SeriesKey key("up", {{"job", "node"}, {"instance", "a:9100"}, {"env", "prod"}});
  ASSERT_EQ(key.labels.size(), 3u);
  EXPECT_EQ(key.labels[0].name, "env");
  EXPECT_EQ(key.labels[1].name, "instance");
  EXPECT_EQ(key.labels[2].name, "job");
}

TEST(SeriesKeyTest, ConstructorDropsEmptyValuesAndKeepsLastOfRepeatedNames) {
  SeriesKey key("up", {{"a", "1"}, {"b", ""}, {"a", "2"}, {"c", "x"}, {"c", ""}});
  EXPECT_EQ(key, SeriesKey("up", {{"a", "2"}}));
  EXPECT_EQ(key.ToString(), "up{a=\"2\"}");
}

TEST(SeriesKeyTest, ToStringWithoutLabelsIsJustTheName) {
  EXPECT_EQ(SeriesKey("process_cpu_seconds_total", {}).ToString(), "process_cpu_seconds_total");
}

TEST(SeriesKeyTest, ToStringIsCanonicalAndEscapes) {
  SeriesKey key("m", {{"z", "plain"}, {"a", "q\"uo\\te\nnl"}});
  EXPECT_EQ(key.ToString(), R"(m{a="q\"uo\\te\nnl",z="plain"})");
}

TEST(SeriesKeyTest, LabelReturnsValueOrEmpty) {
  SeriesKey key("up", {{"job", "node"}, {"instance", "a"}});
  EXPECT_EQ(key.Label("job"), "node");
  EXPECT_EQ(key.Label("instance"), "a");
  EXPECT_EQ(key.Label("missing"), "");
  EXPECT_EQ(key.Label(""), "");
}

TEST(SeriesKeyTest, ParsesNameOnlyAndEmptyBraces) {
  auto a = ParseSeriesKey("up");
  ASSERT_TRUE(a) << a.error().ToString();
  EXPECT_EQ(*a, SeriesKey("up", {}));
  auto b = ParseSeriesKey("up{}");
  ASSERT_TRUE(b) << b.error().ToString();
  EXPECT_EQ(*b, SeriesKey("up", {}));
  auto c = ParseSeriesKey("ns:rule_name:rate5m");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->name, "ns:rule_name:rate5m");
}

TEST(SeriesKeyTest, ParsesLabelsInAnyOrderWithBlanksAndTrailingComma) {
  auto key = ParseSeriesKey("  up { job = \"node\" ,\tinstance=\"a:9100\", }  ");
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(*key, SeriesKey("up", {{"instance", "a:9100"}, {"job", "node"}}));
  EXPECT_EQ(key->ToString(), "up{instance=\"a:9100\",job=\"node\"}");
}

TEST(SeriesKeyTest, ParsesNameFromNameLabel) {
  auto key = ParseSeriesKey(R"({__name__="up",job="x"})");
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(*key, SeriesKey("up", {{"job", "x"}}));
  auto late = ParseSeriesKey(R"({job="x",__name__="up"})");
  ASSERT_TRUE(late) << late.error().ToString();
  EXPECT_EQ(*late, *key);
}

TEST(SeriesKeyTest, ParsesEscapes) {
  auto key = ParseSeriesKey(R"(m{a="x\\y\"z\nw"})");
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(key->Label("a"), "x\\y\"z\nw");
}

TEST(SeriesKeyTest, DropsEmptyLabelValues) {
  auto key = ParseSeriesKey(R"(up{a="",b="1"})");
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(*key, SeriesKey("up", {{"b", "1"}}));
}

TEST(SeriesKeyTest, KeepsUnicodeValues) {
  auto key = ParseSeriesKey("m{city=\"Zürich\",emoji=\"🚀\"}");
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(key->Label("city"), "Zürich");
  EXPECT_EQ(key->Label("emoji"), "🚀");
}

TEST(SeriesKeyTest, RejectsBadMetricName) {
  EXPECT_THAT(ParseError("1up"), HasSubstr("bad metric name"));
  EXPECT_THAT(ParseError("1up"), HasSubstr("at byte 0"));
  EXPECT_THAT(ParseError("up-down{a=\"b\"}"), HasSubstr("bad character '-' in metric name 'up'"));
  EXPECT_THAT(ParseError("up-down{a=\"b\"}"), HasSubstr("at byte 2"));
  EXPECT_THAT(ParseError(R"({__name__="1x"})"), HasSubstr("bad metric name '1x' in __name__"));
}

TEST(SeriesKeyTest, RejectsBadLabelName) {
  EXPECT_THAT(ParseError(R"(up{1a="b"})"), HasSubstr("bad label name: expected a letter or '_', got '1' at byte 3"));
  EXPECT_THAT(ParseError(R"(up{a:b="c"})"), HasSubstr("bad character ':' in label name 'a' (allowed"));
  EXPECT_THAT(ParseError(R"(up{a-b="c"})"), HasSubstr("at byte 4"));
}

TEST(SeriesKeyTest, RejectsReservedLabelNames) {
  EXPECT_THAT(ParseError(R"(up{__meta="x"})"),
              HasSubstr("label name '__meta' is reserved (names starting with '__' are internal) at byte 3"));
  EXPECT_THAT(ParseError(R"(up{a="1",__="x"})"), HasSubstr("reserved"));
}

TEST(SeriesKeyTest, RejectsDuplicateLabels) {
  EXPECT_THAT(ParseError(R"(up{a="1",a="2"})"), HasSubstr("duplicate label name 'a' at byte 9"));
  // An empty value is still a written label: the second spelling is a duplicate too.
  EXPECT_THAT(ParseError(R"(up{a="",a="2"})"), HasSubstr("duplicate label name 'a'"));
}

TEST(SeriesKeyTest, RejectsNameGivenTwice) {
  EXPECT_THAT(ParseError(R"(up{__name__="up"})"), HasSubstr("metric name given twice"));
}

TEST(SeriesKeyTest, RejectsUnterminatedString) {
  EXPECT_THAT(ParseError(R"(up{a="x)"), HasSubstr("unterminated string (no closing \") at byte 5"));
  EXPECT_THAT(ParseError(R"(up{a="x\)"), HasSubstr("unterminated string"));
  EXPECT_THAT(ParseError(R"(up{a="x")"), HasSubstr("unterminated label set: expected ',' or '}' at byte 8"));
  EXPECT_THAT(ParseError("up{"), HasSubstr("unterminated label set"));
}

TEST(SeriesKeyTest, RejectsBadEscape) {
  EXPECT_THAT(ParseError(R"(up{a="x\ty"})"), HasSubstr("bad escape '\\t'"));
  EXPECT_THAT(ParseError(R"(up{a="x\ty"})"), HasSubstr("at byte 7"));
}

TEST(SeriesKeyTest, RejectsRawNewlineAndInvalidUtf8) {
  EXPECT_THAT(ParseError("up{a=\"x\ny\"}"), HasSubstr("newline in string"));
  EXPECT_THAT(ParseError("up{a=\"\xff\"}"), HasSubstr("not valid UTF-8"));
  EXPECT_THAT(ParseError("up{a=\"\xc0\xaf\"}"), HasSubstr("not valid UTF-8"));  // overlong '/'
}

TEST(SeriesKeyTest, RejectsTrailingText) {
  EXPECT_THAT(ParseError(R"(up{a="b"} 1)"), HasSubstr("unexpected text '1' after the series key at byte 10"));
  EXPECT_THAT(ParseError(R"(up{a="b"}})"), HasSubstr("unexpected text"));
}

TEST(SeriesKeyTest, RejectsMissingName) {
  EXPECT_THAT(ParseError(""), HasSubstr("missing metric name"));
  EXPECT_THAT(ParseError("   "), HasSubstr("missing metric name"));
  EXPECT_THAT(ParseError(R"({a="b"})"), HasSubstr("missing metric name"));
  EXPECT_THAT(ParseError(R"({__name__=""})"), HasSubstr("missing metric name"));
  EXPECT_THAT(ParseError("{}"), HasSubstr("missing metric name"));
}

TEST(SeriesKeyTest, RejectsMissingPieces) {
  EXPECT_THAT(ParseError(R"(up{a})"), HasSubstr("expected '=' after label name 'a', got '}'"));
  EXPECT_THAT(ParseError(R"(up{a=b})"), HasSubstr("expected '\"' to start the value of label 'a', got 'b'"));
  EXPECT_THAT(ParseError(R"(up{a='b'})"), HasSubstr("expected '\"'"));
  EXPECT_THAT(ParseError(R"(up{a="b" c="d"})"), HasSubstr("expected ',' or '}' after a label value, got 'c'"));
  EXPECT_THAT(ParseError(R"(up{,})"), HasSubstr("bad label name"));
}

TEST(SeriesKeyTest, ErrorQuotesTextOnOneLineAndTruncates) {
  std::string long_text = "bad name " + std::string(200, 'x') + "\n";
  std::string message = ParseError(long_text);
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_THAT(message, HasSubstr("..."));
  EXPECT_LT(message.size(), 200u);
}

TEST(SeriesKeyTest, NameValidators) {
  EXPECT_TRUE(IsValidMetricName("a"));
  EXPECT_TRUE(IsValidMetricName("_a:b_1"));
  EXPECT_TRUE(IsValidMetricName(":x"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_FALSE(IsValidMetricName("1a"));
  EXPECT_FALSE(IsValidMetricName("a-b"));
  EXPECT_FALSE(IsValidMetricName("a b"));
  EXPECT_TRUE(IsValidLabelName("a"));
  EXPECT_TRUE(IsValidLabelName("__name__"));
  EXPECT_TRUE(IsValidLabelName("_1"));
  EXPECT_FALSE(IsValidLabelName(""));
  EXPECT_FALSE(IsValidLabelName("a:b"));
  EXPECT_FALSE(IsValidLabelName("9"));
}

// Random keys, values full of the characters that need escaping, must survive
// ToString -> ParseSeriesKey unchanged.
TEST(SeriesKeyTest, RandomRoundTrip) {
  std::mt19937 rng(20251115);
  const std::vector<std::string> pieces = {"a", "Z", "0", " ", "\"", "\\", "\n", "{", "}", ",", "=",
                                           "é", "日本", "🚀", "\\n", "\\\"", "'", "`", "\t", "#"};
  const std::string name_start = "abcxyzABCXYZ_";
  const std::string name_rest = "abcxyzABCXYZ_0123456789";
  auto random_name = [&](bool metric) {
    std::string name(1, name_start[rng() % name_start.size()]);
    if (metric && rng() % 5 == 0) name += ':';
    const size_t len = rng() % 12;
    for (size_t i = 0; i < len; ++i) name += name_rest[rng() % name_rest.size()];
    if (!metric && name.starts_with("__")) name[0] = 'x';  // reserved
    return name;
  };
  for (int iteration = 0; iteration < 2000; ++iteration) {
    Labels labels;
    const size_t count = rng() % 6;
    for (size_t i = 0; i < count; ++i) {
      std::string value;
      const size_t len = 1 + rng() % 8;
      for (size_t k = 0; k < len; ++k) value += pieces[rng() % pieces.size()];
      labels.push_back({random_name(false), value});
    }
    SeriesKey key(random_name(true), std::move(labels));
    const std::string text = key.ToString();
    auto parsed = ParseSeriesKey(text);
    ASSERT_TRUE(parsed) << text << ": " << parsed.error().ToString();
    ASSERT_EQ(*parsed, key) << text;
    ASSERT_EQ(parsed->ToString(), text);
    ASSERT_EQ(text.find('\n'), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace offmon
