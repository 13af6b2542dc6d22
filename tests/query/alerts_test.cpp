// `offmon alerts` end to end: transitions recorded through the store API at fixed times
// (as the daemon records them), read back with --until so nothing depends on the clock.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "offmon/analyzer/alert.h"
#include "offmon/store/store.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace offmon {
namespace {

using analyzer::AlertState;
using analyzer::Severity;
using testing::CommandResult;
using testing::RunCommand;
using testing::TempDir;

constexpr int64_t kStart = 1793577600;  // 2026-11-02T00:00:00Z
constexpr int64_t kMin = 60, kHour = 3600;
const std::string kUntil = std::to_string(kStart + 4 * kHour);

size_t Lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

class AlertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions options;
    options.path = store_;
    auto opened = store::Store::Open(options);
    ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
    store_handle_ = std::move(*opened);
    // CpuHigh on w1 for 15 minutes (pending first, escalated at once), on w2 for 45;
    // ProcessOffline of w3 from 02:00 and still firing; DiskSpaceLow only pending; an
    // EventRateLow three days earlier, outside the default 24 h.
    Record("CpuHigh", Severity::kCritical, AlertState::kPending, {{"process", "w1"}}, 0, 0);
    Record("CpuHigh", Severity::kCritical, AlertState::kFiring, {{"process", "w1"}}, 5 * kMin, 0);
    Record("CpuHigh", Severity::kCritical, AlertState::kEscalated, {{"process", "w1"}}, 5 * kMin, 0);
    Record("CpuHigh", Severity::kCritical, AlertState::kResolved, {{"process", "w1"}}, 20 * kMin, 0);
    Record("CpuHigh", Severity::kCritical, AlertState::kFiring, {{"process", "w2"}}, kHour, kHour);
    Record("CpuHigh", Severity::kCritical, AlertState::kResolved, {{"process", "w2"}}, kHour + 45 * kMin, kHour);
    Record("ProcessOffline", Severity::kWarning, AlertState::kFiring, {{"process", "w3"}}, 2 * kHour, 2 * kHour - kMin);
    Record("DiskSpaceLow", Severity::kWarning, AlertState::kPending, {{"mount", "/"}}, 3 * kHour, 3 * kHour);
    Record("EventRateLow", Severity::kWarning, AlertState::kFiring, {}, -3 * 24 * kHour, -3 * 24 * kHour);
    Record("EventRateLow", Severity::kWarning, AlertState::kResolved, {}, -3 * 24 * kHour + kHour, -3 * 24 * kHour);
    // After --until: not seen.
    Record("ProcessOffline", Severity::kWarning, AlertState::kResolved, {{"process", "w3"}}, 5 * kHour, 2 * kHour);
    store_handle_.reset();
  }

  void Record(std::string alert, Severity severity, AlertState state, Labels labels, int64_t at, int64_t since) {
    analyzer::Transition t;
    t.at = TimePoint(std::chrono::seconds(kStart + at));
    t.alert = std::move(alert);
    t.severity = severity;
    t.state = state;
    t.labels = std::move(labels);
    t.summary = t.alert + " summary";
    t.active_since = TimePoint(std::chrono::seconds(kStart + since));
    auto seq = store_handle_->AppendEvent(EventKind::kAlertTransition, "test", analyzer::EncodeTransition(t), t.at);
    ASSERT_TRUE(seq.has_value()) << seq.error().ToString();
  }

  CommandResult Alerts(std::vector<std::string> args) {
    args.insert(args.begin(), {OFFMON_BINARY, "--store", store_.string(), "alerts"});
    return RunCommand(args);
  }
  static nlohmann::json Json(const CommandResult& result) {
    return nlohmann::json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  }

  TempDir dir_;
  std::filesystem::path store_ = dir_ / "offmon.db";
  std::unique_ptr<store::Store> store_handle_;
};

TEST_F(AlertsTest, HistoryHasDurationsCountsAndMeanTimeToResolve) {
  auto result = Alerts({"--until", kUntil});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string& out = result.out;
  EXPECT_NE(out.find("ALERT HISTORY 2026-11-01T04:00:00Z to 2026-11-02T04:00:00Z (last 24h)"), std::string::npos)
      << out;
  EXPECT_NE(out.find("2026-11-02T00:05:00Z  2026-11-02T00:20:00Z  15m 0s     CRITICAL  CpuHigh"), std::string::npos)
      << out;
  EXPECT_NE(out.find("2026-11-02T01:00:00Z  2026-11-02T01:45:00Z  45m 0s     CRITICAL  CpuHigh"), std::string::npos)
      << out;
  EXPECT_NE(out.find("2026-11-02T02:00:00Z  still firing          2h 0m      WARNING   ProcessOffline"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("DiskSpaceLow"), std::string::npos) << out;  // never fired
  EXPECT_EQ(out.find("EventRateLow"), std::string::npos) << out;  // before the range
  // Per rule: fired, resolved, still firing, MTTR, longest.
  EXPECT_NE(out.find("CpuHigh                   2         2             0  30m 0s     45m 0s"), std::string::npos)
      << out;
  EXPECT_NE(out.find("ProcessOffline            1         0             1  -          2h 0m"), std::string::npos)
      << out;
  EXPECT_NE(out.find("3 alerts; 1 still firing"), std::string::npos) << out;

  auto week = Alerts({"--until", kUntil, "--since", "7d"});
  ASSERT_EQ(week.exit_code, 0) << week.err;
  EXPECT_NE(week.out.find("EventRateLow"), std::string::npos) << week.out;
  EXPECT_NE(week.out.find("4 alerts; 1 still firing"), std::string::npos) << week.out;

  auto quiet = Alerts({"--until", std::to_string(kStart - 10 * 24 * kHour)});
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_NE(quiet.out.find("no alert fired in the range"), std::string::npos) << quiet.out;
}

TEST_F(AlertsTest, JsonIsOneDocument) {
  auto result = Alerts({"--until", kUntil, "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json doc = Json(result);
  ASSERT_TRUE(doc.is_object()) << result.out;
  EXPECT_EQ(doc["from"], "2026-11-01T04:00:00.000Z");
  EXPECT_EQ(doc["to"], "2026-11-02T04:00:00.000Z");
  ASSERT_EQ(doc["alerts"].size(), 3u);
  const nlohmann::json& first = doc["alerts"][0];
  EXPECT_EQ(first["alert"], "CpuHigh");
  EXPECT_EQ(first["severity"], "CRITICAL");
  EXPECT_EQ(first["labels"]["process"], "w1");
  EXPECT_EQ(first["fired_at"], "2026-11-02T00:05:00.000Z");
  EXPECT_EQ(first["resolved_at"], "2026-11-02T00:20:00.000Z");
  EXPECT_EQ(first["duration_s"], 900);
  EXPECT_EQ(first["escalated"], true);
  EXPECT_EQ(first["summary"], "CpuHigh summary");
  EXPECT_TRUE(doc["alerts"][2]["resolved_at"].is_null());
  EXPECT_EQ(doc["alerts"][2]["duration_s"], 7200);
  ASSERT_EQ(doc["rules"].size(), 2u);
  EXPECT_EQ(doc["rules"][0]["alert"], "CpuHigh");
  EXPECT_EQ(doc["rules"][0]["fired"], 2);
  EXPECT_EQ(doc["rules"][0]["resolved"], 2);
  EXPECT_EQ(doc["rules"][0]["still_firing"], 0);
  EXPECT_EQ(doc["rules"][0]["mttr_s"], 1800);
  EXPECT_EQ(doc["rules"][0]["longest_s"], 2700);
  EXPECT_EQ(doc["rules"][1]["alert"], "ProcessOffline");
  EXPECT_TRUE(doc["rules"][1]["mttr_s"].is_null());
}

TEST_F(AlertsTest, ActiveProjectsTheTransitions) {
  auto result = Alerts({"--until", kUntil, "--active"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string& out = result.out;
  EXPECT_NE(out.find("ACTIVE ALERTS at 2026-11-02T04:00:00Z"), std::string::npos) << out;
  EXPECT_NE(out.find("firing     WARNING   ProcessOffline        process=w3                2026-11-02T02:00:00Z  "
                     "2h 0m      ProcessOffline summary"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("pending    WARNING   DiskSpaceLow          mount=/"), std::string::npos) << out;
  EXPECT_EQ(out.find("CpuHigh"), std::string::npos) << out;  // resolved
  EXPECT_NE(out.find("2 active (1 firing, 1 pending)"), std::string::npos) << out;

  // During w1's CPU alert it is active and escalated.
  auto earlier = Alerts({"--until", std::to_string(kStart + 10 * kMin), "--active", "--json"});
  ASSERT_EQ(earlier.exit_code, 0) << earlier.err;
  const nlohmann::json doc = Json(earlier);
  ASSERT_EQ(doc["active"].size(), 1u) << earlier.out;
  EXPECT_EQ(doc["active"][0]["alert"], "CpuHigh");
  EXPECT_EQ(doc["active"][0]["state"], "escalated");
  EXPECT_EQ(doc["active"][0]["since"], "2026-11-02T00:05:00.000Z");
  EXPECT_EQ(doc["active"][0]["duration_s"], 300);

  auto json = Json(Alerts({"--until", kUntil, "--active", "--json"}));
  ASSERT_EQ(json["active"].size(), 2u);
  EXPECT_EQ(json["active"][0]["alert"], "ProcessOffline");
  EXPECT_EQ(json["active"][1]["state"], "pending");

  auto none = Alerts({"--until", std::to_string(kStart - 24 * kHour), "--active"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_NE(none.out.find("no active alerts"), std::string::npos) << none.out;
}

TEST_F(AlertsTest, IsListedWithHelp) {
  auto help = RunCommand({OFFMON_BINARY, "--help"});
  EXPECT_NE(help.out.find("alerts"), std::string::npos) << help.out;
  auto sub = RunCommand({OFFMON_BINARY, "alerts", "--help"});
  EXPECT_EQ(sub.exit_code, 0);
  EXPECT_NE(sub.out.find("--active"), std::string::npos) << sub.out;
}

TEST_F(AlertsTest, BadInputIsOneLineAndNonZero) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--since", "a day"}, {"--since", "0s"}, {"--until", "yesterday"}}) {
    auto result = Alerts(args);
    EXPECT_EQ(result.exit_code, 14) << args[1] << ": " << result.err;
    EXPECT_EQ(Lines(result.err), 1u) << result.err;
    EXPECT_NE(result.err.find("alerts: " + args[0]), std::string::npos) << result.err;
  }
  auto missing = RunCommand({OFFMON_BINARY, "--store", (dir_ / "none.db").string(), "alerts"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(Lines(missing.err), 1u) << missing.err;
}

}  // namespace
}  // namespace offmon
