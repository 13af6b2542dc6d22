#include <gtest/gtest.h>
#include <roaring/roaring.h>

#include "offmon/store/store.h"
#include "store/store_test_util.h"

namespace offmon::store {
namespace {

using offmon::testing::kBase;
using offmon::testing::OpenStore;
using offmon::testing::T;
using offmon::testing::TempDir;

EpochObservation Epoch(std::string channel, int64_t epoch, std::vector<std::string> participants) {
  EpochObservation e;
  e.channel = std::move(channel);
  e.epoch = epoch;
  e.sealed_at = T(epoch + 3600 + 30);
  e.root = "ab12";
  e.token_group = "MILO";
  e.category = "default";
  e.participants = std::move(participants);
  return e;
}

std::vector<uint32_t> Ids(const std::string& bitmap) {
  roaring_bitmap_t* set = roaring_bitmap_portable_deserialize_safe(bitmap.data(), bitmap.size());
  EXPECT_NE(set, nullptr);
  std::vector<uint32_t> ids(roaring_bitmap_get_cardinality(set));
  roaring_bitmap_to_uint32_array(set, ids.data());
  roaring_bitmap_free(set);
  return ids;
}

TEST(EpochStoreTest, ParticipantsMapToStableIdsAcrossEpochsAndRestarts) {
  TempDir dir;
  auto store = OpenStore(dir / "offmon.db");
  {
    auto appender = store->NewAppender("postgres");
    appender->AddEpoch(Epoch("train", kBase, {"h1", "h2", "h3"}));
    appender->AddEpoch(Epoch("sykkuno", kBase, {"h3", "h4"}));
    ASSERT_TRUE(appender->Commit(T(kBase + 3700)).ok());
  }
  store.reset();
  store = OpenStore(dir / "offmon.db");
  {
    auto appender = store->NewAppender("postgres");
    appender->AddEpoch(Epoch("train", kBase + 3600, {"h2", "h5"}));
    ASSERT_TRUE(appender->Commit(T(kBase + 7300)).ok());
  }
  auto epochs = store->ReadEpochs(T(kBase), T(kBase + 86400));
  ASSERT_TRUE(epochs.has_value()) << epochs.error().ToString();
  ASSERT_EQ(epochs->size(), 3u);
  EXPECT_EQ((*epochs)[0].channel, "sykkuno");  // same sealed_at: ordered by channel
  EXPECT_EQ(Ids((*epochs)[0].bitmap), (std::vector<uint32_t>{3, 4}));
  EXPECT_EQ(Ids((*epochs)[1].bitmap), (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(Ids((*epochs)[2].bitmap), (std::vector<uint32_t>{2, 5}));  // h2 kept id 2 after reopening
  EXPECT_EQ((*epochs)[2].participants, 2);
  EXPECT_EQ((*epochs)[2].token_group, "MILO");
}

TEST(EpochStoreTest, LaterObservationWinsAndHistoryStaysInTheLog) {
  TempDir dir;
  auto store = OpenStore(dir / "offmon.db");
  auto first = Epoch("train", kBase, {"a", "b"});
  auto second = first;
  second.published = true;
  second.published_at = T(kBase + 3600 + 300);
  second.root = "ffff";  // a rewritten root: the analyzer flags it from the log
  for (const auto& e : {first, second}) {
    auto appender = store->NewAppender("postgres");
    appender->AddEpoch(e);
    ASSERT_TRUE(appender->Commit(T(kBase + 4000)).ok());
  }
  auto epochs = store->ReadEpochs(T(kBase), T(kBase + 86400));
  ASSERT_EQ(epochs->size(), 1u);
  EXPECT_TRUE(epochs->front().published);
  EXPECT_EQ(epochs->front().root, "ffff");
  auto events = store->ReadEvents(0, EventKind::kEpochSealed, 10);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ(DecodeEpochEvent(events->front())->root, "ab12");
  // One users_registered event: the second observation reused both ids.
  EXPECT_EQ(store->ReadEvents(0, EventKind::kUsersRegistered, 10)->size(), 1u);
}

// Backfilled history has counts only; a set read in a later cycle completes it, and a
// later count-only observation (a published flag) keeps it.
TEST(EpochStoreTest, CountOnlyObservationHasNoSetAndKeepsOneSeenBefore) {
  TempDir dir;
  auto store = OpenStore(dir / "offmon.db");
  auto counted = Epoch("train", kBase, {});
  counted.has_participant_set = false;
  counted.participant_count = 1500;
  auto with_set = Epoch("train", kBase, {"a", "b"});
  auto published = counted;
  published.published = true;
  published.participant_count = 2;
  auto rewritten = published;
  rewritten.root = "ffff";
  auto write = [&](const EpochObservation& e) {
    auto appender = store->NewAppender("postgres");
    appender->AddEpoch(e);
    EXPECT_TRUE(appender->Commit(T(kBase + 4000)).ok());
    return *store->ReadEpochs(T(kBase), T(kBase + 86400));
  };
  auto epochs = write(counted);
  ASSERT_EQ(epochs.size(), 1u);
  EXPECT_FALSE(epochs[0].has_participant_set());
  EXPECT_EQ(epochs[0].participants, 1500);
  epochs = write(with_set);
  EXPECT_TRUE(epochs[0].has_participant_set());
  EXPECT_EQ(Ids(epochs[0].bitmap), (std::vector<uint32_t>{1, 2}));
  epochs = write(published);
  EXPECT_TRUE(epochs[0].published);
  EXPECT_EQ(Ids(epochs[0].bitmap), (std::vector<uint32_t>{1, 2}));  // kept: same root
  ASSERT_TRUE(store->Rebuild().ok());
  EXPECT_EQ(*store->ReadEpochs(T(kBase), T(kBase + 86400)), epochs);
  epochs = write(rewritten);
  EXPECT_FALSE(epochs[0].has_participant_set());  // a new root: the old set is not its set
  EXPECT_TRUE(store->Check()->empty());
  auto events = store->ReadEvents(0, EventKind::kEpochSealed, 10);
  ASSERT_EQ(events->size(), 4u);
  EXPECT_EQ(DecodeEpochEvent(events->front())->participants, 1500);
  EXPECT_FALSE(DecodeEpochEvent(events->front())->has_participant_set());
}

TEST(EpochStoreTest, RebuildReproducesEpochsAndUsers) {
  TempDir dir;
  auto store = OpenStore(dir / "offmon.db");
  for (int h = 0; h < 48; ++h) {
    auto appender = store->NewAppender("postgres");
    std::vector<std::string> users;
    for (int u = 0; u < 50; ++u) users.push_back("user" + std::to_string((h * 7 + u * 3) % 400));
    appender->AddEpoch(Epoch("train", kBase + h * 3600, users));
    ASSERT_TRUE(appender->Commit(T(kBase + h * 3600 + 3700)).ok());
  }
  auto before = store->ReadEpochs(T(kBase), T(kBase + 3 * 86400));
  ASSERT_EQ(before->size(), 48u);
  ASSERT_TRUE(store->Rebuild().ok());
  EXPECT_EQ(*store->ReadEpochs(T(kBase), T(kBase + 3 * 86400)), *before);
  EXPECT_TRUE(store->Check()->empty());
  // New users after a rebuild continue the id sequence.
  auto appender = store->NewAppender("postgres");
  appender->AddEpoch(Epoch("train", kBase + 49 * 3600, {"brand-new"}));
  ASSERT_TRUE(appender->Commit(T(kBase + 50 * 3600)).ok());
  auto last = store->ReadEpochs(T(kBase + 49 * 3600), T(kBase + 60 * 3600));
  EXPECT_EQ(Ids(last->back().bitmap), (std::vector<uint32_t>{401}));
}

}  // namespace
}  // namespace offmon::store
