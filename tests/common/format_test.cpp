// GroupThousands: the one thousands grouping of the rules, the report and the escalation.
#include "offmon/common/format.h"

#include <gtest/gtest.h>

#include <limits>

namespace offmon {
namespace {

TEST(FormatTest, GroupsEveryThreeDigits) {
  EXPECT_EQ(GroupThousands(0), "0");
  EXPECT_EQ(GroupThousands(999), "999");
  EXPECT_EQ(GroupThousands(1000), "1,000");
  EXPECT_EQ(GroupThousands(3150), "3,150");
  EXPECT_EQ(GroupThousands(1234567), "1,234,567");
  EXPECT_EQ(GroupThousands(-1234567), "-1,234,567");
  EXPECT_EQ(GroupThousands(-999), "-999");
  EXPECT_EQ(GroupThousands(1e20), "100,000,000,000,000,000,000");  // beyond long long
}

// The two copies disagreed on halves: the analyzer's rounded half away from zero
// (llround), the query's "{:.0f}" to even, so one baseline median of 100.5 read "101" in
// an alert and "100" in the report. Both now round as std::round.
TEST(FormatTest, RoundsHalfAwayFromZero) {
  EXPECT_EQ(GroupThousands(100.5), "101");
  EXPECT_EQ(GroupThousands(2.5), "3");
  EXPECT_EQ(GroupThousands(0.5), "1");
  EXPECT_EQ(GroupThousands(-2.5), "-3");
  EXPECT_EQ(GroupThousands(1234.49), "1,234");
  EXPECT_EQ(GroupThousands(999.5), "1,000");
}

// No "-0" (the query's copy printed it for -0.4), and no undefined llround of a value
// out of range or not a number (the analyzer's).
TEST(FormatTest, NeverMinusZeroAndNamesNonFiniteValues) {
  EXPECT_EQ(GroupThousands(-0.4), "0");
  EXPECT_EQ(GroupThousands(-0.0), "0");
  EXPECT_EQ(GroupThousands(std::numeric_limits<double>::quiet_NaN()), "nan");
  EXPECT_EQ(GroupThousands(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(GroupThousands(-std::numeric_limits<double>::infinity()), "-inf");
}

}  // namespace
}  // namespace offmon
