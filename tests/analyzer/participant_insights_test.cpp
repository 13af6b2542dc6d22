#include "offmon/analyzer/participant_insights.h"

#include <gtest/gtest.h>
#include <roaring/roaring.hh>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace offmon::analyzer {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;

const TimePoint kJudged = FromMillis(1'762'370'000'000) + minutes(45);

std::string Serialize(const std::vector<uint32_t>& ids) {
  Roaring set(ids.size(), ids.data());
  set.runOptimize();
  std::string bytes(set.getSizeInBytes(/*portable=*/true), '\0');
  set.write(bytes.data(), /*portable=*/true);
  return bytes;
}

std::vector<uint32_t> Range(uint32_t first, uint32_t last) {
  std::vector<uint32_t> out;
  for (uint32_t id = first; id <= last; ++id) out.push_back(id);
  return out;
}

store::EpochRecord Epoch(TimePoint sealed_at, std::vector<uint32_t> ids) {
  store::EpochRecord e;
  e.channel = "jasontheween";
  e.epoch = ToMillis(sealed_at) / 1000;
  e.sealed_at = sealed_at;
  e.participants = static_cast<int64_t>(ids.size());
  e.bitmap = Serialize(ids);
  return e;
}

// A hand-built channel:
// - 8 days ago: user 101 (outside the 7-day windows);
// - 3 days ago: users 100 and 200;
// - the 6 hours before the judged epoch: users 1-10 in all six, 11 and 12 in three (exactly
//   half), 13 in two;
// - the judged epoch: users 1-3, 11, 100 (seen 3 days ago) and 101 (seen 8 days ago).
class ParticipantInsightsTest : public ::testing::Test {
 protected:
  ParticipantInsightsTest() {
    epochs_.push_back(Epoch(kJudged - days(8), {101}));
    epochs_.push_back(Epoch(kJudged - days(3), {100, 200}));
    for (int k = 6; k >= 1; --k) {
      std::vector<uint32_t> ids = Range(1, 10);
      if (k % 2 == 0) ids.insert(ids.end(), {11, 12});
      if (k <= 2) ids.push_back(13);
      epochs_.push_back(Epoch(kJudged - hours(k), ids));
    }
    epochs_.push_back(Epoch(kJudged, {1, 2, 3, 11, 100, 101}));
    options_.regular_epochs = 6;  // the six hourly epochs, not the one 3 days ago
  }

  std::vector<store::EpochRecord> epochs_;
  InsightsOptions options_;
};

TEST_F(ParticipantInsightsTest, RegularsAbsentShare) {
  Result<ParticipantInsights> in = InsightsFor(epochs_, options_);
  ASSERT_TRUE(in) << in.error().ToString();
  EXPECT_EQ(in->reference_epochs, 6u);
  EXPECT_EQ(in->regulars, 12u);  // 1-12; 13 was in only two of six
  // Absent: 4-10 and 12.
  EXPECT_DOUBLE_EQ(in->regulars_absent_share, 8.0 / 12.0);
}

TEST_F(ParticipantInsightsTest, DistinctOverTwentyFourHoursAndSevenDays) {
  Result<ParticipantInsights> in = InsightsFor(epochs_, options_);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->participants, 6u);
  EXPECT_EQ(in->distinct_24h, 15u);  // 1-13, 100, 101
  EXPECT_EQ(in->distinct_7d, 16u);   // and 200; the 8-day-old epoch is outside
}

TEST_F(ParticipantInsightsTest, NewVersusReturning) {
  Result<ParticipantInsights> in = InsightsFor(epochs_, options_);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->returning_participants, 5u);  // 1, 2, 3, 11, 100
  EXPECT_EQ(in->new_participants, 1u);        // 101: last seen 8 days ago
}

TEST_F(ParticipantInsightsTest, ReferenceIsTheLastEpochsWithinTheWindow) {
  // By default the reference is the last 24 epochs within 7 days: the seven before the
  // judged one here (the 8-day-old epoch is outside), so a regular needs four of seven.
  Result<ParticipantInsights> in = InsightsFor(epochs_);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->reference_epochs, 7u);
  EXPECT_EQ(in->regulars, 10u);
  EXPECT_DOUBLE_EQ(in->regulars_absent_share, 0.7);
}

TEST_F(ParticipantInsightsTest, TooFewReferenceEpochsMeansNoRegulars) {
  std::vector<store::EpochRecord> few(epochs_.end() - 3, epochs_.end());
  Result<ParticipantInsights> in = InsightsFor(few, options_);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->reference_epochs, 2u);
  EXPECT_EQ(in->regulars, 0u);
  EXPECT_EQ(in->regulars_absent_share, 0);
  EXPECT_EQ(in->returning_participants, 4u);  // 1, 2, 3 and 11; 100's epoch is not given

  Result<ParticipantInsights> alone = InsightsFor(std::span(epochs_).last(1), options_);
  ASSERT_TRUE(alone);
  EXPECT_EQ(alone->new_participants, 6u);
  EXPECT_EQ(alone->distinct_7d, 6u);
}

TEST_F(ParticipantInsightsTest, CorruptBitmapIsAnError) {
  const std::string valid = epochs_[4].bitmap;
  for (const std::string& bad : {std::string("not a roaring bitmap"), valid.substr(0, valid.size() - 3),
                                 valid + std::string("\0\0", 2), std::string()}) {
    std::vector<store::EpochRecord> epochs = epochs_;
    epochs[4].bitmap = bad;
    Result<ParticipantInsights> in = InsightsFor(epochs, options_);
    ASSERT_FALSE(in) << bad.size() << " bytes decoded";
    EXPECT_EQ(in.error().code(), StatusCode::kCorruption);
    EXPECT_NE(in.error().message().find("jasontheween"), std::string::npos) << in.error().message();
  }
}

TEST_F(ParticipantInsightsTest, BitmapsOutsideTheWindowsAreNotDecoded) {
  epochs_[0].bitmap = "garbage, but 8 days old";
  EXPECT_TRUE(InsightsFor(epochs_, options_));
}

TEST_F(ParticipantInsightsTest, NoEpochIsInvalidArgument) {
  Result<ParticipantInsights> in = InsightsFor({}, options_);
  ASSERT_FALSE(in);
  EXPECT_EQ(in.error().code(), StatusCode::kInvalidArgument);
}

TEST(ParticipantSummaryTest, FormatsTheAlertLine) {
  DropFinding drop;
  drop.participants = 1020;
  drop.baseline.median = 3150;
  drop.baseline.spread = 240;
  drop.change = 1020.0 / 3150 - 1;  // -67.6 %
  ParticipantInsights in;
  in.regulars = 200;
  in.regulars_absent_share = 0.71;
  EXPECT_EQ(DropSummary("jasontheween", drop, in),
            "jasontheween: 1,020 participants vs baseline 3,150 (-68%); 71% of regulars absent");
  EXPECT_EQ(DropSummary("jasontheween", drop, std::nullopt),
            "jasontheween: 1,020 participants vs baseline 3,150 (-68%)");
  in.regulars = 0;  // nobody to be absent: say nothing rather than "0%"
  EXPECT_EQ(DropSummary("train", drop, in), "train: 1,020 participants vs baseline 3,150 (-68%)");
  drop.participants = 12345678;
  drop.baseline.median = 999.5;
  drop.change = 0;
  EXPECT_EQ(DropSummary("x", drop, std::nullopt), "x: 12,345,678 participants vs baseline 1,000 (+0%)");
}

}  // namespace
}  // namespace offmon::analyzer
