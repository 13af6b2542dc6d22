// Store::ReadLatest: the newest sample per series, from the head or a sealed chunk.
#include <gtest/gtest.h>

#include "offmon/store/store.h"
#include "support/temp_dir.h"

namespace offmon::store {
namespace {

using namespace std::chrono_literals;

class ReadLatestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions options;
    options.path = dir_ / "offmon.db";
    auto store = Store::Open(options);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
  }
  void Add(const SeriesKey& key, TimePoint t, double value) {
    auto appender = store_->NewAppender("test");
    auto id = appender->Ref(key);
    ASSERT_TRUE(id.has_value());
    appender->Add(*id, t, value);
    ASSERT_TRUE(appender->Commit(t).ok());
  }
  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  const TimePoint now_ = FromMillis(1'800'000'000'000);
};

TEST_F(ReadLatestTest, NewestSamplePerSeriesFromHeadAndChunks) {
  const SeriesKey a("a_bytes", {{"x", "1"}}), b("b_total", {}), old("old", {});
  Add(old, now_ - 10h, 1);
  Add(a, now_ - 5h, 1);  // sealed into a chunk once newer data arrives
  Add(b, now_ - 5h, 10);
  Add(a, now_ - 4h, 2);
  Add(b, now_ - 30s, 11);
  Add(b, now_ - 30s, 12);  // same time, written later: wins
  ASSERT_TRUE(store_->Checkpoint().ok());
  auto latest = store_->ReadLatest(now_ - 6h);
  ASSERT_TRUE(latest.has_value()) << latest.error().ToString();
  ASSERT_EQ(latest->size(), 2u);
  EXPECT_EQ((*latest)[0].key, a);
  EXPECT_EQ((*latest)[0].sample.time, now_ - 4h);
  EXPECT_EQ((*latest)[0].sample.value, 2);
  EXPECT_EQ((*latest)[1].key, b);
  EXPECT_EQ((*latest)[1].sample.value, 12);
  auto recent = store_->ReadLatest(now_ - 1h);
  ASSERT_TRUE(recent.has_value());
  ASSERT_EQ(recent->size(), 1u);
  EXPECT_EQ((*recent)[0].key, b);
}

}  // namespace
}  // namespace offmon::store
