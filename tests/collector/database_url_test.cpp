// Where DATABASE_URL comes from (url_file > environment > .env) and how it is redacted.
#include "offmon/collector/database_url.h"

#include <sys/stat.h>

#include <map>

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace offmon::collector {
namespace {

using offmon::testing::TempDir;
using offmon::testing::WriteFileBytes;

constexpr char kUrl[] = "postgresql://offmon:s3cret@db.example:5432/pipeline?sslmode=verify-full";

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

class DatabaseUrlTest : public ::testing::Test {
 protected:
  std::string Write(std::string_view name, std::string_view text, mode_t mode = 0600) {
    const std::filesystem::path path = dir_ / name;
    WriteFileBytes(path, text);
    ::chmod(path.c_str(), mode);
    return path.string();
  }
  std::optional<std::string> EnvValue(std::string_view text, std::string_view key) {
    auto value = ReadEnvFileValue(Write("values.env", text), key);
    EXPECT_TRUE(value.has_value()) << value.error().ToString();
    return value ? *value : std::nullopt;
  }

  TempDir dir_;
};

TEST_F(DatabaseUrlTest, EnvFileParsesExportQuotesAndComments) {
  const std::string text =
      "# the pipeline's settings\n"
      "\n"
      "PLAIN=postgresql://a:b@h/db   # trailing comment\n"
      "export EXPORTED=postgresql://x@h/db\r\n"
      "  SPACED = value with spaces  \n"
      "SINGLE='lit#eral \\n $HOME'\n"
      "DOUBLE=\"say \\\"hi\\\" \\\\ #not a comment\"\n"
      "HASH=pa#ss\n"
      "EMPTY=\n"
      "NOEQUALS\n"
      "TWICE=first\n"
      "TWICE=second\n";
  EXPECT_EQ(EnvValue(text, "PLAIN"), "postgresql://a:b@h/db");
  EXPECT_EQ(EnvValue(text, "EXPORTED"), "postgresql://x@h/db");
  EXPECT_EQ(EnvValue(text, "SPACED"), "value with spaces");
  EXPECT_EQ(EnvValue(text, "SINGLE"), "lit#eral \\n $HOME");
  EXPECT_EQ(EnvValue(text, "DOUBLE"), "say \"hi\" \\ #not a comment");
  EXPECT_EQ(EnvValue(text, "HASH"), "pa#ss");  // '#' only starts a comment after a blank
  EXPECT_EQ(EnvValue(text, "EMPTY"), "");
  EXPECT_EQ(EnvValue(text, "NOEQUALS"), std::nullopt);
  EXPECT_EQ(EnvValue(text, "TWICE"), "second");  // as with `source .env`
  EXPECT_EQ(EnvValue(text, "MISSING"), std::nullopt);
}

TEST_F(DatabaseUrlTest, UrlFileWinsOverEnvironmentWhichWinsOverEnvFile) {
  PostgresConfig config;
  config.env_file = Write(".env", "DATABASE_URL=postgresql://from-env-file/db\n");
  config.url_file = Write("db_url", "  postgresql://from-url-file/db \n\n");

  auto url = ResolveDatabaseUrl(config, FakeEnv({{"DATABASE_URL", "postgresql://from-environment/db"}}));
  ASSERT_TRUE(url.has_value()) << url.error().ToString();
  EXPECT_EQ(url->url, "postgresql://from-url-file/db");  // trimmed
  EXPECT_EQ(url->source, UrlSource::kUrlFile);
  EXPECT_EQ(url->warning, "");

  config.url_file.clear();
  url = ResolveDatabaseUrl(config, FakeEnv({{"DATABASE_URL", "postgresql://from-environment/db"}}));
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->url, "postgresql://from-environment/db");
  EXPECT_EQ(url->source, UrlSource::kEnvironment);
  EXPECT_EQ(url->origin, "environment variable DATABASE_URL");

  url = ResolveDatabaseUrl(config, FakeEnv({{"DATABASE_URL", ""}}));  // empty counts as unset
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->url, "postgresql://from-env-file/db");
  EXPECT_EQ(url->source, UrlSource::kEnvFile);

  config.url_env = "PIPELINE_DB";  // the variable's name is configuration too
  config.env_file = Write(".env", "DATABASE_URL=wrong\nPIPELINE_DB='postgresql://named/db'\n");
  url = ResolveDatabaseUrl(config, FakeEnv({}));
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->url, "postgresql://named/db");
}

TEST_F(DatabaseUrlTest, MissingOrEmptySourcesFailWithoutTheSecret) {
  PostgresConfig config;
  config.env_file = (dir_ / "no-such.env").string();
  auto url = ResolveDatabaseUrl(config, FakeEnv({}));
  ASSERT_FALSE(url.has_value());
  EXPECT_EQ(url.error().code(), StatusCode::kNotFound);
  EXPECT_NE(url.error().message().find("DATABASE_URL"), std::string::npos) << url.error().message();
  EXPECT_NE(url.error().message().find("no-such.env"), std::string::npos) << url.error().message();

  config.env_file = Write(".env", "DATABASE_URL=\n");
  url = ResolveDatabaseUrl(config, FakeEnv({}));
  ASSERT_FALSE(url.has_value());
  EXPECT_EQ(url.error().code(), StatusCode::kInvalidArgument);

  config.url_file = (dir_ / "missing").string();
  url = ResolveDatabaseUrl(config, FakeEnv({{"DATABASE_URL", kUrl}}));  // no fallback
  ASSERT_FALSE(url.has_value());
  EXPECT_EQ(url.error().code(), StatusCode::kNotFound);

  config.url_file = Write("blank", " \n");
  url = ResolveDatabaseUrl(config, FakeEnv({}));
  ASSERT_FALSE(url.has_value());
  EXPECT_EQ(url.error().code(), StatusCode::kInvalidArgument);

  config.url_file = Write("secret", kUrl, 0000);  // unreadable, unless we are root
  url = ResolveDatabaseUrl(config, FakeEnv({}));
  if (!url) {
    EXPECT_EQ(url.error().message().find("s3cret"), std::string::npos);
  }
}

TEST_F(DatabaseUrlTest, WarnsWhenTheSecretFileIsGroupOrWorldReadable) {
  PostgresConfig config;
  config.url_file = Write("db_url", kUrl, 0640);
  auto url = ResolveDatabaseUrl(config, FakeEnv({}));
  ASSERT_TRUE(url.has_value());
  EXPECT_NE(url->warning.find("readable by group or others"), std::string::npos) << url->warning;
  EXPECT_NE(url->warning.find("0640"), std::string::npos) << url->warning;
  EXPECT_EQ(url->warning.find("s3cret"), std::string::npos);

  config.url_file.clear();
  config.env_file = Write(".env", std::string("DATABASE_URL=") + kUrl + "\n", 0604);
  url = ResolveDatabaseUrl(config, FakeEnv({}));
  ASSERT_TRUE(url.has_value());
  EXPECT_NE(url->warning.find("env_file"), std::string::npos) << url->warning;

  ::chmod(config.env_file.c_str(), 0600);
  url = ResolveDatabaseUrl(config, FakeEnv({}));
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->warning, "");

  // The environment is no file: nothing to warn about even if .env is open to all.
  ::chmod(config.env_file.c_str(), 0644);
  url = ResolveDatabaseUrl(config, FakeEnv({{"DATABASE_URL", kUrl}}));
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->warning, "");
}

TEST(RedactUrlTest, UriPasswordsAreMasked) {
  EXPECT_EQ(RedactUrl(kUrl), "postgresql://offmon:***@db.example:5432/pipeline?sslmode=verify-full");
  EXPECT_EQ(RedactUrl("postgres://u:p%40ss@h/db"), "postgres://u:***@h/db");
  EXPECT_EQ(RedactUrl("postgresql://u:raw@pa/ss@h/db"), "postgresql://u:***@h/db");  // raw '@' and '/'
  EXPECT_EQ(RedactUrl("postgresql://u@h:5432/db?password=qq&sslmode=require"),
            "postgresql://u@h:5432/db?password=***&sslmode=require");
  EXPECT_EQ(RedactUrl("postgresql://u:p?w@h/db?sslmode=require"), "postgresql://u:***@h/db?sslmode=require");
  // When in doubt, more is hidden: an '@' in a query value ends the "userinfo".
  EXPECT_EQ(RedactUrl("postgresql://h:5432/db?sslkey=/k@x"), "postgresql://h:***@x");
  EXPECT_EQ(RedactUrl("postgresql://h/db?sslkey=/k@x"), "postgresql://h/db?sslkey=/k@x");
  EXPECT_EQ(RedactUrl("postgresql://u@h/db"), "postgresql://u@h/db");
  // libpq's scheme is case-sensitive: it cannot parse this one, so all of it is hidden.
  EXPECT_EQ(RedactUrl("POSTGRESQL://u:pw@h"),
            "POSTGRESQL://*** (not a valid PostgreSQL connection string; 19 characters hidden)");
}

TEST(RedactUrlTest, KeywordPasswordsAreMasked) {
  EXPECT_EQ(RedactUrl("host=h dbname=pipeline password=s3cret sslmode=require"),
            "host=h dbname=pipeline password=*** sslmode=require");
  EXPECT_EQ(RedactUrl("host=h password = 'with space \\' quote' user=u"), "host=h password = *** user=u");
  EXPECT_EQ(RedactUrl("password=a\\ b"), "password=***");
  EXPECT_EQ(RedactUrl("host=h user=u"), "host=h user=u");
  EXPECT_EQ(RedactUrl("passfile=/x host=h"), "passfile=/x host=h");
}

TEST(RedactUrlTest, PasswordIsExtractedForScrubbing) {
  EXPECT_EQ(UrlPassword(kUrl), "s3cret");
  EXPECT_EQ(UrlPassword("postgres://u:p%40ss@h/db"), "p@ss");
  EXPECT_EQ(UrlPassword("postgresql://u@h/db?password=q%20q"), "q q");
  EXPECT_EQ(UrlPassword("host=h password = 'with space \\' quote'"), "with space ' quote");
  EXPECT_EQ(UrlPassword("host=h"), "");
  EXPECT_EQ(ScrubSecret("failed for s3cret and s3cret", "s3cret"), "failed for *** and ***");
  EXPECT_EQ(ScrubSecret("unchanged", ""), "unchanged");
}


TEST(RedactUrlTest, WhatLibpqCannotParseIsHiddenWhole) {
  for (const char* url : {"postgres:/u:S3cretPW@127.0.0.1:1/db", " postgresql://u:S3cretPW@h/db",
                          "postgres//u:S3cretPW@h/db", "postgresql://u:S3cretPW%zz@h/db", "S3cretPW"}) {
    SCOPED_TRACE(url);
    EXPECT_FALSE(IsValidConnectionString(url));
    EXPECT_EQ(RedactUrl(url).find("cretPW"), std::string::npos) << RedactUrl(url);
    EXPECT_NE(RedactUrl(url).find("not a valid PostgreSQL connection string"), std::string::npos);
  }
  EXPECT_EQ(RedactUrl("mysql://u:S3cretPW@h/db"),
            "mysql://*** (not a valid PostgreSQL connection string; 23 characters hidden)");
  EXPECT_TRUE(IsValidConnectionString(kUrl));
  EXPECT_TRUE(IsValidConnectionString("host=h port=5432"));
}

TEST(RedactUrlTest, SslPasswordIsASecretToo) {
  EXPECT_EQ(RedactUrl("host=h sslpassword=S3cretPW sslkey=/k"), "host=h sslpassword=*** sslkey=/k");
  EXPECT_EQ(RedactUrl("postgresql://u@h/db?sslpassword=S3cretPW&sslmode=require"),
            "postgresql://u@h/db?sslpassword=***&sslmode=require");
}

TEST(RedactUrlTest, ScrubbingCoversHowLibpqSplitsAPasswordWithAnAt) {
  // libpq ends the userinfo at the first '@': its error names the host "retPW@h".
  const std::vector<std::string> secrets = UrlSecrets("postgresql://u:S3c@retPW@h/db");
  EXPECT_EQ(ScrubSecrets("could not translate host name \"retPW@h\" to address", secrets),
            "could not translate host name \"***@h\" to address");
  // Unparseable: every word of it, as libpq quotes them ("missing \"=\" after ...").
  EXPECT_EQ(ScrubSecrets("missing \"=\" after \"postgres:/u:S3cretPW@h\" in connection info string",
                         UrlSecrets("postgres:/u:S3cretPW@h")),
            "missing \"=\" after \"***\" in connection info string");
  EXPECT_EQ(ScrubSecrets("invalid percent-encoded token: \"S3cret%zz\"", UrlSecrets("postgresql://u:S3cret%zz@h/db")),
            "invalid percent-encoded token: \"***\"");
}

TEST_F(DatabaseUrlTest, AnUnparseableUrlIsRefusedWithoutItsPassword) {
  PostgresConfig config;
  auto url = ResolveDatabaseUrl(config, FakeEnv({{"DATABASE_URL", "postgres:/u:S3cretPW@127.0.0.1:1/db"}}));
  ASSERT_FALSE(url.has_value());
  EXPECT_EQ(url.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(url.error().message().find("S3cret"), std::string::npos) << url.error().message();
  EXPECT_NE(url.error().message().find("environment variable DATABASE_URL"), std::string::npos)
      << url.error().message();
}

}  // namespace
}  // namespace offmon::collector
