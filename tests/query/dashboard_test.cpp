// The web dashboard's rendering (query/dashboard.h): escaping, the report's sections and
// stale marks, the page shell's script policy, routing and charts over a real store.
#include "offmon/query/dashboard.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "offmon/analyzer/alert.h"
#include "offmon/common/event_kind.h"
#include "offmon/store/store.h"
#include "support/temp_dir.h"

namespace offmon::query {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kEvil = "<script>alert(1)</script>";

class DashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions options;
    options.path = dir_ / "offmon.db";
    auto store = store::Store::Open(options);
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
  // A report with one of everything; the channel and a process named to break out of HTML.
  static OverviewData Sample(TimePoint at) {
    OverviewData d;
    HealthReport& r = d.report;
    r.at = at;
    r.status = HealthStatus::kCritical;
    r.hard_status = HealthStatus::kCritical;
    ProcessStatus p;
    p.name = "cls-worker-1";
    p.status = "online";
    p.memory_bytes = Reading{512.0 * 1024 * 1024, at - 10min, /*stale=*/true};
    p.cpu_percent = Reading{12.0, at - 5s, false};
    p.uptime_seconds = Reading{3600.0, at - 5s, false};
    p.restarts_total = Reading{3.0, at - 5s, false};
    p.restarts_last_hour = 1;
    r.processes.push_back(p);
    ProcessStatus evil;
    evil.name = std::string(kEvil);
    evil.status = "stopped";
    r.processes.push_back(evil);
    d.memory["cls-worker-1"].values = {1, 2, 3, 4};
    r.database.up = Reading{1.0, at - 2s, false};
    r.database.response_seconds = Reading{0.004, at - 2s, false};
    r.database.events_last_hour = Reading{1234.0, at - 2s, false};
    r.epochs.push_back(EpochRow{42, std::string(kEvil), 180, at - 1min, true});
    ChannelRow c;
    c.channel = std::string(kEvil);
    c.last_participants = 180;
    r.channels.push_back(c);
    AlertRow a;
    a.alert = "ProcessOffline";
    a.severity = analyzer::Severity::kCritical;
    a.firing = true;
    a.labels = {{"process", std::string(kEvil)}};
    a.summary = "process " + std::string(kEvil) + " is offline";
    a.since = at - 3min;
    a.first_action = "pm2 logs <name> --lines 100";
    a.guide_section = "Process down";
    a.silenced = SuppressionNote{"s1", at + 1h, "ops", "maintenance <b>"};
    r.alerts.push_back(a);
    r.system.load1 = Reading{0.5, at - 1s, false};
    r.system.load5 = Reading{0.4, at - 1s, false};
    r.system.load15 = Reading{0.3, at - 1s, false};
    return d;
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  Config config_;
  const TimePoint at_ = FromMillis(1'800'000'000'000);
};

TEST_F(DashboardTest, HtmlEscapeEscapesMarkupAndQuotes) {
  EXPECT_EQ(HtmlEscape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;");
  EXPECT_EQ(HtmlEscape("plain"), "plain");
}

TEST_F(DashboardTest, OverviewEscapesEveryLabel) {
  const std::string html = RenderOverviewPage(Sample(at_));
  EXPECT_EQ(html.find("<script>alert"), std::string::npos) << html;
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("maintenance &lt;b&gt;"), std::string::npos);
  EXPECT_NE(html.find("pm2 logs &lt;name&gt; --lines 100"), std::string::npos);
}

TEST_F(DashboardTest, OverviewHasTheReportsSectionsAlertsFirst) {
  const std::string html = RenderOverviewFragment(Sample(at_));
  size_t previous = 0;
  for (std::string_view id : {"status", "alerts", "processes", "database", "epochs", "channels", "system"}) {
    const size_t at = html.find(fmt::format("<section id=\"{}\"", id));
    ASSERT_NE(at, std::string::npos) << id;
    EXPECT_GE(at, previous) << id << " out of order";
    previous = at;
  }
  EXPECT_NE(html.find("data-status=\"CRITICAL\""), std::string::npos);
  EXPECT_NE(html.find("data-alert=\"ProcessOffline\" data-state=\"firing\""), std::string::npos);
  EXPECT_NE(html.find("First action (Process down)"), std::string::npos);
  EXPECT_NE(html.find("silenced until"), std::string::npos);
  EXPECT_NE(html.find("1,234"), std::string::npos);  // events last hour
  EXPECT_NE(html.find("4 ms"), std::string::npos);
  EXPECT_NE(html.find("class=\"sparkline\""), std::string::npos);
}

TEST_F(DashboardTest, StaleValuesAreMarkedAsTheTextReportMarksThem) {
  const std::string html = RenderOverviewFragment(Sample(at_));
  // The process row with a stale memory reading, as "(stale: last sample ..., 10m 0s ago)".
  EXPECT_NE(html.find("stale: last sample 2027-01-15 07:50:00, 10m 0s ago"), std::string::npos) << html;
  OverviewData fresh = Sample(at_);
  fresh.report.processes[0].memory_bytes.stale = false;
  EXPECT_EQ(RenderOverviewFragment(fresh).find("stale:"), std::string::npos);
}

TEST_F(DashboardTest, PagesLoadOnlyTheirOwnScriptAndStylesheet) {
  const std::string html = RenderOverviewPage(Sample(at_));
  EXPECT_NE(html.find("<script src=\"/static/dashboard.js\" defer></script>"), std::string::npos);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_EQ(html.find(" style="), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);  // nothing from elsewhere
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_NE(html.find("data-src=\"/api/overview\""), std::string::npos);
}

TEST_F(DashboardTest, ServesPagesAssetsAndErrors) {
  Config config;
  auto page = ServeDashboard(*store_, config, at_, "/");
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  EXPECT_EQ(page->status, 200u);
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  auto js = ServeDashboard(*store_, config, at_, "/static/dashboard.js");
  ASSERT_TRUE(js.has_value());
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(js->body.find("setTimeout(refresh"), std::string::npos);
  auto css = ServeDashboard(*store_, config, at_, "/static/dashboard.css");
  ASSERT_TRUE(css.has_value());
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
  EXPECT_EQ(ServeDashboard(*store_, config, at_, "/static/nope.js")->status, 404u);
  EXPECT_EQ(ServeDashboard(*store_, config, at_, "/nope")->status, 404u);
  EXPECT_EQ(ServeDashboard(*store_, config, at_, "/charts?range=2w")->status, 400u);
  EXPECT_EQ(ServeDashboard(*store_, config, at_, "/alerts")->status, 200u);
  auto fragment = ServeDashboard(*store_, config, at_, "/api/overview");
  ASSERT_TRUE(fragment.has_value());
  EXPECT_EQ(fragment->body.find("<!DOCTYPE"), std::string::npos);
  EXPECT_NE(fragment->body.find("<section id=\"processes\""), std::string::npos);
  EXPECT_TRUE(IsDashboardPath("/static/dashboard.css"));
  EXPECT_FALSE(IsDashboardPath("/metrics"));
}

TEST_F(DashboardTest, ChartsDrawEveryProcessAndChannelWithPoints) {
  for (int i = 0; i < 30; ++i) {
    const TimePoint t = at_ - std::chrono::minutes(i * 2);
    Add(SeriesKey("process_memory_bytes", {{"process", "w1"}}), t, 1e8 + i * 1e6);
    Add(SeriesKey("process_cpu_percent", {{"process", "w1"}}), t, 10);
    Add(SeriesKey("epoch_participants", {{"channel", std::string(kEvil)}}), t, 100);
    Add(SeriesKey("db_events_last_hour", {}), t, 5000);
  }
  for (ChartRange range : {ChartRange::k1h, ChartRange::k24h, ChartRange::k7d, ChartRange::k30d}) {
    auto html = RenderChartsFragment(*store_, config_, at_, range);
    ASSERT_TRUE(html.has_value()) << html.error().ToString();
    EXPECT_NE(html->find("data-kind=\"process\" data-name=\"w1\""), std::string::npos) << ChartRangeName(range);
    EXPECT_NE(html->find("data-kind=\"channel\""), std::string::npos);
    EXPECT_NE(html->find("data-kind=\"database\""), std::string::npos);
    EXPECT_NE(html->find("<path d=\"M"), std::string::npos);
    EXPECT_EQ(html->find("<script>"), std::string::npos);
    EXPECT_EQ(html->find("<?xml"), std::string::npos);
  }
  auto page = ServeDashboard(*store_, Config{}, at_, "/charts?range=1h");
  ASSERT_TRUE(page.has_value());
  EXPECT_NE(page->body.find("data-src=\"/api/charts?range=1h\""), std::string::npos);
  EXPECT_LT(page->body.size(), 200u * 1024);
}

TEST_F(DashboardTest, AFiringMemoryLeakIsMarkedAndSummarizedUnderItsProcessChart) {
  for (int i = 0; i < 30; ++i) {
    Add(SeriesKey("process_memory_bytes", {{"process", "w1"}}), at_ - std::chrono::minutes(i), 1e8 + (30 - i) * 1e7);
  }
  analyzer::Transition firing;
  firing.at = at_ - 10min;
  firing.alert = "MemoryLeak";
  firing.state = analyzer::AlertState::kFiring;
  firing.labels = {{"process", "w1"}};
  firing.series = R"(process_memory_bytes{process="w1"})";
  firing.summary = "w1 memory grows 1.2 GB/h; limit 4.0 GB: reaches it in 2h <soon>";
  firing.active_since = at_ - 15min;
  ASSERT_TRUE(
      store_->AppendEvent(EventKind::kAlertTransition, "analyzer", analyzer::EncodeTransition(firing), firing.at)
          .has_value());
  auto html = RenderChartsFragment(*store_, config_, at_, ChartRange::k1h);
  ASSERT_TRUE(html.has_value()) << html.error().ToString();
  EXPECT_NE(html->find("class=\"alert-marker\" data-alert=\"MemoryLeak\""), std::string::npos) << *html;
  EXPECT_NE(html->find("reaches it in 2h &lt;soon&gt;</p>"), std::string::npos) << *html;
  // The trend line through the memory since the leak began, 10 MB a minute from 400 MB
  // at 08:00: the 4 GiB limit about 6.5 hours on.
  EXPECT_NE(html->find(R"(<g class="leak-trend" data-series="process_memory_bytes{process=&quot;w1&quot;}">)"),
            std::string::npos)
      << *html;
  EXPECT_NE(html->find("GiB at 2027-01-15T14:"), std::string::npos) << *html;

  // Resolved: no trend line.
  firing.state = analyzer::AlertState::kResolved;
  firing.at = at_ - 1min;
  ASSERT_TRUE(
      store_->AppendEvent(EventKind::kAlertTransition, "analyzer", analyzer::EncodeTransition(firing), firing.at)
          .has_value());
  html = RenderChartsFragment(*store_, config_, at_, ChartRange::k1h);
  ASSERT_TRUE(html.has_value()) << html.error().ToString();
  EXPECT_EQ(html->find("leak-trend"), std::string::npos) << *html;
}

TEST_F(DashboardTest, ParsesRanges) {
  EXPECT_EQ(*ParseChartRange(""), ChartRange::k24h);
  EXPECT_EQ(*ParseChartRange("30d"), ChartRange::k30d);
  EXPECT_FALSE(ParseChartRange("1y").has_value());
  EXPECT_EQ(ChartRangeName(ChartRange::k7d), "7d");
}

}  // namespace
}  // namespace offmon::query
