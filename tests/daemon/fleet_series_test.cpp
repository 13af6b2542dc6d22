// FleetSeries: offmon_up, the last cycle, the remote-write figures and offmon_alert as
// samples, with a staleness marker when an alert ends or changes state.
#include "fleet_series_impl.h"

#include <gtest/gtest.h>

#include <memory>

#include "offmon/store/store.h"
#include "support/temp_dir.h"

namespace offmon::daemon {
namespace {

using namespace std::chrono_literals;

const TimePoint kT0 = FromMillis(1'763'000'000'000);

class FleetSeriesTest : public ::testing::Test {
 protected:
  FleetSeriesTest() {
    store::StoreOptions options;
    options.path = dir_ / "offmon.db";
    store_ = std::move(*store::Store::Open(options));
  }

  void Append(TimePoint t) {
    auto appender = store_->NewAppender("collect:offmon");
    fleet_.Append(t, active_, cursors_, stats_, *appender);
    ASSERT_TRUE(appender->Commit(t).ok());
  }

  // The samples of the one series `selector` names.
  std::vector<Sample> Samples(std::string_view selector) {
    auto series = store_->Select(*store::Selector::Parse(selector));
    EXPECT_TRUE(series.has_value());
    if (!series || series->size() != 1) {
      ADD_FAILURE() << selector << ": " << (series ? series->size() : 0) << " series";
      return {};
    }
    return *store_->ReadRange(series->front().id, TimePoint::min(), TimePoint::max());
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  FleetSeries fleet_;
  std::map<std::string, analyzer::ActiveAlert> active_;
  std::vector<store::RemoteWriteCursor> cursors_;
  std::vector<notify::RemoteWriteStats> stats_;
};

TEST_F(FleetSeriesTest, HealthAndRemoteWriteFigures) {
  cursors_ = {{"central", 41, 7, std::chrono::seconds(90)}};
  stats_ = {{"central", 1200, {{"too_old", 5}}}};
  Append(kT0);
  EXPECT_EQ(Samples("offmon_up"), (std::vector<Sample>{{kT0, 1}}));
  EXPECT_EQ(Samples("offmon_last_cycle_timestamp_seconds"), (std::vector<Sample>{{kT0, 1'763'000'000}}));
  EXPECT_EQ(Samples("offmon_remote_write_pending_events{endpoint=\"central\"}"), (std::vector<Sample>{{kT0, 7}}));
  EXPECT_EQ(Samples("offmon_remote_write_cursor_lag_seconds{endpoint=\"central\"}"), (std::vector<Sample>{{kT0, 90}}));
  EXPECT_EQ(Samples("offmon_remote_write_samples_sent_total{endpoint=\"central\"}"), (std::vector<Sample>{{kT0, 1200}}));
  EXPECT_EQ(Samples("offmon_remote_write_samples_dropped_total{endpoint=\"central\",reason=\"too_old\"}"),
            (std::vector<Sample>{{kT0, 5}}));
  EXPECT_EQ(Samples("offmon_remote_write_samples_dropped_total{endpoint=\"central\",reason=\"rejected\"}"),
            (std::vector<Sample>{{kT0, 0}}));
}

TEST_F(FleetSeriesTest, AnAlertIsOneWhileActiveThenStale) {
  analyzer::ActiveAlert alert;
  alert.alert = "ProcessOffline";
  alert.severity = analyzer::Severity::kCritical;
  alert.labels = {{"process", "w1"}};
  active_["k"] = alert;
  Append(kT0);  // pending
  active_["k"].firing = true;
  Append(kT0 + 1s);  // firing: the pending series ends
  active_.clear();
  Append(kT0 + 2s);  // resolved: the firing series ends
  const auto pending = Samples(
      "offmon_alert{alertname=\"ProcessOffline\",severity=\"critical\",state=\"pending\",process=\"w1\"}");
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0], (Sample{kT0, 1}));
  EXPECT_EQ(pending[1].time, kT0 + 1s);
  EXPECT_TRUE(IsStaleMarker(pending[1].value));
  const auto firing = Samples("offmon_alert{state=\"firing\"}");
  ASSERT_EQ(firing.size(), 2u);
  EXPECT_EQ(firing[0], (Sample{kT0 + 1s, 1}));
  EXPECT_TRUE(IsStaleMarker(firing[1].value));
}

}  // namespace
}  // namespace offmon::daemon
