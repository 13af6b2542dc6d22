#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "../common/series_key_impl.h"
#include "offmon/collector/import_parsers.h"
#include "offmon/common/time_range.h"

namespace offmon::collector {
namespace {

using internal::Snippet;

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

struct Field {
  std::string text;
  bool quoted = false;
};

// Splits one line into RFC 4180 fields. Blanks around fields are dropped; an unquoted
// field may contain '"' (people write up{job="a"} without quoting when there is no comma).
// A quoted field must close on the same line: one record per line keeps line numbers honest.
bool SplitRecord(std::string_view line, std::vector<Field>* fields, std::string* error) {
  fields->clear();
  size_t pos = 0;
  for (;;) {
    pos = internal::SkipBlanks(line, pos);
    Field field;
    if (pos < line.size() && line[pos] == '"') {
      field.quoted = true;
      const size_t open = pos++;
      for (;;) {
        if (pos >= line.size()) {
          *error = fmt::format("unterminated quoted field starting at column {} (a quoted field may not span lines)",
                               open + 1);
          return false;
        }
        if (line[pos] == '"') {
          if (pos + 1 < line.size() && line[pos + 1] == '"') {
            field.text += '"';
            pos += 2;
            continue;
          }
          ++pos;
          break;
        }
        field.text += line[pos++];
      }
      pos = internal::SkipBlanks(line, pos);
      if (pos < line.size() && line[pos] != ',') {
        *error = fmt::format("unexpected text '{}' after a closing quote at column {} (write \"\" for a quote)",
                             Snippet(line.substr(pos), 20), pos + 1);
        return false;
      }
    } else {
      const size_t start = pos;
      while (pos < line.size() && line[pos] != ',') ++pos;
      field.text.assign(internal::TrimBlanks(line.substr(start, pos - start)));
    }
    fields->push_back(std::move(field));
    if (pos >= line.size()) return true;
    ++pos;  // the comma; a trailing one yields an empty last field
  }
}

bool LooksLikeRfc3339(std::string_view text) {
  return text.size() >= 10 && text[4] == '-' && text[7] == '-';
}

bool ParseTimestamp(std::string_view text, TimePoint* out, std::string* error) {
  int64_t millis = 0;
  if (internal::ParseUnixSecondsToMillis(text, &millis)) {
    *out = FromMillis(millis);
    if (Status range = CheckTimeInRange(*out, text, TimeUnitHint::kSeconds); !range.ok()) {
      *error = range.message() + " (CSV timestamps are unix seconds or RFC 3339)";
      return false;
    }
    return true;
  }
  if (LooksLikeRfc3339(text)) {
    auto t = ParseRfc3339(text);
    if (t) {
      *out = *t;
      if (Status range = CheckTimeInRange(*out, text); !range.ok()) {
        *error = range.message();
        return false;
      }
      return true;
    }
    *error = fmt::format("bad timestamp: {}", t.error().message());
    return false;
  }
  *error = fmt::format("bad timestamp '{}' (expected unix seconds or RFC 3339)", Snippet(text));
  return false;
}

// Handles one data line; returns false with `*error` set when it is bad.
bool ParseDataLine(std::string_view line, std::vector<Field>* fields, ImportRow* row, std::string* error) {
  if (!SplitRecord(line, fields, error)) return false;
  if (fields->size() != 3) {
    *error = fmt::format("expected 3 fields (timestamp,series,value), got {}: '{}'", fields->size(), Snippet(line));
    // The usual cause: a series with several labels written without quotes.
    if (fields->size() > 3 && !(*fields)[1].quoted && (*fields)[1].text.find('{') != std::string::npos) {
      *error += "; quote a series that contains commas: \"up{a=\"\"x\"\",b=\"\"y\"\"}\"";
    }
    return false;
  }
  if (!ParseTimestamp((*fields)[0].text, &row->sample.time, error)) return false;
  auto series = ParseSeriesKey((*fields)[1].text);
  if (!series) {
    *error = series.error().message();
    return false;
  }
  row->series = std::move(*series);
  const std::string& value = (*fields)[2].text;
  if (!internal::ParseSampleValue(value, &row->sample.value)) {
    *error = fmt::format("bad value '{}' (expected a number, NaN, +Inf or -Inf)", Snippet(value));
    return false;
  }
  return true;
}

void ParseCsv(std::istream& in, const ImportRowHandler& on_row, const ImportErrorHandler& on_error,
              size_t* line_no) {
  std::string raw;
  std::vector<Field> fields;
  bool have_header = false;
  while (std::getline(in, raw)) {
    ++*line_no;
    std::string_view line = raw;
    if (*line_no == 1 && line.starts_with(kUtf8Bom)) line.remove_prefix(kUtf8Bom.size());
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (internal::TrimBlanks(line).empty()) continue;
    if (!have_header) {
      std::string error;
      const bool ok = SplitRecord(line, &fields, &error) && fields.size() == 3 && fields[0].text == "timestamp" &&
                      fields[1].text == "series" && fields[2].text == "value";
      if (!ok) {
        // Without the header the column order is a guess; better to stop than to import garbage.
        on_error(*line_no, fmt::format("expected header 'timestamp,series,value', got '{}'", Snippet(line)));
        return;
      }
      have_header = true;
      continue;
    }
    ImportRow row;
    row.line = *line_no;
    std::string error;
    if (ParseDataLine(line, &fields, &row, &error)) {
      on_row(std::move(row));
    } else {
      on_error(*line_no, error);
    }
  }
  if (!have_header) on_error(1, "empty file: expected header timestamp,series,value");
}

}  // namespace

void ParseCsvImport(std::istream& in, const ImportRowHandler& on_row, const ImportErrorHandler& on_error) {
  size_t line_no = 0;
  try {
    ParseCsv(in, on_row, on_error, &line_no);
  } catch (...) {
    // bad_alloc on an absurd line, or a handler that throws: stop, and report if we can.
    try {
      on_error(line_no, "import stopped by an internal error (out of memory?)");
    } catch (...) {  // nothing left to report to
    }
  }
}

}  // namespace offmon::collector
