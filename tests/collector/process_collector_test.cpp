#include "offmon/collector/process_collector.h"

#include <gtest/gtest.h>

#include <fstream>

#include "offmon/collector/system_collector.h"
#include "support/recording_sink.h"
#include "support/temp_dir.h"

namespace offmon::collector {
namespace {

using testing::RecordingSink;
using testing::TempDir;
using testing::WriteFileBytes;

TimePoint At(int64_t s) { return FromMillis(s * 1000); }

TEST(ProcStatTest, ParsesCommandsWithSpacesAndParentheses) {
  auto stat = ParseProcStat(
      "1234 (node /srv/a (x)) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 5000 1000000 2500 0\n");
  ASSERT_TRUE(stat.has_value()) << stat.error().ToString();
  EXPECT_EQ(stat->comm, "node /srv/a (x)");
  EXPECT_EQ(stat->state, 'S');
  EXPECT_DOUBLE_EQ(stat->cpu_seconds, 300.0 / static_cast<double>(sysconf(_SC_CLK_TCK)));
  EXPECT_EQ(stat->rss_bytes, 2500 * sysconf(_SC_PAGESIZE));
  EXPECT_FALSE(ParseProcStat("1234 node S 1").has_value());
  EXPECT_FALSE(ParseProcStat("1 (x) S 1 2").has_value());
  // Found by fuzz_proc_parsers: an rss that overflows in bytes is an error, not UB.
  EXPECT_FALSE(ParseProcStat("1 (x) R 1 1 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 94295363 1 14072756168292363 0\n").has_value());
}

class ProcFixture : public ::testing::Test {
 protected:
  void WriteProc(const std::string& relative, const std::string& text) {
    std::filesystem::create_directories((dir_ / relative).parent_path());
    WriteFileBytes(dir_ / relative, text);
  }
  void WriteStat(int pid, double cpu_ticks, int64_t rss_pages, char state = 'S') {
    WriteProc(std::to_string(pid) + "/stat",
              "" + std::to_string(pid) + " (worker) " + state + " 1 1 1 0 -1 0 0 0 0 0 " +
                  std::to_string(static_cast<int64_t>(cpu_ticks)) + " 0 0 0 20 0 1 0 100 0 " +
                  std::to_string(rss_pages) + " 0\n");
    WriteProc(std::to_string(pid) + "/comm", "worker\n");
  }
  TempDir dir_;
};

TEST_F(ProcFixture, PidFileProcessReportsCpuMemoryAndRestarts) {
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  WriteProc("uptime", "1000.00 500.00\n");
  WriteStat(10, 0, 100);
  WriteFileBytes(dir_ / "agg.pid", "10\n");
  ProcessCollector collector(ProcFs(dir_.path()), {(dir_ / "agg.pid").string()}, {"worker", "missing"});
  RecordingSink sink;
  collector.Collect(At(0), sink);
  EXPECT_EQ(sink.Last(R"(process_up{process="agg"})"), 1);
  EXPECT_EQ(sink.Last(R"(process_memory_bytes{process="agg"})"), 100.0 * static_cast<double>(sysconf(_SC_PAGESIZE)));
  EXPECT_EQ(sink.Last(R"(process_up{process="worker"})"), 1);  // found by name
  EXPECT_EQ(sink.Last(R"(process_up{process="missing"})"), 0);
  // 10 s later it used 5 s of CPU: 50 %.
  WriteStat(10, 5 * hz, 100);
  collector.Collect(At(10), sink);
  EXPECT_EQ(sink.Last(R"(process_cpu_percent{process="agg"})"), 50);
  // A new PID is a restart.
  WriteStat(11, 0, 100);
  WriteFileBytes(dir_ / "agg.pid", "11\n");
  collector.Collect(At(20), sink);
  EXPECT_EQ(sink.Last(R"(process_restarts_total{process="agg"})"), 1);
  // A dead process is down, and its restart count stays.
  std::filesystem::remove_all(dir_ / "11");
  collector.Collect(At(30), sink);
  EXPECT_EQ(sink.Last(R"(process_up{process="agg"})"), 0);
  EXPECT_EQ(sink.Last(R"(process_restarts_total{process="agg"})"), 1);
  EXPECT_TRUE(sink.failures.empty());
}

TEST_F(ProcFixture, UnreadablePidFileIsAFailureNotACrash) {
  ProcessCollector collector(ProcFs(dir_.path()), {(dir_ / "none.pid").string()}, {});
  RecordingSink sink;
  collector.Collect(At(0), sink);
  ASSERT_EQ(sink.failures.size(), 1u);
  EXPECT_NE(sink.failures[0].second.find("cannot read PID file"), std::string::npos);
  EXPECT_EQ(sink.Last(R"(process_up{process="none"})"), 0);
}

TEST_F(ProcFixture, SystemCpuComesFromStatDeltas) {
  WriteProc("meminfo", "MemTotal:       1000 kB\nMemAvailable:    250 kB\n");
  WriteProc("loadavg", "0.50 0.40 0.30 1/100 999\n");
  WriteProc("uptime", "1000.00 500.00\n");
  WriteProc("stat", "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 1 2 3 4\n");
  SystemCollector collector(ProcFs(dir_.path()), {"/"});
  RecordingSink sink;
  collector.Collect(At(0), sink);
  EXPECT_FALSE(sink.Last("system_cpu_percent").has_value());  // no delta yet
  EXPECT_EQ(sink.Last("system_memory_available_bytes"), 250 * 1024);
  EXPECT_EQ(sink.Last("system_load15"), 0.30);
  WriteProc("stat", "cpu  175 0 100 825 0 0 0 0 0 0\n");
  collector.Collect(At(30), sink);
  EXPECT_EQ(sink.Last("system_cpu_percent"), 75);  // 75 busy of 100 jiffies
  EXPECT_TRUE(sink.Last(R"(disk_free_bytes{mount="/"})").has_value());
  EXPECT_TRUE(sink.failures.empty());
}

TEST_F(ProcFixture, UnreadableProcFilesAreFailures) {
  SystemCollector collector(ProcFs(dir_.path()), {"/no/such/mount"});
  RecordingSink sink;
  collector.Collect(At(0), sink);
  EXPECT_GE(sink.failures.size(), 4u);  // meminfo, stat, loadavg, uptime, statvfs
  for (const auto& [name, reason] : sink.failures) {
    EXPECT_EQ(name, "system");
    EXPECT_EQ(reason.find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace offmon::collector
