#include "offmon/common/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace offmon {
namespace {

TEST(ConfigTest, ExampleFileParsesToTheDefaults) {
  std::ifstream in(std::string(OFFMON_TESTDATA_DIR) + "/../../docs/offmon.example.toml");
  std::stringstream text;
  text << in.rdbuf();
  ASSERT_FALSE(text.str().empty());
  auto config = ParseConfig(text.str(), "offmon.example.toml");
  ASSERT_TRUE(config.has_value()) << config.error().ToString();
  Config defaults;
  EXPECT_EQ(config->store.retention_raw, defaults.store.retention_raw);
  EXPECT_EQ(config->pm2.interval, defaults.pm2.interval);
  EXPECT_EQ(config->pm2.timeout, defaults.pm2.timeout);
  EXPECT_EQ(config->pm2.method, Pm2Method::kRpc);
  EXPECT_EQ(config->postgres.url_env, defaults.postgres.url_env);
  EXPECT_EQ(config->postgres.statement_timeout, defaults.postgres.statement_timeout);
  EXPECT_EQ(config->postgres.lock_timeout, defaults.postgres.lock_timeout);
  EXPECT_EQ(config->postgres.backfill, defaults.postgres.backfill);
  EXPECT_EQ(config->postgres.participant_sets, defaults.postgres.participant_sets);
  EXPECT_EQ(config->system.disk_mounts, defaults.system.disk_mounts);
  EXPECT_EQ(config->log.max_bytes, defaults.log.max_bytes);
}

TEST(ConfigTest, RulesAreConfigurationWithUnits) {
  auto config = ParseConfig(R"(
[analyzer]
escalate_warning_after = "30m"
aggregator = ["cls-aggregator"]

[rules.ProcessMemoryHigh]
warning = "2GiB"
critical = 3221225472
for = "0s"

[rules.MemoryLeak]
horizon = "12h"

[rules.CpuHigh]
enabled = false
)",
                            "rules.toml");
  ASSERT_TRUE(config.has_value()) << config.error().ToString();
  const RuleSet& rules = config->analyzer.rules;
  EXPECT_EQ(rules.at("ProcessMemoryHigh").warning, 2.0 * 1024 * 1024 * 1024);
  EXPECT_EQ(rules.at("ProcessMemoryHigh").critical, 3.0 * 1024 * 1024 * 1024);
  EXPECT_EQ(rules.at("ProcessMemoryHigh").for_duration, Duration(0));
  EXPECT_EQ(rules.at("MemoryLeak").ParamDuration("horizon"), std::chrono::hours(12));
  EXPECT_FALSE(rules.at("CpuHigh").enabled);
  EXPECT_EQ(rules.at("RestartLoop").warning, 20);  // untouched rules keep the guide's defaults
  EXPECT_EQ(config->analyzer.escalate_warning_after, std::chrono::minutes(30));
  EXPECT_EQ(config->analyzer.aggregator, std::vector<std::string>{"cls-aggregator"});

  EXPECT_EQ(ParseConfig("[rules.NoSuchRule]\nenabled = true\n", "a.toml").error().message(),
            "a.toml:1: [rules.NoSuchRule]: no such rule (docs/alert-rules.md lists them)");
  EXPECT_EQ(ParseConfig("[rules.CpuHigh]\nwarning = 50\n", "b.toml").error().message(),
            "b.toml:2: [rules.CpuHigh] warning: unknown key");  // CpuHigh has only a critical level
  EXPECT_EQ(ParseConfig("[rules.ProcessMemoryHigh]\nwarning = \"lots\"\n", "c.toml").error().message(),
            "c.toml:2: [rules.ProcessMemoryHigh] warning: expected a size such as \"3GiB\" or \"200MB\"");
  EXPECT_EQ(ParseBytes("200MB"), 200.0 * 1024 * 1024);
  EXPECT_EQ(ParseBytes("1iB"), std::nullopt);
  EXPECT_EQ(ParseBytes("-1"), std::nullopt);
}

TEST(ConfigTest, ErrorsNameFileLineSectionAndKey) {
  auto unknown = ParseConfig("[pm2]\nenabled = true\nproceses = [\"a\"]\n", "a.toml");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().message(), "a.toml:3: [pm2] proceses: unknown key");

  auto method = ParseConfig("[pm2]\nmethod = \"json\"\n", "m.toml");
  EXPECT_EQ(method.error().message(), "m.toml:2: [pm2] method: expected \"rpc\" or \"jlist\"");
  EXPECT_EQ(ParseConfig("[pm2]\nmethod = \"jlist\"\n", "m.toml")->pm2.method, Pm2Method::kJlist);
  EXPECT_EQ(ParseConfig("[pm2]\nmethod = \"rpc\"\n", "m.toml")->pm2.method, Pm2Method::kRpc);

  auto type = ParseConfig("[postgres]\ninterval = 60\n", "b.toml");
  EXPECT_EQ(type.error().message(), "b.toml:2: [postgres] interval: expected a duration string such as \"30d\"");

  auto duration = ParseConfig("[system]\ninterval = \"fast\"\n", "c.toml");
  EXPECT_NE(duration.error().message().find("c.toml:2: [system] interval: bad duration"), std::string::npos);

  auto syntax = ParseConfig("[store\n", "d.toml");
  EXPECT_NE(syntax.error().message().find("d.toml:1:"), std::string::npos) << syntax.error().message();

  auto section = ParseConfig("[alerts]\n", "e.toml");
  EXPECT_EQ(section.error().message(), "e.toml:1: unknown section [alerts]");

  auto order = ParseConfig("[store]\nretention_raw = \"400d\"\n", "f.toml");
  EXPECT_NE(order.error().message().find("retention_raw <= retention_5m"), std::string::npos);
}

// Settings the daemon could not honour are refused by `config check`, not found out by a
// daemon that then runs without its monitor log.
TEST(ConfigTest, LogSettingsTheDaemonCannotHonourAreRefused) {
  EXPECT_EQ(ParseConfig("[log]\nkeep = 1000000\n", "h.toml").error().message(),
            "h.toml:2: [log] keep: must be at most 1000");
  EXPECT_EQ(ParseConfig("[log]\nfile = \"/tmp\"\n", "i.toml").error().message(),
            "i.toml:2: [log] file: /tmp is a directory; give a file path");
  EXPECT_TRUE(ParseConfig("[log]\nfile = \"/tmp/offmon-monitor.log\"\nkeep = 1000\n", "j.toml").has_value());
}

TEST(ConfigTest, NonAsciiIsRefusedWithItsLine) {
  // Found by fuzz_config: toml++ 3.3 hits __builtin_unreachable on such input.
  auto bad = ParseConfig("[pm2]\n# ok\ntimeout =0\"\u03e030m\"\n", "g.toml");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "g.toml:3: non-ASCII character (config files must be ASCII)");
}

TEST(ConfigTest, MissingFileIsNotFound) {
  auto config = LoadConfig("/nonexistent/offmon.toml");
  EXPECT_EQ(config.error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace offmon
