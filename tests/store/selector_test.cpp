#include "offmon/store/selector.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace offmon::store {
namespace {

using ::testing::HasSubstr;

Selector MustParse(std::string_view text) {
  auto s = Selector::Parse(text);
  EXPECT_TRUE(s) << text << ": " << s.error().ToString();
  return s ? *s : Selector();
}

std::string ParseError(std::string_view text) {
  auto s = Selector::Parse(text);
  if (s) return "parsed";
  EXPECT_EQ(s.error().code(), StatusCode::kInvalidArgument);
  return s.error().message();
}

SeriesKey Key(std::string_view text) {
  auto key = ParseSeriesKey(text);
  EXPECT_TRUE(key) << key.error().ToString();
  return key ? *key : SeriesKey();
}

TEST(SelectorTest, BareNamePinsMetricName) {
  Selector s = MustParse("process_memory_bytes");
  EXPECT_EQ(s.metric_name(), "process_memory_bytes");
  ASSERT_EQ(s.matchers().size(), 1u);
  EXPECT_EQ(s.matchers()[0].name, "__name__");
  EXPECT_EQ(s.matchers()[0].op, MatchOp::kEqual);
  EXPECT_TRUE(s.Matches(Key(R"(process_memory_bytes{process="w1"})")));
  EXPECT_FALSE(s.Matches(Key("process_cpu_seconds_total")));
}

TEST(SelectorTest, ParsesAllFourOperators) {
  Selector s = MustParse(R"(m{a="1", b!="2", c=~"x.*", d!~"y|z"})");
  ASSERT_EQ(s.matchers().size(), 5u);
  EXPECT_EQ(s.matchers()[1].op, MatchOp::kEqual);
  EXPECT_EQ(s.matchers()[2].op, MatchOp::kNotEqual);
  EXPECT_EQ(s.matchers()[3].op, MatchOp::kRegexMatch);
  EXPECT_EQ(s.matchers()[4].op, MatchOp::kRegexNoMatch);
  EXPECT_TRUE(s.matchers()[3].regex);
  EXPECT_TRUE(s.matchers()[4].regex);
  EXPECT_FALSE(s.matchers()[1].regex);
  EXPECT_TRUE(s.Matches(Key(R"(m{a="1",b="3",c="xyz",d="w"})")));
  EXPECT_FALSE(s.Matches(Key(R"(m{a="1",b="2",c="xyz",d="w"})")));
  EXPECT_FALSE(s.Matches(Key(R"(m{a="1",b="3",c="axyz",d="w"})")));
  EXPECT_FALSE(s.Matches(Key(R"(m{a="1",b="3",c="xyz",d="z"})")));
}

TEST(SelectorTest, AllowsBlanksAndTrailingComma) {
  Selector s = MustParse("  m  {  a = \"1\" ,\tb =~ \"2\" , }  ");
  EXPECT_EQ(s.matchers().size(), 3u);
  EXPECT_TRUE(s.Matches(Key(R"(m{a="1",b="2"})")));
  MustParse("m{}");
}

TEST(SelectorTest, RegexIsFullyAnchored) {
  Selector s = MustParse(R"(m{job=~"node"})");
  EXPECT_TRUE(s.Matches(Key(R"(m{job="node"})")));
  EXPECT_FALSE(s.Matches(Key(R"(m{job="node_exporter"})")));
  EXPECT_FALSE(s.Matches(Key(R"(m{job="a-node"})")));
  // An alternation must not escape the anchors: ^a|b$ would match "ab..." and "...b".
  Selector alt = MustParse(R"(m{job=~"a|b"})");
  EXPECT_TRUE(alt.Matches(Key(R"(m{job="a"})")));
  EXPECT_TRUE(alt.Matches(Key(R"(m{job="b"})")));
  EXPECT_FALSE(alt.Matches(Key(R"(m{job="ax"})")));
  EXPECT_FALSE(alt.Matches(Key(R"(m{job="xb"})")));
  Selector neg = MustParse(R"(m{job!~"node"})");
  EXPECT_TRUE(neg.Matches(Key(R"(m{job="node_exporter"})")));
  EXPECT_FALSE(neg.Matches(Key(R"(m{job="node"})")));
}

TEST(SelectorTest, RegexCannotBreakOutOfAnchoringGroup) {
  EXPECT_THAT(ParseError(R"(m{a=~"x)|(y"})"), HasSubstr("invalid regex 'x)|(y' for label 'a'"));
}

TEST(SelectorTest, AbsentLabelMatchesAsEmpty) {
  EXPECT_TRUE(MustParse(R"(m{a=""})").Matches(Key("m")));
  EXPECT_FALSE(MustParse(R"(m{a=""})").Matches(Key(R"(m{a="x"})")));
  EXPECT_TRUE(MustParse(R"(m{a!="x"})").Matches(Key("m")));
  EXPECT_TRUE(MustParse(R"(m{a=~"x|"})").Matches(Key("m")));
  EXPECT_FALSE(MustParse(R"(m{a=~".+"})").Matches(Key("m")));
  EXPECT_TRUE(MustParse(R"(m{a!~".+"})").Matches(Key("m")));
}

TEST(SelectorTest, NameFromNameMatcher) {
  Selector eq = MustParse(R"({__name__="up", job="x"})");
  EXPECT_EQ(eq.metric_name(), "up");
  EXPECT_TRUE(eq.Matches(Key(R"(up{job="x"})")));
  EXPECT_FALSE(eq.Matches(Key(R"(down{job="x"})")));
  Selector re = MustParse(R"({__name__=~"process_.*"})");
  EXPECT_EQ(re.metric_name(), "");
  EXPECT_TRUE(re.Matches(Key("process_cpu_seconds_total")));
  EXPECT_FALSE(re.Matches(Key("node_load1")));
  Selector ne = MustParse(R"({__name__!="up", job="x"})");
  EXPECT_EQ(ne.metric_name(), "");
  EXPECT_FALSE(ne.Matches(Key(R"(up{job="x"})")));
  EXPECT_TRUE(ne.Matches(Key(R"(down{job="x"})")));
}

TEST(SelectorTest, SingleQuotesAndBackticks) {
  Selector s = MustParse(R"(m{a='it\'s', b=`C:\dir\d+`, c="q\"\\\n"})");
  EXPECT_EQ(s.matchers()[1].value, "it's");
  EXPECT_EQ(s.matchers()[2].value, R"(C:\dir\d+)");
  EXPECT_EQ(s.matchers()[3].value, "q\"\\\n");
  // A backtick string is raw, which is how regexes with backslashes are written.
  Selector re = MustParse(R"(m{a=~`\d+`})");
  EXPECT_TRUE(re.Matches(Key(R"(m{a="123"})")));
  EXPECT_FALSE(re.Matches(Key(R"(m{a="12a"})")));
}

TEST(SelectorTest, RejectsEmptySelectors) {
  EXPECT_THAT(ParseError(""), HasSubstr("empty selector"));
  EXPECT_THAT(ParseError("  "), HasSubstr("empty selector"));
  EXPECT_THAT(ParseError("{}"), HasSubstr("selector needs a metric name or a matcher that does not match"));
  EXPECT_THAT(ParseError(R"({a=""})"), HasSubstr("does not match the empty string"));
  EXPECT_THAT(ParseError(R"({a=~".*"})"), HasSubstr("does not match the empty string"));
  EXPECT_THAT(ParseError(R"({a!="x"})"), HasSubstr("does not match the empty string"));
  EXPECT_THAT(ParseError(R"({a!~".+"})"), HasSubstr("does not match the empty string"));
  // One selective matcher is enough.
  MustParse(R"({a=~".*", b="x"})");
  MustParse(R"({a=~".+"})");
  MustParse(R"({a!=""})");
}

TEST(SelectorTest, RejectsInvalidRegex) {
  std::string message = ParseError(R"(m{job=~"a(b"})");
  EXPECT_THAT(message, HasSubstr("invalid regex 'a(b' for label 'job'"));
  EXPECT_THAT(message, HasSubstr("at byte 7"));
  EXPECT_THAT(ParseError(R"(m{job!~"[z-a]"})"), HasSubstr("invalid regex '[z-a]'"));
  EXPECT_THAT(ParseError(R"(m{job=~"*"})"), HasSubstr("invalid regex"));
}

TEST(SelectorTest, RejectsRegexesThatWouldExplode) {
  EXPECT_THAT(ParseError(R"(m{a=~"x{1001}"})"), HasSubstr("repetition count above 1000"));
  EXPECT_THAT(ParseError(R"(m{a=~"x{1,99999999999999999999}"})"), HasSubstr("repetition count above 1000"));
  EXPECT_THAT(ParseError(R"(m{a=~"((x{1000}){1000}){1000}"})"), HasSubstr("expand too far"));
  EXPECT_THAT(ParseError("m{a=~\"" + std::string(150, '(') + "x" + std::string(150, ')') + "\"}"),
              HasSubstr("nested deeper"));
  MustParse(R"(m{a=~`x{3}[{]{2,5}\{9999}`})");  // braces that are not counted repetitions
  // RE2 has none, and libstdc++ overflows reading a long backreference number.
  EXPECT_THAT(ParseError(R"(m{a=~`(a)\1`})"), HasSubstr("backreferences are not supported"));
  EXPECT_THAT(ParseError(R"(m{a=~`(a)[\99999999999999999999]`})"), HasSubstr("backreferences are not supported"));
  MustParse(R"(m{a=~`a\0`})");  // \0 is NUL, not a backreference
}

// With a backtracking executor each of these takes seconds to years (or overflows the stack).
TEST(SelectorTest, RegexMatchingIsNotExponential) {
  Selector nested = MustParse(R"(m{a=~"((((((((((a?)+)+)+)+)+)+)+)+)+)+b"})");
  EXPECT_FALSE(nested.Matches(Key(R"(m{a="aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})")));
  Selector classic = MustParse(R"(m{a=~"(x+x+)+y"})");
  EXPECT_FALSE(classic.Matches(SeriesKey("m", {{"a", std::string(64, 'x')}})));
  EXPECT_TRUE(classic.Matches(SeriesKey("m", {{"a", std::string(64, 'x') + "y"}})));
  Selector alternation = MustParse(R"(m{a=~"(a|b)*c?"})");
  EXPECT_TRUE(alternation.Matches(SeriesKey("m", {{"a", std::string(500'000, 'a')}})));
}

TEST(SelectorTest, RejectsSyntaxErrorsWithOffsets) {
  EXPECT_THAT(ParseError(R"(m{a~"x"})"), HasSubstr("expected one of =, !=, =~, !~ after label name 'a', got '~' at byte 3"));
  EXPECT_THAT(ParseError(R"(m{a=x})"), HasSubstr("expected a quoted string, got 'x' at byte 4"));
  EXPECT_THAT(ParseError(R"(m{a="x"b="y"})"), HasSubstr("expected ',' or '}' after a matcher, got 'b' at byte 7"));
  EXPECT_THAT(ParseError(R"(m{a="x")"), HasSubstr("expected ',' or '}' after a matcher, got end of input at byte 7"));
  EXPECT_THAT(ParseError(R"(m{a="x)"), HasSubstr("unterminated string"));
  EXPECT_THAT(ParseError(R"(m{1="x"})"), HasSubstr("expected a label name, got '1' at byte 2"));
  EXPECT_THAT(ParseError(R"(m{a="x\d"})"), HasSubstr("bad escape '\\d'"));
  EXPECT_THAT(ParseError(R"(m[5m])"), HasSubstr("unexpected text '[5m]' after the selector at byte 1"));
  EXPECT_THAT(ParseError("1m"), HasSubstr("expected a metric name or '{', got '1' at byte 0"));
  EXPECT_THAT(ParseError(R"(m{__name__="m"})"), HasSubstr("metric name given twice"));
}

TEST(SelectorTest, ErrorMessageIsOneLine) {
  std::string message = ParseError("m{a=~\"(\n" + std::string(300, 'x') + "\"}");
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_LT(message.size(), 400u);
}

TEST(SelectorTest, HandBuiltMatcherWithoutRegexNeverMatches) {
  LabelMatcher m{"a", MatchOp::kRegexMatch, "x", nullptr};
  EXPECT_FALSE(m.Matches("x"));
  m.op = MatchOp::kRegexNoMatch;
  EXPECT_TRUE(m.Matches("x"));
}

}  // namespace
}  // namespace offmon::store
