#include "offmon/common/series_key.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "series_key_impl.h"

namespace offmon {
namespace internal {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsMetricNameStart(char c) { return IsAlpha(c) || c == '_' || c == ':'; }
bool IsMetricNameChar(char c) { return IsMetricNameStart(c) || IsDigit(c); }
bool IsLabelNameStart(char c) { return IsAlpha(c) || c == '_'; }
bool IsLabelNameChar(char c) { return IsLabelNameStart(c) || IsDigit(c); }

// A byte right after a name that is neither a blank nor punctuation of the grammar, so
// the name itself is what is wrong ("up-down", "a.b"), not what follows it.
bool ContinuesName(std::string_view text, size_t pos) {
  if (pos >= text.size() || IsBlank(text[pos])) return false;
  return std::string_view("{}=,\"'`!~#").find(text[pos]) == std::string_view::npos;
}

bool Fail(ParseError* error, size_t offset, std::string reason) {
  error->offset = offset;
  error->reason = std::move(reason);
  return false;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

constexpr int64_t kMaxAbsSeconds = 1'000'000'000'000'000;  // 1e15 s, ~31 million years

}  // namespace

std::string_view TrimBlanks(std::string_view text) {
  size_t begin = SkipBlanks(text, 0);
  size_t end = text.size();
  while (end > begin && IsBlank(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

std::string DescribeAt(std::string_view text, size_t pos) {
  if (pos >= text.size()) return "end of input";
  return fmt::format("'{}'", Snippet(text.substr(pos, 1)));
}

std::string Snippet(std::string_view text, size_t max_len) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    // Counted on the output: an escape takes four characters, and the limit is about
    // what a reader sees on the line.
    if (out.size() >= max_len) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) {
        out += fmt::format("\\x{:02x}", c);
      } else {
        out += static_cast<char>(c);
      }
    } else {
      const size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
      const std::string_view seq = text.substr(i, len);
      if (len == 1 || seq.size() != len || !IsValidUtf8(seq)) {
        out += fmt::format("\\x{:02x}", c);
        ++i;
        continue;
      }
      // NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR end a line for some readers.
      if (seq == "\xC2\x85" || seq == "\xE2\x80\xA8" || seq == "\xE2\x80\xA9") {
        out += seq.size() == 2 ? "\\u0085" : seq[2] == '\xA8' ? "\\u2028" : "\\u2029";
      } else {
        out += seq;
      }
      i += len;
      continue;
    }
    ++i;
  }
  return out;
}

size_t ScanMetricName(std::string_view text, size_t pos) {
  if (pos >= text.size() || !IsMetricNameStart(text[pos])) return pos;
  ++pos;
  while (pos < text.size() && IsMetricNameChar(text[pos])) ++pos;
  return pos;
}

size_t ScanLabelName(std::string_view text, size_t pos) {
  if (pos >= text.size() || !IsLabelNameStart(text[pos])) return pos;
  ++pos;
  while (pos < text.size() && IsLabelNameChar(text[pos])) ++pos;
  return pos;
}

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

bool ParseStringLiteral(std::string_view text, size_t* pos, QuoteStyle style, std::string* out,
                        ParseError* error) {
  const size_t open = *pos;
  if (open >= text.size()) return Fail(error, open, "expected a quoted string, got end of input");
  const char quote = text[open];
  const bool promql = style == QuoteStyle::kPromQl;
  if (quote != '"' && !(promql && (quote == '\'' || quote == '`'))) {
    return Fail(error, open, fmt::format("expected a quoted string, got {}", DescribeAt(text, open)));
  }
  const bool raw = quote == '`';
  out->clear();
  size_t i = open + 1;
  for (;;) {
    if (i >= text.size()) {
      return Fail(error, open, fmt::format("unterminated string (no closing {})", quote));
    }
    const char c = text[i];
    if (c == quote) {
      ++i;
      break;
    }
    if (c == '\n' && !raw) return Fail(error, i, "newline in string (write \\n)");
    if (c == '\\' && !raw) {
      if (i + 1 >= text.size()) {
        return Fail(error, open, fmt::format("unterminated string (no closing {})", quote));
      }
      const char e = text[i + 1];
      if (e == '\\') {
        out->push_back('\\');
      } else if (e == 'n') {
        out->push_back('\n');
      } else if (e == '"' || (promql && e == '\'')) {
        out->push_back(e);
      } else {
        return Fail(error, i,
                    fmt::format("bad escape '\\{}' (allowed: \\\\, \\\", \\n)", Snippet(text.substr(i + 1, 1))));
      }
      i += 2;
      continue;
    }
    out->push_back(c);
    ++i;
  }
  // Label values end up in JSON output and SQLite text; reject bytes that are not text.
  if (!IsValidUtf8(*out)) return Fail(error, open, "string is not valid UTF-8");
  *pos = i;
  return true;
}

bool ParseSeriesKeyPrefix(std::string_view text, SeriesKey* key, size_t* end, ParseError* error) {
  const size_t n = text.size();
  size_t pos = SkipBlanks(text, 0);
  std::string name;
  const size_t name_end = ScanMetricName(text, pos);
  const bool name_before_brace = name_end > pos;
  if (name_before_brace) {
    name.assign(text.substr(pos, name_end - pos));
    pos = name_end;
    if (ContinuesName(text, pos)) {
      return Fail(error, pos,
                  fmt::format("bad character {} in metric name '{}' (allowed: letters, digits, '_', ':')",
                              DescribeAt(text, pos), Snippet(name)));
    }
  }
  const size_t after_name = pos;
  const size_t brace = SkipBlanks(text, pos);
  if (brace >= n || text[brace] != '{') {
    if (!name_before_brace) {
      if (brace >= n) return Fail(error, brace, "missing metric name");
      return Fail(error, brace,
                  fmt::format("bad metric name: expected a letter, '_', ':' or '{{', got {}",
                              DescribeAt(text, brace)));
    }
    key->name = std::move(name);
    key->labels.clear();
    *end = after_name;
    return true;
  }

  Labels labels;
  std::vector<std::string_view> seen;  // every name written, so `a=""` still counts
  pos = SkipBlanks(text, brace + 1);
  if (pos < n && text[pos] == '}') {
    ++pos;
  } else {
    for (;;) {
      const size_t label_start = pos;
      const size_t label_end = ScanLabelName(text, pos);
      if (label_end == pos) {
        if (pos >= n) return Fail(error, pos, "unterminated label set: expected a label name or '}'");
        return Fail(error, pos,
                    fmt::format("bad label name: expected a letter or '_', got {}", DescribeAt(text, pos)));
      }
      const std::string_view label_name = text.substr(pos, label_end - pos);
      pos = label_end;
      if (ContinuesName(text, pos)) {
        return Fail(error, pos,
                    fmt::format("bad character {} in label name '{}' (allowed: letters, digits, '_')",
                                DescribeAt(text, pos), Snippet(label_name)));
      }
      if (label_name.starts_with("__") && label_name != "__name__") {
        return Fail(error, label_start,
                    fmt::format("label name '{}' is reserved (names starting with '__' are internal)",
                                Snippet(label_name)));
      }
      if (std::find(seen.begin(), seen.end(), label_name) != seen.end()) {
        return Fail(error, label_start, fmt::format("duplicate label name '{}'", Snippet(label_name)));
      }
      seen.push_back(label_name);
      pos = SkipBlanks(text, pos);
      if (pos >= n || text[pos] != '=') {
        return Fail(error, pos,
                    fmt::format("expected '=' after label name '{}', got {}", Snippet(label_name),
                                DescribeAt(text, pos)));
      }
      pos = SkipBlanks(text, pos + 1);
      if (pos >= n || text[pos] != '"') {
        return Fail(error, pos,
                    fmt::format("expected '\"' to start the value of label '{}', got {}", Snippet(label_name),
                                DescribeAt(text, pos)));
      }
      const size_t value_start = pos;
      std::string value;
      if (!ParseStringLiteral(text, &pos, QuoteStyle::kDoubleOnly, &value, error)) return false;
      if (label_name == "__name__") {
        if (name_before_brace) {
          return Fail(error, label_start, "metric name given twice (before '{' and as __name__)");
        }
        if (!value.empty() && !IsValidMetricName(value)) {
          return Fail(error, value_start,
                      fmt::format("bad metric name '{}' in __name__ (must match [a-zA-Z_:][a-zA-Z0-9_:]*)",
                                  Snippet(value)));
        }
        name = std::move(value);
      } else if (!value.empty()) {  // Prometheus: an empty value is the same as no label
        labels.push_back({std::string(label_name), std::move(value)});
      }
      pos = SkipBlanks(text, pos);
      if (pos < n && text[pos] == ',') {
        pos = SkipBlanks(text, pos + 1);
        if (pos < n && text[pos] == '}') {
          ++pos;
          break;
        }
        continue;
      }
      if (pos < n && text[pos] == '}') {
        ++pos;
        break;
      }
      if (pos >= n) return Fail(error, pos, "unterminated label set: expected ',' or '}'");
      return Fail(error, pos, fmt::format("expected ',' or '}}' after a label value, got {}", DescribeAt(text, pos)));
    }
  }
  if (name.empty()) {
    return Fail(error, brace, "missing metric name (write name{...} or {__name__=\"name\",...})");
  }
  std::sort(labels.begin(), labels.end(),
            [](const offmon::Label& a, const offmon::Label& b) { return a.name < b.name; });
  key->name = std::move(name);
  key->labels = std::move(labels);
  *end = pos;
  return true;
}

bool ParseSampleValue(std::string_view text, double* value) {
  if (text.empty()) return false;
  const char sign = text[0];
  const bool has_sign = sign == '+' || sign == '-';
  const std::string_view body = has_sign ? text.substr(1) : text;
  if (body.empty()) return false;
  if (IsAlpha(body[0])) {
    // from_chars would also take "infinity" and "nan(...)"; the formats only know these.
    if (EqualsIgnoreCase(body, "inf")) {
      *value = sign == '-' ? -std::numeric_limits<double>::infinity()
                           : std::numeric_limits<double>::infinity();
      return true;
    }
    if (!has_sign && EqualsIgnoreCase(body, "nan")) {
      *value = std::numeric_limits<double>::quiet_NaN();
      return true;
    }
    return false;
  }
  if (!IsDigit(body[0]) && body[0] != '.') return false;
  // from_chars takes '-' but not '+'.
  const std::string_view number = sign == '+' ? body : text;
  double v = 0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
  if (ec != std::errc() || ptr != number.data() + number.size()) return false;
  *value = v;
  return true;
}

bool ParseUnixSecondsToMillis(std::string_view text, int64_t* millis) {
  if (text.empty()) return false;
  if (text.find_first_of("eE") != std::string_view::npos) {
    double secs = 0;
    if (!ParseSampleValue(text, &secs) || !std::isfinite(secs) ||
        std::fabs(secs) > static_cast<double>(kMaxAbsSeconds)) {
      return false;
    }
    *millis = static_cast<int64_t>(std::llround(secs * 1000.0));
    return true;
  }
  size_t i = 0;
  const bool negative = text[0] == '-';
  if (text[0] == '-' || text[0] == '+') i = 1;
  const size_t int_start = i;
  while (i < text.size() && IsDigit(text[i])) ++i;
  const size_t int_end = i;
  size_t frac_start = i;
  size_t frac_end = i;
  if (i < text.size() && text[i] == '.') {
    frac_start = ++i;
    while (i < text.size() && IsDigit(text[i])) ++i;
    frac_end = i;
  }
  if (i != text.size() || (int_end == int_start && frac_end == frac_start)) return false;
  size_t first_nonzero = int_start;
  while (first_nonzero < int_end && text[first_nonzero] == '0') ++first_nonzero;
  if (int_end - first_nonzero > 15) return false;  // beyond kMaxAbsSeconds
  int64_t secs = 0;
  for (size_t k = first_nonzero; k < int_end; ++k) secs = secs * 10 + (text[k] - '0');
  int64_t frac_ms = 0;
  for (size_t k = 0; k < 3; ++k) {
    const size_t at = frac_start + k;
    frac_ms = frac_ms * 10 + (at < frac_end ? text[at] - '0' : 0);
  }
  // Half away from zero: only the fourth fractional digit decides.
  const bool round_up = frac_start + 3 < frac_end && text[frac_start + 3] >= '5';
  int64_t ms = secs * 1000 + frac_ms + (round_up ? 1 : 0);
  *millis = negative ? -ms : ms;
  return true;
}

}  // namespace internal

SeriesKey::SeriesKey(std::string_view metric_name, Labels label_list) : name(metric_name) {
  std::stable_sort(label_list.begin(), label_list.end(),
                   [](const offmon::Label& a, const offmon::Label& b) { return a.name < b.name; });
  labels.reserve(label_list.size());
  for (auto& label : label_list) {
    if (!labels.empty() && labels.back().name == label.name) {
      labels.back() = std::move(label);  // the last of equal names wins, as in a map
    } else {
      labels.push_back(std::move(label));
    }
  }
  // Dropped after deduplication so that {a="x", a=""} means "a absent", like a map would.
  std::erase_if(labels, [](const offmon::Label& l) { return l.value.empty(); });
}

std::string SeriesKey::ToString() const {
  std::string out = name;
  if (labels.empty()) return out;
  out += '{';
  bool first = true;
  for (const auto& label : labels) {
    if (!first) out += ',';
    first = false;
    out += label.name;
    out += "=\"";
    for (char c : label.value) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '"') {
        out += "\\\"";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::string_view SeriesKey::Label(std::string_view label_name) const {
  auto it = std::lower_bound(labels.begin(), labels.end(), label_name,
                             [](const offmon::Label& l, std::string_view n) { return l.name < n; });
  if (it != labels.end() && it->name == label_name) return it->value;
  return {};
}

Result<SeriesKey> ParseSeriesKey(std::string_view text) {
  SeriesKey key;
  size_t end = 0;
  internal::ParseError error;
  if (internal::ParseSeriesKeyPrefix(text, &key, &end, &error)) {
    end = internal::SkipBlanks(text, end);
    if (end == text.size()) return key;
    error.offset = end;
    error.reason = fmt::format("unexpected text '{}' after the series key", internal::Snippet(text.substr(end), 20));
  }
  return Status::InvalidArgument(fmt::format("invalid series key '{}': {} at byte {}", internal::Snippet(text),
                                             error.reason, error.offset));
}

bool IsValidMetricName(std::string_view name) {
  return !name.empty() && internal::ScanMetricName(name, 0) == name.size();
}

bool IsValidLabelName(std::string_view name) {
  return !name.empty() && internal::ScanLabelName(name, 0) == name.size();
}

}  // namespace offmon
