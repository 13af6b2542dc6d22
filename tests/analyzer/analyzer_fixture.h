// A real store in a temp dir, filled with synthetic history, and the analyzer run over it
// as a backtest or step by step as the daemon runs it.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "offmon/analyzer/analyzer.h"
#include "offmon/store/store.h"
#include "support/temp_dir.h"

namespace offmon::analyzer {
inline void PrintTo(const Transition& t, std::ostream* os) {
  *os << FormatRfc3339(t.at) << ' ' << AlertStateName(t.state) << ' ' << SeverityName(t.severity) << ' '
      << SeriesKey(t.alert, t.labels).ToString() << ": " << t.summary;
  if (!t.inhibited_by.empty()) *os << " [caused by " << t.inhibited_by << ']';
}
}  // namespace offmon::analyzer

namespace offmon::testing {

// 2026-11-02T00:00:00Z.
constexpr int64_t kDay0 = 1793577600;
inline TimePoint At(int64_t seconds_after_day0) { return FromMillis((kDay0 + seconds_after_day0) * 1000); }
constexpr int64_t kMin = 60, kHour = 3600;

class AnalyzerTest : public ::testing::Test {
 public:
  void SetUp() override {
    store::StoreOptions options;
    options.path = dir_ / "offmon.db";
    auto opened = store::Store::Open(options);
    ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
    store_ = std::move(*opened);
  }

  // Appends samples of one series (any order; one batch).
  void Put(const std::string& series, const std::vector<std::pair<int64_t, double>>& points) {
    auto key = ParseSeriesKey(series);
    ASSERT_TRUE(key.has_value()) << series;
    auto appender = store_->NewAppender("test");
    auto id = appender->Ref(*key);
    ASSERT_TRUE(id.has_value());
    for (auto [t, v] : points) appender->Add(*id, At(t), v);
    Status status = appender->Commit(At(points.empty() ? 0 : points.back().first));
    ASSERT_TRUE(status.ok()) << status.ToString();
  }

  // Samples every `every` seconds over [from, to) with value f(t).
  template <typename F>
  void Series(const std::string& series, int64_t from, int64_t to, int64_t every, F f) {
    std::vector<std::pair<int64_t, double>> points;
    for (int64_t t = from; t < to; t += every) points.emplace_back(t, f(t));
    Put(series, points);
  }

  // A backtest over [from, to] at `step`: the firing and resolved transitions.
  std::vector<analyzer::Transition> Backtest(int64_t from, int64_t to, int64_t step = 5 * kMin) {
    analyzer::Analyzer a(config_, *store_, analyzer::AnalyzerMode::kBacktest);
    std::vector<analyzer::Transition> out;
    std::set<std::string> fired;  // a pending alert that never fired resolves unseen
    for (int64_t t = from; t <= to; t += step) {
      auto transitions = a.Evaluate(At(t));
      EXPECT_TRUE(transitions.has_value()) << transitions.error().ToString();
      if (!transitions) break;
      for (auto& tr : *transitions) {
        const std::string fingerprint = analyzer::Fingerprint(tr.alert, tr.labels);
        if (tr.state == analyzer::AlertState::kFiring) fired.insert(fingerprint);
        if (tr.state == analyzer::AlertState::kPending) continue;
        if (tr.state == analyzer::AlertState::kResolved && fired.erase(fingerprint) == 0) continue;
        out.push_back(std::move(tr));
      }
    }
    return out;
  }

  static std::vector<analyzer::Transition> Only(const std::vector<analyzer::Transition>& all, std::string_view alert,
                                                analyzer::AlertState state = analyzer::AlertState::kFiring) {
    std::vector<analyzer::Transition> out;
    for (const auto& t : all) {
      if (t.alert == alert && t.state == state) out.push_back(t);
    }
    return out;
  }

  TempDir dir_;
  Config config_;
  std::unique_ptr<store::Store> store_;
};

}  // namespace offmon::testing
