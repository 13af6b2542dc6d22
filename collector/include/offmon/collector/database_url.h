// Where the monitored pipeline's PostgreSQL URL comes from, and how to show it safely.
//
// The URL carries the database password, so it is a secret: it is resolved once from
// [postgres] in the config (url_file, then the url_env variable, then the env_file .env
// file, as the guide's start-monitor.sh does with `source .env`) and then only handed to
// libpqxx. Anything printed goes through RedactUrl(). Thread safety: free functions
// without shared state; a DatabaseUrl is a value.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "offmon/common/config.h"
#include "offmon/common/result.h"
#include "offmon/common/secrets.h"  // ScrubSecrets, SecretFileModeWarning: what callers scrub with

namespace offmon::collector {

enum class UrlSource {
  kUrlFile,      // [postgres] url_file: the whole (trimmed) content of a file
  kEnvironment,  // the process environment's url_env variable
  kEnvFile,      // url_env assigned in the [postgres] env_file .env file
};

struct DatabaseUrl {
  // The connection string (URI `postgresql://...` or keyword form `host=... password=...`).
  // Secret: never log it; use RedactUrl(url).
  std::string url;
  UrlSource source = UrlSource::kEnvironment;
  // Where it was found, for messages: "url_file /run/secrets/db", "environment variable
  // DATABASE_URL", "DATABASE_URL in .env file ./.env". Holds no secret.
  std::string origin;
  // Non-empty when the file holding the secret can be read by group or others, e.g.
  // "url_file /run/secrets/db is readable by group or others (mode 0644); chmod 600 it".
  // The caller logs it; the URL is still used.
  std::string warning;
};

// Looks an environment variable up; nullopt when unset. Tests pass their own.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
// The real environment (getenv).
EnvLookup ProcessEnvironment();

// Resolves the URL by precedence: url_file (when set) > environment variable url_env >
// url_env in env_file. Failures (never holding the secret):
//   NotFound: url_file is set but missing, or no source has the URL (the message lists
//     where it looked);
//   IOError: url_file or env_file exists but cannot be read;
//   InvalidArgument: url_file is empty, env_file assigns url_env an empty value, or the
//     value is not a connection string libpq can parse (the message hides it: RedactUrl).
// A missing env_file is not an error (it is optional).
Result<DatabaseUrl> ResolveDatabaseUrl(const PostgresConfig& config, const EnvLookup& env = ProcessEnvironment());

// The libpq connection string for `url` with connect_timeout (whole seconds, at least 1)
// and fallback_application_name=offmon added, in the URL's own form (URI or keyword).
// Secret like the URL.
std::string ConnInfoWithTimeout(const std::string& url, Duration connect_timeout);

// Reads `key` from a .env file: lines `KEY=value` or `export KEY=value`; values may be
// 'single-quoted' (literal), "double-quoted" (\" \\ \n \$ escapes) or bare (ending at
// ` #`, trimmed); blank lines and lines starting with # are skipped. The last
// assignment wins, as with `source .env`. nullopt when the key is not assigned;
// IOError when the file cannot be read.
Result<std::optional<std::string>> ReadEnvFileValue(const std::filesystem::path& path, std::string_view key);

// Whether libpq can parse `url` as a connection string (URI or keyword form).
bool IsValidConnectionString(std::string_view url);

// The URL with its secrets replaced by "***": the userinfo password of a URI
// (postgresql://user:***@host/db), `password=` and `sslpassword=` URI query parameters
// and keywords (bare or quoted) of the keyword form. Other parts are unchanged. A string
// libpq cannot parse is hidden whole (only a `scheme://` is kept): where its password is
// cannot be known, and a mistyped URL must not leak it.
std::string RedactUrl(std::string_view url);

// The password written in the URL (URI userinfo or query parameter, percent-decoded,
// or keyword form), or empty when it has none. Used to scrub error texts.
std::string UrlPassword(std::string_view url);

// Everything to scrub from messages that may quote `url` (libpq's errors do): its secret
// values as libpq reads them, raw and percent-decoded, the pieces of a password libpq
// would split at '@', and, when libpq cannot parse the string, the whole of it and each
// word of it. Longest first.
std::vector<std::string> UrlSecrets(std::string_view url);

}  // namespace offmon::collector
