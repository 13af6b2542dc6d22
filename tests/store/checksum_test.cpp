// Chunk and rollup checksums (issue 17): a damaged row is an error naming its series and
// time range on every read path, `store check` lists it, writers that would build on it
// refuse, and stores of schema version 3 get checksums for the rows they hold.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "offmon/store/store.h"
#include "store/store_test_util.h"

namespace offmon::store {
namespace {

using offmon::testing::kBase;
using offmon::testing::OpenStore;
using offmon::testing::ReadFileBytes;
using offmon::testing::T;
using offmon::testing::TempDir;

class ChecksumTest : public ::testing::Test {
 protected:
  // Six hours of two series at 60 s: windows [0,2h) and [2h,4h) sealed into chunks.
  void WriteHistory() {
    auto store = OpenStore(path_);
    for (int i = 0; i < 360; ++i) {
      auto appender = store->NewAppender("test");
      appender->Add(*appender->Ref(SeriesKey("load", {{"host", "a"}})), T(kBase + i * 60), i % 17);
      appender->Add(*appender->Ref(SeriesKey("load", {{"host", "b"}})), T(kBase + i * 60), i % 5);
      ASSERT_TRUE(appender->Commit(T(kBase + i * 60)).ok());
    }
    ASSERT_EQ(store->Info()->chunks, 4);
  }
  void Sql(const std::string& sql) { offmon::testing::RunSql(path_, sql); }
  // Flips one byte of the `data` blob of a row, in place.
  void FlipByte(const char* table, int64_t rowid, int offset) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_blob* blob = nullptr;
    ASSERT_EQ(sqlite3_blob_open(db, "main", table, "data", rowid, 1, &blob), SQLITE_OK) << sqlite3_errmsg(db);
    unsigned char byte = 0;
    ASSERT_EQ(sqlite3_blob_read(blob, &byte, 1, offset), SQLITE_OK);
    byte ^= 0x10;
    ASSERT_EQ(sqlite3_blob_write(blob, &byte, 1, offset), SQLITE_OK);
    sqlite3_blob_close(blob);
    sqlite3_close(db);
  }
  Result<std::unique_ptr<Store>> Open(bool read_only) {
    StoreOptions options;
    options.path = path_;
    options.read_only = read_only;
    return Store::Open(options);
  }
  SeriesId IdOf(Store& store, std::string_view selector) { return store.Select(*Selector::Parse(selector))->front().id; }

  TempDir dir_;
  std::filesystem::path path_ = dir_ / "offmon.db";
};

TEST_F(ChecksumTest, DamagedChunkIsAnErrorNamingTheSeriesAndWindow) {
  WriteHistory();
  // The chunk of host b's second window: rows are written in series order per window.
  Sql("PRAGMA wal_checkpoint(TRUNCATE)");
  FlipByte("chunks", 4, 20);
  const std::string damaged = ReadFileBytes(path_);
  {
    auto store = OpenStore(path_, /*read_only=*/true);
    const SeriesId b = IdOf(*store, R"(load{host="b"})");
    auto read = store->ReadRange(b, T(kBase), T(kBase + 6 * 3600));
    ASSERT_FALSE(read.has_value());
    EXPECT_EQ(read.error().code(), StatusCode::kCorruption);
    EXPECT_EQ(read.error().message(),
              R"(the chunk of load{host="b"} for 2026-11-01T02:00:00.000Z .. 2026-11-01T04:00:00.000Z is damaged )"
              "(checksum mismatch); offmon store check lists every damaged row");
    // Around it, and the other series, read as before.
    EXPECT_EQ(store->ReadRange(b, T(kBase), T(kBase + 7200))->size(), 120u);
    EXPECT_EQ(store->ReadRange(IdOf(*store, R"(load{host="a"})"), T(kBase), T(kBase + 6 * 3600))->size(), 360u);
    auto latest = store->ReadLatest(T(kBase));
    ASSERT_TRUE(latest.has_value());  // the head holds the newest samples
    auto problems = store->Check();
    ASSERT_TRUE(problems.has_value());
    ASSERT_EQ(problems->size(), 1u);
    EXPECT_NE((*problems)[0].find("chunk 4 (series 2): the chunk of load{host=\"b\"}"), std::string::npos)
        << (*problems)[0];
  }
  // Writers refuse to open it (a rebuild would roll the damage up, an append bury it),
  // and nothing is written.
  auto writer = Open(/*read_only=*/false);
  ASSERT_FALSE(writer.has_value());
  EXPECT_EQ(writer.error().code(), StatusCode::kCorruption);
  EXPECT_EQ(writer.error().message(),
            path_.string() + R"(: nothing was written: the chunk of load{host="b"} for 2026-11-01T02:00:00.000Z .. )"
            "2026-11-01T04:00:00.000Z is damaged (checksum mismatch); offmon store check lists every damaged row");
  EXPECT_EQ(ReadFileBytes(path_), damaged);
}

TEST_F(ChecksumTest, DamagedRollupIsAnErrorNamingTheSeriesAndRow) {
  WriteHistory();
  Sql("UPDATE rollups SET crc = crc + 1 WHERE step_s = 3600 AND series_id = 1");
  auto store = OpenStore(path_, /*read_only=*/true);
  const SeriesId a = IdOf(*store, R"(load{host="a"})");
  auto hourly = store->ReadRollup(a, RollupStep::k1h, T(kBase), T(kBase + 4 * 3600));
  ASSERT_FALSE(hourly.has_value());
  EXPECT_EQ(hourly.error().message(),
            R"(the 1h rollup of load{host="a"} for 2026-11-01T00:00:00.000Z .. 2026-11-02T00:00:00.000Z is damaged )"
            "(checksum mismatch); offmon store check lists every damaged row");
  EXPECT_TRUE(store->ReadRollup(a, RollupStep::k5m, T(kBase), T(kBase + 4 * 3600)).has_value());
  EXPECT_EQ(store->Check()->size(), 1u);
}

TEST_F(ChecksumTest, VersionThreeStoreGetsChecksumsWhenMigrated) {
  WriteHistory();
  Sql("ALTER TABLE chunks DROP COLUMN crc; ALTER TABLE rollups DROP COLUMN crc; PRAGMA user_version = 3");
  EXPECT_FALSE(Open(/*read_only=*/true).has_value()) << "needs a migration";
  auto store = OpenStore(path_);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Info()->schema_version, 5);
  EXPECT_TRUE(store->Check()->empty());
  const SeriesId a = IdOf(*store, R"(load{host="a"})");
  EXPECT_EQ(store->ReadRange(a, T(kBase), T(kBase + 6 * 3600))->size(), 360u);
  store.reset();
  FlipByte("chunks", 1, 10);
  EXPECT_EQ(OpenStore(path_, /*read_only=*/true)->Check()->size(), 1u);
}

}  // namespace
}  // namespace offmon::store
