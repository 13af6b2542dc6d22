#include "offmon/collector/database_url.h"


#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <libpq-fe.h>

namespace offmon::collector {

namespace {

constexpr std::string_view kBlanks = " \t\r\n\f\v";
// The connection parameters that hold secrets.
constexpr std::array<std::string_view, 2> kSecretKeys = {"password", "sslpassword"};
// Pieces of a password shorter than this are not scrubbed on their own (see UrlSecrets).
constexpr size_t kMinScrubbedPiece = 3;

std::string_view Trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(kBlanks);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kBlanks) - begin + 1);
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// Length of "postgresql://" or "postgres://" at the start of `url`, or 0 (keyword form).
size_t UriSchemeLength(std::string_view url) {
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (StartsWithNoCase(url, scheme)) return scheme.size();
  }
  return 0;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    int hi = 0, lo = 0;
    if (s[i] == '%' && i + 2 < s.size() && (hi = HexDigit(s[i + 1])) >= 0 && (lo = HexDigit(s[i + 2])) >= 0) {
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// A span [begin, end) of `url` holding a password, in `url`'s coordinates.
struct Span {
  size_t begin = 0;
  size_t end = 0;
};

// Password spans of a URI: the userinfo password and `password=` query parameters.
// When in doubt (a raw '@' or '?' in the password) the span is made larger, never
// smaller: redaction may hide too much but must not leak.
std::vector<Span> UriPasswordSpans(std::string_view url, size_t scheme_len) {
  std::vector<Span> spans;
  const size_t first_at = url.find('@', scheme_len);
  size_t query = std::string_view::npos;
  if (first_at != std::string_view::npos) {
    // The userinfo ends at the last '@' (libpq stops at the first, but then a raw '@',
    // '/' or '?' in a password would leak). An '@' in a query value hides too much.
    const size_t at = url.rfind('@');
    query = url.find('?', at);
    const size_t colon = url.find(':', scheme_len);
    if (colon != std::string_view::npos && colon < at) spans.push_back({colon + 1, at});
  } else {
    query = url.find('?', scheme_len);
  }
  // Query parameters after the '?' that ends the authority and path.
  size_t pos = query;
  while (pos != std::string_view::npos && pos < url.size()) {
    const size_t begin = pos + 1;
    size_t end = url.find('&', begin);
    if (end == std::string_view::npos) end = url.size();
    std::string_view param = url.substr(begin, end - begin);
    for (std::string_view key : kSecretKeys) {
      if (StartsWithNoCase(param, key) && param.size() > key.size() && param[key.size()] == '=') {
        spans.push_back({begin + key.size() + 1, end});
      }
    }
    pos = end < url.size() ? end : std::string_view::npos;
  }
  return spans;
}

// Password spans of the keyword form `key=value key='quoted \' value'`: the value of
// every `password` key, quotes included.
std::vector<Span> KeywordPasswordSpans(std::string_view s) {
  std::vector<Span> spans;
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    const size_t key_begin = i;
    while (i < s.size() && s[i] != '=' && !is_space(s[i])) ++i;
    std::string_view key = s.substr(key_begin, i - key_begin);
    while (i < s.size() && is_space(s[i])) ++i;
    if (i >= s.size() || s[i] != '=') {
      if (i == key_begin) ++i;  // a stray character; keep moving
      continue;
    }
    ++i;
    while (i < s.size() && is_space(s[i])) ++i;
    const size_t value_begin = i;
    if (i < s.size() && s[i] == '\'') {
      ++i;
      while (i < s.size() && s[i] != '\'') i += (s[i] == '\\' && i + 1 < s.size()) ? 2 : 1;
      if (i < s.size()) ++i;  // closing quote
    } else {
      while (i < s.size() && !is_space(s[i])) i += (s[i] == '\\' && i + 1 < s.size()) ? 2 : 1;
    }
    if (std::find(kSecretKeys.begin(), kSecretKeys.end(), key) != kSecretKeys.end()) {
      spans.push_back({value_begin, std::min(i, s.size())});
    }
  }
  return spans;
}

std::vector<Span> PasswordSpans(std::string_view url) {
  const size_t scheme_len = UriSchemeLength(url);
  return scheme_len > 0 ? UriPasswordSpans(url, scheme_len) : KeywordPasswordSpans(url);
}

// The keyword form's value: quotes removed, backslash escapes resolved.
std::string UnquoteKeywordValue(std::string_view v) {
  if (!v.empty() && v.front() == '\'') {
    v.remove_prefix(1);
    if (!v.empty() && v.back() == '\'') v.remove_suffix(1);
  }
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) ++i;
    out.push_back(v[i]);
  }
  return out;
}

std::string ErrnoText(int err) { return std::generic_category().message(err); }

// Reads a whole file. NotFound when it does not exist, IOError otherwise.
Result<std::string> ReadWholeFile(const std::filesystem::path& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    if (err == ENOENT) return Status::NotFound(fmt::format("{} {}: no such file", what, path.string()));
    return Status::IOError(fmt::format("{} {}: cannot read: {}", what, path.string(), ErrnoText(err)));
  }
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return Status::IOError(fmt::format("{} {}: read error", what, path.string()));
  return out.str();
}

// Parses the value part of a .env assignment (after '=' and leading blanks).
std::string ParseEnvValue(std::string_view v) {
  if (!v.empty() && v.front() == '\'') {
    v.remove_prefix(1);
    const size_t close = v.find('\'');
    return std::string(v.substr(0, close));
  }
  if (!v.empty() && v.front() == '"') {
    std::string out;
    for (size_t i = 1; i < v.size(); ++i) {
      const char c = v[i];
      if (c == '"') break;
      if (c == '\\' && i + 1 < v.size()) {
        const char next = v[i + 1];
        if (next == 'n') {
          out.push_back('\n');
          ++i;
          continue;
        }
        if (next == '"' || next == '\\' || next == '$' || next == '`') {
          out.push_back(next);
          ++i;
          continue;
        }
      }
      out.push_back(c);
    }
    return out;
  }
  // Bare: a comment starts at a '#' preceded by a blank.
  for (size_t i = 1; i < v.size(); ++i) {
    if (v[i] == '#' && (v[i - 1] == ' ' || v[i - 1] == '\t')) {
      v = v.substr(0, i);
      break;
    }
  }
  return std::string(Trim(v));
}

// libpq's own verdict on a connection string (URI or keyword form): the values of its
// secret parameters, or nullopt when libpq cannot parse it. libpq's error message is
// dropped: it quotes the offending text, which may be the password.
std::optional<std::vector<std::string>> LibpqSecrets(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (error != nullptr) PQfreemem(error);
  if (options == nullptr) return std::nullopt;
  std::vector<std::string> secrets;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0') continue;
    if (std::find(kSecretKeys.begin(), kSecretKeys.end(), std::string_view(o->keyword)) != kSecretKeys.end()) {
      secrets.emplace_back(o->val);
    }
  }
  PQconninfoFree(options);
  return secrets;
}

// What is shown of a string libpq cannot parse: nothing of it but a URI scheme ("mysql://"),
// whatever the mistake, since where the password is cannot be known.
std::string RedactUnparseable(std::string_view url) {
  const size_t scheme_end = url.find("://");
  const bool scheme = scheme_end != std::string_view::npos && scheme_end > 0 &&
                      std::isalpha(static_cast<unsigned char>(url[0])) != 0 &&
                      std::all_of(url.begin(), url.begin() + static_cast<std::ptrdiff_t>(scheme_end), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
                      });
  return fmt::format("{}*** (not a valid PostgreSQL connection string; {} characters hidden)",
                     scheme ? url.substr(0, scheme_end + 3) : std::string_view(), url.size());
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<std::optional<std::string>> ReadEnvFileValue(const std::filesystem::path& path, std::string_view key) {
  auto text = ReadWholeFile(path, "env_file");
  if (!text) return text.error();
  std::optional<std::string> found;
  std::string_view rest = *text;
  while (!rest.empty()) {
    const size_t newline = rest.find('\n');
    std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    line = Trim(line);
    if (line.empty() || line.front() == '#') continue;
    if (line.starts_with("export") && line.size() > 6 && (line[6] == ' ' || line[6] == '\t')) {
      line = Trim(line.substr(7));
    }
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    if (Trim(line.substr(0, eq)) != key) continue;
    found = ParseEnvValue(Trim(line.substr(eq + 1)));
  }
  return found;
}

namespace {

// A resolved URL that libpq cannot parse is refused here, with the mistake hidden, so no
// later message (libpq quotes what it cannot parse) can carry the password.
Result<DatabaseUrl> Validated(DatabaseUrl resolved) {
  if (IsValidConnectionString(resolved.url)) return resolved;
  return Status::InvalidArgument(fmt::format("{}: {}", resolved.origin, RedactUrl(resolved.url)));
}

}  // namespace

Result<DatabaseUrl> ResolveDatabaseUrl(const PostgresConfig& config, const EnvLookup& env) {
  DatabaseUrl resolved;
  if (!config.url_file.empty()) {
    auto text = ReadWholeFile(config.url_file, "url_file");
    if (!text) return text.error();
    resolved.url = std::string(Trim(*text));
    if (resolved.url.empty()) return Status::InvalidArgument(fmt::format("url_file {}: empty", config.url_file));
    resolved.source = UrlSource::kUrlFile;
    resolved.origin = fmt::format("url_file {}", config.url_file);
    resolved.warning = SecretFileModeWarning(config.url_file, "url_file");
    return Validated(std::move(resolved));
  }
  if (auto value = env(config.url_env); value && !value->empty()) {
    resolved.url = *value;
    resolved.source = UrlSource::kEnvironment;
    resolved.origin = fmt::format("environment variable {}", config.url_env);
    return Validated(std::move(resolved));
  }
  if (!config.env_file.empty()) {
    std::error_code ec;
    if (std::filesystem::exists(config.env_file, ec)) {
      auto value = ReadEnvFileValue(config.env_file, config.url_env);
      if (!value) return value.error();
      if (value->has_value()) {
        if ((*value)->empty()) {
          return Status::InvalidArgument(fmt::format("env_file {}: {} is empty", config.env_file, config.url_env));
        }
        resolved.url = **value;
        resolved.source = UrlSource::kEnvFile;
        resolved.origin = fmt::format("{} in env_file {}", config.url_env, config.env_file);
        resolved.warning = SecretFileModeWarning(config.env_file, "env_file");
        return Validated(std::move(resolved));
      }
    }
  }
  return Status::NotFound(fmt::format("{} is not set in the environment{}", config.url_env,
                                      config.env_file.empty() ? std::string()
                                                              : fmt::format(" nor in env_file {}", config.env_file)));
}

std::string ConnInfoWithTimeout(const std::string& url, Duration connect_timeout) {
  const int64_t seconds = std::max<int64_t>(1, (std::chrono::ceil<std::chrono::seconds>(connect_timeout)).count());
  if (UriSchemeLength(url) > 0) {
    return fmt::format("{}{}connect_timeout={}&fallback_application_name=offmon", url,
                       url.find('?') == std::string::npos ? '?' : '&', seconds);
  }
  return fmt::format("{} connect_timeout={} fallback_application_name=offmon", url, seconds);
}

bool IsValidConnectionString(std::string_view url) { return LibpqSecrets(std::string(url)).has_value(); }

std::string RedactUrl(std::string_view url) {
  if (!IsValidConnectionString(url)) return RedactUnparseable(Trim(url));
  std::string out;
  size_t pos = 0;
  for (const Span& span : PasswordSpans(url)) {
    out.append(url.substr(pos, span.begin - pos));
    out.append(kRedacted);
    pos = span.end;
  }
  out.append(url.substr(pos));
  return out;
}

std::string UrlPassword(std::string_view url) {
  const bool uri = UriSchemeLength(url) > 0;
  std::string password;
  for (const Span& span : PasswordSpans(url)) {  // the last one wins, as in libpq
    std::string_view raw = url.substr(span.begin, span.end - span.begin);
    password = uri ? PercentDecode(raw) : UnquoteKeywordValue(raw);
  }
  return password;
}

std::vector<std::string> UrlSecrets(std::string_view url) {
  std::vector<std::string> secrets;
  auto add = [&](std::string_view s, size_t min_size) {
    if (s.size() >= min_size && std::find(secrets.begin(), secrets.end(), s) == secrets.end()) {
      secrets.emplace_back(s);
    }
  };
  const std::optional<std::vector<std::string>> parsed = LibpqSecrets(std::string(url));
  if (parsed) {
    for (const std::string& s : *parsed) add(s, 1);
  } else {
    // libpq quotes what it could not parse in its errors: the whole string, a word of it.
    add(Trim(url), 1);
    std::string_view rest = url;
    while (!rest.empty()) {
      const size_t begin = rest.find_first_not_of(kBlanks);
      if (begin == std::string_view::npos) break;
      rest.remove_prefix(begin);
      const size_t end = std::min(rest.find_first_of(kBlanks), rest.size());
      add(rest.substr(0, end), kMinScrubbedPiece);
      rest.remove_prefix(end);
    }
  }
  const bool uri = UriSchemeLength(Trim(url)) > 0;
  for (const Span& span : PasswordSpans(Trim(url))) {
    const std::string_view raw = Trim(url).substr(span.begin, span.end - span.begin);
    add(raw, 1);
    add(uri ? PercentDecode(raw) : UnquoteKeywordValue(raw), 1);
    // libpq ends the userinfo at the first '@' where this redaction takes the last, so a
    // password with an '@' reaches its errors in pieces ("host retPW@h not found").
    for (size_t begin = 0; begin <= raw.size();) {
      const size_t end = std::min(raw.find_first_of("@/?:", begin), raw.size());
      add(raw.substr(begin, end - begin), kMinScrubbedPiece);
      begin = end + 1;
    }
  }
  // Longest first, so a piece never leaves a longer secret half-replaced.
  std::sort(secrets.begin(), secrets.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return secrets;
}

}  // namespace offmon::collector
