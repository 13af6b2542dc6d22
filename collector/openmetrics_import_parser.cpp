#include <charconv>
#include <string>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include "../common/series_key_impl.h"
#include "offmon/collector/import_parsers.h"
#include "offmon/common/time_range.h"

namespace offmon::collector {
namespace {

using internal::Snippet;

size_t TokenEnd(std::string_view line, size_t pos) {
  while (pos < line.size() && !internal::IsBlank(line[pos])) ++pos;
  return pos;
}

bool IsEof(std::string_view line) {
  return line[0] == '#' && internal::TrimBlanks(line.substr(1)) == "EOF";
}

bool ParseTimestamp(std::string_view text, TimestampUnit unit, TimePoint* out, std::string* error) {
  int64_t millis = 0;
  if (unit == TimestampUnit::kSeconds) {
    if (!internal::ParseUnixSecondsToMillis(text, &millis)) {
      *error = fmt::format("bad timestamp '{}' (expected unix seconds)", Snippet(text));
      return false;
    }
  } else {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), millis);
    if (ec != std::errc() || ptr != text.data() + text.size()) {
      *error = fmt::format("bad timestamp '{}' (expected integer unix milliseconds)", Snippet(text));
      return false;
    }
  }
  *out = FromMillis(millis);
  const bool seconds = unit == TimestampUnit::kSeconds;
  if (Status range = CheckTimeInRange(*out, text, seconds ? TimeUnitHint::kSeconds : TimeUnitHint::kMilliseconds);
      !range.ok()) {
    *error = range.message() +
             (seconds ? " (unix seconds; Prometheus 0.0.4 text has milliseconds: import it with --timestamps ms)"
                      : " (unix milliseconds, as --timestamps ms says)");
    return false;
  }
  return true;
}

// One sample line: `name{labels} value timestamp [# {exemplar labels} value [timestamp]]`.
bool ParseSampleLine(std::string_view line, TimestampUnit unit, ImportRow* row, std::string* error) {
  size_t pos = 0;
  internal::ParseError parse_error;
  if (!internal::ParseSeriesKeyPrefix(line, &row->series, &pos, &parse_error)) {
    *error = fmt::format("bad series: {} at column {}", parse_error.reason, parse_error.offset + 1);
    return false;
  }
  if (pos < line.size() && !internal::IsBlank(line[pos])) {
    *error = fmt::format("expected a blank after the series, got '{}' at column {}", Snippet(line.substr(pos), 20),
                         pos + 1);
    return false;
  }
  pos = internal::SkipBlanks(line, pos);
  if (pos >= line.size()) {
    *error = "sample has no value";
    return false;
  }
  size_t end = TokenEnd(line, pos);
  const std::string_view value = line.substr(pos, end - pos);
  if (!internal::ParseSampleValue(value, &row->sample.value)) {
    *error = fmt::format("bad value '{}' (expected a number, NaN, +Inf or -Inf)", Snippet(value));
    return false;
  }
  pos = internal::SkipBlanks(line, end);
  if (pos >= line.size() || line[pos] == '#') {
    *error = "sample has no timestamp";
    return false;
  }
  end = TokenEnd(line, pos);
  if (!ParseTimestamp(line.substr(pos, end - pos), unit, &row->sample.time, error)) return false;
  pos = internal::SkipBlanks(line, end);
  if (pos < line.size()) {
    // An OpenMetrics exemplar points at a trace; offmon has nowhere to keep it.
    const std::string_view rest = line.substr(pos);
    if (rest.size() >= 2 && rest[0] == '#' && internal::SkipBlanks(rest, 1) < rest.size() &&
        rest[internal::SkipBlanks(rest, 1)] == '{') {
      return true;
    }
    *error = fmt::format("unexpected text '{}' after the timestamp", Snippet(rest, 30));
    return false;
  }
  return true;
}

void ParseOpenMetrics(std::istream& in, TimestampUnit unit, const ImportRowHandler& on_row,
                      const ImportErrorHandler& on_error, size_t* line_no) {
  std::string raw;
  bool seen_eof = false;
  while (std::getline(in, raw)) {
    ++*line_no;
    std::string_view line = raw;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view trimmed = internal::TrimBlanks(line);
    if (trimmed.empty()) continue;
    if (seen_eof) {
      on_error(*line_no, fmt::format("unexpected text after '# EOF': '{}'", Snippet(trimmed)));
      return;  // whatever follows is not part of this exposition
    }
    if (trimmed[0] == '#') {
      // HELP, TYPE and UNIT describe families; offmon stores only the samples.
      if (IsEof(trimmed)) seen_eof = true;
      continue;
    }
    ImportRow row;
    row.line = *line_no;
    std::string error;
    if (ParseSampleLine(line, unit, &row, &error)) {
      on_row(std::move(row));
    } else {
      on_error(*line_no, error);
    }
  }
}

}  // namespace

void ParseOpenMetricsImport(std::istream& in, TimestampUnit unit, const ImportRowHandler& on_row,
                            const ImportErrorHandler& on_error) {
  size_t line_no = 0;
  try {
    ParseOpenMetrics(in, unit, on_row, on_error, &line_no);
  } catch (...) {
    // bad_alloc on an absurd line, or a handler that throws: stop, and report if we can.
    try {
      on_error(line_no, "import stopped by an internal error (out of memory?)");
    } catch (...) {  // nothing left to report to
    }
  }
}

}  // namespace offmon::collector
