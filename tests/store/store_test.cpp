#include "offmon/store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "store/store_test_util.h"

namespace offmon::store {
namespace {

using offmon::testing::kBase;
using offmon::testing::OpenStore;
using offmon::testing::T;
using offmon::testing::TakeSnapshot;
using offmon::testing::TempDir;

SeriesKey StoreKey(std::string name, std::string process = "") {
  if (process.empty()) return SeriesKey(std::move(name), {});
  return SeriesKey(std::move(name), {{"process", std::move(process)}});
}

// The samples a reader should see: sorted, last write of a timestamp wins.
std::vector<Sample> Expected(std::vector<Sample> written) {
  std::stable_sort(written.begin(), written.end(), [](const Sample& a, const Sample& b) { return a.time < b.time; });
  std::vector<Sample> out;
  for (size_t i = 0; i < written.size(); ++i) {
    if (i + 1 < written.size() && written[i + 1].time == written[i].time) continue;
    out.push_back(written[i]);
  }
  return out;
}

std::vector<RollupBucket> NaiveBuckets(const std::vector<Sample>& samples, int64_t step_s, TimePoint from,
                                       TimePoint to) {
  std::map<int64_t, RollupBucket> buckets;
  for (const Sample& s : samples) {
    if (s.time < from || s.time >= to) continue;
    int64_t start = ToMillis(s.time) / (step_s * 1000) * step_s * 1000;
    auto [it, fresh] = buckets.try_emplace(start, RollupBucket{FromMillis(start), s.value, s.value, 0, 0});
    it->second.min = std::min(it->second.min, s.value);
    it->second.max = std::max(it->second.max, s.value);
    it->second.sum += s.value;
    ++it->second.count;
  }
  std::vector<RollupBucket> out;
  for (auto& [start, b] : buckets) out.push_back(b);
  return out;
}

class StoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> Open() { return OpenStore(dir_ / "offmon.db"); }

  // One collection cycle: every series gets one sample at `t`.
  void Cycle(Store& store, TimePoint t, const std::vector<std::pair<SeriesKey, double>>& values) {
    auto appender = store.NewAppender("test");
    for (const auto& [key, value] : values) {
      auto id = appender->Ref(key);
      ASSERT_TRUE(id.has_value());
      appender->Add(*id, t, value);
      written_[key.ToString()].push_back(Sample{t, value});
    }
    ASSERT_TRUE(appender->Commit(t).ok());
  }

  SeriesId IdOf(Store& store, const SeriesKey& key) {
    auto found = store.Select(*Selector::Parse(key.ToString()));
    EXPECT_TRUE(found.has_value());
    EXPECT_EQ(found->size(), 1u);
    return found->empty() ? 0 : found->front().id;
  }

  TempDir dir_;
  std::map<std::string, std::vector<Sample>> written_;
};

TEST_F(StoreTest, AppendedSamplesReadBackInOrder) {
  auto store = Open();
  for (int i = 0; i < 100; ++i) {
    Cycle(*store, T(kBase + i * 10), {{StoreKey("process_memory_bytes", "w1"), 1e9 + i}, {StoreKey("system_load1"), i / 10.0}});
  }
  auto id = IdOf(*store, StoreKey("process_memory_bytes", "w1"));
  auto samples = store->ReadRange(id, T(kBase), T(kBase + 1000));
  ASSERT_TRUE(samples.has_value());
  EXPECT_EQ(*samples, written_[StoreKey("process_memory_bytes", "w1").ToString()]);
  // The range is half-open and clips both ends.
  auto middle = store->ReadRange(id, T(kBase + 100), T(kBase + 200));
  ASSERT_EQ(middle->size(), 10u);
  EXPECT_EQ(middle->front().time, T(kBase + 100));
  EXPECT_EQ(middle->back().time, T(kBase + 190));
}

TEST_F(StoreTest, SelectorsMatchTheCatalogue) {
  auto store = Open();
  Cycle(*store, T(kBase), {{StoreKey("process_memory_bytes", "w1"), 1}, {StoreKey("process_memory_bytes", "w2"), 2},
                          {StoreKey("process_cpu_percent", "w1"), 3}, {StoreKey("system_load1"), 4}});
  auto names = [&](std::string_view selector) {
    std::vector<std::string> out;
    auto found = store->Select(*Selector::Parse(selector));
    for (const auto& info : *found) out.push_back(info.key.ToString());
    return out;
  };
  EXPECT_EQ(names(R"(process_memory_bytes{process="w1"})"),
            std::vector<std::string>{R"(process_memory_bytes{process="w1"})"});
  EXPECT_EQ(names(R"(process_memory_bytes{process!="w1"})"),
            std::vector<std::string>{R"(process_memory_bytes{process="w2"})"});
  EXPECT_EQ(names(R"({process=~"w.*"})").size(), 3u);
  EXPECT_EQ(names(R"({__name__=~"process_.*", process="w1"})").size(), 2u);
  EXPECT_TRUE(names("no_such_metric").empty());
}

TEST_F(StoreTest, CheckpointSealsCompleteWindowsAndReadsAreUnchanged) {
  auto store = Open();
  const SeriesKey key = StoreKey("process_memory_bytes", "w1");
  for (int i = 0; i < 6 * 360; ++i) Cycle(*store, T(kBase + i * 10), {{key, 1e9 + (i % 50) * 4096}});
  auto info = store->Info();
  ASSERT_TRUE(info.has_value());
  // Six hours at 10 s: windows [0,2h) and [2h,4h) are complete and 15 min old; the
  // last window is still the head.
  EXPECT_EQ(info->chunks, 2);
  EXPECT_EQ(info->head_samples, 720);
  EXPECT_EQ(info->samples, 6 * 360);
  auto samples = store->ReadRange(IdOf(*store, key), T(kBase), T(kBase + 86400));
  EXPECT_EQ(*samples, written_[key.ToString()]);
  auto checkpoints = store->ReadEvents(0, EventKind::kCheckpoint, 100);
  EXPECT_FALSE(checkpoints->empty());
}

TEST_F(StoreTest, LateAndDuplicateSamplesMergeLastWriteWins) {
  auto store = Open();
  const SeriesKey key = StoreKey("m");
  for (int i = 0; i < 3 * 360; ++i) Cycle(*store, T(kBase + i * 10), {{key, static_cast<double>(i)}});
  ASSERT_GE(store->Info()->chunks, 1);
  // A rewrite of a sealed sample, a sample between grid points, and a duplicate in the head.
  Cycle(*store, T(kBase + 50), {{key, -1}});
  Cycle(*store, T(kBase + 55), {{key, -2}});
  Cycle(*store, T(kBase + 3 * 3600 - 10), {{key, -3}});
  const SeriesId id = IdOf(*store, key);
  auto expected = Expected(written_[key.ToString()]);
  EXPECT_EQ(*store->ReadRange(id, T(kBase), T(kBase + 86400)), expected);
  ASSERT_TRUE(store->Checkpoint().ok());
  EXPECT_EQ(*store->ReadRange(id, T(kBase), T(kBase + 86400)), expected);
  // The rewritten window's rollups were recomputed from the merged chunk.
  EXPECT_EQ(*store->ReadRollup(id, RollupStep::k5m, T(kBase), T(kBase + 86400)),
            NaiveBuckets(expected, 300, T(kBase), T(kBase + 86400)));
}

TEST_F(StoreTest, RollupsMatchNaiveRecomputationOnRandomData) {
  std::mt19937_64 rng(42);
  auto store = Open();
  std::vector<SeriesKey> keys;
  for (int s = 0; s < 5; ++s) keys.push_back(StoreKey("random_metric", "p" + std::to_string(s)));
  // Irregular intervals from 1 s to 30 min, integers and fractions, some out of order.
  int64_t t = kBase;
  std::uniform_int_distribution<int64_t> gap(1, 1800);
  std::normal_distribution<double> noise(0, 100);
  for (int i = 0; i < 600; ++i) {
    t += gap(rng);
    std::vector<std::pair<SeriesKey, double>> values;
    for (const auto& key : keys) {
      if (rng() % 4 == 0) continue;
      double v = rng() % 2 ? std::round(noise(rng)) : noise(rng);
      values.emplace_back(key, v);
    }
    TimePoint at = T(rng() % 20 == 0 ? t - gap(rng) * 5 : t);
    Cycle(*store, at, values);
  }
  const TimePoint from = T(kBase), to = T(t + 1);
  for (const auto& key : keys) {
    const SeriesId id = IdOf(*store, key);
    auto expected = Expected(written_[key.ToString()]);
    EXPECT_EQ(*store->ReadRange(id, from, to), expected);
    for (auto [step, seconds] : {std::pair{RollupStep::k5m, 300}, std::pair{RollupStep::k1h, 3600}}) {
      auto got = store->ReadRollup(id, step, from, to);
      ASSERT_TRUE(got.has_value());
      auto naive = NaiveBuckets(expected, seconds, from, to);
      ASSERT_EQ(got->size(), naive.size());
      for (size_t i = 0; i < naive.size(); ++i) {
        EXPECT_EQ((*got)[i].start, naive[i].start);
        EXPECT_EQ((*got)[i].count, naive[i].count);
        EXPECT_EQ((*got)[i].min, naive[i].min);
        EXPECT_EQ((*got)[i].max, naive[i].max);
        EXPECT_NEAR((*got)[i].sum, naive[i].sum, 1e-9 * (1 + std::fabs(naive[i].sum)));
      }
    }
  }
}

TEST_F(StoreTest, RebuildReproducesEveryQueryResult) {
  auto store = Open();
  for (int i = 0; i < 4000; ++i) {
    Cycle(*store, T(kBase + i * 30), {{StoreKey("mem", "a"), 1e6 * (i % 97)}, {StoreKey("cpu", "a"), (i % 1000) / 10.0}});
  }
  ASSERT_TRUE(store->ApplyRetention(T(kBase + 4000 * 30)).ok());
  const auto before = TakeSnapshot(*store, T(kBase - 86400), T(kBase + 5 * 86400));
  ASSERT_FALSE(before.raw.empty());
  ASSERT_FALSE(before.rollup_1h.begin()->second.empty());
  ASSERT_TRUE(store->Rebuild().ok());
  EXPECT_EQ(TakeSnapshot(*store, T(kBase - 86400), T(kBase + 5 * 86400)), before);
  // A rebuild in a new process sees the same.
  store.reset();
  store = Open();
  ASSERT_TRUE(store->Rebuild().ok());
  EXPECT_EQ(TakeSnapshot(*store, T(kBase - 86400), T(kBase + 5 * 86400)), before);
  EXPECT_TRUE(store->Check()->empty());
}

TEST_F(StoreTest, RetentionDropsRawDataAndKeepsRollupsLonger) {
  StoreOptions options;
  options.retention.raw = std::chrono::days(2);
  options.retention.rollup_5m = std::chrono::days(4);
  options.retention.rollup_1h = std::chrono::days(30);
  auto store = OpenStore(dir_ / "offmon.db", false, options);
  const SeriesKey key = StoreKey("mem");
  for (int i = 0; i < 10 * 24; ++i) Cycle(*store, T(kBase + i * 3600), {{key, static_cast<double>(i)}});
  const TimePoint now = T(kBase + 10 * 86400);
  ASSERT_TRUE(store->ApplyRetention(now).ok());
  const SeriesId id = IdOf(*store, key);
  auto raw = store->ReadRange(id, T(kBase), now);
  ASSERT_FALSE(raw->empty());
  EXPECT_GE(raw->front().time, now - std::chrono::days(3));
  auto r5 = store->ReadRollup(id, RollupStep::k5m, T(kBase), now);
  EXPECT_GE(r5->front().start, now - std::chrono::days(5));
  EXPECT_LT(r5->front().start, raw->front().time);
  auto r1 = store->ReadRollup(id, RollupStep::k1h, T(kBase), now);
  EXPECT_EQ(r1->front().start, T(kBase));  // still within 30 days
  auto events = store->ReadEvents(0, EventKind::kRetention, 10);
  ASSERT_EQ(events->size(), 1u);
  // Rollups older than the raw horizon survive a rebuild: they are that time's record.
  const auto before = TakeSnapshot(*store, T(kBase), now);
  ASSERT_TRUE(store->Rebuild().ok());
  EXPECT_EQ(TakeSnapshot(*store, T(kBase), now), before);
}

TEST_F(StoreTest, SequenceNumbersStrictlyIncreaseAcrossCheckpoints) {
  auto store = Open();
  for (int i = 0; i < 3 * 360; ++i) Cycle(*store, T(kBase + i * 10), {{StoreKey("m"), 1}});
  auto events = store->ReadEvents(0, std::nullopt, 100000);
  ASSERT_TRUE(events.has_value());
  for (size_t i = 1; i < events->size(); ++i) EXPECT_LT((*events)[i - 1].seq, (*events)[i].seq);
  const int64_t last = store->Info()->last_event_seq;
  Cycle(*store, T(kBase + 4 * 3600), {{StoreKey("m"), 1}});
  auto after = store->ReadEvents(last, std::nullopt, 10);
  ASSERT_FALSE(after->empty());
  EXPECT_GT(after->front().seq, last);
}

TEST_F(StoreTest, ReaderSeesWholeBatchesWhileWriterWrites) {
  auto writer = Open();
  Cycle(*writer, T(kBase), {{StoreKey("a"), 0}, {StoreKey("b"), 0}});
  constexpr int kBatches = 1500;  // crosses several checkpoints
  std::atomic<bool> done{false};
  std::thread thread([&] {
    for (int i = 1; i <= kBatches; ++i) {
      auto appender = writer->NewAppender("test");
      appender->Add(*appender->Ref(StoreKey("a")), T(kBase + i * 10), i);
      appender->Add(*appender->Ref(StoreKey("b")), T(kBase + i * 10), i);
      ASSERT_TRUE(appender->Commit(T(kBase + i * 10)).ok());
    }
    done = true;
  });
  auto reader = OpenStore(dir_ / "offmon.db", /*read_only=*/true);
  const SeriesId a = IdOf(*reader, StoreKey("a")), b = IdOf(*reader, StoreKey("b"));
  size_t last_seen = 0;
  int reads = 0;
  while (!done || reads == 0) {
    auto info = reader->Info();
    ASSERT_TRUE(info.has_value()) << info.error().ToString();
    // Both series are written in one transaction: a snapshot has as many of each.
    EXPECT_EQ(info->samples % 2, 0);
    auto sa = reader->ReadRange(a, T(kBase), T(kBase + 86400));
    ASSERT_TRUE(sa.has_value()) << sa.error().ToString();
    EXPECT_GE(sa->size(), last_seen);
    last_seen = sa->size();
    for (size_t i = 0; i < sa->size(); ++i) ASSERT_EQ((*sa)[i].value, static_cast<double>(i));
    ++reads;
  }
  thread.join();
  EXPECT_EQ(reader->ReadRange(b, T(kBase), T(kBase + 86400))->size(), kBatches + 1u);
}

TEST_F(StoreTest, FullDiskFailsTheBatchCleanly) {
  StoreOptions options;
  options.max_page_count = 40;  // 160 KiB
  auto store = OpenStore(dir_ / "offmon.db", false, options);
  int committed = 0;
  Status failure;
  for (int i = 0; i < 100000 && failure.ok(); ++i) {
    auto appender = store->NewAppender("test");
    for (int s = 0; s < 20; ++s) {
      appender->Add(*appender->Ref(StoreKey("m", "p" + std::to_string(s))), T(kBase + i), 1.5 + i + s);
    }
    failure = appender->Commit(T(kBase + i));
    if (failure.ok()) ++committed;
  }
  ASSERT_EQ(failure.code(), StatusCode::kDiskFull) << failure.ToString();
  store.reset();
  store = Open();
  EXPECT_TRUE(store->Check()->empty());
  auto info = store->Info();
  EXPECT_EQ(info->samples, committed * 20);  // every committed batch, nothing of the failed one
}


// The pages of a closed store file, so a test can leave a few pages of room.
int64_t PageCount(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &stmt, nullptr), SQLITE_OK);
  int64_t pages = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return pages;
}

// The daemon holds one Appender per collector plus one for log tails, all on one Store.
// A batch that fills the disk fails; the daemon keeps it pending or, past its limit,
// drops it (Rollback) while the other appenders go on. Fixture: a store with 64 KiB of
// room, and a log tail of 1 MiB that cannot fit.
class AppenderTest : public StoreTest {
 protected:
  void SetUp() override {
    auto store = Open();
    ASSERT_TRUE(store);
    Cycle(*store, T(kBase), {{StoreKey("system_load1"), 0.5}});
    store.reset();
    StoreOptions options;
    options.max_page_count = PageCount(path()) + 16;
    store_ = OpenStore(path(), false, options);
    ASSERT_TRUE(store_);
  }

  std::filesystem::path path() const { return dir_ / "offmon.db"; }

  // Refs `key` through `appender`, adds one sample and remembers it as written when
  // `committed` (the caller asserts the commit).
  SeriesId Write(Appender& appender, const SeriesKey& key, TimePoint t, double value) {
    auto ref = appender.Ref(key);
    EXPECT_TRUE(ref.has_value());
    const SeriesId id = ref.has_value() ? *ref : 0;
    appender.Add(id, t, value);
    pending_[&appender].emplace_back(key.ToString(), Sample{t, value});
    ids_[key.ToString()].insert(id);
    return id;
  }
  void FillTheDisk(Appender& appender) { appender.AttachEvent(EventKind::kLogTail, std::string(1 << 20, 'x')); }
  void Committed(Appender& appender) {
    for (auto& [key, sample] : pending_[&appender]) written_[key].push_back(sample);
    pending_.erase(&appender);
  }
  void RolledBack(Appender& appender) { pending_.erase(&appender); }

  // Every key has one id that no other key has, and reads back exactly its samples,
  // in this store and after Rebuild and a reopen.
  void ExpectEverySeriesHasItsOwnId(Store& store) {
    std::map<SeriesId, std::string> owner;
    for (const auto& [key, ids] : ids_) {
      EXPECT_EQ(ids.size(), 1u) << key << " was given more than one id";
      for (SeriesId id : ids) {
        auto [it, fresh] = owner.emplace(id, key);
        EXPECT_TRUE(fresh) << "id " << id << " given to both " << it->second << " and " << key;
      }
    }
    auto all = store.Select(*Selector::Parse(R"({__name__=~".+"})"));
    ASSERT_TRUE(all.has_value());
    std::map<std::string, std::vector<Sample>> read;
    for (const SeriesInfo& info : *all) {
      const std::string key = info.key.ToString();
      if (ids_.count(key)) {
        EXPECT_EQ(ids_[key], std::set<SeriesId>{info.id}) << key;
      }
      read[key] = *store.ReadRange(info.id, T(kBase), T(kBase + 3600));
    }
    std::map<std::string, std::vector<Sample>> expected;
    for (const auto& [key, samples] : written_) expected[key] = Expected(samples);
    EXPECT_EQ(read, expected);
    auto problems = store.Check();
    ASSERT_TRUE(problems.has_value());
    EXPECT_TRUE(problems->empty()) << problems->front();
  }

  std::unique_ptr<Store> store_;
  std::map<std::string, std::set<SeriesId>> ids_;
  std::map<Appender*, std::vector<std::pair<std::string, Sample>>> pending_;
};

TEST_F(AppenderTest, AFailedBatchDroppedByOneAppenderNeverGivesItsIdsToAnother) {
  auto system = store_->NewAppender("collect:system");
  auto pm2 = store_->NewAppender("collect:pm2");
  // The system collector's batch defines two series and fills the disk.
  Write(*system, StoreKey("process_cpu_ratio", "a"), T(kBase + 10), 1);
  Write(*system, StoreKey("process_cpu_ratio", "b"), T(kBase + 10), 2);
  FillTheDisk(*system);
  ASSERT_EQ(system->Commit(T(kBase + 10)).code(), StatusCode::kDiskFull);
  // pm2 defines its series meanwhile and commits.
  Write(*pm2, StoreKey("pm2_restarts", "api"), T(kBase + 10), 3);
  ASSERT_TRUE(pm2->Commit(T(kBase + 10)).ok());
  Committed(*pm2);
  // The daemon gives up on the system batch; its next cycle defines one series more.
  system->Rollback();
  RolledBack(*system);
  Write(*system, StoreKey("process_cpu_ratio", "a"), T(kBase + 20), 4);
  Write(*system, StoreKey("process_cpu_ratio", "b"), T(kBase + 20), 5);
  Write(*system, StoreKey("process_cpu_ratio", "c"), T(kBase + 20), 6);
  Status status = system->Commit(T(kBase + 20));
  ASSERT_TRUE(status.ok()) << status.ToString();
  Committed(*system);
  Write(*pm2, StoreKey("pm2_restarts", "api"), T(kBase + 20), 7);
  ASSERT_TRUE(pm2->Commit(T(kBase + 20)).ok());
  Committed(*pm2);

  ExpectEverySeriesHasItsOwnId(*store_);
  ASSERT_TRUE(store_->Rebuild().ok());
  ExpectEverySeriesHasItsOwnId(*store_);
  store_.reset();
  store_ = Open();
  ExpectEverySeriesHasItsOwnId(*store_);
}

TEST_F(AppenderTest, ASeriesOfAFailedBatchIsDefinedByWhicheverAppenderCommitsItFirst) {
  auto system = store_->NewAppender("collect:system");
  auto tails = store_->NewAppender("analyzer:log_tail");
  Write(*system, StoreKey("process_cpu_ratio", "a"), T(kBase + 10), 1);
  FillTheDisk(*system);
  ASSERT_EQ(system->Commit(T(kBase + 10)).code(), StatusCode::kDiskFull);
  // Another appender writes the same series while the failed batch is pending.
  Write(*tails, StoreKey("process_cpu_ratio", "a"), T(kBase + 15), 2);
  ASSERT_TRUE(tails->Commit(T(kBase + 15)).ok());
  Committed(*tails);
  system->Rollback();
  RolledBack(*system);
  // A new series after the rollback must not take the id of the one just written.
  auto other = store_->NewAppender("collect:pm2");
  Write(*other, StoreKey("pm2_restarts", "api"), T(kBase + 20), 3);
  ASSERT_TRUE(other->Commit(T(kBase + 20)).ok());
  Committed(*other);

  ExpectEverySeriesHasItsOwnId(*store_);
  ASSERT_TRUE(store_->Rebuild().ok());
  ExpectEverySeriesHasItsOwnId(*store_);
  store_.reset();
  store_ = Open();
  ExpectEverySeriesHasItsOwnId(*store_);
}

TEST_F(AppenderTest, AFailedBatchKeptPendingCommitsOnRetryAlongsideOthers) {
  auto system = store_->NewAppender("collect:system");
  auto pm2 = store_->NewAppender("collect:pm2");
  auto tails = store_->NewAppender("analyzer:log_tail");
  Write(*system, StoreKey("process_cpu_ratio", "a"), T(kBase + 10), 1);
  Write(*tails, StoreKey("process_cpu_ratio", "a"), T(kBase + 11), 2);
  FillTheDisk(*tails);
  ASSERT_EQ(tails->Commit(T(kBase + 11)).code(), StatusCode::kDiskFull);
  Write(*pm2, StoreKey("pm2_restarts", "api"), T(kBase + 12), 3);
  ASSERT_TRUE(pm2->Commit(T(kBase + 12)).ok());
  Committed(*pm2);
  ASSERT_TRUE(system->Commit(T(kBase + 10)).ok());
  Committed(*system);
  // The tail batch is retried as it is (pending), still too big; then dropped.
  ASSERT_EQ(tails->Commit(T(kBase + 13)).code(), StatusCode::kDiskFull);
  tails->Rollback();
  RolledBack(*tails);
  // A batch the daemon keeps pending commits once it fits, defining what it still must.
  Write(*pm2, StoreKey("pm2_restarts", "web"), T(kBase + 20), 4);
  FillTheDisk(*pm2);
  ASSERT_EQ(pm2->Commit(T(kBase + 20)).code(), StatusCode::kDiskFull);
  Write(*system, StoreKey("process_cpu_ratio", "b"), T(kBase + 21), 5);
  ASSERT_TRUE(system->Commit(T(kBase + 21)).ok());
  Committed(*system);
  pm2->Rollback();
  RolledBack(*pm2);
  Write(*pm2, StoreKey("pm2_restarts", "web"), T(kBase + 30), 6);
  Write(*pm2, StoreKey("pm2_restarts", "db"), T(kBase + 30), 7);
  ASSERT_TRUE(pm2->Commit(T(kBase + 30)).ok());
  Committed(*pm2);

  ExpectEverySeriesHasItsOwnId(*store_);
  ASSERT_TRUE(store_->Rebuild().ok());
  ExpectEverySeriesHasItsOwnId(*store_);
  store_.reset();
  store_ = Open();
  ExpectEverySeriesHasItsOwnId(*store_);
}

}  // namespace
}  // namespace offmon::store
