// `offmon trend` end to end on stores the tests build at fixed times (and --until, so
// nothing depends on the clock), plus the pure pieces behind it: statistics, units, the
// SVG escaping and the alert-to-series match.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <limits>

#include <nlohmann/json.hpp>

#include "alert_history_impl.h"
#include "offmon/analyzer/alert.h"
#include "offmon/store/store.h"
#include "support/run_command.h"
#include "support/temp_dir.h"
#include "support/text.h"
#include "svg_chart_impl.h"
#include "terminal_chart_impl.h"
#include "trend_stats_impl.h"
#include "value_units_impl.h"

namespace offmon {
namespace {

using testing::CommandResult;
using testing::Lines;
using testing::RunCommand;
using testing::TempDir;

constexpr int64_t kTrendStart = 1793577600;  // 2026-11-02T00:00:00Z
constexpr double kMiB = 1048576;

TimePoint At(int64_t unix_seconds) { return TimePoint(std::chrono::seconds(unix_seconds)); }

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

class TrendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions options;
    options.path = store_;
    auto opened = store::Store::Open(options);
    ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
    store::Store& store = **opened;
    auto appender = store.NewAppender("test");
    auto ref = [&](std::string_view key) {
      auto parsed = ParseSeriesKey(key);
      EXPECT_TRUE(parsed.has_value());
      auto id = appender->Ref(*parsed);
      EXPECT_TRUE(id.has_value());
      return *id;
    };
    // Two days of hourly memory: w1 grows 1 MiB an hour from 100 MiB; w2 the same with
    // one wild sample at hour 20 (a robust slope ignores it).
    const auto w1 = ref(R"(process_memory_bytes{process="w1"})");
    const auto w2 = ref(R"(process_memory_bytes{process="w2"})");
    const auto cpu = ref(R"(process_cpu_percent{process="w1"})");
    const auto restarts = ref(R"(process_restarts_total{process="w1"})");
    const auto events = ref("db_events_last_hour");
    const auto part_a = ref(R"(epoch_participants{channel="a"})");
    const auto part_b = ref(R"(epoch_participants{channel="b"})");
    const auto median_a = ref(R"(baseline_participants_median{channel="a"})");
    const auto spread_a = ref(R"(baseline_participants_spread{channel="a"})");
    for (int64_t h = 0; h < 48; ++h) {
      const TimePoint t = At(kTrendStart + h * 3600);
      appender->Add(w1, t, (100 + static_cast<double>(h)) * kMiB);
      appender->Add(w2, t, (h == 20 ? 4000 : 200 + static_cast<double>(h)) * kMiB);
      appender->Add(cpu, t, 10 + static_cast<double>(h % 4));
      appender->Add(restarts, t, static_cast<double>(h / 10));
      appender->Add(events, t, 1000 + static_cast<double>(h));
      appender->Add(part_a, t, 500 + static_cast<double>(h % 3));
      appender->Add(part_b, t, 300);
      appender->Add(median_a, t, 501);
      appender->Add(spread_a, t, 25);
    }
    ASSERT_TRUE(appender->Commit(At(kTrendStart + 48 * 3600)).ok());
    auto transition = [&](std::string alert, analyzer::Severity severity, analyzer::AlertState state, Labels labels,
                          std::string series, int64_t at, int64_t active_since) {
      analyzer::Transition t;
      t.at = At(at);
      t.alert = std::move(alert);
      t.severity = severity;
      t.state = state;
      t.labels = std::move(labels);
      t.series = std::move(series);
      t.summary = "test summary <&>";
      t.active_since = At(active_since);
      auto seq = store.AppendEvent(EventKind::kAlertTransition, "test", analyzer::EncodeTransition(t), t.at);
      ASSERT_TRUE(seq.has_value()) << seq.error().ToString();
    };
    using analyzer::AlertState;
    using analyzer::Severity;
    const int64_t h = 3600;
    // ProcessMemoryHigh on w1's memory, 10:00 to 12:00; CpuHigh of w1 (its labels match
    // w1's memory) from 30:00 and still firing; w2's and a label-less alert elsewhere.
    transition("ProcessMemoryHigh", Severity::kWarning, AlertState::kPending, {{"process", "w1"}},
               R"(process_memory_bytes{process="w1"})", kTrendStart + 9 * h, kTrendStart + 9 * h);
    transition("ProcessMemoryHigh", Severity::kWarning, AlertState::kFiring, {{"process", "w1"}},
               R"(process_memory_bytes{process="w1"})", kTrendStart + 10 * h, kTrendStart + 9 * h);
    transition("ProcessMemoryHigh", Severity::kWarning, AlertState::kResolved, {{"process", "w1"}},
               R"(process_memory_bytes{process="w1"})", kTrendStart + 12 * h, kTrendStart + 9 * h);
    transition("CpuHigh", Severity::kCritical, AlertState::kFiring, {{"process", "w1"}},
               R"(process_cpu_percent{process="w1"})", kTrendStart + 30 * h, kTrendStart + 30 * h);
    transition("ProcessMemoryHigh", Severity::kWarning, AlertState::kFiring, {{"process", "w2"}},
               R"(process_memory_bytes{process="w2"})", kTrendStart + 20 * h, kTrendStart + 20 * h);
    transition("SystemMemoryLow", Severity::kCritical, AlertState::kFiring, {}, "system_memory_available_bytes",
               kTrendStart + 5 * h, kTrendStart + 5 * h);
  }

  CommandResult Offmon(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), {OFFMON_BINARY, "--store", store_.string()});
    return RunCommand(args, env);
  }
  // A trend over the two days of data: --since 48h ending at the last sample.
  CommandResult Trend(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), "trend");
    if (std::find(args.begin(), args.end(), "--step") == args.end()) {
      args.push_back("--step");
      args.push_back("1h");
    }
    for (std::string a : {"--since", "48h", "--until"}) args.push_back(a);
    args.push_back(std::to_string(kTrendStart + 47 * 3600));
    return Offmon(std::move(args), std::move(env));
  }
  static nlohmann::json Json(const CommandResult& result) {
    return nlohmann::json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  }

  TempDir dir_;
  std::filesystem::path store_ = dir_ / "offmon.db";
};

TEST_F(TrendTest, JsonHasExactStatisticsAndRobustSlope) {
  auto result = Trend({R"(process_memory_bytes{process=~"w."})", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json doc = Json(result);
  ASSERT_TRUE(doc.is_object()) << result.out;
  EXPECT_EQ(doc["step_s"], 3600);
  EXPECT_EQ(doc["source"], "1h rollups");
  EXPECT_EQ(doc["from"], "2026-11-01T23:00:00.000Z");  // the grid: whole buckets
  EXPECT_EQ(doc["to"], "2026-11-04T00:00:00.000Z");
  EXPECT_EQ(doc["until"], "2026-11-03T23:00:00.000Z");
  ASSERT_EQ(doc["series"].size(), 2u);
  const nlohmann::json& w1 = doc["series"][0];
  EXPECT_EQ(w1["series"], R"(process_memory_bytes{process="w1"})");
  EXPECT_EQ(w1["unit"], "bytes");
  EXPECT_EQ(w1["buckets"].size(), 48u);
  const nlohmann::json& st = w1["stats"];
  EXPECT_EQ(st["count"], 48);
  EXPECT_DOUBLE_EQ(st["min"].get<double>(), 100 * kMiB);
  EXPECT_DOUBLE_EQ(st["max"].get<double>(), 147 * kMiB);
  EXPECT_DOUBLE_EQ(st["avg"].get<double>(), 123.5 * kMiB);
  EXPECT_DOUBLE_EQ(st["p95"].get<double>(), 145 * kMiB);  // nearest rank: the 46th of 48
  EXPECT_EQ(st["p95_exact"], true);
  EXPECT_DOUBLE_EQ(st["last"]["value"].get<double>(), 147 * kMiB);
  EXPECT_EQ(st["last"]["time"], "2026-11-03T23:00:00.000Z");
  EXPECT_DOUBLE_EQ(st["slope_per_hour"].get<double>(), kMiB);
  EXPECT_DOUBLE_EQ(st["slope_per_day"].get<double>(), 24 * kMiB);
  // w2's spike moves max and avg, not the Theil–Sen slope.
  const nlohmann::json& w2 = doc["series"][1]["stats"];
  EXPECT_DOUBLE_EQ(w2["max"].get<double>(), 4000 * kMiB);
  EXPECT_DOUBLE_EQ(w2["slope_per_hour"].get<double>(), kMiB);
  // Markers: w1 gets its own alert and CpuHigh{process="w1"}; w2 only its own.
  ASSERT_EQ(w1["alerts"].size(), 2u) << w1["alerts"].dump();
  EXPECT_EQ(w1["alerts"][0]["alert"], "ProcessMemoryHigh");
  EXPECT_EQ(w1["alerts"][0]["fired_at"], "2026-11-02T10:00:00.000Z");
  EXPECT_EQ(w1["alerts"][0]["resolved_at"], "2026-11-02T12:00:00.000Z");
  EXPECT_EQ(w1["alerts"][0]["duration_s"], 7200);
  EXPECT_EQ(w1["alerts"][1]["alert"], "CpuHigh");
  EXPECT_TRUE(w1["alerts"][1]["resolved_at"].is_null());
  ASSERT_EQ(doc["series"][1]["alerts"].size(), 1u);
  EXPECT_EQ(doc["series"][1]["alerts"][0]["labels"]["process"], "w2");
}

TEST_F(TrendTest, LongRangesReadRollupsAndEstimateP95) {
  auto result = Offmon({"trend", R"(process_memory_bytes{process="w1"})", "--since", "30d", "--until",
                        std::to_string(kTrendStart + 47 * 3600), "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json doc = Json(result);
  EXPECT_EQ(doc["step_s"], 12 * 3600);  // at most 100 buckets
  EXPECT_EQ(doc["source"], "1h rollups");
  const nlohmann::json& st = doc["series"][0]["stats"];
  EXPECT_EQ(st["count"], 48);
  EXPECT_DOUBLE_EQ(st["min"].get<double>(), 100 * kMiB);  // still exact from the rollups
  EXPECT_DOUBLE_EQ(st["max"].get<double>(), 147 * kMiB);
  EXPECT_DOUBLE_EQ(st["avg"].get<double>(), 123.5 * kMiB);
  EXPECT_EQ(st["p95_exact"], false);
  EXPECT_DOUBLE_EQ(st["last"]["value"].get<double>(), 147 * kMiB);
  // A step that is not a multiple of 5 minutes reads raw samples.
  auto raw = Trend({R"(process_memory_bytes{process="w1"})", "--json", "--step", "7m"});
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  EXPECT_EQ(Json(raw)["source"], "raw samples");
}

TEST_F(TrendTest, CsvHasOneRowPerBucket) {
  auto result = Trend({R"(process_memory_bytes{process="w1"})", "--csv"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto lines = SplitLines(result.out);
  ASSERT_EQ(lines.size(), 49u);
  EXPECT_EQ(lines[0], "series,start,min,avg,max,count");
  EXPECT_EQ(lines[1],
            R"("process_memory_bytes{process=""w1""}",2026-11-02T00:00:00.000Z,104857600,104857600,104857600,1)");
  EXPECT_EQ(lines[48],
            R"("process_memory_bytes{process=""w1""}",2026-11-03T23:00:00.000Z,154140672,154140672,154140672,1)");
  EXPECT_NE(Offmon({"trend", "events", "--csv", "--json"}).exit_code, 0);  // one or the other
}

TEST_F(TrendTest, TerminalChartFitsTheWidthAndShowsStatsAndMarkers) {
  for (int columns : {60, 80, 132}) {
    auto result = Trend({R"(process_memory_bytes{process="w1"})"}, {fmt::format("COLUMNS={}", columns)});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const auto lines = SplitLines(result.out);
    size_t chart_rows = 0, widest_axis = 0;
    for (const std::string& line : lines) {
      EXPECT_LE(query::DisplayWidth(line), static_cast<size_t>(columns)) << columns << ": " << line;
      if (line.find("┤") != std::string::npos || line.find("│") != std::string::npos) ++chart_rows;
      if (line.find("└") != std::string::npos) widest_axis = query::DisplayWidth(line);
    }
    EXPECT_EQ(chart_rows, 8u) << result.out;
    // The chart uses the room it has: at least two thirds of the width.
    EXPECT_GE(widest_axis * 3, static_cast<size_t>(columns) * 2) << result.out;
    const std::string& out = result.out;
    EXPECT_NE(out.find("147 MiB ┤"), std::string::npos) << out;
    EXPECT_NE(out.find("100 MiB ┤"), std::string::npos) << out;
    EXPECT_NE(out.find("min: 100 MiB"), std::string::npos) << out;
    EXPECT_NE(out.find("avg: 123.5 MiB"), std::string::npos) << out;
    EXPECT_NE(out.find("max: 147 MiB"), std::string::npos) << out;
    EXPECT_NE(out.find("p95: 145 MiB"), std::string::npos) << out;
    EXPECT_NE(out.find("last: 147 MiB at 2026-11-03T23:00:00Z"), std::string::npos) << out;
    EXPECT_NE(out.find("slope: +1 MiB/h, +24 MiB/d"), std::string::npos) << out;
    EXPECT_NE(out.find("Theil–Sen"), std::string::npos) << out;
    EXPECT_NE(out.find("alerts "), std::string::npos) << out;
    EXPECT_NE(out.find("▲"), std::string::npos) << out;
    if (columns >= 100) {  // narrower terminals cut these lines
      EXPECT_NE(out.find(R"(▲ 2026-11-02 10:00 WARNING ProcessMemoryHigh{process="w1"} lasted 2h 0m)"),
                std::string::npos)
          << out;
      EXPECT_NE(out.find(R"(CpuHigh{process="w1"} still firing after 17h 0m)"), std::string::npos) << out;
    } else {
      EXPECT_NE(out.find("▲ 2026-11-02 10:00 WARNING ProcessMemoryHigh"), std::string::npos) << out;
    }
    EXPECT_EQ(out.find("SystemMemoryLow"), std::string::npos) << out;
  }
  // Not a terminal and no COLUMNS: 80.
  auto plain = Trend({R"(process_memory_bytes{process="w1"})"}, {"COLUMNS="});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  for (const std::string& line : SplitLines(plain.out)) EXPECT_LE(query::DisplayWidth(line), 80u) << line;
}

// Well-formed XML: every tag closed in order, attributes quoted, no stray '<' or '&'.
::testing::AssertionResult WellFormed(const std::string& xml) {
  std::vector<std::string> open;
  size_t i = 0;
  while ((i = xml.find_first_of("<&", i)) != std::string::npos) {
    if (xml[i] == '&') {
      size_t semi = xml.find(';', i);
      std::string entity = xml.substr(i, semi == std::string::npos ? 8 : semi - i + 1);
      if (entity != "&amp;" && entity != "&lt;" && entity != "&gt;" && entity != "&quot;" && entity != "&apos;") {
        return ::testing::AssertionFailure() << "bad entity at " << i << ": " << entity;
      }
      i = semi;
      continue;
    }
    size_t end = xml.find('>', i);
    if (end == std::string::npos) return ::testing::AssertionFailure() << "unclosed tag at " << i;
    std::string tag = xml.substr(i + 1, end - i - 1);
    if (tag.find('<') != std::string::npos) return ::testing::AssertionFailure() << "'<' inside a tag at " << i;
    if (std::count(tag.begin(), tag.end(), '"') % 2 != 0) {
      return ::testing::AssertionFailure() << "unbalanced quotes in <" << tag << ">";
    }
    if (tag.starts_with("?")) {
    } else if (tag.starts_with("/")) {
      if (open.empty() || open.back() != tag.substr(1)) {
        return ::testing::AssertionFailure()
               << "</" << tag.substr(1) << "> closes " << (open.empty() ? "nothing" : open.back());
      }
      open.pop_back();
    } else if (!tag.ends_with("/")) {
      open.push_back(tag.substr(0, tag.find_first_of(" \n")));
    }
    i = end + 1;
  }
  if (!open.empty()) return ::testing::AssertionFailure() << "<" << open.back() << "> never closed";
  return ::testing::AssertionSuccess();
}

TEST_F(TrendTest, SvgIsWellFormedWithAxesLegendMarkersAndBaselineBand) {
  const std::string file = (dir_ / "trend.svg").string();
  auto result = Trend({R"({process="w1"})", "--svg", file});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("chart written to " + file), std::string::npos) << result.out;
  const std::string svg = testing::ReadFileBytes(file);
  ASSERT_TRUE(svg.starts_with("<?xml")) << svg.substr(0, 100);
  EXPECT_TRUE(WellFormed(svg));
  if (std::filesystem::exists("/usr/bin/xmllint")) {
    auto lint = RunCommand({"/usr/bin/xmllint", "--noout", file});
    EXPECT_EQ(lint.exit_code, 0) << lint.err;
  }
  // One panel per unit: bytes (in MiB), percent and counts (restarts).
  EXPECT_NE(svg.find(R"(<g class="panel" data-unit="bytes">)"), std::string::npos);
  EXPECT_NE(svg.find(R"(<g class="panel" data-unit="percent">)"), std::string::npos);
  EXPECT_NE(svg.find(R"(<g class="panel" data-unit="count">)"), std::string::npos);
  EXPECT_NE(svg.find(">bytes (MiB)</text>"), std::string::npos);
  EXPECT_NE(svg.find(">percent (%)</text>"), std::string::npos);
  EXPECT_NE(svg.find(">time (UTC)</text>"), std::string::npos);
  EXPECT_NE(svg.find(">11-03 00:00</text>"), std::string::npos);  // a time tick
  // One line per series, named in the legend (escaped).
  EXPECT_NE(svg.find(R"(<g class="series" data-series="process_memory_bytes{process=&quot;w1&quot;}">)"),
            std::string::npos);
  EXPECT_NE(svg.find(R"(<g class="series" data-series="process_cpu_percent{process=&quot;w1&quot;}">)"),
            std::string::npos);
  EXPECT_NE(svg.find(R"(<g class="legend">)"), std::string::npos);
  EXPECT_NE(svg.find(">process_memory_bytes{process=&quot;w1&quot;}  last 147 MiB"), std::string::npos);
  // Alert markers, named, with escaped details.
  EXPECT_NE(svg.find(R"(<g class="alert-marker" data-alert="ProcessMemoryHigh")"), std::string::npos);
  EXPECT_NE(svg.find(R"(<g class="alert-marker" data-alert="CpuHigh")"), std::string::npos);
  EXPECT_NE(svg.find(">ProcessMemoryHigh</text>"), std::string::npos);
  EXPECT_NE(svg.find("test summary &lt;&amp;&gt;"), std::string::npos);
  EXPECT_EQ(svg.find("baseline-band"), std::string::npos);  // no baseline for these

  const std::string band_file = (dir_ / "participants.svg").string();
  auto participants = Trend({"participants", "--svg", band_file});
  ASSERT_EQ(participants.exit_code, 0) << participants.err;
  const std::string band = testing::ReadFileBytes(band_file);
  EXPECT_TRUE(WellFormed(band));
  EXPECT_NE(band.find(R"(<polygon class="baseline-band")"), std::string::npos);
  EXPECT_NE(band.find(R"(<g class="baseline" data-series="epoch_participants{channel=&quot;a&quot;}">)"),
            std::string::npos);
  EXPECT_EQ(band.find(R"(data-series="epoch_participants{channel=&quot;b&quot;}">)"
                      "\n<polygon"),
            std::string::npos);  // b has no baseline
  EXPECT_NE(band.find("baseline of epoch_participants{channel=&quot;a&quot;}"), std::string::npos);
  EXPECT_NE(participants.out.find("baseline: 501 ± 25"), std::string::npos) << participants.out;
  auto json = Json(Trend({"participants", "--channel", "a", "--json"}));
  ASSERT_EQ(json["series"].size(), 1u);
  EXPECT_EQ(json["series"][0]["baseline"]["median_series"], R"(baseline_participants_median{channel="a"})");
  EXPECT_EQ(json["series"][0]["baseline"]["points"].size(), 48u);
  EXPECT_EQ(json["series"][0]["baseline"]["points"][0]["spread"], 25);
}

TEST_F(TrendTest, ShortcutsResolveToTheirSeries) {
  auto series_of = [&](std::vector<std::string> args) {
    args.push_back("--json");
    auto result = Trend(std::move(args));
    EXPECT_EQ(result.exit_code, 0) << result.err;
    std::vector<std::string> keys;
    const nlohmann::json doc = Json(result);
    for (const auto& s : doc["series"]) keys.push_back(s["series"].get<std::string>());
    return keys;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(series_of({"memory", "--process", "w1"}), V{R"(process_memory_bytes{process="w1"})"});
  EXPECT_EQ(series_of({"memory"}),
            (V{R"(process_memory_bytes{process="w1"})", R"(process_memory_bytes{process="w2"})"}));
  EXPECT_EQ(series_of({"cpu", "--process", "w1"}), V{R"(process_cpu_percent{process="w1"})"});
  EXPECT_EQ(series_of({"restarts", "--process", "w1"}), V{R"(process_restarts_total{process="w1"})"});
  EXPECT_EQ(series_of({"participants", "--channel", "b"}), V{R"(epoch_participants{channel="b"})"});
  EXPECT_EQ(series_of({"events"}), V{"db_events_last_hour"});
  // --process adds a matcher to any selector.
  EXPECT_EQ(series_of({"process_memory_bytes{}", "--process", "w2"}), V{R"(process_memory_bytes{process="w2"})"});
  EXPECT_EQ(series_of({R"({process=~"w.+"})", "--process", "w2"}), V{R"(process_memory_bytes{process="w2"})"});
}

TEST_F(TrendTest, BadInputIsOneLineAndNonZero) {
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string message;
  };
  const std::string until = std::to_string(kTrendStart + 47 * 3600);
  for (const Case& c : std::vector<Case>{
           {{"trend", "process_memory_bytes{"}, 14, "trend: selector"},
           {{"trend", "no_such_metric"}, 1, "no series matches no_such_metric"},
           {{"trend", "memory", "--process", "nobody"},
            1,
            R"(no series matches process_memory_bytes{process="nobody"})"},
           {{"trend", "events", "--process", "w1"}, 14, "trend events takes no --process"},
           {{"trend", "events", "--since", "0s"}, 14, "--since must be longer than 0s"},
           {{"trend", "events", "--since", "a week"}, 14, "trend: --since"},
           {{"trend", "events", "--step", "0s"}, 14, "--step must be at least 1s"},
           {{"trend", "events", "--since", "365d", "--step", "1s"}, 14, "use a longer step"},
           {{"trend", "events", "--until", "yesterday"}, 14, "trend: --until"},
           {{"trend", "events", "--since", "1d", "--until", std::to_string(kTrendStart - 86400 * 10)},
            1,
            "no samples of db_events_last_hour in the last 1d"},
       }) {
    auto result = Offmon(c.args);
    EXPECT_EQ(result.exit_code, c.exit_code) << c.args[1] << ": " << result.err;
    EXPECT_EQ(Lines(result.err), 1u) << result.err;
    EXPECT_NE(result.err.find(c.message), std::string::npos) << result.err;
    EXPECT_TRUE(result.out.empty()) << result.out;
  }
  auto missing = RunCommand({OFFMON_BINARY, "--store", (dir_ / "none.db").string(), "trend", "events"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(Lines(missing.err), 1u) << missing.err;
}

// ---- the pure pieces ----

TEST(TrendStatsTest, BucketsGiveExactMinMaxMeanAndRobustSlope) {
  std::vector<store::RollupBucket> buckets;
  for (int i = 0; i < 10; ++i) {
    const double v = i == 4 ? 1000 : 10.0 + 2 * i;  // one outlier
    buckets.push_back({At(kTrendStart + i * 3600), v - 1, v + 1, 2 * v, 2});
  }
  auto stats = query::ComputeTrendStats(buckets, std::nullopt, Sample{At(kTrendStart + 9 * 3600), 28});
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->count, 20);
  EXPECT_DOUBLE_EQ(stats->min, 9);
  EXPECT_DOUBLE_EQ(stats->max, 1001);
  EXPECT_DOUBLE_EQ(stats->avg, (10 + 12 + 14 + 16 + 1000 + 20 + 22 + 24 + 26 + 28) / 10.0);
  EXPECT_FALSE(stats->p95_exact);
  EXPECT_DOUBLE_EQ(stats->p95, 1000);  // rank 19 of 20: the outlier's bucket
  ASSERT_TRUE(stats->slope_per_hour.has_value());
  EXPECT_DOUBLE_EQ(*stats->slope_per_hour, 2);
  EXPECT_DOUBLE_EQ(*stats->slope_per_day(), 48);
  EXPECT_EQ(stats->slope_points, 10u);

  auto exact = query::ComputeTrendStats(buckets, std::vector<double>{5, 1, 4, 2, 3}, Sample{});
  ASSERT_TRUE(exact.has_value());
  EXPECT_TRUE(exact->p95_exact);
  EXPECT_DOUBLE_EQ(exact->p95, 5);
  EXPECT_FALSE(query::ComputeTrendStats({}, std::nullopt, Sample{}).has_value());
  // One bucket: no slope.
  EXPECT_FALSE(query::ComputeTrendStats(std::span(buckets).first(1), std::nullopt, Sample{})->slope_per_hour);
}

// Min and max fold as the store folds buckets (store::FoldMinMax): a bucket of NaN samples
// does not hide the others' (the trend used to keep a leading NaN bucket's NaN).
TEST(TrendStatsTest, NanBucketDoesNotHideTheOthersMinAndMax) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<store::RollupBucket> buckets{{At(kTrendStart), nan, nan, nan, 1},
                                                 {At(kTrendStart + 3600), 3, 7, 10, 2},
                                                 {At(kTrendStart + 7200), nan, nan, nan, 1},
                                                 {At(kTrendStart + 10800), 1, 5, 6, 2}};
  auto stats = query::ComputeTrendStats(buckets, std::nullopt, Sample{});
  ASSERT_TRUE(stats.has_value());
  EXPECT_DOUBLE_EQ(stats->min, 1);
  EXPECT_DOUBLE_EQ(stats->max, 7);
}

TEST(TrendStatsTest, ManyBucketsAreMergedBeforeTheSlope) {
  std::vector<store::RollupBucket> buckets;
  for (int i = 0; i < 5000; ++i) {
    const double v = 3.0 * i;
    buckets.push_back({At(kTrendStart + i * 3600), v, v, v, 1});
  }
  size_t points = 0;
  auto slope = query::BucketSlopePerHour(buckets, &points);
  ASSERT_TRUE(slope.has_value());
  EXPECT_LE(points, query::kMaxSlopePoints);
  EXPECT_NEAR(*slope, 3, 1e-9);
}

TEST(ValueUnitsTest, UnitsFromMetricNames) {
  using query::FormatValue;
  using query::UnitKind;
  EXPECT_EQ(query::UnitOfMetric("process_memory_bytes"), UnitKind::kBytes);
  EXPECT_EQ(query::UnitOfMetric("process_cpu_percent"), UnitKind::kPercent);
  EXPECT_EQ(query::UnitOfMetric("db_response_seconds"), UnitKind::kSeconds);
  EXPECT_EQ(query::UnitOfMetric("process_restarts_total"), UnitKind::kCount);
  EXPECT_EQ(FormatValue(UnitKind::kBytes, 100 * kMiB), "100 MiB");
  EXPECT_EQ(FormatValue(UnitKind::kBytes, 3.5 * 1024 * kMiB), "3.5 GiB");
  EXPECT_EQ(FormatValue(UnitKind::kBytes, 512), "512 B");
  EXPECT_EQ(FormatValue(UnitKind::kPercent, 97.25), "97.25%");
  EXPECT_EQ(FormatValue(UnitKind::kSeconds, 0.25), "250 ms");
  EXPECT_EQ(FormatValue(UnitKind::kSeconds, 90), "90 s");
  EXPECT_EQ(FormatValue(UnitKind::kSeconds, 7200), "2 h");
  EXPECT_EQ(FormatValue(UnitKind::kCount, 12345), "12.35k");
  EXPECT_EQ(FormatValue(UnitKind::kCount, 0), "0");
  EXPECT_EQ(query::FormatRate(UnitKind::kBytes, -2 * kMiB, "h"), "-2 MiB/h");
  EXPECT_EQ(query::FormatStep(std::chrono::minutes(90)), "1h 30m");
  EXPECT_EQ(query::FormatStep(std::chrono::hours(24 * 7)), "7d");
}

TEST(SvgChartTest, EscapesText) {
  EXPECT_EQ(query::XmlEscape(R"(a<b>&"c'd)"), "a&lt;b&gt;&amp;&quot;c&apos;d");
  EXPECT_EQ(query::XmlEscape(std::string("x\x01y")), "x\xEF\xBF\xBDy");
}

TEST(AlertHistoryTest, AnAlertBelongsToItsSeriesOrToSeriesWithMatchingLabels) {
  query::AlertEpisode cpu;
  cpu.alert = "CpuHigh";
  cpu.labels = {{"process", "w1"}};
  cpu.series = R"(process_cpu_percent{process="w1"})";
  EXPECT_TRUE(query::BelongsTo(cpu, SeriesKey("process_cpu_percent", {{"process", "w1"}})));
  EXPECT_TRUE(query::BelongsTo(cpu, SeriesKey("process_memory_bytes", {{"process", "w1"}})));
  EXPECT_FALSE(query::BelongsTo(cpu, SeriesKey("process_memory_bytes", {{"process", "w2"}})));
  EXPECT_FALSE(query::BelongsTo(cpu, SeriesKey("system_load1", {})));
  query::AlertEpisode missing;
  missing.labels = {{"channel", "a"}, {"epoch", "7"}};
  EXPECT_TRUE(query::BelongsTo(missing, SeriesKey("epoch_participants", {{"channel", "a"}})));
  EXPECT_FALSE(query::BelongsTo(missing, SeriesKey("epoch_participants", {{"channel", "b"}})));
  query::AlertEpisode system;
  system.series = "system_memory_available_bytes";
  EXPECT_TRUE(query::BelongsTo(system, SeriesKey("system_memory_available_bytes", {})));
  EXPECT_FALSE(query::BelongsTo(system, SeriesKey("process_memory_bytes", {{"process", "w1"}})));
}

}  // namespace
}  // namespace offmon
