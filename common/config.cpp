#include "offmon/common/config.h"

#include <arpa/inet.h>

#include <charconv>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <set>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "offmon/common/series_key.h"
// Errors as values, not exceptions. Debian's compiled toml++ only has the throwing
// parser, so this one file instantiates the header-only, non-throwing one.
#undef TOML_HEADER_ONLY
#undef TOML_SHARED_LIB
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

namespace offmon {

namespace {

// More rotated monitor logs than this is a typo (spdlog refuses above 200,000 and the
// daemon would then run without its log).
constexpr int64_t kMaxLogFilesKept = 1000;

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

  Status Int(std::string_view key, int64_t min, int64_t* out, int64_t max = std::numeric_limits<int64_t>::max()) {
    known_.insert(std::string(key));
    const toml::node* node = table_.get(key);
    if (node == nullptr) return Status::Ok();
    auto value = node->value<int64_t>();
    if (!value) return Error(*node, key, "expected an integer");
    if (*value < min) return Error(*node, key, fmt::format("must be at least {}", min));
    if (*value > max) return Error(*node, key, fmt::format("must be at most {}", max));
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

  // A string that must be one of `allowed`; *out is set to its index there.
  Status Choice(std::string_view key, std::initializer_list<std::string_view> allowed, size_t* out) {
    std::string text;
    OFFMON_RETURN_IF_ERROR(String(key, &text));
    if (table_.get(key) == nullptr) return Status::Ok();
    size_t index = 0;
    for (std::string_view choice : allowed) {
      if (choice == text) {
        *out = index;
        return Status::Ok();
      }
      ++index;
    }
    return Error(*table_.get(key), key, fmt::format("expected \"{}\"", fmt::join(allowed, "\" or \"")));
  }

  // A path to a file the daemon writes: a directory there is refused now, not found out
  // by a daemon that would then run without it.
  Status FilePath(std::string_view key, std::string* out) {
    OFFMON_RETURN_IF_ERROR(String(key, out));
    std::error_code ec;
    if (!out->empty() && std::filesystem::is_directory(*out, ec)) {
      return Error(*table_.get(key), key, fmt::format("{} is a directory; give a file path", *out));
    }
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

  // A key read by other means.
  void Allow(std::string_view key) { known_.insert(std::string(key)); }

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

// Why `path` cannot be a receiver's ca_file ("" when it can): it must be readable and
// hold at least one PEM certificate. OpenSSL parses it when the sender starts.
std::string CaFileProblem(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fmt::format("cannot read ({})", std::generic_category().message(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return "cannot read";
  if (text.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos) return "no PEM certificate in it";
  return {};
}

// One receiver table. Values of url and url_file are secrets: errors name the key only.
Status ParseReceiver(const toml::table& table, std::string name, int64_t line, std::string_view source_name,
                     ReceiverConfig* out) {
  TableReader reader(table, fmt::format("notify.receivers.{}", name), source_name);
  auto fail = [&](std::string_view reason) {
    return Status::InvalidArgument(fmt::format("{}:{}: [notify.receivers.{}] {}", source_name, line, name, reason));
  };
  out->name = name;
  OFFMON_RETURN_IF_ERROR(reader.String("type", &out->type));
  static const std::set<std::string, std::less<>> kTypes{"alertmanager", "webhook", "slack", "discord", "pagerduty"};
  if (out->type.empty()) return fail("type: required (alertmanager, webhook, slack, discord or pagerduty)");
  if (!kTypes.contains(out->type)) {
    return fail(fmt::format("type: unknown receiver type \"{}\" (alertmanager, webhook, slack, discord or pagerduty)",
                            out->type));
  }
  if (out->type == "alertmanager") out->repeat_interval = std::chrono::hours(1);
  OFFMON_RETURN_IF_ERROR(reader.String("url", &out->url));
  OFFMON_RETURN_IF_ERROR(reader.String("url_file", &out->url_file));
  OFFMON_RETURN_IF_ERROR(reader.Strings("urls", &out->urls));
  OFFMON_RETURN_IF_ERROR(reader.String("routing_key_file", &out->routing_key_file));
  OFFMON_RETURN_IF_ERROR(reader.String("min_severity", &out->min_severity));
  OFFMON_RETURN_IF_ERROR(reader.Strings("transitions", &out->transitions));
  OFFMON_RETURN_IF_ERROR(reader.Duration("repeat_interval", &out->repeat_interval, /*allow_zero=*/true));
  OFFMON_RETURN_IF_ERROR(reader.String("ca_file", &out->ca_file));
  OFFMON_RETURN_IF_ERROR(reader.Bool("tls_insecure_skip_verify", &out->tls_insecure_skip_verify));
  OFFMON_RETURN_IF_ERROR(reader.RejectUnknown());
  if (!out->ca_file.empty()) {
    // Checked now so that a typo fails `config check` and the start, not every delivery.
    const int64_t ca_line = table.get("ca_file")->source().begin.line;
    if (std::string problem = CaFileProblem(out->ca_file); !problem.empty()) {
      return Status::InvalidArgument(
          fmt::format("{}:{}: [notify.receivers.{}] ca_file: {}: {}", source_name, ca_line, name, out->ca_file, problem));
    }
    if (out->tls_insecure_skip_verify) return fail("ca_file: not with tls_insecure_skip_verify = true (nothing is verified)");
  }
  if (out->min_severity != "WARNING" && out->min_severity != "CRITICAL") {
    return fail("min_severity: expected \"WARNING\" or \"CRITICAL\" (INFO is never notified)");
  }
  for (const std::string& t : out->transitions) {
    if (t != "firing" && t != "escalated" && t != "resolved") {
      return fail(fmt::format("transitions: unknown transition \"{}\" (firing, escalated, resolved)", t));
    }
  }
  if (table.get("urls") != nullptr) {
    if (out->type != "alertmanager") return fail("urls: only for alertmanager (other types take one url)");
    if (!out->url.empty() || !out->url_file.empty()) return fail("urls: not with url or url_file (give one of them)");
    if (out->urls.empty()) return fail("urls: empty (list at least one Alertmanager)");
    // Each is delivered to on its own; the same one twice would get everything twice.
    // The values are secrets: the error gives positions only.
    for (size_t i = 0; i < out->urls.size(); ++i) {
      if (out->urls[i].empty()) return fail(fmt::format("urls: entry {} is empty", i + 1));
      for (size_t j = 0; j < i; ++j) {
        if (out->urls[j] == out->urls[i]) {
          return fail(fmt::format("urls: entries {} and {} are the same", j + 1, i + 1));
        }
      }
    }
  }
  if (out->type == "pagerduty") {
    if (out->routing_key_file.empty()) return fail("routing_key_file: required for pagerduty");
  } else {
    if (!out->routing_key_file.empty()) return fail("routing_key_file: only for pagerduty");
    if (out->url.empty() && out->url_file.empty() && out->urls.empty()) {
      return fail(out->type == "alertmanager" ? "url, url_file or urls: required" : "url or url_file: required");
    }
  }
  return Status::Ok();
}

// Why a secret file cannot be used ("" when it can): it must be readable. Its content is
// never part of a message.
std::string SecretFileProblem(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fmt::format("{}: cannot read ({})", path, std::generic_category().message(errno));
  return {};
}

// [remote_write.NAME] tables. The url may hold credentials: errors never quote it.
Status ParseRemoteWrite(const toml::table& section, std::string_view source_name, std::vector<RemoteWriteConfig>* out) {
  for (const auto& [key, node] : section) {
    const int64_t line = node.source().begin.line;
    const std::string name(key.str());
    auto fail = [&](std::string_view reason) {
      return Status::InvalidArgument(fmt::format("{}:{}: [remote_write.{}] {}", source_name, line, name, reason));
    };
    const toml::table* table = node.as_table();
    if (table == nullptr) return fail("must be a table");
    RemoteWriteConfig rw;
    rw.name = name;
    TableReader reader(*table, fmt::format("remote_write.{}", rw.name), source_name);
    OFFMON_RETURN_IF_ERROR(reader.String("url", &rw.url));
    OFFMON_RETURN_IF_ERROR(reader.String("username", &rw.username));
    OFFMON_RETURN_IF_ERROR(reader.String("password_file", &rw.password_file));
    OFFMON_RETURN_IF_ERROR(reader.String("bearer_token_file", &rw.bearer_token_file));
    OFFMON_RETURN_IF_ERROR(reader.String("ca_file", &rw.ca_file));
    OFFMON_RETURN_IF_ERROR(reader.Bool("tls_insecure_skip_verify", &rw.tls_insecure_skip_verify));
    OFFMON_RETURN_IF_ERROR(reader.Int("max_samples_per_send", 1, &rw.max_samples_per_send, 100'000));
    OFFMON_RETURN_IF_ERROR(reader.Duration("min_backoff", &rw.min_backoff));
    OFFMON_RETURN_IF_ERROR(reader.Duration("max_backoff", &rw.max_backoff));
    OFFMON_RETURN_IF_ERROR(reader.Duration("timeout", &rw.timeout));
    reader.Allow("external_labels");
    OFFMON_RETURN_IF_ERROR(reader.RejectUnknown());
    if (const toml::node* labels = table->get("external_labels")) {
      const toml::table* labels_table = labels->as_table();
      if (labels_table == nullptr) return fail("external_labels: expected a table of strings");
      for (const auto& [label, value] : *labels_table) {
        auto text = value.value<std::string>();
        if (!text) return fail(fmt::format("external_labels.{}: expected a string", label.str()));
        if (!IsValidLabelName(label.str())) return fail(fmt::format("external_labels.{}: not a label name", label.str()));
        rw.external_labels.emplace_back(std::string(label.str()), *text);
      }
    }
    const bool http = rw.url.starts_with("http://"), https = rw.url.starts_with("https://");
    const size_t scheme = https ? 8 : 7;
    if (!http && !https) return fail("url: required, an http:// or https:// URL");
    if (rw.url.size() <= scheme || rw.url[scheme] == '/' || rw.url.find_first_of(" \t\r\n") != std::string::npos) {
      return fail("url: not a valid http(s) URL (no host)");
    }
    if (!rw.username.empty() != !rw.password_file.empty()) return fail("username and password_file go together");
    if (!rw.username.empty() && !rw.bearer_token_file.empty()) {
      return fail("basic auth (username, password_file) and bearer_token_file exclude each other");
    }
    for (const std::string* file : {&rw.password_file, &rw.bearer_token_file}) {
      if (file->empty()) continue;
      if (std::string problem = SecretFileProblem(*file); !problem.empty()) {
        return fail(fmt::format("{}: {}", file == &rw.password_file ? "password_file" : "bearer_token_file", problem));
      }
    }
    if (!rw.ca_file.empty()) {
      if (std::string problem = CaFileProblem(rw.ca_file); !problem.empty()) {
        return fail(fmt::format("ca_file: {}: {}", rw.ca_file, problem));
      }
      if (rw.tls_insecure_skip_verify) return fail("ca_file: not with tls_insecure_skip_verify = true");
    }
    if (rw.max_backoff < rw.min_backoff) return fail("max_backoff must not be below min_backoff");
    out->push_back(std::move(rw));
  }
  return Status::Ok();
}

// [notify] with receivers as [notify.receivers.NAME] tables or a [[notify.receivers]]
// array of tables with `name`.
Status ParseNotify(const toml::table& notify, std::string_view source_name, NotifyConfig* out) {
  TableReader reader(notify, "notify", source_name);
  OFFMON_RETURN_IF_ERROR(reader.Duration("retry_initial", &out->retry_initial));
  OFFMON_RETURN_IF_ERROR(reader.Duration("retry_max", &out->retry_max));
  OFFMON_RETURN_IF_ERROR(reader.Duration("timeout", &out->timeout));
  const toml::node* receivers = notify.get("receivers");
  if (receivers != nullptr) {
    const int64_t line = receivers->source().begin.line;
    if (const toml::table* tables = receivers->as_table()) {
      for (const auto& [name, node] : *tables) {
        const toml::table* table = node.as_table();
        if (table == nullptr) {
          return Status::InvalidArgument(fmt::format("{}:{}: notify.receivers.{} must be a table", source_name,
                                                     node.source().begin.line, name.str()));
        }
        ReceiverConfig receiver;
        OFFMON_RETURN_IF_ERROR(
            ParseReceiver(*table, std::string(name.str()), node.source().begin.line, source_name, &receiver));
        out->receivers.push_back(std::move(receiver));
      }
    } else if (const toml::array* array = receivers->as_array()) {
      for (const toml::node& node : *array) {
        const toml::table* table = node.as_table();
        auto name = table != nullptr ? table->get("name") : nullptr;
        auto text = name != nullptr ? name->value<std::string>() : std::nullopt;
        if (!text || text->empty()) {
          return Status::InvalidArgument(fmt::format("{}:{}: [[notify.receivers]] name: required (a string)",
                                                     source_name, node.source().begin.line));
        }
        toml::table copy = *table;
        copy.erase("name");
        ReceiverConfig receiver;
        OFFMON_RETURN_IF_ERROR(ParseReceiver(copy, *text, node.source().begin.line, source_name, &receiver));
        out->receivers.push_back(std::move(receiver));
      }
    } else {
      return Status::InvalidArgument(
          fmt::format("{}:{}: [notify] receivers: expected tables of receivers", source_name, line));
    }
  }
  reader.Allow("receivers");
  OFFMON_RETURN_IF_ERROR(reader.RejectUnknown());
  std::set<std::string> names;
  for (const ReceiverConfig& r : out->receivers) {
    if (!names.insert(r.name).second) {
      return Status::InvalidArgument(fmt::format("{}: [notify] receiver \"{}\" is defined twice", source_name, r.name));
    }
  }
  if (out->retry_max < out->retry_initial) {
    return Status::InvalidArgument(fmt::format("{}: [notify] retry_max must not be below retry_initial", source_name));
  }
  return Status::Ok();
}

// [http]: the daemon's listener.
Status ParseHttp(const toml::table& http, std::string_view source_name, HttpConfig* out) {
  TableReader reader(http, "http", source_name);
  OFFMON_RETURN_IF_ERROR(reader.String("listen", &out->listen));
  OFFMON_RETURN_IF_ERROR(reader.Int("max_connections", 1, &out->max_connections));
  OFFMON_RETURN_IF_ERROR(reader.Duration("read_timeout", &out->read_timeout));
  OFFMON_RETURN_IF_ERROR(reader.Duration("idle_timeout", &out->idle_timeout));
  OFFMON_RETURN_IF_ERROR(reader.Duration("write_timeout", &out->write_timeout));
  OFFMON_RETURN_IF_ERROR(reader.Duration("stale_after", &out->stale_after));
  OFFMON_RETURN_IF_ERROR(reader.String("token_file", &out->token_file));
  OFFMON_RETURN_IF_ERROR(reader.RejectUnknown());
  if (out->listen.empty()) return Status::Ok();
  std::string host;
  uint16_t port = 0;
  if (Status status = ParseListenAddress(out->listen, &host, &port); !status.ok()) {
    const toml::node* node = http.get("listen");
    return Status::InvalidArgument(fmt::format("{}:{}: [http] listen: {}", source_name,
                                               node != nullptr ? node->source().begin.line : 0, status.message()));
  }
  return Status::Ok();
}

}  // namespace

Status ParseListenAddress(std::string_view listen, std::string* host, uint16_t* port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) {
    return Status::InvalidArgument(fmt::format("\"{}\" is not HOST:PORT (say \"127.0.0.1:9470\")", listen));
  }
  std::string_view h = listen.substr(0, colon);
  const std::string_view p = listen.substr(colon + 1);
  const bool v6 = h.size() >= 2 && h.front() == '[' && h.back() == ']';
  if (v6) h = h.substr(1, h.size() - 2);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (p.empty() || ec != std::errc() || end != p.data() + p.size() || value > 65535) {
    return Status::InvalidArgument(fmt::format("\"{}\": port must be a number from 0 to 65535", listen));
  }
  const std::string text(h);
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), buf) != 1) {
    return Status::InvalidArgument(fmt::format(
        "\"{}\": the host must be a numeric IPv4 address or a bracketed IPv6 one (\"[::1]:9470\")", listen));
  }
  *host = text;
  *port = static_cast<uint16_t>(value);
  return Status::Ok();
}

bool IsLoopbackListen(std::string_view listen) {
  std::string host;
  uint16_t port = 0;
  if (!ParseListenAddress(listen, &host, &port).ok()) return false;
  if (host.find(':') != std::string::npos) {
    in6_addr addr{};
    return inet_pton(AF_INET6, host.c_str(), &addr) == 1 && IN6_IS_ADDR_LOOPBACK(&addr);
  }
  return host.starts_with("127.");
}

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
                                                                  "analyzer", "rules", "notify", "http",
                                                                  "remote_write"};
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
  size_t pm2_method = static_cast<size_t>(config.pm2.method);
  OFFMON_RETURN_IF_ERROR(pm2.Choice("method", {"rpc", "jlist"}, &pm2_method));
  config.pm2.method = static_cast<Pm2Method>(pm2_method);
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
  OFFMON_RETURN_IF_ERROR(postgres.Duration("lock_timeout", &config.postgres.lock_timeout));
  OFFMON_RETURN_IF_ERROR(postgres.Duration("backfill", &config.postgres.backfill, /*allow_zero=*/true));
  OFFMON_RETURN_IF_ERROR(postgres.Duration("participant_sets", &config.postgres.participant_sets, /*allow_zero=*/true));
  OFFMON_RETURN_IF_ERROR(postgres.RejectUnknown());
  TableReader log(section("log"), "log", source_name);
  OFFMON_RETURN_IF_ERROR(log.FilePath("file", &config.log.file));
  OFFMON_RETURN_IF_ERROR(log.Int("max_bytes", 4096, &config.log.max_bytes));
  OFFMON_RETURN_IF_ERROR(log.Int("keep", 0, &config.log.keep, kMaxLogFilesKept));
  OFFMON_RETURN_IF_ERROR(log.RejectUnknown());
  TableReader analyzer(section("analyzer"), "analyzer", source_name);
  OFFMON_RETURN_IF_ERROR(analyzer.Bool("enabled", &config.analyzer.enabled));
  OFFMON_RETURN_IF_ERROR(analyzer.Duration("interval", &config.analyzer.interval));
  OFFMON_RETURN_IF_ERROR(analyzer.Duration("escalate_warning_after", &config.analyzer.escalate_warning_after));
  OFFMON_RETURN_IF_ERROR(analyzer.Strings("aggregator", &config.analyzer.aggregator));
  OFFMON_RETURN_IF_ERROR(analyzer.Strings("sealer", &config.analyzer.sealer));
  OFFMON_RETURN_IF_ERROR(analyzer.RejectUnknown());
  OFFMON_RETURN_IF_ERROR(ParseRules(section("rules"), source_name, &config.analyzer.rules));
  OFFMON_RETURN_IF_ERROR(ParseNotify(section("notify"), source_name, &config.notify));
  OFFMON_RETURN_IF_ERROR(ParseHttp(section("http"), source_name, &config.http));
  OFFMON_RETURN_IF_ERROR(ParseRemoteWrite(section("remote_write"), source_name, &config.remote_write));
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
