// Shared helpers for store tests: opening a store in a temp dir and writing batches.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "offmon/store/store.h"
#include "support/temp_dir.h"

namespace offmon::testing {

inline TimePoint T(int64_t seconds) { return FromMillis(seconds * 1000); }

// 2026-11-01T00:00:00Z: a day boundary, so windows and rollup rows line up with it.
constexpr int64_t kBase = 1793491200;

inline std::unique_ptr<store::Store> OpenStore(const std::filesystem::path& path, bool read_only = false,
                                               store::StoreOptions options = {}) {
  options.path = path;
  options.read_only = read_only;
  auto store = store::Store::Open(options);
  EXPECT_TRUE(store.has_value()) << store.error().ToString();
  return store ? std::move(*store) : nullptr;
}

// Runs SQL on a store file directly, as damage, an old offmon or another tool would.
inline void RunSql(const std::filesystem::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

// Everything a reader can see, to compare a store before and after an operation.
struct Snapshot {
  std::map<std::string, std::vector<Sample>> raw;
  std::map<std::string, std::vector<store::RollupBucket>> rollup_5m, rollup_1h;
  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

inline Snapshot TakeSnapshot(store::Store& s, TimePoint from, TimePoint to) {
  Snapshot snap;
  auto all = s.Select(*store::Selector::Parse(R"({__name__=~".+"})"));
  EXPECT_TRUE(all.has_value()) << all.error().ToString();
  for (const auto& info : *all) {
    const std::string key = info.key.ToString();
    snap.raw[key] = *s.ReadRange(info.id, from, to);
    snap.rollup_5m[key] = *s.ReadRollup(info.id, store::RollupStep::k5m, from, to);
    snap.rollup_1h[key] = *s.ReadRollup(info.id, store::RollupStep::k1h, from, to);
  }
  return snap;
}

}  // namespace offmon::testing
