#include "offmon/store/selector.h"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "../common/series_key_impl.h"

namespace offmon::store {
namespace {

using internal::DescribeAt;
using internal::ParseError;

// libstdc++ compiles a counted repetition by copying the repeated automaton once per
// count, so `a{100000}` or `((a{999}){999}){999}` exhausts memory, and deep nesting
// recurses in the compiler. RE2 (what Prometheus uses) rejects counts above 1000; we do
// the same and also bound the expanded size and the nesting depth.
constexpr int64_t kMaxRepeatCount = 1000;
constexpr int64_t kMaxExpandedSize = 100'000;
constexpr size_t kMaxGroupDepth = 100;
constexpr size_t kMaxRegexLength = 4096;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// `\1`..`\9...`: RE2 has no backreferences, and libstdc++ reads the number into a long
// without an overflow check (undefined behaviour on `\99999999999999999999`).
bool IsBackreference(std::string_view re, size_t i) {
  return re[i] == '\\' && i + 1 < re.size() && re[i + 1] >= '1' && re[i + 1] <= '9';
}

// Estimates the size of the automaton std::regex will build. Not a validating parser:
// whatever it lets through still goes to std::regex, which reports syntax errors.
bool CheckRegexLimits(std::string_view re, std::string* reason) {
  if (re.size() > kMaxRegexLength) {
    *reason = fmt::format("longer than {} bytes", kMaxRegexLength);
    return false;
  }
  struct Level {
    int64_t size = 0;  // expanded size of the finished atoms at this level
    int64_t last = 0;  // expanded size of the most recent atom, which a quantifier repeats
  };
  std::vector<Level> stack(1);
  size_t i = 0;
  while (i < re.size()) {
    const char c = re[i];
    Level& top = stack.back();
    if (c == '\\') {
      if (IsBackreference(re, i)) {
        *reason = "backreferences are not supported";
        return false;
      }
      i += 2;
      top.last = 1;
      top.size += 1;
    } else if (c == '[') {
      // A class is one state; skip to its closing bracket (a leading ']' closes it in ECMAScript).
      ++i;
      while (i < re.size() && re[i] != ']') {
        if (IsBackreference(re, i)) {
          *reason = "backreferences are not supported";
          return false;
        }
        i += re[i] == '\\' ? 2 : 1;
      }
      ++i;
      top.last = 1;
      top.size += 1;
    } else if (c == '(') {
      if (stack.size() > kMaxGroupDepth) {
        *reason = fmt::format("groups nested deeper than {}", kMaxGroupDepth);
        return false;
      }
      stack.emplace_back();
      ++i;
    } else if (c == ')') {
      if (stack.size() > 1) {
        const int64_t group = stack.back().size + 1;
        stack.pop_back();
        stack.back().last = group;
        stack.back().size += group;
      }
      ++i;
    } else if (c == '{' && i + 1 < re.size() && IsDigit(re[i + 1])) {
      int64_t low = 0;
      int64_t high = 0;
      size_t j = i + 1;
      while (j < re.size() && IsDigit(re[j]) && low <= kMaxRepeatCount) low = low * 10 + (re[j++] - '0');
      high = low;
      if (j < re.size() && re[j] == ',') {
        ++j;
        if (j < re.size() && IsDigit(re[j])) {
          high = 0;
          while (j < re.size() && IsDigit(re[j]) && high <= kMaxRepeatCount) high = high * 10 + (re[j++] - '0');
        } else {
          high = low + 1;  // {n,}: n copies plus a star
        }
      }
      if (low > kMaxRepeatCount || high > kMaxRepeatCount) {
        *reason = fmt::format("repetition count above {}", kMaxRepeatCount);
        return false;
      }
      const int64_t copies = std::max<int64_t>(std::max(low, high), 1);
      top.size += top.last * (copies - 1);
      top.last *= copies;
      i = j;
    } else {
      top.last = 1;
      top.size += 1;
      ++i;
    }
    if (stack.back().size > kMaxExpandedSize || stack.back().last > kMaxExpandedSize) {
      *reason = "counted repetitions expand too far";
      return false;
    }
  }
  return true;
}

// libstdc++'s default executor backtracks: exponential time on patterns like (a?)+b, even
// against "" (which Parse tries), and recursion as deep as the subject is long.
// __polynomial, a libstdc++ extension, selects its breadth-first executor instead: time
// linear in the subject, as with RE2 in Prometheus. Whole-string match results are the
// same; it only lacks backreferences, which RE2 lacks too and CheckRegexLimits refuses.
// nosubs: nothing reads submatches, and that executor copies them at every step.
#if defined(__GLIBCXX__)
constexpr auto kRegexFlags = std::regex::ECMAScript | std::regex::optimize | std::regex::nosubs |
                             std::regex_constants::__polynomial;
#else
constexpr auto kRegexFlags = std::regex::ECMAScript | std::regex::optimize | std::regex::nosubs;
#endif

bool CompileRegex(const std::string& re, std::shared_ptr<const std::regex>* out, std::string* reason) {
  if (!CheckRegexLimits(re, reason)) return false;
  try {
    // Compiled on its own first: `a)|(b` would otherwise splice into the anchoring
    // group and leave the pattern half unanchored.
    std::regex bare(re, std::regex::ECMAScript);
    *out = std::make_shared<const std::regex>("^(?:" + re + ")$", kRegexFlags);
    return true;
  } catch (const std::regex_error& e) {
    *reason = e.what();
  } catch (const std::exception& e) {  // bad_alloc on a huge pattern
    *reason = e.what();
  }
  return false;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  bool Parse(std::vector<LabelMatcher>* matchers, std::string* metric_name, ParseError* error) {
    const size_t n = text_.size();
    size_t pos = internal::SkipBlanks(text_, 0);
    if (pos >= n) return Fail(error, pos, "empty selector: expected a metric name or '{'");
    const size_t name_end = internal::ScanMetricName(text_, pos);
    const bool has_name = name_end > pos;
    if (has_name) {
      matchers->push_back({"__name__", MatchOp::kEqual, std::string(text_.substr(pos, name_end - pos)), nullptr});
      *metric_name = matchers->back().value;
      pos = internal::SkipBlanks(text_, name_end);
    }
    if (pos < n && text_[pos] == '{') {
      pos = internal::SkipBlanks(text_, pos + 1);
      if (pos < n && text_[pos] == '}') {
        ++pos;
      } else {
        for (;;) {
          LabelMatcher matcher;
          const size_t matcher_start = pos;
          if (!ParseMatcher(&pos, &matcher, error)) return false;
          if (matcher.name == "__name__") {
            // PromQL allows several __name__ matchers in braces, but not next to a bare name.
            if (has_name) {
              return Fail(error, matcher_start, "metric name given twice (before '{' and as __name__)");
            }
            if (matcher.op == MatchOp::kEqual && metric_name->empty()) *metric_name = matcher.value;
          }
          matchers->push_back(std::move(matcher));
          pos = internal::SkipBlanks(text_, pos);
          if (pos < n && text_[pos] == ',') {
            pos = internal::SkipBlanks(text_, pos + 1);
            if (pos < n && text_[pos] == '}') {
              ++pos;
              break;
            }
            continue;
          }
          if (pos < n && text_[pos] == '}') {
            ++pos;
            break;
          }
          return Fail(error, pos, fmt::format("expected ',' or '}}' after a matcher, got {}", DescribeAt(text_, pos)));
        }
      }
    } else if (!has_name) {
      return Fail(error, pos, fmt::format("expected a metric name or '{{', got {}", DescribeAt(text_, pos)));
    }
    pos = internal::SkipBlanks(text_, pos);
    if (pos < n) {
      return Fail(error, pos,
                  fmt::format("unexpected text '{}' after the selector", internal::Snippet(text_.substr(pos), 20)));
    }
    const bool selective = std::any_of(matchers->begin(), matchers->end(),
                                       [](const LabelMatcher& m) { return !m.Matches(""); });
    if (!selective) {
      return Fail(error, 0,
                  "selector needs a metric name or a matcher that does not match the empty string "
                  "(it would select every series)");
    }
    return true;
  }

 private:
  static bool Fail(ParseError* error, size_t offset, std::string reason) {
    error->offset = offset;
    error->reason = std::move(reason);
    return false;
  }

  bool ParseMatcher(size_t* pos, LabelMatcher* matcher, ParseError* error) {
    const size_t n = text_.size();
    const size_t start = *pos;
    const size_t name_end = internal::ScanLabelName(text_, start);
    if (name_end == start) {
      return Fail(error, start, fmt::format("expected a label name, got {}", DescribeAt(text_, start)));
    }
    matcher->name.assign(text_.substr(start, name_end - start));
    size_t p = internal::SkipBlanks(text_, name_end);
    if (p < n && text_[p] == '=') {
      matcher->op = MatchOp::kEqual;
      ++p;
      if (p < n && text_[p] == '~') {
        matcher->op = MatchOp::kRegexMatch;
        ++p;
      }
    } else if (p + 1 < n && text_[p] == '!' && text_[p + 1] == '=') {
      matcher->op = MatchOp::kNotEqual;
      p += 2;
    } else if (p + 1 < n && text_[p] == '!' && text_[p + 1] == '~') {
      matcher->op = MatchOp::kRegexNoMatch;
      p += 2;
    } else {
      return Fail(error, p,
                  fmt::format("expected one of =, !=, =~, !~ after label name '{}', got {}",
                              internal::Snippet(matcher->name), DescribeAt(text_, p)));
    }
    p = internal::SkipBlanks(text_, p);
    const size_t value_start = p;
    if (!internal::ParseStringLiteral(text_, &p, internal::QuoteStyle::kPromQl, &matcher->value, error)) {
      return false;
    }
    if (matcher->op == MatchOp::kRegexMatch || matcher->op == MatchOp::kRegexNoMatch) {
      std::string reason;
      if (!CompileRegex(matcher->value, &matcher->regex, &reason)) {
        return Fail(error, value_start,
                    fmt::format("invalid regex '{}' for label '{}': {}", internal::Snippet(matcher->value),
                                internal::Snippet(matcher->name), reason));
      }
    }
    *pos = p;
    return true;
  }

  std::string_view text_;
};

}  // namespace

bool LabelMatcher::Matches(std::string_view actual) const {
  switch (op) {
    case MatchOp::kEqual:
      return actual == value;
    case MatchOp::kNotEqual:
      return actual != value;
    case MatchOp::kRegexMatch:
    case MatchOp::kRegexNoMatch: {
      // A hand-built matcher without a compiled regex matches nothing, and libstdc++ may
      // throw error_complexity/error_stack mid-match: both count as "no match".
      bool matched = false;
      if (regex) {
        try {
          matched = std::regex_match(actual.begin(), actual.end(), *regex);
        } catch (const std::exception&) {
          matched = false;
        }
      }
      return op == MatchOp::kRegexMatch ? matched : !matched;
    }
  }
  return false;
}

Result<Selector> Selector::Parse(std::string_view text) {
  Selector selector;
  ParseError error;
  if (!Parser(text).Parse(&selector.matchers_, &selector.metric_name_, &error)) {
    return Status::InvalidArgument(fmt::format("invalid selector '{}': {} at byte {}", internal::Snippet(text),
                                               error.reason, error.offset));
  }
  return selector;
}

bool Selector::Matches(const SeriesKey& key) const {
  for (const auto& m : matchers_) {
    const std::string_view actual = m.name == "__name__" ? std::string_view(key.name) : key.Label(m.name);
    if (!m.Matches(actual)) return false;
  }
  return true;
}

}  // namespace offmon::store
