// offmon's configuration: a plain struct with declared defaults, loaded from a TOML file
// and validated once, then passed by const reference. docs/configuration.md lists every
// key. Secrets (DATABASE_URL) come from the environment, never from this file's output.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "offmon/common/result.h"
#include "offmon/common/time.h"

namespace offmon {

struct StoreConfig {
  // [store] path. Default: $OFFMON_STORE, else var/offmon.db (relative to the cwd).
  std::string path;
  // [store] retention_raw / retention_5m / retention_1h. Defaults 30d / 180d / 800d.
  Duration retention_raw = std::chrono::days(30);
  Duration retention_5m = std::chrono::days(180);
  Duration retention_1h = std::chrono::days(800);
};

struct SystemConfig {
  // [system] disk_mounts: mount points whose free space is recorded. Default ["/"].
  std::vector<std::string> disk_mounts{"/"};
  // [system] proc_root: where /proc is read from (tests point it at fixtures).
  std::string proc_root = "/proc";
};

struct Config {
  StoreConfig store;
  SystemConfig system;
};

// Parses and validates a TOML file. InvalidArgument naming the file, line and key on a
// syntax error, an unknown key, a wrong type or a bad value; NotFound when missing.
Result<Config> LoadConfig(const std::filesystem::path& path);
// Same, from text (for tests and --config -).
Result<Config> ParseConfig(std::string_view toml_text, std::string_view source_name);

}  // namespace offmon
