// Baselines recorded as series: what the report and `offmon trend` read back.
#include "offmon/analyzer/baselines.h"

#include <gmock/gmock.h>

#include "analyzer_fixture.h"

namespace offmon::testing {
namespace {

class BaselinesTest : public AnalyzerTest {
 protected:
  // The one sample of a recorded baseline series, or nullopt.
  std::optional<double> Read(const std::string& series) {
    auto selector = store::Selector::Parse(series);
    EXPECT_TRUE(selector.has_value()) << series;
    auto found = store_->Select(*selector);
    EXPECT_TRUE(found.has_value());
    if (!found || found->empty()) return std::nullopt;
    auto samples = store_->ReadRange(found->front().id, At(0), At(30 * 24 * kHour));
    EXPECT_TRUE(samples.has_value());
    EXPECT_EQ(samples->size(), 1u) << series;
    return samples->empty() ? std::nullopt : std::optional<double>(samples->back().value);
  }
};

TEST_F(BaselinesTest, ChannelsAndProcessesGetAMedianAndASpread) {
  const int64_t now = 8 * 24 * kHour;
  // Hourly epochs, days alternating 1,900 / 2,100: median 2,000, spread 1.4826 x 100.
  Series(R"(epoch_participants{channel="c"})", 0, now, kHour,
         [](int64_t t) { return t / (24 * kHour) % 2 == 0 ? 1900.0 : 2100.0; });
  // A channel with one day of history has no baseline yet.
  Series(R"(epoch_participants{channel="new"})", now - 20 * kHour, now, kHour, [](int64_t) { return 50.0; });
  // Memory at 300 MB; CPU idle (0 %) two samples in three, 9 % otherwise: zero counts.
  Series(R"(process_memory_bytes{process="w"})", 0, now, 5 * kMin, [](int64_t) { return 300e6; });
  Series(R"(process_cpu_percent{process="w"})", 0, now, 5 * kMin,
         [](int64_t t) { return t / (5 * kMin) % 3 == 0 ? 9.0 : 0.0; });

  Status status = analyzer::RecordBaselines(*store_, config_, At(now));
  ASSERT_TRUE(status.ok()) << status.ToString();

  EXPECT_EQ(Read(R"(baseline_participants_median{channel="c"})"), 2000.0);
  EXPECT_NEAR(*Read(R"(baseline_participants_spread{channel="c"})"), 148.26, 0.01);
  EXPECT_EQ(Read(R"(baseline_participants_median{channel="new"})"), std::nullopt);
  EXPECT_EQ(Read(R"(baseline_process_memory_bytes_median{process="w"})"), 300e6);
  EXPECT_EQ(Read(R"(baseline_process_memory_bytes_spread{process="w"})"), 0.0);
  EXPECT_EQ(Read(R"(baseline_process_cpu_percent_median{process="w"})"), 0.0);
}

}  // namespace
}  // namespace offmon::testing
