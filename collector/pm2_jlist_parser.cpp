#include "pm2_jlist_parser_impl.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace offmon::collector {

namespace {

using nlohmann::json;

// Parse attempts are bounded so that output with many '[' lines stays linear.
constexpr size_t kMaxParseAttempts = 16;
constexpr size_t kFirstBytesShown = 60;
constexpr size_t kMaxReasonDetail = 100;
// pm_uptime beyond this (about the year 33658) is not a time pm2 wrote.
constexpr int64_t kMaxPlausibleMillis = int64_t{1'000'000'000'000'000};

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// A line starting with '[' that could open a JSON array, unlike "[PM2] Spawning...":
// the next non-blank character must be able to start a JSON value or close the array.
bool OpensJsonArray(std::string_view text, size_t bracket) {
  size_t i = bracket + 1;
  while (i < text.size() && (IsBlank(text[i]) || text[i] == '\n')) ++i;
  if (i == text.size()) return true;
  const char c = text[i];
  return c == '{' || c == '[' || c == ']' || c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' ||
         c == 'f' || c == 'n';
}

// Offsets of the '[' that start a line (after blanks) and could open a JSON array.
std::vector<size_t> ArrayCandidates(std::string_view text) {
  std::vector<size_t> result;
  size_t line = 0;
  while (line < text.size() && result.size() < kMaxParseAttempts) {
    size_t i = line;
    while (i < text.size() && IsBlank(text[i])) ++i;
    if (i < text.size() && text[i] == '[' && OpensJsonArray(text, i)) result.push_back(i);
    size_t eol = text.find('\n', line);
    if (eol == std::string_view::npos) break;
    line = eol + 1;
  }
  return result;
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && (IsBlank(s.back()) || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

std::optional<json> ParseArray(std::string_view text) {
  json parsed = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_array()) return std::nullopt;
  return parsed;
}

// Byte offset (into `text`) of the first parse error, for the message.
size_t ParseErrorOffset(std::string_view text) {
  try {
    json ignored = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    return e.byte > 0 ? e.byte - 1 : 0;
  }
  return 0;
}

// The start of non-JSON output, escaped, for the message: at most kFirstBytesShown
// characters once escaped. It stops at the first '{': whatever follows may be a JSON
// object, and pm2's objects carry the environment.
std::string FirstBytes(std::string_view text) {
  std::string shown;
  const std::string_view head = text.substr(0, text.find('{'));
  size_t used = 0;
  for (; used < head.size() && shown.size() < kFirstBytesShown; ++used) {
    const char c = head[used];
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      shown += "\\n";
    } else if (u >= 0x20 && u < 0x7f && c != '\\') {
      shown += c;
    } else {
      shown += fmt::format("\\x{:02x}", u);
    }
  }
  if (used < text.size()) shown += "...";
  return shown;
}

const json* JsonField(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::optional<double> AsNumber(const json* value) {
  if (value == nullptr || !value->is_number()) return std::nullopt;
  double d = value->get<double>();
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

std::optional<int64_t> AsInt(const json* value) {
  if (value == nullptr) return std::nullopt;
  if (value->is_number_unsigned()) {
    auto u = value->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (value->is_number_integer()) return value->get<int64_t>();
  if (auto d = AsNumber(value)) {
    // Bounds that are exactly representable as doubles, so the cast cannot overflow.
    if (*d >= -9.0e18 && *d <= 9.0e18) return static_cast<int64_t>(*d);
  }
  return std::nullopt;
}

std::string AsString(const json* value) {
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

std::optional<uint64_t> AsBytes(const json* value) {
  auto d = AsNumber(value);
  if (!d || *d < 0) return std::nullopt;
  if (*d >= 1.8e19) return std::numeric_limits<uint64_t>::max();
  return static_cast<uint64_t>(*d);
}

std::optional<Pm2Process> ToProcess(const json& entry) {
  const json* name = JsonField(entry, "name");
  if (name == nullptr || !name->is_string() || name->get_ref<const std::string&>().empty()) return std::nullopt;
  Pm2Process p;
  p.name = name->get<std::string>();
  p.pm_id = AsInt(JsonField(entry, "pm_id"));
  p.pid = AsInt(JsonField(entry, "pid")).value_or(0);
  // pm2_env is read field by field and never kept: it also holds the environment.
  const json* env = JsonField(entry, "pm2_env");
  static const json kEmpty = json::object();
  const json& e = env != nullptr ? *env : kEmpty;
  if (!p.pm_id) p.pm_id = AsInt(JsonField(e, "pm_id"));
  p.status = AsString(JsonField(e, "status"));
  if (p.status.empty()) p.status = "unknown";
  if (auto ms = AsInt(JsonField(e, "pm_uptime")); ms && *ms > 0 && *ms < kMaxPlausibleMillis) {
    p.pm_uptime = FromMillis(*ms);
  }
  p.restart_time = std::max<int64_t>(0, AsInt(JsonField(e, "restart_time")).value_or(0));
  p.unstable_restarts = std::max<int64_t>(0, AsInt(JsonField(e, "unstable_restarts")).value_or(0));
  p.out_log_path = AsString(JsonField(e, "pm_out_log_path"));
  p.err_log_path = AsString(JsonField(e, "pm_err_log_path"));
  if (const json* monit = JsonField(entry, "monit")) {
    p.memory_bytes = AsBytes(JsonField(*monit, "memory"));
    if (auto cpu = AsNumber(JsonField(*monit, "cpu")); cpu && *cpu >= 0) p.cpu_percent = cpu;
  }
  return p;
}

}  // namespace

std::string FirstLine(std::string_view text) {
  std::string line;
  for (size_t i = 0; i < text.size() && line.size() < kMaxReasonDetail; ++i) {
    const char c = text[i];
    if (c == '\x1b') {  // ANSI escape: ESC [ parameters final-byte
      if (i + 1 < text.size() && text[i + 1] == '[') {
        i += 2;
        while (i < text.size() && !(text[i] >= 0x40 && text[i] <= 0x7e)) ++i;
      }
      continue;
    }
    if (c == '\n' || c == '\r') {
      if (!line.empty()) break;
      continue;
    }
    line += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c;
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

Result<Pm2Jlist> ParsePm2Jlist(std::string_view output) {
  if (TrimRight(output).empty()) return Status::InvalidArgument("pm2 jlist: empty output");
  try {
    const std::vector<size_t> candidates = ArrayCandidates(output);
    std::optional<json> list;
    // Earliest first: with a pretty-printed array, inner lines may start with '[' too,
    // but only the outermost one parses through to the end.
    for (size_t start : candidates) {
      if ((list = ParseArray(TrimRight(output.substr(start))))) break;
    }
    // pm2 prints the array on one line; text after it (a late warning) leaves that line.
    for (auto it = candidates.rbegin(); !list && it != candidates.rend(); ++it) {
      std::string_view line = output.substr(*it, output.find('\n', *it) - *it);
      list = ParseArray(TrimRight(line));
    }
    if (!list) {
      if (candidates.empty()) {
        return Status::InvalidArgument(
            fmt::format("pm2 jlist: output is not a JSON array (first bytes: {})", FirstBytes(output)));
      }
      const size_t start = candidates.back();
      return Status::InvalidArgument(fmt::format(
          "pm2 jlist: JSON parse error at byte {}", start + ParseErrorOffset(TrimRight(output.substr(start)))));
    }
    return Pm2ListFromJson(*list);
  } catch (const std::exception& e) {
    // Only allocation failures remain possible here; their text holds no input.
    return Status::InvalidArgument(fmt::format("pm2 jlist: {}", e.what()));
  }
}

Result<Pm2Jlist> Pm2ListFromJson(const json& list) {
  if (!list.is_array()) return Status::InvalidArgument("pm2: the process list is not a JSON array");
  Pm2Jlist result;
  for (const json& entry : list) {
    if (auto process = ToProcess(entry)) {
      result.processes.push_back(std::move(*process));
    } else {
      ++result.skipped_entries;
    }
  }
  return result;
}

}  // namespace offmon::collector
