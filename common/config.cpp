#include "offmon/common/config.h"

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
// Errors as values, not exceptions. Debian's compiled toml++ only has the throwing
// parser, so this one file instantiates the header-only, non-throwing one.
#undef TOML_HEADER_ONLY
#undef TOML_SHARED_LIB
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

namespace offmon {

namespace {

// Reads known keys of one table and rejects unknown ones, so a typo is an error
// instead of a silently ignored setting.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string name, std::string_view source)
      : table_(table), name_(std::move(name)), source_(source) {}

  Status Duration(std::string_view key, offmon::Duration* out, bool allow_zero = false) {
    known_.insert(std::string(key));
    const toml::node* node = table_.get(key);
    if (node == nullptr) return Status::Ok();
    auto text = node->value<std::string>();
    if (!text) return Error(*node, key, "expected a duration string such as \"30d\"");
    auto d = ParseDuration(*text);
    if (!d) return Error(*node, key, d.error().message());
    if (d->count() < 0 || (d->count() == 0 && !allow_zero)) return Error(*node, key, "must be positive");
    *out = *d;
    return Status::Ok();
  }

  Status Bool(std::string_view key, bool* out) {
    known_.insert(std::string(key));
    const toml::node* node = table_.get(key);
    if (node == nullptr) return Status::Ok();
    auto value = node->value<bool>();
    if (!value) return Error(*node, key, "expected true or false");
    *out = *value;
    return Status::Ok();
  }

  Status Int(std::string_view key, int64_t min, int64_t* out) {
    known_.insert(std::string(key));
    const toml::node* node = table_.get(key);
    if (node == nullptr) return Status::Ok();
    auto value = node->value<int64_t>();
    if (!value) return Error(*node, key, "expected an integer");
    if (*value < min) return Error(*node, key, fmt::format("must be at least {}", min));
    *out = *value;
    return Status::Ok();
  }

  Status String(std::string_view key, std::string* out) {
    known_.insert(std::string(key));
    const toml::node* node = table_.get(key);
    if (node == nullptr) return Status::Ok();
    auto text = node->value<std::string>();
    if (!text) return Error(*node, key, "expected a string");
    *out = *text;
    return Status::Ok();
  }

  Status Strings(std::string_view key, std::vector<std::string>* out) {
    known_.insert(std::string(key));
    const toml::node* node = table_.get(key);
    if (node == nullptr) return Status::Ok();
    const toml::array* array = node->as_array();
    if (array == nullptr) return Error(*node, key, "expected an array of strings");
    out->clear();
    for (const toml::node& item : *array) {
      auto text = item.value<std::string>();
      if (!text) return Error(item, key, "expected an array of strings");
      out->push_back(*text);
    }
    return Status::Ok();
  }

  // A threshold or parameter in `unit`: a number, or a string with a unit.
  Status RuleValue(std::string_view key, RuleUnit unit, std::optional<double>* out) {
    known_.insert(std::string(key));
    const toml::node* node = table_.get(key);
    if (node == nullptr) return Status::Ok();
    if (auto number = node->value<double>()) {
      if (!std::isfinite(*number)) return Error(*node, key, "must be a finite number");
      *out = *number;
      return Status::Ok();
    }
    auto text = node->value<std::string>();
    if (text && unit == RuleUnit::kSeconds) {
      auto d = ParseDuration(*text);
      if (!d) return Error(*node, key, d.error().message());
      *out = static_cast<double>(d->count()) / 1000;
      return Status::Ok();
    }
    if (text && unit == RuleUnit::kBytes) {
      if (auto bytes = ParseBytes(*text)) {
        *out = *bytes;
        return Status::Ok();
      }
      return Error(*node, key, "expected a size such as \"3GiB\" or \"200MB\"");
    }
    return Error(*node, key, unit == RuleUnit::kSeconds ? "expected a duration string such as \"2h\""
                                                        : "expected a number");
  }

  Status RejectUnknown() {
    for (const auto& [key, node] : table_) {
      if (!known_.contains(std::string(key.str()))) {
        return Error(node, key.str(), "unknown key");
      }
    }
    return Status::Ok();
  }

 private:
  Status Error(const toml::node& node, std::string_view key, std::string_view reason) const {
    return Status::InvalidArgument(fmt::format("{}:{}: [{}] {}: {}", source_, node.source().begin.line, name_, key, reason));
  }
  const toml::table& table_;
  std::string name_;
  std::string_view source_;
  std::set<std::string> known_;
};

// [rules.NAME] tables: each names a rule of DefaultRules() and overrides some of its
// settings.
Status ParseRules(const toml::table& rules, std::string_view source_name, RuleSet* out) {
  for (const auto& [name, node] : rules) {
    auto rule = out->find(name.str());
    if (rule == out->end()) {
      return Status::InvalidArgument(
          fmt::format("{}:{}: [rules.{}]: no such rule (docs/alert-rules.md lists them)", source_name,
                      node.source().begin.line, name.str()));
    }
    const toml::table* table = node.as_table();
    if (table == nullptr) {
      return Status::InvalidArgument(
          fmt::format("{}:{}: rules.{} must be a table", source_name, node.source().begin.line, name.str()));
    }
    RuleConfig& config = rule->second;
    TableReader reader(*table, fmt::format("rules.{}", name.str()), source_name);
    OFFMON_RETURN_IF_ERROR(reader.Bool("enabled", &config.enabled));
    OFFMON_RETURN_IF_ERROR(reader.Duration("for", &config.for_duration, /*allow_zero=*/true));
    OFFMON_RETURN_IF_ERROR(reader.Duration("keep_firing_for", &config.keep_firing_for, /*allow_zero=*/true));
    // Only the levels a rule has can be set.
    if (config.warning) OFFMON_RETURN_IF_ERROR(reader.RuleValue("warning", config.threshold_unit, &config.warning));
    if (config.critical) OFFMON_RETURN_IF_ERROR(reader.RuleValue("critical", config.threshold_unit, &config.critical));
    for (auto& [key, value] : config.params) {
      std::optional<double> v = value;
      OFFMON_RETURN_IF_ERROR(reader.RuleValue(key, config.param_units.at(key), &v));
      value = *v;
    }
    OFFMON_RETURN_IF_ERROR(reader.RejectUnknown());
  }
  return Status::Ok();
}

}  // namespace

// toml++ 3.3 reaches __builtin_unreachable when a non-ASCII character such as 'é' stands
// where it classifies whitespace (its is_non_ascii_horizontal_whitespace table is wrong),
// which is undefined behaviour on user input, and where that happens depends on its
// lexer's state (found by fuzz_config). Until a fixed toml++ is packaged, config files are
// ASCII: every setting offmon has is ASCII.
static Status CheckAscii(std::string_view text, std::string_view source_name) {
  size_t line = 1;
  for (char c : text) {
    if (c == '\n') ++line;
    if (static_cast<unsigned char>(c) >= 0x80) {
      return Status::InvalidArgument(fmt::format("{}:{}: non-ASCII character (config files must be ASCII)",
                                                 source_name, line));
    }
  }
  return Status::Ok();
}

Result<Config> ParseConfig(std::string_view toml_text, std::string_view source_name) {
  OFFMON_RETURN_IF_ERROR(CheckAscii(toml_text, source_name));
  toml::parse_result parsed = toml::parse(toml_text, source_name);
  if (!parsed) {
    const auto& error = parsed.error();
    // One line always: the parser's description may quote control characters.
    std::string description(error.description());
    for (char& c : description) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    return Status::InvalidArgument(fmt::format("{}:{}: {}", source_name, error.source().begin.line, description));
  }
  const toml::table& root = parsed.table();
  Config config;
  for (const auto& [key, node] : root) {
    static const std::set<std::string, std::less<>> kSections{"store", "system", "pm2", "processes", "postgres", "log",
                                                                  "analyzer", "rules"};
    if (!kSections.contains(key.str())) {
      return Status::InvalidArgument(fmt::format("{}:{}: unknown section [{}]", source_name, node.source().begin.line, key.str()));
    }
    if (!node.is_table()) {
      return Status::InvalidArgument(fmt::format("{}:{}: {} must be a table", source_name, node.source().begin.line, key.str()));
    }
  }
  static const toml::table kEmpty;
  auto section = [&](std::string_view name) -> const toml::table& {
    const toml::table* t = root[name].as_table();
    return t != nullptr ? *t : kEmpty;
  };
  TableReader store(section("store"), "store", source_name);
  OFFMON_RETURN_IF_ERROR(store.String("path", &config.store.path));
  OFFMON_RETURN_IF_ERROR(store.Duration("retention_raw", &config.store.retention_raw));
  OFFMON_RETURN_IF_ERROR(store.Duration("retention_5m", &config.store.retention_5m));
  OFFMON_RETURN_IF_ERROR(store.Duration("retention_1h", &config.store.retention_1h));
  OFFMON_RETURN_IF_ERROR(store.RejectUnknown());
  if (config.store.retention_5m < config.store.retention_raw || config.store.retention_1h < config.store.retention_5m) {
    return Status::InvalidArgument(fmt::format(
        "{}: [store] retention must not shrink with coarser data: retention_raw <= retention_5m <= retention_1h",
        source_name));
  }
  TableReader system(section("system"), "system", source_name);
  OFFMON_RETURN_IF_ERROR(system.Duration("interval", &config.system.interval));
  OFFMON_RETURN_IF_ERROR(system.Strings("disk_mounts", &config.system.disk_mounts));
  OFFMON_RETURN_IF_ERROR(system.String("proc_root", &config.system.proc_root));
  OFFMON_RETURN_IF_ERROR(system.RejectUnknown());
  TableReader pm2(section("pm2"), "pm2", source_name);
  OFFMON_RETURN_IF_ERROR(pm2.Bool("enabled", &config.pm2.enabled));
  OFFMON_RETURN_IF_ERROR(pm2.String("binary", &config.pm2.binary));
  OFFMON_RETURN_IF_ERROR(pm2.String("home", &config.pm2.home));
  OFFMON_RETURN_IF_ERROR(pm2.Strings("processes", &config.pm2.processes));
  OFFMON_RETURN_IF_ERROR(pm2.Duration("interval", &config.pm2.interval));
  OFFMON_RETURN_IF_ERROR(pm2.Duration("timeout", &config.pm2.timeout));
  OFFMON_RETURN_IF_ERROR(pm2.RejectUnknown());
  TableReader processes(section("processes"), "processes", source_name);
  OFFMON_RETURN_IF_ERROR(processes.Strings("pid_files", &config.processes.pid_files));
  OFFMON_RETURN_IF_ERROR(processes.Strings("names", &config.processes.names));
  OFFMON_RETURN_IF_ERROR(processes.Duration("interval", &config.processes.interval));
  OFFMON_RETURN_IF_ERROR(processes.RejectUnknown());
  TableReader postgres(section("postgres"), "postgres", source_name);
  OFFMON_RETURN_IF_ERROR(postgres.Bool("enabled", &config.postgres.enabled));
  OFFMON_RETURN_IF_ERROR(postgres.String("url_env", &config.postgres.url_env));
  OFFMON_RETURN_IF_ERROR(postgres.String("env_file", &config.postgres.env_file));
  OFFMON_RETURN_IF_ERROR(postgres.String("url_file", &config.postgres.url_file));
  OFFMON_RETURN_IF_ERROR(postgres.Duration("interval", &config.postgres.interval));
  OFFMON_RETURN_IF_ERROR(postgres.Duration("connect_timeout", &config.postgres.connect_timeout));
  OFFMON_RETURN_IF_ERROR(postgres.Duration("statement_timeout", &config.postgres.statement_timeout));
  OFFMON_RETURN_IF_ERROR(postgres.RejectUnknown());
  TableReader log(section("log"), "log", source_name);
  OFFMON_RETURN_IF_ERROR(log.String("file", &config.log.file));
  OFFMON_RETURN_IF_ERROR(log.Int("max_bytes", 4096, &config.log.max_bytes));
  OFFMON_RETURN_IF_ERROR(log.Int("keep", 0, &config.log.keep));
  OFFMON_RETURN_IF_ERROR(log.RejectUnknown());
  TableReader analyzer(section("analyzer"), "analyzer", source_name);
  OFFMON_RETURN_IF_ERROR(analyzer.Bool("enabled", &config.analyzer.enabled));
  OFFMON_RETURN_IF_ERROR(analyzer.Duration("interval", &config.analyzer.interval));
  OFFMON_RETURN_IF_ERROR(analyzer.Duration("escalate_warning_after", &config.analyzer.escalate_warning_after));
  OFFMON_RETURN_IF_ERROR(analyzer.Strings("aggregator", &config.analyzer.aggregator));
  OFFMON_RETURN_IF_ERROR(analyzer.Strings("sealer", &config.analyzer.sealer));
  OFFMON_RETURN_IF_ERROR(analyzer.RejectUnknown());
  OFFMON_RETURN_IF_ERROR(ParseRules(section("rules"), source_name, &config.analyzer.rules));
  return config;
}

Result<Config> LoadConfig(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(fmt::format("cannot read config file {}", path.string()));
  std::stringstream text;
  text << in.rdbuf();
  return ParseConfig(text.str(), path.string());
}

}  // namespace offmon
