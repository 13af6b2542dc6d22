// `offmon report` and `offmon check` end to end, on fixture stores built here: imported
// CSV history plus epochs and alert transitions written through the store's API, all at
// fixed times and read back with --at, so nothing depends on the wall clock (except the
// `check` tests, whose collection cycle runs now and whose history is imported up to now).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "offmon/analyzer/alert.h"
#include "offmon/analyzer/silence.h"
#include "offmon/common/config.h"
#include "offmon/query/health_report.h"
#include "offmon/query/report_render.h"
#include "offmon/store/store.h"
#include "support/run_command.h"
#include "support/temp_dir.h"
#include "support/text.h"

namespace offmon {
namespace {

using testing::CommandResult;
using testing::RunCommand;
using testing::TempDir;
using testing::WriteFileBytes;

constexpr int64_t kReportTime = 1793584800;  // 2026-11-02T02:00:00Z, the report time
constexpr double kGiB = 1024.0 * 1024 * 1024;

using testing::Has;

class ReportTest : public ::testing::Test {
 protected:
  CommandResult Offmon(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), {OFFMON_BINARY, "--store", store_.string()});
    return RunCommand(args, env);
  }

  void Import(const std::string& csv) {
    WriteFileBytes(dir_ / "h.csv", "timestamp,series,value\n" + csv);
    auto result = Offmon({"import", "--csv", (dir_ / "h.csv").string()});
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }

  static std::string Line(int64_t t, std::string_view series, double value) {
    std::string quoted;
    for (char c : series) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return fmt::format("{},\"{}\",{}\n", t, quoted, value);
  }

  std::unique_ptr<store::Store> OpenStore() {
    store::StoreOptions options;
    options.path = store_;
    auto store = store::Store::Open(options);
    EXPECT_TRUE(store) << store.error().ToString();
    return std::move(*store);
  }

  // Two hours of every collector's series up to kReportTime, a stale process, three days of
  // hourly epochs for "alpha" (the last three also as epoch_sealed events), a baseline
  // series for "beta", and alert transitions.
  void BuildFixture() {
    std::string csv;
    for (int64_t t = kReportTime - 7200; t <= kReportTime; t += 30) {
      const std::string p = R"({process="twzrd-aggregator"})";
      csv += Line(t, "process_up" + p, 1);
      csv += Line(t, "process_uptime_seconds" + p, 191000 + static_cast<double>(t - kReportTime));
      csv += Line(t, "process_memory_bytes" + p, 1024.0 * 1024 * 1024);
      csv += Line(t, "process_cpu_percent" + p, 5);
      // 40 until 01:10, 41, 42, then a counter reset to 0 at 01:30 and 1 at 01:50: three
      // restarts in the last hour, not 45 and not -39.
      const double restarts = t < kReportTime - 3000 ? 40 : t < kReportTime - 2400 ? 41 : t < kReportTime - 1800 ? 42 : t < kReportTime - 600 ? 0 : 1;
      csv += Line(t, "process_restarts_total" + p, restarts);
      if (t <= kReportTime - 600) csv += Line(t, R"(process_up{process="w-stale"})", 1);  // silent for 10 minutes
      csv += Line(t, "system_memory_total_bytes", 16 * kGiB);
      csv += Line(t, "system_memory_available_bytes", t < kReportTime - 3600 ? 12 * kGiB : 8 * kGiB);
      csv += Line(t, "system_load1", 0.45);
      csv += Line(t, "system_load5", 0.38);
      csv += Line(t, "system_load15", 0.32);
      csv += Line(t, R"(disk_free_bytes{mount="/"})", 100 * kGiB);
      csv += Line(t, R"(disk_total_bytes{mount="/"})", 400 * kGiB);
      csv += Line(t, R"(disk_free_bytes{mount="/run"})", 12.25 * 1024 * 1024);  // a small tmpfs
      csv += Line(t, R"(disk_total_bytes{mount="/run"})", 48.0 * 1024 * 1024);
      if (t % 60 == 0) {
        csv += Line(t, "db_up", 1);
        csv += Line(t, "db_events_last_hour", 4523);
        csv += Line(t, "db_latest_epoch", 1793581200);
        csv += Line(t, "db_latest_epoch_age_seconds", 1250);
        csv += Line(t, "db_response_seconds", 0.012);
      }
    }
    // Hourly epochs sealed at :45:30; alpha around 2,000, beta around 3,000.
    for (int64_t h = 72; h >= 1; --h) {
      const int64_t sealed = kReportTime - h * 3600 + 2730;
      csv += Line(sealed, R"(epoch_participants{channel="alpha"})", static_cast<double>(2000 + (h % 5) * 10));
      csv += Line(sealed, R"(epoch_published{channel="alpha"})", h > 1 ? 1 : 0);
      if (h <= 3) csv += Line(sealed + 5, R"(epoch_participants{channel="beta"})", 3000);
    }
    csv += Line(kReportTime - 60, R"(baseline_participants_median{channel="beta"})", 3100);
    csv += Line(kReportTime - 60, R"(baseline_participants_spread{channel="beta"})", 240);
    Import(csv);

    auto store = OpenStore();
    ASSERT_TRUE(store);
    // The last three alpha epochs as the collector records them, each seen a minute after
    // sealing; the newest (sealed 01:45:30) is not yet published.
    for (int64_t h = 3; h >= 1; --h) {
      const int64_t epoch = kReportTime - h * 3600;
      const TimePoint sealed = FromMillis((epoch + 2730) * 1000);
      EpochObservation obs{"alpha", epoch, sealed,      h > 1, std::nullopt, fmt::format("{:064x}", epoch),
                           "",      "",    {"u1", "u2"}};
      auto appender = store->NewAppender("test:postgres");
      appender->AddEpoch(obs);
      ASSERT_TRUE(appender->Commit(sealed + std::chrono::minutes(1)).ok());
    }
    auto transition = [&](int64_t at, std::string alert, analyzer::Severity severity, analyzer::AlertState state,
                          Labels labels, std::string summary, int64_t since, std::string inhibited_by = "") {
      analyzer::Transition t{FromMillis(at * 1000),    alert,       severity, state, labels, "", summary,
                             FromMillis(since * 1000), inhibited_by};
      ASSERT_TRUE(store->AppendEvent(EventKind::kAlertTransition, "analyzer", analyzer::EncodeTransition(t), t.at));
    };
    using analyzer::AlertState;
    using analyzer::Severity;
    // w1 was offline from 00:35 to 01:00: active at 00:45, resolved by 02:00.
    transition(kReportTime - 5100, "ProcessOffline", Severity::kWarning, AlertState::kFiring, {{"process", "w1"}},
               "w1 is offline", kReportTime - 5160);
    transition(kReportTime - 3600, "ProcessOffline", Severity::kWarning, AlertState::kResolved, {{"process", "w1"}},
               "w1 is offline", kReportTime - 5160);
    transition(kReportTime - 1200, "DatabaseUnreachable", Severity::kCritical, AlertState::kFiring, {},
               "database unreachable: connection refused", kReportTime - 1260);
    transition(kReportTime - 900, "EventRateLow", Severity::kWarning, AlertState::kFiring, {},
               "12 events in the last hour (below 100)", kReportTime - 1200, "DatabaseUnreachable");
  }

  TempDir dir_;
  std::filesystem::path store_ = dir_ / "offmon.db";
};

TEST_F(ReportTest, PlainReportShowsEverySection) {
  BuildFixture();
  auto result = Offmon({"report", "--at", std::to_string(kReportTime)});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string& out = result.out;
  EXPECT_TRUE(Has(out, "OFF-CHAIN HEALTH REPORT\nTimestamp: 2026-11-02T02:00:00.000Z\nStatus: CRITICAL\n")) << out;
  // Process status: restarts in the last hour count increases; the reset is not a restart.
  EXPECT_TRUE(Has(out, "PROCESS STATUS\n" + std::string(80, '-') +
                           "\n[ok] twzrd-aggregator\n"
                           "   Status: online | Uptime: 2d 5h | Restarts: 1 (3 in the last hour)\n"
                           "   Memory: 1024MB | CPU: 5%\n"))
      << out;
  // A process whose collector has been silent for 10 minutes (tolerance 2 x 30 s) is stale.
  EXPECT_TRUE(Has(out,
                  "[STALE] w-stale  (stale: last sample 2026-11-02 01:50:00, 10m 0s ago)\n"
                  "   Status: online | Uptime: no data | Restarts: no data\n"))
      << out;
  EXPECT_TRUE(Has(out, "DATABASE HEALTH\n" + std::string(80, '-') +
                           "\n[ok] Connected\nEvents (last hour): 4523\n"
                           "Latest epoch: 1793581200 (1250 seconds old)\nResponse time: 12 ms\n"))
      << out;
  // Recent epochs: the three recorded, newest first; the newest not yet published.
  EXPECT_TRUE(Has(out, "Epoch      Channel        Participants  Sealed               Published\n")) << out;
  EXPECT_TRUE(Has(out,
                  "1793581200 alpha          2             2026-11-02 01:45:30  no\n"
                  "1793577600 alpha          2             2026-11-02 00:45:30  yes\n"
                  "1793574000 alpha          2             2026-11-01 23:45:30  yes\n"))
      << out;
  // Channels: alpha's baseline computed from its epochs, beta's read from the series.
  EXPECT_TRUE(Has(out, "alpha          2,010         2026-11-02 01:45:30  baseline 2,020 ±15 (+0%)\n")) << out;
  EXPECT_TRUE(Has(out, "beta           3,000         2026-11-02 01:45:35  baseline 3,100 ±240 (-3%)\n")) << out;
  // Alerts: since when, summary, the guide's first action; the explained one under its cause.
  EXPECT_TRUE(Has(out, "ACTIVE ALERTS\n" + std::string(80, '-') +
                           "\nCRITICAL DatabaseUnreachable\n"
                           "   firing since 2026-11-02 01:40:00 (20m 0s ago)\n"
                           "   database unreachable: connection refused\n"
                           "   First action (Issue 3: Database Connection Errors): offmon config check: the URL "
                           "(password hidden) and where it came from; offmon check: why it fails\n"
                           "    WARNING EventRateLow\n"
                           "       firing since 2026-11-02 01:45:00 (15m 0s ago)\n"
                           "       12 events in the last hour (below 100)\n"
                           "       caused by DatabaseUnreachable\n"))
      << out;
  EXPECT_FALSE(Has(out, "ProcessOffline")) << out;  // resolved before the report time
  EXPECT_TRUE(Has(out,
                  "Memory: 8.0G used | 8.0G free\nCPU Load (1/5/15 min): 0.45, 0.38, 0.32\n"
                  "Disk /: 100.0G free of 400.0G (25%)\nDisk /run: 12M free of 48M (26%)\n"))
      << out;
  // Not a terminal: no icons, no escape sequences.
  EXPECT_FALSE(Has(out, "\x1b[")) << out;
  EXPECT_FALSE(Has(out, "✅")) << out;
  EXPECT_FALSE(Has(out, "═")) << out;
}

TEST_F(ReportTest, AtShowsThePast) {
  BuildFixture();
  auto result = Offmon({"report", "--at", "2026-11-02T00:45:00Z"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string& out = result.out;
  EXPECT_TRUE(Has(out, "Timestamp: 2026-11-02T00:45:00.000Z\nStatus: WARNING\n")) << out;
  EXPECT_TRUE(Has(out,
                  "WARNING ProcessOffline{process=\"w1\"}\n   firing since 2026-11-02 00:35:00 (10m 0s ago)\n"
                  "   w1 is offline\n   First action (Issue 1: Process Crashed): pm2 logs w1 --lines 100"))
      << out;
  EXPECT_FALSE(Has(out, "DatabaseUnreachable")) << out;
  EXPECT_TRUE(Has(out, "Memory: 4.0G used | 12.0G free\n")) << out;
  // Restarts: the counter was 40 all hour.
  EXPECT_TRUE(Has(out, "Restarts: 40 (0 in the last hour)")) << out;
  // The epoch sealed at 00:45:30 (seen 00:46:30) did not exist yet; the one before did.
  EXPECT_FALSE(Has(out, "1793577600 alpha")) << out;
  EXPECT_TRUE(Has(out, "1793574000 alpha          2             2026-11-01 23:45:30  yes\n")) << out;
  // w-stale was current then.
  EXPECT_TRUE(Has(out, "[ok] w-stale\n")) << out;
}

TEST_F(ReportTest, JsonHasTheSameContent) {
  BuildFixture();
  auto result = Offmon({"report", "--json", "--at", std::to_string(kReportTime)});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto doc = nlohmann::json::parse(result.out);
  EXPECT_EQ(doc["timestamp"], "2026-11-02T02:00:00.000Z");
  EXPECT_EQ(doc["status"], "CRITICAL");
  ASSERT_EQ(doc["processes"].size(), 2u);
  const auto& agg = doc["processes"][0];
  EXPECT_EQ(agg["name"], "twzrd-aggregator");
  EXPECT_EQ(agg["status"], "online");
  EXPECT_EQ(agg["restarts_total"]["value"], 1);
  EXPECT_EQ(agg["restarts_last_hour"], 3);
  EXPECT_EQ(agg["memory_bytes"]["value"], 1024.0 * 1024 * 1024);
  EXPECT_EQ(agg["memory_bytes"]["stale"], false);
  EXPECT_EQ(doc["processes"][1]["name"], "w-stale");
  EXPECT_EQ(doc["processes"][1]["up"]["stale"], true);
  EXPECT_EQ(doc["processes"][1]["up"]["time"], "2026-11-02T01:50:00.000Z");
  EXPECT_EQ(doc["processes"][1]["memory_bytes"], nullptr);
  EXPECT_EQ(doc["database"]["events_last_hour"]["value"], 4523);
  EXPECT_EQ(doc["database"]["response_seconds"]["value"], 0.012);
  ASSERT_EQ(doc["epochs"].size(), 3u);
  EXPECT_EQ(doc["epochs"][0]["epoch"], 1793581200);
  EXPECT_EQ(doc["epochs"][0]["published"], false);
  EXPECT_EQ(doc["epochs"][1]["published"], true);
  EXPECT_EQ(doc["epochs"][0]["sealed_at"], "2026-11-02T01:45:30.000Z");
  ASSERT_EQ(doc["channels"].size(), 2u);
  EXPECT_EQ(doc["channels"][0]["baseline"]["source"], "computed");
  EXPECT_EQ(doc["channels"][1]["baseline"]["source"], "series");
  EXPECT_EQ(doc["channels"][1]["baseline"]["median"], 3100);
  ASSERT_EQ(doc["alerts"].size(), 2u);
  const auto& cause = doc["alerts"][0];
  EXPECT_EQ(cause["alert"], "DatabaseUnreachable");
  EXPECT_EQ(cause["severity"], "CRITICAL");
  EXPECT_EQ(cause["state"], "firing");
  EXPECT_EQ(cause["labels"], nlohmann::json::object());
  EXPECT_EQ(cause["since"], "2026-11-02T01:40:00.000Z");
  EXPECT_EQ(cause["inhibited_by"], nullptr);
  EXPECT_TRUE(Has(cause["first_action"].get<std::string>(), "offmon config check"));
  EXPECT_FALSE(Has(cause["first_action"].get<std::string>(), "$DATABASE_URL"));  // prints the password
  EXPECT_EQ(doc["alerts"][1]["inhibited_by"], "DatabaseUnreachable");
  EXPECT_EQ(doc["system"]["memory_available_bytes"]["value"], 8 * kGiB);
  EXPECT_EQ(doc["system"]["load15"]["value"], 0.32);
  EXPECT_EQ(doc["system"]["disks"][0]["mount"], "/");
}

// Silences and acknowledgements written as `offmon silence` / `offmon ack` do, at fixed times.
TEST_F(ReportTest, ShowsSilencesAndAcknowledgements) {
  BuildFixture();
  {
    auto store = OpenStore();
    ASSERT_TRUE(store);
    auto at = [](int64_t t) { return FromMillis(t * 1000); };
    const analyzer::Silence silence{"5ca1ab1e0001", {{"alertname", "EventRateLow"}}, at(kReportTime - 600), at(kReportTime + 7200),
                                    "db maintenance", "alice", {}, {}};
    const analyzer::Silence ended{"5ca1ab1e0002", {{"alertname", "DatabaseUnreachable"}}, at(kReportTime - 3000),
                                  at(kReportTime - 2400), "old", "alice", {}, {}};
    for (const analyzer::Silence* s : {&silence, &ended}) {
      ASSERT_TRUE(store->AppendEvent(EventKind::kSilenceAdded, "cli", analyzer::EncodeSilence(*s), s->starts));
    }
    const analyzer::Acknowledgement ack{"DatabaseUnreachable", "DatabaseUnreachable", {}, analyzer::Severity::kCritical,
                                        at(kReportTime - 1260), at(kReportTime - 300), at(kReportTime + 1800), "restarting postgres", "bob"};
    ASSERT_TRUE(store->AppendEvent(EventKind::kAlertAcknowledged, "cli", analyzer::EncodeAcknowledgement(ack), ack.at));
  }
  auto result = Offmon({"report", "--at", std::to_string(kReportTime)});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string& out = result.out;
  EXPECT_TRUE(Has(out,
                  "   database unreachable: connection refused\n"
                  "   acknowledged until 02:30 by bob: restarting postgres\n"))
      << out;
  EXPECT_TRUE(Has(out,
                  "       caused by DatabaseUnreachable\n"
                  "       silenced until 04:00 by alice: db maintenance\n"))
      << out;
  EXPECT_TRUE(Has(out, "SILENCES\n" + std::string(80, '-') +
                           "\n5ca1ab1e0001  alertname=\"EventRateLow\"\n"
                           "   until 04:00 by alice: db maintenance\n\nSYSTEM RESOURCES"))
      << out;
  EXPECT_FALSE(Has(out, "5ca1ab1e0002")) << out;  // ended before the report time
  EXPECT_TRUE(Has(out, "Status: CRITICAL\n")) << out;  // muted alerts still count

  auto json = Offmon({"report", "--json", "--at", std::to_string(kReportTime)});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto doc = nlohmann::json::parse(json.out);
  ASSERT_EQ(doc["alerts"].size(), 2u);
  EXPECT_EQ(doc["alerts"][0]["alert"], "DatabaseUnreachable");
  EXPECT_EQ(doc["alerts"][0]["acknowledged"],
            nlohmann::json({{"until", "2026-11-02T02:30:00.000Z"}, {"by", "bob"}, {"reason", "restarting postgres"}}));
  EXPECT_TRUE(doc["alerts"][0]["silenced"].is_null());
  EXPECT_EQ(doc["alerts"][1]["silenced"]["id"], "5ca1ab1e0001");
  EXPECT_EQ(doc["alerts"][1]["silenced"]["until"], "2026-11-02T04:00:00.000Z");
  ASSERT_EQ(doc["silences"].size(), 1u);
  EXPECT_EQ(doc["silences"][0]["matchers"],
            nlohmann::json::parse(R"([{"name": "alertname", "value": "EventRateLow"}])"));
  EXPECT_EQ(doc["silences"][0]["by"], "alice");

  // Before the silence and the acknowledgement were recorded, the report has neither.
  auto before = Offmon({"report", "--at", std::to_string(kReportTime - 700)});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  EXPECT_FALSE(Has(before.out, "SILENCES")) << before.out;
  EXPECT_FALSE(Has(before.out, "silenced until")) << before.out;
  EXPECT_FALSE(Has(before.out, "acknowledged until")) << before.out;
}

TEST_F(ReportTest, TerminalFormHasIconsAndColour) {
  BuildFixture();
  auto store = OpenStore();
  ASSERT_TRUE(store);
  const Config config;
  auto report = query::BuildHealthReport(*store, config, FromMillis(kReportTime * 1000));
  ASSERT_TRUE(report) << report.error().ToString();
  const std::string text = query::RenderReportText(*report, query::RenderOptions{true});
  EXPECT_TRUE(Has(text, "════════\nOFF-CHAIN HEALTH REPORT")) << text;
  EXPECT_TRUE(Has(text, "📊 PROCESS STATUS\n────")) << text;
  EXPECT_TRUE(Has(text, "✅ twzrd-aggregator\n")) << text;
  EXPECT_TRUE(Has(text, "⚠️ w-stale")) << text;
  EXPECT_TRUE(Has(text, "🗄️  DATABASE HEALTH")) << text;
  EXPECT_TRUE(Has(text, "✅ Connected\n")) << text;
  EXPECT_TRUE(Has(text, "2026-11-02 01:45:30  ❌\n")) << text;
  EXPECT_TRUE(Has(text, "🔴 \x1b[1;31mCRITICAL\x1b[0m DatabaseUnreachable")) << text;
  EXPECT_TRUE(Has(text, "    🟠 \x1b[1;33mWARNING\x1b[0m EventRateLow")) << text;
  // The same through the binary: --color always forces it, NO_COLOR does not override a
  // forced choice, and a pipe gets plain text.
  auto forced = Offmon({"report", "--at", std::to_string(kReportTime), "--color", "always"});
  EXPECT_TRUE(Has(forced.out, "✅ twzrd-aggregator")) << forced.out;
  auto piped = Offmon({"report", "--at", std::to_string(kReportTime)}, {"NO_COLOR=1"});
  EXPECT_FALSE(Has(piped.out, "✅")) << piped.out;
}

TEST_F(ReportTest, EmptyStoreSaysNoData) {
  ASSERT_TRUE(OpenStore());
  auto result = Offmon({"report", "--at", std::to_string(kReportTime)});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  for (std::string_view part :
       {"no data: no process series in the store", "no data: the database collector has recorded nothing",
        "no data: no sealed epochs in the store", "no data: no epoch_participants series in the store",
        "[ok] No alerts", "Memory: no data", "CPU Load (1/5/15 min): no data", "Disk: no data", "Status: OK"}) {
    EXPECT_TRUE(Has(result.out, part)) << part << "\n" << result.out;
  }
}

TEST_F(ReportTest, ImportedEpochsWithoutEventsAreListedWithoutIds) {
  std::string csv;
  for (int64_t h = 3; h >= 1; --h) {
    csv += Line(kReportTime - h * 3600 + 2730, R"(epoch_participants{channel="gamma"})", static_cast<double>(1500 + h));
    csv += Line(kReportTime - h * 3600 + 2730, R"(epoch_published{channel="gamma"})", h > 1 ? 1 : 0);
  }
  Import(csv);
  auto result = Offmon({"report", "--at", std::to_string(kReportTime)});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(Has(result.out,
                  "-          gamma          1501          2026-11-02 01:45:30  no\n"
                  "-          gamma          1502          2026-11-02 00:45:30  yes\n"))
      << result.out;
  EXPECT_TRUE(Has(result.out, "gamma          1,501         2026-11-02 01:45:30  no baseline yet (too few epochs)\n"))
      << result.out;
}

TEST_F(ReportTest, BadTimeIsOneLineAndBadInputExit) {
  ASSERT_TRUE(OpenStore());
  auto result = Offmon({"report", "--at", "yesterday"});
  EXPECT_EQ(result.exit_code, 14) << result.err;
  EXPECT_EQ(testing::Lines(result.err), 1u) << result.err;
}

// `offmon check`: the collection cycle runs now, with PM2 and PostgreSQL off, so the only
// data is this machine's /proc and the history imported up to now.
class CheckTest : public ReportTest {
 protected:
  CommandResult Check(std::vector<std::string> args = {}) {
    WriteFileBytes(
        dir_ / "offmon.toml",
        "[system]\ndisk_mounts = []\n[pm2]\nenabled = false\n[postgres]\nenabled = false\n[log]\nfile = \"\"\n");
    args.insert(args.begin(),
                {OFFMON_BINARY, "--config", (dir_ / "offmon.toml").string(), "--store", store_.string(), "check"});
    return RunCommand(args);
  }
  // Four minutes of process memory at `bytes`, every 30 s up to now.
  void ImportMemory(double bytes) {
    const int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    std::string csv;
    for (int64_t t = now - 240; t <= now; t += 30) csv += Line(t, R"(process_memory_bytes{process="w1"})", bytes);
    Import(csv);
  }
};

TEST_F(CheckTest, HealthyIsOk) {
  auto result = Check();
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_TRUE(Has(result.out, "Status: OK")) << result.out;
  EXPECT_TRUE(Has(result.out, "No alerts")) << result.out;
  EXPECT_TRUE(Has(result.out, "CPU Load (1/5/15 min): ")) << result.out;  // the cycle ran
  EXPECT_FALSE(Has(result.out, "CPU Load (1/5/15 min): no data")) << result.out;
  EXPECT_TRUE(Has(result.out, "offmon check: OK\n")) << result.out;
}

TEST_F(CheckTest, WarningExitsOne) {
  ImportMemory(3.5 * kGiB);
  auto result = Check();
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_TRUE(Has(result.out, "WARNING ProcessMemoryHigh{process=\"w1\"}")) << result.out;
  EXPECT_TRUE(Has(result.out, "First action (Issue 5: Memory Leak): pm2 describe w1 | grep memory")) << result.out;
  EXPECT_TRUE(Has(result.out, "offmon check: WARNING: ProcessMemoryHigh{process=\"w1\"}\n")) << result.out;
}

TEST_F(CheckTest, CriticalExitsTwoAndJsonListsAlerts) {
  ImportMemory(4.5 * kGiB);
  auto result = Check({"--json"});
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  auto doc = nlohmann::json::parse(result.out);
  EXPECT_EQ(doc["status"], "CRITICAL");
  ASSERT_FALSE(doc["alerts"].empty()) << result.out;
  const auto& alert = doc["alerts"][0];
  EXPECT_EQ(alert["alert"], "ProcessMemoryHigh");
  EXPECT_EQ(alert["severity"], "CRITICAL");
  EXPECT_EQ(alert["state"], "firing");
  EXPECT_EQ(alert["labels"], (nlohmann::json{{"process", "w1"}}));
  EXPECT_TRUE(alert["summary"].is_string());
  EXPECT_TRUE(alert["since"].is_string());
  // The analysis recorded its transition: a report sees the alert too.
  auto report = Offmon({"report", "--json"});
  EXPECT_EQ(nlohmann::json::parse(report.out)["status"], "CRITICAL") << report.out;
}

TEST_F(CheckTest, UnreadableStoreIsUnknown) {
  WriteFileBytes(store_, std::string(4096, 'z'));
  auto not_store = Check();
  EXPECT_EQ(not_store.exit_code, 3) << not_store.err;
  EXPECT_EQ(testing::Lines(not_store.err), 1u) << not_store.err;
  EXPECT_TRUE(Has(not_store.err, "UNKNOWN")) << not_store.err;

  std::filesystem::remove(store_);
  ASSERT_TRUE(OpenStore());
  sqlite3* db = nullptr;
  sqlite3_open(store_.c_str(), &db);
  sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto too_new = Check();
  EXPECT_EQ(too_new.exit_code, 3) << too_new.err;
}

}  // namespace
}  // namespace offmon
