// History: the windows, floor reductions and counter changes a backtest reuses between
// evaluations must equal what a fresh read of the store says.
#include "offmon/analyzer/history.h"

#include <gmock/gmock.h>

#include <map>
#include <random>

#include "analyzer_fixture.h"

namespace offmon::testing {
namespace {

class HistoryTest : public AnalyzerTest {
 protected:
  void SetUp() override {
    AnalyzerTest::SetUp();
    // Two days at 30 s with jitter, a gap, noise, and a counter with increases and a reset.
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> jitter(-5, 5);
    std::normal_distribution<double> noise(0, 1e6);
    std::vector<std::pair<int64_t, double>> memory, counter;
    double restarts = 3;
    for (int64_t t = 0; t < 2 * 24 * kHour; t += 30) {
      if (t > 10 * kHour && t < 11 * kHour) continue;  // the collector was down
      const int64_t at = t + jitter(rng);
      memory.emplace_back(at, 300e6 + static_cast<double>(t % 600) * 1e5 + noise(rng));
      if (t % 1234 == 0) restarts += 1;
      if (t == 30 * kHour) restarts = 0;  // pm2 reset
      counter.emplace_back(at, restarts);
    }
    Put(R"(process_memory_bytes{process="w"})", memory);
    Put(R"(process_restarts_total{process="w"})", counter);
    raw_memory_ = ReadAll(R"(process_memory_bytes{process="w"})");
    raw_counter_ = ReadAll(R"(process_restarts_total{process="w"})");
  }

  std::vector<Sample> ReadAll(const std::string& series) {
    auto found = store_->Select(*store::Selector::Parse(series));
    ids_[series] = found->front().id;
    return *store_->ReadRange(found->front().id, At(-kHour), At(3 * 24 * kHour));
  }

  static std::vector<Sample> Between(const std::vector<Sample>& all, TimePoint from, TimePoint to) {
    std::vector<Sample> out;
    for (const Sample& s : all) {
      if (s.time >= from && s.time <= to) out.push_back(s);
    }
    return out;
  }

  store::SeriesId Id(const std::string& series) { return ids_.at(series); }

  std::map<std::string, store::SeriesId> ids_;
  std::vector<Sample> raw_memory_, raw_counter_;
};

bool operator==(std::span<const Sample> a, const std::vector<Sample>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const Sample& x, const Sample& y) { return x.time == y.time && x.value == y.value; });
}

TEST_F(HistoryTest, WindowsMovingForwardAndBackEqualAFreshRead) {
  analyzer::History history(*store_, std::chrono::hours(24));
  const std::string memory = R"(process_memory_bytes{process="w"})";
  ASSERT_TRUE(history.Series("process_memory_bytes", std::chrono::hours(6)).has_value());
  // Forward in 5-minute steps with two lookbacks per step (rules ask for different ones),
  // then a jump back, as a second backtest over the same History would.
  std::vector<int64_t> steps;
  for (int64_t t = 0; t <= 2 * 24 * kHour; t += 5 * kMin) steps.push_back(t);
  steps.push_back(12 * kHour);
  steps.push_back(12 * kHour + 5 * kMin);
  for (int64_t t : steps) {
    for (int64_t lookback : {90 * kMin, 6 * kHour}) {
      auto window = history.Window(Id(memory), At(t - lookback), At(t));
      ASSERT_TRUE(window.has_value());
      ASSERT_TRUE(*window == Between(raw_memory_, At(t - lookback), At(t))) << "t=" << t << " lookback=" << lookback;
    }
  }
}

TEST_F(HistoryTest, ReducedKeepsEachCellsFirstLowestAndLast) {
  analyzer::History history(*store_, std::chrono::hours(24));
  const auto cell = std::chrono::minutes(5);
  const int64_t cell_s = 5 * kMin;
  for (int64_t t = 6 * kHour; t <= 2 * 24 * kHour; t += 30 * kMin) {
    auto reduced = history.Reduced(Id(R"(process_memory_bytes{process="w"})"), At(t - 6 * kHour), At(t), cell);
    ASSERT_TRUE(reduced.has_value());
    // Group the raw window and the reduction by cell; compare first, minimum, last.
    std::map<int64_t, std::vector<Sample>> raw_cells, reduced_cells;
    for (const Sample& s : Between(raw_memory_, At(t - 6 * kHour), At(t))) {
      raw_cells[ToMillis(s.time) / 1000 / cell_s].push_back(s);
    }
    for (const Sample& s : *reduced) reduced_cells[ToMillis(s.time) / 1000 / cell_s].push_back(s);
    ASSERT_EQ(raw_cells.size(), reduced_cells.size()) << "t=" << t;
    for (const auto& [index, samples] : raw_cells) {
      const auto& kept = reduced_cells[index];
      ASSERT_LE(kept.size(), 3u);
      EXPECT_EQ(kept.front().time, samples.front().time);
      EXPECT_EQ(kept.back().time, samples.back().time);
      auto lowest = [](const std::vector<Sample>& v) {
        return std::min_element(v.begin(), v.end(), [](const Sample& a, const Sample& b) { return a.value < b.value; })
            ->value;
      };
      EXPECT_EQ(lowest(kept), lowest(samples)) << "t=" << t << " cell=" << index;
    }
  }
}

TEST_F(HistoryTest, ChangesAreTheCountersIncreasesAndResets) {
  analyzer::History history(*store_, std::chrono::hours(24));
  const std::string counter = R"(process_restarts_total{process="w"})";
  for (int64_t t = 6 * kHour; t <= 2 * 24 * kHour; t += 5 * kMin) {
    const TimePoint from = At(t - 6 * kHour), to = At(t);
    auto changes = history.Changes(Id(counter), from, to);
    ASSERT_TRUE(changes.has_value());
    // Expected: the window's first sample, then every one whose value differs from the
    // sample before it.
    const std::vector<Sample> window = Between(raw_counter_, from, to);
    std::vector<Sample> expected;
    for (size_t i = 0; i < window.size(); ++i) {
      if (i == 0 || window[i].value != window[i - 1].value) expected.push_back(window[i]);
    }
    ASSERT_TRUE(*changes == expected) << "t=" << t;
  }
}

}  // namespace
}  // namespace offmon::testing
