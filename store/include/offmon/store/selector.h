// Series selector in PromQL notation: `name{label="v", l2!="x", l3=~"re", l4!~"re"}`,
// `name`, or `{label="v"}`. Values may be in "double" or 'single' quotes (escapes \\, \",
// \', \n) or `backticks` (raw). Regexes are fully anchored (RE2/Prometheus semantics, run
// on std::regex ECMAScript); like RE2 they may not use backreferences or repeat counts
// above 1000. Thread safety: a parsed Selector is immutable and may be shared.
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "offmon/common/result.h"
#include "offmon/common/series_key.h"

namespace offmon::store {

enum class MatchOp { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

struct LabelMatcher {
  std::string name;  // "__name__" for the metric name
  MatchOp op = MatchOp::kEqual;
  std::string value;
  std::shared_ptr<const std::regex> regex;  // set for the regex ops

  // A regex op without a compiled `regex` (a hand-built matcher) or a match that std::regex
  // aborts (error_complexity/error_stack) counts as "did not match".
  bool Matches(std::string_view actual) const;
};

class Selector {
 public:
  // Parses selector text. InvalidArgument naming the byte offset and what was expected.
  // A selector needs a metric name or at least one matcher that does not match "".
  static Result<Selector> Parse(std::string_view text);

  bool Matches(const SeriesKey& key) const;
  const std::vector<LabelMatcher>& matchers() const { return matchers_; }
  // The metric name when the selector pins it with `=`, else empty.
  const std::string& metric_name() const { return metric_name_; }

 private:
  std::vector<LabelMatcher> matchers_;
  std::string metric_name_;
};

}  // namespace offmon::store
