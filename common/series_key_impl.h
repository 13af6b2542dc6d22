// Internal text-parsing pieces shared by offmon's parsers: series keys (common/), PromQL
// selectors (store/selector.cpp) and the import formats (collector/). Not a public
// header: the other modules include it by relative path so that the lexing rules for
// names, quoted strings, sample values and timestamps exist exactly once.
// Thread safety: stateless functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "offmon/common/series_key.h"

namespace offmon::internal {

struct ParseError {
  size_t offset = 0;   // byte offset into the text handed to the parser
  std::string reason;  // one line, e.g. "duplicate label name 'job'"
};

inline bool IsBlank(char c) { return c == ' ' || c == '\t'; }
inline size_t SkipBlanks(std::string_view text, size_t pos) {
  while (pos < text.size() && IsBlank(text[pos])) ++pos;
  return pos;
}
std::string_view TrimBlanks(std::string_view text);

// `text` made safe to quote in a one-line error message: control characters, line
// separators and bytes that are not UTF-8 escaped, cut after about `max_len` output
// characters (then "...").
std::string Snippet(std::string_view text, size_t max_len = 60);
// "'x'" for the byte at `pos` (escaped as by Snippet), or "end of input".
std::string DescribeAt(std::string_view text, size_t pos);

// End of the metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or label name ([a-zA-Z_][a-zA-Z0-9_]*)
// starting at `pos`; `pos` itself when there is none.
size_t ScanMetricName(std::string_view text, size_t pos);
size_t ScanLabelName(std::string_view text, size_t pos);

bool IsValidUtf8(std::string_view text);

// Which string literals a parser accepts. Series keys use the exposition format's double
// quotes; PromQL also allows 'single quotes' and `raw backticks` (no escapes inside).
enum class QuoteStyle { kDoubleOnly, kPromQl };

// Parses the string literal whose opening quote is at text[*pos]; on success `*pos` is
// just past the closing quote. Escapes: \\ \" \n (and \' in single quotes). The result
// must be valid UTF-8; a raw newline is only allowed in a backtick string.
bool ParseStringLiteral(std::string_view text, size_t* pos, QuoteStyle style, std::string* out,
                        ParseError* error);

// Parses a series key at the start of `text` (blanks allowed before and inside it) and
// sets `*end` just past it: past the closing '}' or the metric name. The caller decides
// what may follow. Same rules and errors as ParseSeriesKey.
bool ParseSeriesKeyPrefix(std::string_view text, SeriesKey* key, size_t* end, ParseError* error);

// A sample value: a decimal number as std::from_chars reads it (an optional leading '+'
// too), or NaN, Inf, +Inf, -Inf in any case.
bool ParseSampleValue(std::string_view text, double* value);

// Unix seconds, integer or fractional ("1700000000", "1700000000.1235", "1.7e9"), to
// milliseconds rounded half away from zero. Plain decimals are converted exactly (no
// binary floating point), so the rounding does not depend on the magnitude. False when
// the text is not such a number or is beyond +-1e15 s.
bool ParseUnixSecondsToMillis(std::string_view text, int64_t* millis);

}  // namespace offmon::internal
