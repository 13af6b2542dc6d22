// ParsePm2Jlist against output captured from the installed pm2 (tests/testdata/pm2/,
// environment scrubbed and replaced by a fake DATABASE_URL) and against the malformed
// shapes pm2 or a broken install can produce.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "pm2_jlist_parser_impl.h"
#include "support/temp_dir.h"

namespace offmon::collector {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Fixture(const std::string& name) {
  return testing::ReadFileBytes(std::filesystem::path(OFFMON_TESTDATA_DIR) / "pm2" / name);
}

const Pm2Process* Find(const Pm2Jlist& list, const std::string& name, int64_t pm_id = -1) {
  for (const Pm2Process& p : list.processes) {
    if (p.name == name && (pm_id < 0 || p.pm_id == pm_id)) return &p;
  }
  return nullptr;
}

TEST(Pm2JlistParserTest, ParsesRealOutput) {
  auto list = ParsePm2Jlist(Fixture("jlist_real.json"));
  ASSERT_TRUE(list) << list.error().ToString();
  EXPECT_EQ(list->skipped_entries, 0u);
  ASSERT_EQ(list->processes.size(), 7u);

  const Pm2Process* steady = Find(*list, "steady");
  ASSERT_NE(steady, nullptr);
  EXPECT_EQ(steady->pm_id, 0);
  EXPECT_EQ(steady->pid, 20234);
  EXPECT_EQ(steady->status, "online");
  EXPECT_EQ(steady->pm_uptime, FromMillis(1795826566455));
  EXPECT_EQ(steady->restart_time, 0);
  EXPECT_EQ(steady->unstable_restarts, 0);
  EXPECT_EQ(steady->memory_bytes, 53796864u);
  EXPECT_EQ(steady->cpu_percent, 0.6);
  EXPECT_EQ(steady->out_log_path, "/home/twzrd/.pm2/logs/steady-out.log");
  EXPECT_EQ(steady->err_log_path, "/home/twzrd/.pm2/logs/steady-error.log");

  const Pm2Process* crash = Find(*list, "crash");
  ASSERT_NE(crash, nullptr);
  EXPECT_EQ(crash->restart_time, 41);
  EXPECT_EQ(crash->unstable_restarts, 17);

  const Pm2Process* stopped = Find(*list, "doomed");
  ASSERT_NE(stopped, nullptr);
  EXPECT_EQ(stopped->status, "stopped");
  EXPECT_EQ(stopped->pid, 0);
  EXPECT_EQ(stopped->memory_bytes, 0u);

  // Cluster mode: one name, one entry per instance, each with its own pm_id and logs.
  const Pm2Process* first = Find(*list, "cluster", 5);
  const Pm2Process* second = Find(*list, "cluster", 6);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(first->out_log_path, "/home/twzrd/.pm2/logs/cluster-out-5.log");
  EXPECT_EQ(second->pid, 21392);
}

TEST(Pm2JlistParserTest, SkipsLinesPrintedBeforeTheArray) {
  auto list = ParsePm2Jlist(Fixture("jlist_banner.txt"));
  ASSERT_TRUE(list) << list.error().ToString();
  ASSERT_EQ(list->processes.size(), 2u);
  EXPECT_EQ(list->processes[0].name, "steady");
  EXPECT_EQ(list->processes[1].name, "crash");
}

TEST(Pm2JlistParserTest, AcceptsALineAfterTheArray) {
  auto list = ParsePm2Jlist("[{\"name\":\"a\",\"pm_id\":0}]\n[PM2] late warning\n");
  ASSERT_TRUE(list) << list.error().ToString();
  ASSERT_EQ(list->processes.size(), 1u);
  EXPECT_EQ(list->processes[0].name, "a");
}

TEST(Pm2JlistParserTest, PrettyPrintedArrayIsReadWhole) {
  // Inner lines starting with '[' must not be mistaken for the list.
  auto list = ParsePm2Jlist("[\n  {\"name\": \"a\", \"pm2_env\": {\"node_args\":\n  [1, 2]}},\n  {\"name\": \"b\"}\n]\n");
  ASSERT_TRUE(list) << list.error().ToString();
  ASSERT_EQ(list->processes.size(), 2u);
  EXPECT_EQ(list->processes[1].name, "b");
}

TEST(Pm2JlistParserTest, EmptyArrayIsNoProcesses) {
  auto list = ParsePm2Jlist(Fixture("jlist_empty.json"));
  ASSERT_TRUE(list) << list.error().ToString();
  EXPECT_TRUE(list->processes.empty());
}

TEST(Pm2JlistParserTest, StoppedProcessWithoutMonitHasNoMemoryOrCpu) {
  auto list = ParsePm2Jlist(Fixture("jlist_stopped_no_monit.json"));
  ASSERT_TRUE(list) << list.error().ToString();
  ASSERT_EQ(list->processes.size(), 1u);
  const Pm2Process& p = list->processes[0];
  EXPECT_EQ(p.name, "tree-builder-worker");
  EXPECT_EQ(p.status, "stopped");
  EXPECT_EQ(p.restart_time, 7);
  EXPECT_FALSE(p.pm_uptime);
  EXPECT_FALSE(p.memory_bytes);
  EXPECT_FALSE(p.cpu_percent);
  EXPECT_EQ(p.err_log_path, "/home/twzrd/.pm2/logs/tree-builder-worker-error.log");
}

TEST(Pm2JlistParserTest, MistypedFieldsFallBackAndNamelessEntriesAreCounted) {
  auto list = ParsePm2Jlist(Fixture("jlist_mistyped.json"));
  ASSERT_TRUE(list) << list.error().ToString();
  EXPECT_EQ(list->skipped_entries, 2u);  // the entry without a name, the bare string
  ASSERT_EQ(list->processes.size(), 2u);

  const Pm2Process& bad = list->processes[0];
  EXPECT_EQ(bad.name, "cls-worker-1");
  EXPECT_EQ(bad.pid, 0);
  EXPECT_EQ(bad.status, "unknown");
  EXPECT_FALSE(bad.pm_uptime);
  EXPECT_EQ(bad.restart_time, 0);
  EXPECT_EQ(bad.unstable_restarts, 0);
  EXPECT_EQ(bad.out_log_path, "");
  EXPECT_FALSE(bad.memory_bytes);
  EXPECT_FALSE(bad.cpu_percent);

  // Whole numbers written as floats are still numbers.
  const Pm2Process& floats = list->processes[1];
  EXPECT_EQ(floats.pm_id, 4);
  EXPECT_EQ(floats.pid, 4242);
  EXPECT_EQ(floats.restart_time, 3);
  EXPECT_EQ(floats.pm_uptime, FromMillis(1'700'000'000'000));
  EXPECT_EQ(floats.memory_bytes, 1'500'000'000u);
  EXPECT_EQ(floats.cpu_percent, 12.5);
}

TEST(Pm2JlistParserTest, TextWithoutAnArrayIsRejectedWithItsFirstBytes) {
  auto list = ParsePm2Jlist(Fixture("jlist_garbage.txt"));
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(list.error().message(),
            "pm2 jlist: output is not a JSON array (first bytes: Usage: pm2 [cmd] app\\n\\nOptions:\\n  "
            "-V, --version   print pm...)");
}

TEST(Pm2JlistParserTest, ControlBytesAreEscapedAndTheQuoteBounded) {
  std::string escaped;
  for (int i = 0; i < 15; ++i) escaped += "\\x04";
  auto list = ParsePm2Jlist("[" + std::string(100, '\x04') + "]");
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().message(), "pm2 jlist: output is not a JSON array (first bytes: [" + escaped + "...)");
}

TEST(Pm2JlistParserTest, BannerLinesAloneAreNotAnArray) {
  auto list = ParsePm2Jlist("[PM2] Spawning PM2 daemon\n[PM2] PM2 Successfully daemonized\n");
  ASSERT_FALSE(list);
  EXPECT_THAT(list.error().message(), HasSubstr("output is not a JSON array (first bytes: [PM2] Spawning"));
}

TEST(Pm2JlistParserTest, EmptyOutputIsRejected) {
  for (const char* text : {"", "\n", "  \n\n"}) {
    auto list = ParsePm2Jlist(text);
    ASSERT_FALSE(list);
    EXPECT_EQ(list.error().message(), "pm2 jlist: empty output");
  }
}

TEST(Pm2JlistParserTest, TruncatedArrayReportsByteOffsetWithoutQuotingIt) {
  const std::string text = "[PM2] note\n" + Fixture("jlist_truncated.json");
  auto list = ParsePm2Jlist(text);
  ASSERT_FALSE(list);
  // The error is at the end of the cut-off text: its offset, not its content.
  EXPECT_EQ(list.error().message(), "pm2 jlist: JSON parse error at byte " + std::to_string(text.size()));
  EXPECT_THAT(list.error().message(), Not(HasSubstr("SECRET")));
}

TEST(Pm2JlistParserTest, ErrorsNeverQuoteTheEnvironment) {
  // A secret right at the start of a broken array must not reach the message.
  auto list = ParsePm2Jlist("[{\"pm2_env\":{\"DATABASE_URL\":\"postgresql://u:SECRET@h/db\"}");
  ASSERT_FALSE(list);
  EXPECT_THAT(list.error().message(), Not(HasSubstr("SECRET")));
  EXPECT_THAT(list.error().message(), HasSubstr("JSON parse error at byte"));
}

TEST(Pm2JlistParserTest, NonArrayJsonIsRejectedWithoutQuotingIt) {
  auto list = ParsePm2Jlist("Error: {\"DATABASE_URL\":\"postgresql://u:SECRET@h/db\"}");
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().message(), "pm2 jlist: output is not a JSON array (first bytes: Error: ...)");
}

}  // namespace
}  // namespace offmon::collector
