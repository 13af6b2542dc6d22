// Opening files that are not healthy current stores: each gives one clear error and a
// distinct status, and leaves the file byte for byte as it was.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "offmon/store/store.h"
#include "store/store_test_util.h"

namespace offmon::store {
namespace {

using offmon::testing::kBase;
using offmon::testing::OpenStore;
using offmon::testing::ReadFileBytes;
using offmon::testing::T;
using offmon::testing::TempDir;
using offmon::testing::WriteFileBytes;

void Sql(const std::filesystem::path& path, const std::string& sql) { offmon::testing::RunSql(path, sql); }

void WriteSomeData(const std::filesystem::path& path, int cycles) {
  auto store = OpenStore(path);
  for (int i = 0; i < cycles; ++i) {
    auto appender = store->NewAppender("test");
    for (int s = 0; s < 20; ++s) {
      appender->Add(*appender->Ref(SeriesKey("m", {{"s", std::to_string(s)}})), T(kBase + i * 10), i * 1.5 + s);
    }
    ASSERT_TRUE(appender->Commit(T(kBase + i * 10)).ok());
  }
}

class StoreFileTest : public ::testing::Test {
 protected:
  Status OpenFails(bool read_only) {
    StoreOptions options;
    options.path = path_;
    options.read_only = read_only;
    auto store = Store::Open(options);
    return store ? Status::Ok() : store.error();
  }
  TempDir dir_;
  std::filesystem::path path_ = dir_ / "offmon.db";
};

TEST_F(StoreFileTest, NewerSchemaVersionIsRefusedUntouched) {
  WriteSomeData(path_, 10);
  Sql(path_, "PRAGMA user_version = 99");
  const std::string before = ReadFileBytes(path_);
  for (bool read_only : {true, false}) {
    Status status = OpenFails(read_only);
    EXPECT_EQ(status.code(), StatusCode::kTooNew) << status.ToString();
    EXPECT_NE(status.message().find("schema version 99"), std::string::npos) << status.message();
  }
  EXPECT_EQ(ReadFileBytes(path_), before);
}

TEST_F(StoreFileTest, FileThatIsNotSqliteIsRefusedUntouched) {
  const std::string garbage = "timestamp,series,value\n1,up,1\n" + std::string(5000, 'x');
  WriteFileBytes(path_, garbage);
  for (bool read_only : {true, false}) {
    Status status = OpenFails(read_only);
    EXPECT_EQ(status.code(), StatusCode::kNotAStore) << status.ToString();
    EXPECT_NE(status.message().find("not an offmon store"), std::string::npos);
  }
  EXPECT_EQ(ReadFileBytes(path_), garbage);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "offmon.db-wal"));
}

TEST_F(StoreFileTest, OtherSqliteDatabaseIsRefusedUntouched) {
  Sql(path_, "CREATE TABLE accounts(id INTEGER, name TEXT); INSERT INTO accounts VALUES (1, 'x');");
  const std::string before = ReadFileBytes(path_);
  Status status = OpenFails(false);
  EXPECT_EQ(status.code(), StatusCode::kNotAStore) << status.ToString();
  EXPECT_EQ(ReadFileBytes(path_), before);
}

TEST_F(StoreFileTest, MissingStoreIsNotCreatedByReaders) {
  Status status = OpenFails(/*read_only=*/true);
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(StoreFileTest, CorruptPagesAreReportedNotCrashedOn) {
  WriteSomeData(path_, 3 * 360);  // sealed chunks and a head
  {
    auto store = OpenStore(path_);  // checkpoint the WAL into the main file
  }
  Sql(path_, "PRAGMA wal_checkpoint(TRUNCATE)");
  std::string bytes = ReadFileBytes(path_);
  ASSERT_GT(bytes.size(), 40'000u);
  // Scribble over pages past the schema page, as a failing disk would.
  std::mt19937 rng(7);
  for (size_t i = 8192; i < bytes.size() - 4096; i += 4096 * 3) {
    for (size_t k = 0; k < 2000; ++k) bytes[i + k] = static_cast<char>(rng());
  }
  WriteFileBytes(path_, bytes);
  StoreOptions options;
  options.path = path_;
  options.read_only = true;
  auto store = Store::Open(options);
  if (!store) {
    EXPECT_EQ(store.error().code(), StatusCode::kCorruption) << store.error().ToString();
  } else {
    auto problems = (*store)->Check();
    if (problems) {
      EXPECT_FALSE(problems->empty());
    } else {
      EXPECT_EQ(problems.error().code(), StatusCode::kCorruption) << problems.error().ToString();
    }
  }
  EXPECT_EQ(ReadFileBytes(path_), bytes);
}

TEST_F(StoreFileTest, VersionOneStoreIsMigratedAndProjectionsBuilt) {
  WriteSomeData(path_, 30);  // all in the head: the log alone holds the data
  // Turn it into what an offmon at schema version 1 wrote: the event log only.
  Sql(path_, "DROP TABLE chunks; DROP TABLE series; DROP TABLE rollups; DROP TABLE store_state;"
             " DROP TABLE users; DROP TABLE epochs;"
             " PRAGMA user_version = 1;");
  auto store = OpenStore(path_);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Info()->schema_version, 5);
  auto series = store->Select(*Selector::Parse("m"));
  ASSERT_EQ(series->size(), 20u);
  auto samples = store->ReadRange(series->front().id, T(kBase), T(kBase + 3600));
  EXPECT_EQ(samples->size(), 30u);
  EXPECT_TRUE(store->Check()->empty());
}

TEST_F(StoreFileTest, ReadOnlyFileFailsWritesCleanly) {
  WriteSomeData(path_, 5);
  std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
  std::filesystem::permissions(path_, std::filesystem::perms(0444));
  const std::string before = ReadFileBytes(path_);
  // Root ignores file modes: run the writer as an unprivileged user.
  pid_t pid = fork();
  if (pid == 0) {
    if (geteuid() == 0 && setuid(65534) != 0) _exit(90);
    StoreOptions options;
    options.path = path_;
    auto store = Store::Open(options);
    if (store) {
      auto appender = (*store)->NewAppender("test");
      appender->Add(*appender->Ref(SeriesKey("m", {})), T(kBase + 1000), 1);
      Status status = appender->Commit(T(kBase + 1000));
      _exit(status.code() == StatusCode::kReadOnly ? 0 : 91);
    }
    _exit(store.error().code() == StatusCode::kReadOnly ? 0 : 92);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(ReadFileBytes(path_), before);
}

// Seen in CI: a daemon restarted after a SIGKILL while a reader polled the store exited
// with "database is locked". Its first statements (the probe of an existing file) ran
// before any busy timeout was set, so a brief lock failed them at once.
TEST_F(StoreFileTest, OpeningWaitsOutABriefLockInsteadOfFailing) {
  WriteSomeData(path_, 3);
  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &holder), SQLITE_OK);
  // An exclusive lock on the database file, as another connection's recovery or write takes.
  ASSERT_EQ(sqlite3_exec(holder, "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; "
                                 "CREATE TABLE held(x); COMMIT;", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(other, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr), SQLITE_BUSY)
      << "the lock does not keep another connection out";
  sqlite3_close(other);
  // The lock is released 300 ms from now (the holder goes away), well inside the store's
  // 5 s busy timeout.
  std::thread release([holder] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sqlite3_close(holder);
  });
  const Status writer = OpenFails(/*read_only=*/false);
  release.join();
  EXPECT_TRUE(writer.ok()) << writer.ToString();
  EXPECT_TRUE(OpenFails(/*read_only=*/true).ok());
}

}  // namespace
}  // namespace offmon::store
