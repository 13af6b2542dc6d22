// TailLines and CaptureLogTails on files written by the tests: block boundaries, line
// ends, long lines, a huge sparse log, special files, and JSON-safe events.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "offmon/collector/log_tail.h"
#include "support/recording_sink.h"
#include "support/temp_dir.h"

namespace offmon::collector {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string NumberedLines(int first, int last, const std::string& prefix = "line ") {
  std::string text;
  for (int i = first; i <= last; ++i) text += prefix + std::to_string(i) + "\n";
  return text;
}

std::vector<std::string> Numbered(int first, int last, const std::string& prefix = "line ") {
  std::vector<std::string> lines;
  for (int i = first; i <= last; ++i) lines.push_back(prefix + std::to_string(i));
  return lines;
}

class LogTailTest : public ::testing::Test {
 protected:
  std::filesystem::path Write(const std::string& name, const std::string& bytes) {
    auto path = dir_ / name;
    testing::WriteFileBytes(path, bytes);
    return path;
  }
  testing::TempDir dir_;
};

TEST_F(LogTailTest, ReturnsTheLastLinesOldestFirst) {
  auto lines = TailLines(Write("a.log", NumberedLines(1, 100)), 20);
  ASSERT_TRUE(lines) << lines.error().ToString();
  EXPECT_EQ(*lines, Numbered(81, 100));
}

TEST_F(LogTailTest, FewerLinesThanAskedReturnsAll) {
  auto lines = TailLines(Write("a.log", NumberedLines(1, 3)), 20);
  ASSERT_TRUE(lines) << lines.error().ToString();
  EXPECT_EQ(*lines, Numbered(1, 3));
}

TEST_F(LogTailTest, LastLineWithoutNewlineCounts) {
  auto lines = TailLines(Write("a.log", "one\ntwo\nthree"), 2);
  ASSERT_TRUE(lines) << lines.error().ToString();
  EXPECT_THAT(*lines, ElementsAre("two", "three"));
}

TEST_F(LogTailTest, CrLfLineEndsAndEmptyLines) {
  auto lines = TailLines(Write("a.log", "a\r\n\r\nb\r\n"), 5);
  ASSERT_TRUE(lines) << lines.error().ToString();
  EXPECT_THAT(*lines, ElementsAre("a", "", "b"));
}

TEST_F(LogTailTest, EmptyFileAndZeroLines) {
  auto empty = TailLines(Write("empty.log", ""), 20);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  auto none = TailLines(Write("a.log", "x\n"), 0);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(LogTailTest, LinesAcrossBlockBoundaries) {
  // 1000-byte lines: the last 20 span one 64 KiB block boundary or more.
  std::string text;
  for (int i = 0; i < 500; ++i) {
    std::string line = std::to_string(i) + ":";
    line.resize(999, 'x');
    text += line + "\n";
  }
  auto lines = TailLines(Write("a.log", text), 70);
  ASSERT_TRUE(lines) << lines.error().ToString();
  ASSERT_EQ(lines->size(), 70u);
  EXPECT_EQ(lines->front().substr(0, 4), "430:");
  EXPECT_EQ(lines->back().substr(0, 4), "499:");
  for (const std::string& l : *lines) EXPECT_EQ(l.size(), 999u);
}

TEST_F(LogTailTest, LongLinesAreCutAtAUtf8Boundary) {
  std::string long_ascii(10000, 'a');
  std::string long_utf8;
  for (int i = 0; i < 3000; ++i) long_utf8 += "\xC3\xA9";  // é, two bytes
  long_utf8 = "x" + long_utf8;  // shifts the 2 KiB mark into the middle of an é
  auto lines = TailLines(Write("a.log", long_ascii + "\n" + long_utf8 + "\nshort\n"), 3);
  ASSERT_TRUE(lines) << lines.error().ToString();
  ASSERT_EQ(lines->size(), 3u);
  EXPECT_EQ((*lines)[0], std::string(kMaxLogLineBytes, 'a') + "...");
  EXPECT_EQ((*lines)[1].size(), kMaxLogLineBytes - 1 + 3);
  EXPECT_EQ((*lines)[1].substr((*lines)[1].size() - 5), "\xC3\xA9...");
  EXPECT_EQ((*lines)[2], "short");
}

TEST_F(LogTailTest, HugeFileIsReadFromTheEndOnly) {
  // A sparse 6 GiB log: reading it from the start would take far longer than allowed.
  auto path = dir_ / "huge.log";
  {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(ftruncate(fd, off_t{6} << 30), 0);
    const std::string tail = "\n" + NumberedLines(1, 30);
    ASSERT_EQ(pwrite(fd, tail.data(), tail.size(), off_t{6} << 30), static_cast<ssize_t>(tail.size()));
    close(fd);
  }
  const auto started = std::chrono::steady_clock::now();
  auto lines = TailLines(path, 20);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  ASSERT_TRUE(lines) << lines.error().ToString();
  EXPECT_EQ(*lines, Numbered(11, 30));
}

TEST_F(LogTailTest, AnEndlessLineIsCutAtTheScanLimit) {
  std::string text(10 << 20, 'z');  // 10 MiB, no newline, more than is ever scanned
  text += "\nlast\n";
  auto lines = TailLines(Write("a.log", text), 20);
  ASSERT_TRUE(lines) << lines.error().ToString();
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ((*lines)[0], "..." + std::string(kMaxLogLineBytes, 'z') + "...");
  EXPECT_EQ((*lines)[1], "last");
}

TEST_F(LogTailTest, MissingFileIsNotFound) {
  auto lines = TailLines(dir_ / "missing.log", 20);
  ASSERT_FALSE(lines);
  EXPECT_EQ(lines.error().code(), StatusCode::kNotFound);
  EXPECT_EQ(lines.error().message(), "tail " + (dir_ / "missing.log").string() + ": No such file or directory");
}

TEST_F(LogTailTest, SpecialFilesAreRefusedWithoutBlocking) {
  ASSERT_EQ(mkfifo((dir_ / "fifo").c_str(), 0600), 0);
  auto fifo = TailLines(dir_ / "fifo", 20);
  ASSERT_FALSE(fifo);
  EXPECT_EQ(fifo.error().message(), "tail " + (dir_ / "fifo").string() + ": not a regular file");
  auto directory = TailLines(dir_.path(), 20);
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().code(), StatusCode::kInvalidArgument);
}

TEST_F(LogTailTest, CaptureRecordsOneEventPerStream) {
  ProcessLogs logs{"cls-worker-1", Write("out.log", NumberedLines(1, 50, "out ")),
                   Write("err.log", NumberedLines(1, 5, "err "))};
  testing::RecordingSink sink;
  CaptureLogTails(logs, FromMillis(1'763'182'230'123), sink);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_TRUE(sink.failures.empty());

  EXPECT_EQ(sink.events[0].first, EventKind::kLogTail);
  auto out = nlohmann::json::parse(sink.events[0].second);
  EXPECT_EQ(out["process"], "cls-worker-1");
  EXPECT_EQ(out["stream"], "out");
  EXPECT_EQ(out["path"], logs.out_log.string());
  EXPECT_EQ(out["time_ms"], 1'763'182'230'123);
  EXPECT_EQ(out["lines"].get<std::vector<std::string>>(), Numbered(31, 50, "out "));
  EXPECT_FALSE(out.contains("error"));

  auto err = nlohmann::json::parse(sink.events[1].second);
  EXPECT_EQ(err["stream"], "err");
  EXPECT_EQ(err["lines"].get<std::vector<std::string>>(), Numbered(1, 5, "err "));
}

TEST_F(LogTailTest, CaptureKeepsInvalidUtf8FromBreakingJson) {
  ProcessLogs logs{"w", Write("out.log", "ok\nbad \xFF\xFE bytes\n"), {}};
  testing::RecordingSink sink;
  CaptureLogTails(logs, FromMillis(0), sink);
  ASSERT_EQ(sink.events.size(), 1u);  // no err path, no event for it
  auto event = nlohmann::json::parse(sink.events[0].second);  // throws on invalid UTF-8
  EXPECT_EQ(event["lines"][1], "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes");
}

TEST_F(LogTailTest, CaptureOfAMissingLogRecordsTheError) {
  ProcessLogs logs{"w", dir_ / "gone-out.log", {}};
  testing::RecordingSink sink;
  CaptureLogTails(logs, FromMillis(0), sink);
  ASSERT_EQ(sink.events.size(), 1u);
  auto event = nlohmann::json::parse(sink.events[0].second);
  EXPECT_TRUE(event["lines"].empty());
  EXPECT_THAT(event["error"].get<std::string>(), HasSubstr("No such file or directory"));
}

}  // namespace
}  // namespace offmon::collector
