// `offmon escalate` end to end, on a fixture store built here: imported CSV history plus
// alert transitions, a process status and captured log tails written through the store's
// API at fixed times, read back with --at, so nothing depends on the wall clock.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "offmon/analyzer/alert.h"
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

constexpr int64_t kEscalationTime = 1793584800;  // 2026-11-02T02:00:00Z, the escalation time
const std::string kAt = std::to_string(kEscalationTime);

using testing::Has;

class EscalateTest : public ::testing::Test {
 protected:
  CommandResult Offmon(std::vector<std::string> args) {
    args.insert(args.begin(), {OFFMON_BINARY, "--store", store_.string()});
    return RunCommand(args);
  }

  static std::string Line(int64_t t, std::string_view series, double value) {
    std::string quoted;
    for (char c : series) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return fmt::format("{},\"{}\",{}\n", t, quoted, value);
  }

  // Two hours of history up to kEscalationTime: the aggregator goes offline at 01:39 and is restarted
  // twice (01:45, 01:50) without coming back; w1 leaks, w2 burns CPU; events dry up;
  // hourly epochs for alpha and beta, the newest alpha one unpublished.
  void BuildFixture() {
    const std::string agg = R"({process="twzrd-aggregator"})";
    std::string csv = "timestamp,series,value\n";
    for (int64_t t = kEscalationTime - 7200; t <= kEscalationTime; t += 30) {
      csv += Line(t, "process_up" + agg, t < kEscalationTime - 1260 ? 1 : 0);
      csv += Line(t, "process_restarts_total" + agg, t < kEscalationTime - 900 ? 10 : t < kEscalationTime - 600 ? 11 : 12);
      for (const char* p : {R"({process="w1"})", R"({process="w2"})"}) {
        csv += Line(t, std::string("process_up") + p, 1);
        csv += Line(t, std::string("process_restarts_total") + p, 3);
      }
      if (t % 60 == 0) {
        csv += Line(t, "db_up", 1);
        csv += Line(t, "db_events_last_hour", 12);
        csv += Line(t, "db_latest_epoch", 1793581200);
        csv += Line(t, "db_latest_epoch_age_seconds", 1250);
      }
    }
    for (int64_t h = 3; h >= 1; --h) {
      const int64_t sealed = kEscalationTime - h * 3600 + 2730;  // :45:30
      csv += Line(sealed, R"(epoch_participants{channel="alpha"})", 2010);
      csv += Line(sealed, R"(epoch_published{channel="alpha"})", h > 1 ? 1 : 0);
      csv += Line(sealed + 5, R"(epoch_participants{channel="beta"})", 3000);
      csv += Line(sealed + 5, R"(epoch_published{channel="beta"})", 1);
    }
    WriteFileBytes(dir_ / "h.csv", csv);
    auto imported = Offmon({"import", "--csv", (dir_ / "h.csv").string()});
    ASSERT_EQ(imported.exit_code, 0) << imported.err;

    store::StoreOptions options;
    options.path = store_;
    auto store = store::Store::Open(options);
    ASSERT_TRUE(store) << store.error().ToString();
    auto event = [&](int64_t at, EventKind kind, const std::string& payload) {
      ASSERT_TRUE((*store)->AppendEvent(kind, "test", payload, FromMillis(at * 1000)));
    };
    auto transition = [&](int64_t at, std::string alert, analyzer::Severity severity, analyzer::AlertState state,
                          Labels labels, std::string summary, int64_t since, std::string inhibited_by = "") {
      analyzer::Transition t{FromMillis(at * 1000),    alert,       severity, state, labels, "", summary,
                             FromMillis(since * 1000), inhibited_by};
      event(at, EventKind::kAlertTransition, analyzer::EncodeTransition(t));
    };
    using analyzer::AlertState;
    using analyzer::Severity;
    event(kEscalationTime - 1260, EventKind::kProcessInfo, R"({"process":"twzrd-aggregator","status":"errored"})");
    // An earlier crash of the aggregator, resolved long before: its log tail is not this
    // alert's.
    transition(kEscalationTime - 5000, "ProcessOffline", Severity::kWarning, AlertState::kFiring, {{"process", "twzrd-aggregator"}},
               "twzrd-aggregator is errored", kEscalationTime - 5060);
    event(kEscalationTime - 5000, EventKind::kLogTail,
          R"({"process":"twzrd-aggregator","stream":"err","path":"/pm2/agg-err.log","lines":["old crash"]})");
    transition(kEscalationTime - 4800, "ProcessOffline", Severity::kWarning, AlertState::kResolved,
               {{"process", "twzrd-aggregator"}}, "twzrd-aggregator is errored", kEscalationTime - 5060);
    // The current incident: offline since 01:39, firing since 01:40.
    transition(kEscalationTime - 1200, "ProcessOffline", Severity::kWarning, AlertState::kFiring, {{"process", "twzrd-aggregator"}},
               "twzrd-aggregator is errored", kEscalationTime - 1260);
    std::string err_lines;
    for (int i = 1; i <= 25; ++i) err_lines += fmt::format("{}\"Error: ECONNRESET #{}\"", i > 1 ? "," : "", i);
    event(kEscalationTime - 1200, EventKind::kLogTail,
          R"({"process":"twzrd-aggregator","stream":"out","path":"/pm2/agg-out.log","lines":["listening on 8080"]})");
    event(kEscalationTime - 1200, EventKind::kLogTail,
          R"({"process":"twzrd-aggregator","stream":"err","path":"/pm2/agg-err.log","lines":[)" + err_lines + "]}");
    transition(kEscalationTime - 900, "EventRateLow", Severity::kWarning, AlertState::kFiring, {},
               "12 events in the last hour (below 100)", kEscalationTime - 1200, R"(ProcessOffline{process="twzrd-aggregator"})");
    // Two CRITICAL alerts firing, one resolved, one pending.
    transition(kEscalationTime - 3000, "MemoryLeak", Severity::kCritical, AlertState::kFiring, {{"process", "w1"}},
               "w1 memory floor +80 MB/h, 4 GiB in 5h", kEscalationTime - 3600);
    transition(kEscalationTime - 600, "CpuHigh", Severity::kCritical, AlertState::kFiring, {{"process", "w2"}},
               "w2 CPU 97% (above 90% for 5m 0s or more)", kEscalationTime - 900);
    transition(kEscalationTime - 6000, "SystemMemoryLow", Severity::kCritical, AlertState::kFiring, {}, "150 MiB free", kEscalationTime - 6060);
    transition(kEscalationTime - 5400, "SystemMemoryLow", Severity::kCritical, AlertState::kResolved, {}, "150 MiB free",
               kEscalationTime - 6060);
    transition(kEscalationTime - 60, "DiskSpaceLow", Severity::kWarning, AlertState::kPending, {{"mount", "/"}}, "/ 8% free",
               kEscalationTime - 60);
  }

  TempDir dir_;
  std::filesystem::path store_ = dir_ / "offmon.db";
};

TEST_F(EscalateTest, MessageIsFilledInFromTheStore) {
  BuildFixture();
  auto result = Offmon({"escalate", "ProcessOffline", "--at", kAt});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string& out = result.out;
  EXPECT_TRUE(Has(out,
                  "ESCALATION: Off-Chain Monitoring\n\n"
                  "Severity: WARNING\n"
                  "Component: aggregator (twzrd-aggregator)\n"
                  "Issue: ProcessOffline{process=\"twzrd-aggregator\"}: twzrd-aggregator is errored\n"
                  "Duration: 20m 0s, firing since 2026-11-02T01:40:00.000Z "
                  "(condition since 2026-11-02T01:39:00.000Z)\n"
                  "Attempted Fixes: 2 restarts since the alert began: twzrd-aggregator restarted 2 times "
                  "(last at 2026-11-02T01:50:00.000Z); result: still firing 10m 0s after the last restart\n"))
      << out;
  // The capture taken when this alert fired, error log first, cut to its last 20 lines;
  // not the capture of the earlier, resolved crash.
  EXPECT_TRUE(Has(out,
                  "\nRecent Logs:\n"
                  "--- twzrd-aggregator err log (/pm2/agg-err.log), captured 2026-11-02T01:40:00.000Z ---\n"
                  "Error: ECONNRESET #6\n"))
      << out;
  EXPECT_TRUE(Has(out,
                  "Error: ECONNRESET #25\n"
                  "--- twzrd-aggregator out log (/pm2/agg-out.log), captured 2026-11-02T01:40:00.000Z ---\n"
                  "listening on 8080\n"))
      << out;
  EXPECT_FALSE(Has(out, "ECONNRESET #5\n")) << out;
  EXPECT_FALSE(Has(out, "old crash")) << out;
  EXPECT_TRUE(Has(out,
                  "\nImpact:\n"
                  "- Is data collection stopped? YES: twzrd-aggregator errored; "
                  "EventRateLow: 12 events in the last hour (below 100)\n"
                  "- Are new epochs being sealed? Yes: latest epoch 1793581200 sealed 20m 50s ago\n"
                  "- Are claims affected? not yet: 1 of the last 6 sealed epochs awaits publishing "
                  "(alpha, sealed 14m 30s ago)\n"
                  "- How many users impacted? 5,010 participants in the latest epochs of 2 channels "
                  "(alpha 2,010, beta 3,000)\n"))
      << out;
  EXPECT_TRUE(Has(out, "\nAlso caused by this:\n- WARNING EventRateLow: 12 events in the last hour (below 100)\n"))
      << out;
  EXPECT_TRUE(Has(out,
                  "\nNext Steps:\n"
                  "1. pm2 logs twzrd-aggregator --lines 100 --nostream | tail -50, then pm2 restart twzrd-aggregator\n"
                  "2. watch pm2 list for 5 minutes; if it crashes again within 5 minutes, escalate\n"
                  "(guide: Issue 1: Process Crashed)\n"))
      << out;
}

TEST_F(EscalateTest, InhibitedAlertNamesItsCause) {
  BuildFixture();
  auto result = Offmon({"escalate", "EventRateLow", "--at", kAt});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(Has(result.out,
                  "Component: aggregator (twzrd-aggregator)\n"
                  "Issue: EventRateLow: 12 events in the last hour (below 100) "
                  "(caused by ProcessOffline{process=\"twzrd-aggregator\"})\n"))
      << result.out;
  // Pipeline alerts quote the pipeline process's log.
  EXPECT_TRUE(Has(result.out, "captured 2026-11-02T01:40:00.000Z ---\n")) << result.out;
}

TEST_F(EscalateTest, LabelsSelectTheAlert) {
  BuildFixture();
  auto by_key = Offmon({"escalate", R"(MemoryLeak{process="w1"})", "--at", kAt});
  ASSERT_EQ(by_key.exit_code, 0) << by_key.err;
  auto by_option = Offmon({"escalate", "MemoryLeak", "--process", "w1", "--at", kAt});
  ASSERT_EQ(by_option.exit_code, 0) << by_option.err;
  EXPECT_EQ(by_key.out, by_option.out);
  const std::string& out = by_key.out;
  EXPECT_TRUE(Has(out, "Severity: CRITICAL\nComponent: worker (w1)\n")) << out;
  EXPECT_TRUE(Has(out, "Duration: 50m 0s, firing since 2026-11-02T01:10:00.000Z")) << out;
  EXPECT_TRUE(Has(out, "Attempted Fixes: none seen: 0 restarts of w1 since the alert began\n")) << out;
  EXPECT_TRUE(Has(out, "w1: no log captured; get one with: pm2 logs w1 --lines 20 --nostream\n")) << out;
  EXPECT_EQ(out.find("ESCALATION:"), out.rfind("ESCALATION:")) << "one message";
}

TEST_F(EscalateTest, AllCriticalPrintsOneMessagePerFiringCriticalAlert) {
  BuildFixture();
  auto result = Offmon({"escalate", "--all-critical", "--at", kAt});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string& out = result.out;
  size_t messages = 0;
  for (size_t pos = out.find("ESCALATION:"); pos != std::string::npos; pos = out.find("ESCALATION:", pos + 1)) {
    ++messages;
  }
  EXPECT_EQ(messages, 2u) << out;
  EXPECT_TRUE(Has(out, "Issue: MemoryLeak{process=\"w1\"}")) << out;
  EXPECT_TRUE(Has(out, "Issue: CpuHigh{process=\"w2\"}")) << out;
  EXPECT_TRUE(Has(out, "\n" + std::string(80, '-') + "\n\nESCALATION:")) << out;
  EXPECT_FALSE(Has(out, "SystemMemoryLow")) << "resolved";
  EXPECT_FALSE(Has(out, "Issue: ProcessOffline")) << "a WARNING";
}

TEST_F(EscalateTest, NoMatchingActiveAlertIsOneLineAndAnError) {
  BuildFixture();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"escalate", "MemoryLeak", "--process", "w9", "--at", kAt},
        std::vector<std::string>{"escalate", "SystemMemoryLow", "--at", kAt},
        std::vector<std::string>{"escalate", "--all-critical", "--at", std::to_string(kEscalationTime - 7000)}}) {
    auto result = Offmon(args);
    EXPECT_EQ(result.exit_code, 1) << args[1];
    EXPECT_TRUE(result.out.empty()) << result.out;
    EXPECT_EQ(testing::Lines(result.err), 1u) << result.err;
    EXPECT_TRUE(Has(result.err, "offmon: escalate: no ")) << result.err;
  }
  auto neither = Offmon({"escalate", "--at", kAt});
  EXPECT_EQ(neither.exit_code, 2) << neither.err;
  auto both = Offmon({"escalate", "CpuHigh", "--all-critical", "--at", kAt});
  EXPECT_EQ(both.exit_code, 2) << both.err;
  auto bad = Offmon({"escalate", "Cpu{", "--at", kAt});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_TRUE(Has(bad.err, "escalate: ALERT")) << bad.err;
}

}  // namespace
}  // namespace offmon
