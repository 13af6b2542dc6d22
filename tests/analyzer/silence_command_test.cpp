// `offmon silence add|list|expire` and `offmon ack` end to end: the real binary on a
// store the test also holds open (as the daemon would), the events they record, and
// their one-line errors.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "offmon/analyzer/alert.h"
#include "offmon/analyzer/silence.h"
#include "offmon/common/cli.h"
#include "offmon/store/store.h"
#include "support/run_command.h"
#include "support/temp_dir.h"
#include "support/text.h"

namespace offmon {
namespace {

using testing::CommandResult;
using testing::RunCommand;
using testing::TempDir;

using testing::Has;
bool OneLine(const std::string& text) { return !text.empty() && text.find('\n') == text.size() - 1; }

class SilenceCommandTest : public ::testing::Test {
 protected:
  SilenceCommandTest() {
    store::StoreOptions options;
    options.path = store_path_;
    store_ = std::move(*store::Store::Open(options));  // the "daemon" keeps it open throughout
  }

  CommandResult Offmon(std::vector<std::string> args, std::vector<std::string> env = {"USER=carol"}) {
    args.insert(args.begin(), {OFFMON_BINARY, "--store", store_path_.string()});
    return RunCommand(args, env);
  }

  std::vector<store::Event> Events(EventKind kind) { return *store_->ReadEvents(0, kind, 1000); }

  // Records alert transitions as the daemon does, `minutes_ago` before now.
  TimePoint Record(std::string alert, analyzer::Severity severity, analyzer::AlertState state, Labels labels,
                   int minutes_ago) {
    const TimePoint at = std::chrono::floor<std::chrono::seconds>(SystemClock().Now()) - std::chrono::minutes(minutes_ago);
    analyzer::Transition t{at, std::move(alert), severity, state, std::move(labels), "", "summary", at, ""};
    EXPECT_TRUE(store_->AppendEvent(EventKind::kAlertTransition, "analyzer", analyzer::EncodeTransition(t), at));
    return at;
  }

  TempDir dir_;
  std::filesystem::path store_path_ = dir_ / "offmon.db";
  std::unique_ptr<store::Store> store_;
};

TEST_F(SilenceCommandTest, AddListExpireRecordEvents) {
  auto added = Offmon({"silence", "add", "--alert", "ProcessOffline", "--label", "process=w1", "--for", "2h",
                       "--reason", "deploying w1"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  // "silence ID until TIME: MATCHERS"
  ASSERT_TRUE(added.out.starts_with("silence ")) << added.out;
  const std::string id = added.out.substr(8, added.out.find(' ', 8) - 8);
  EXPECT_EQ(id.size(), 12u) << added.out;
  EXPECT_TRUE(Has(added.out, ": alertname=\"ProcessOffline\",process=\"w1\"\n")) << added.out;

  // The daemon's open store sees it: one silence_added event from the CLI.
  auto events = Events(EventKind::kSilenceAdded);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].source, "cli");
  auto silence = analyzer::DecodeSilence(events[0].payload);
  ASSERT_TRUE(silence.has_value());
  EXPECT_EQ(silence->id, id);
  EXPECT_EQ(silence->by, "carol");  // $USER
  EXPECT_EQ(silence->reason, "deploying w1");
  EXPECT_EQ(silence->ends - silence->starts, std::chrono::hours(2));
  EXPECT_TRUE(Has(added.out, "until " + FormatRfc3339(silence->ends))) << added.out;

  auto list = Offmon({"silence", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(Has(list.out, id + "  active   ")) << list.out;
  EXPECT_TRUE(Has(list.out, "carol      alertname=\"ProcessOffline\",process=\"w1\"\n")) << list.out;
  EXPECT_TRUE(Has(list.out, "reason: deploying w1\n")) << list.out;

  auto expired = Offmon({"silence", "expire", id, "--by", "dave"});
  ASSERT_EQ(expired.exit_code, 0) << expired.err;
  EXPECT_EQ(expired.out, "silence " + id + " expired: alertname=\"ProcessOffline\",process=\"w1\"\n");
  ASSERT_EQ(Events(EventKind::kSilenceExpired).size(), 1u);

  EXPECT_EQ(Offmon({"silence", "list"}).out, "no active silences (--all lists expired ones)\n");
  auto all = Offmon({"silence", "list", "--all", "--json"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  auto doc = nlohmann::json::parse(all.out);
  ASSERT_EQ(doc.size(), 1u);
  EXPECT_EQ(doc[0]["id"], id);
  EXPECT_EQ(doc[0]["state"], "expired");
  EXPECT_EQ(doc[0]["by"], "carol");
  EXPECT_EQ(doc[0]["expired_by"], "dave");
  EXPECT_EQ(doc[0]["matchers"][1], nlohmann::json({{"name", "process"}, {"value", "w1"}}));
  // Expiring it again changes nothing.
  auto again = Offmon({"silence", "expire", id});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(Has(again.out, "already ended")) << again.out;
  EXPECT_EQ(Events(EventKind::kSilenceExpired).size(), 1u);
}

TEST_F(SilenceCommandTest, ByDefaultsToUserElseUnknown) {
  ASSERT_EQ(Offmon({"silence", "add", "--label", "mount=/", "--for", "30m", "--reason", "resize"}, {"USER="}).exit_code,
            0);
  ASSERT_EQ(Offmon({"silence", "add", "--alert", "X", "--for", "30m", "--reason", "r", "--by", "erin"}).exit_code, 0);
  auto events = Events(EventKind::kSilenceAdded);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(analyzer::DecodeSilence(events[0].payload)->by, "unknown");
  EXPECT_EQ(analyzer::DecodeSilence(events[0].payload)->matchers, (std::vector<analyzer::Matcher>{{"mount", "/"}}));
  EXPECT_EQ(analyzer::DecodeSilence(events[1].payload)->by, "erin");
}

TEST_F(SilenceCommandTest, BadInputIsOneLineAndNonZero) {
  struct Case {
    std::vector<std::string> args;
    std::string_view says;
  };
  const Case cases[] = {
      {{"silence", "add", "--for", "2h", "--reason", "r"}, "at least one"},
      {{"silence", "add", "--alert", "A", "--reason", "r"}, "--for is required"},
      {{"silence", "add", "--alert", "A", "--for", "2x", "--reason", "r"}, "--for"},
      {{"silence", "add", "--alert", "A", "--for", "0s", "--reason", "r"}, "must be positive"},
      {{"silence", "add", "--alert", "A", "--for", "2h"}, "--reason is required"},
      {{"silence", "add", "--alert", "A", "--for", "2h", "--reason", "  "}, "--reason is required"},
      {{"silence", "add", "--label", "process", "--for", "2h", "--reason", "r"}, "expected name=value"},
      {{"silence", "expire", "nosuchid"}, "no silence nosuchid"},
      {{"ack", "ProcessOffline", "--for", "2h", "--reason", "r"}, "no active alert matches ProcessOffline"},
      {{"ack", "ProcessOffline{", "--for", "2h", "--reason", "r"}, "ack: \"ProcessOffline{\""},
      {{"ack", "ProcessOffline", "--for", "2h"}, "--reason is required"},
  };
  for (const Case& c : cases) {
    auto result = Offmon(c.args);
    EXPECT_NE(result.exit_code, 0) << c.args[1];
    EXPECT_TRUE(OneLine(result.err)) << result.err;
    EXPECT_TRUE(Has(result.err, c.says)) << result.err;
  }
  EXPECT_TRUE(Events(EventKind::kSilenceAdded).empty());
  EXPECT_TRUE(Events(EventKind::kAlertAcknowledged).empty());
}

TEST_F(SilenceCommandTest, AnUnreadableStoreIsAnErrorAndNoneIsCreated) {
  for (std::vector<std::string> args : {std::vector<std::string>{"silence", "list"},
                                        {"silence", "add", "--alert", "A", "--for", "1h", "--reason", "r"},
                                        {"ack", "A", "--for", "1h", "--reason", "r"}}) {
    args.insert(args.begin(), {OFFMON_BINARY, "--store", (dir_ / "missing.db").string()});
    auto result = RunCommand(args);
    EXPECT_NE(result.exit_code, 0) << args[3];
    EXPECT_TRUE(OneLine(result.err)) << result.err;
    EXPECT_TRUE(Has(result.err, "no store at")) << result.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "missing.db"));
  testing::WriteFileBytes(dir_ / "text.db", "not a database at all, just text\n");
  auto result = RunCommand({OFFMON_BINARY, "--store", (dir_ / "text.db").string(), "silence", "list"});
  EXPECT_EQ(result.exit_code, kExitNotAStore) << result.err;
  EXPECT_TRUE(OneLine(result.err)) << result.err;
}

TEST_F(SilenceCommandTest, AckAcknowledgesEveryActiveAlertItMatches) {
  using analyzer::AlertState;
  using analyzer::Severity;
  const TimePoint w1_since = Record("ProcessOffline", Severity::kWarning, AlertState::kFiring, {{"process", "w1"}}, 30);
  Record("ProcessOffline", Severity::kCritical, AlertState::kFiring, {{"process", "w2"}}, 20);
  Record("CpuHigh", Severity::kCritical, AlertState::kFiring, {{"process", "w1"}}, 10);
  Record("DiskSpaceLow", Severity::kWarning, AlertState::kFiring, {{"mount", "/"}}, 50);
  Record("DiskSpaceLow", Severity::kWarning, AlertState::kResolved, {{"mount", "/"}}, 40);

  auto one = Offmon({"ack", "ProcessOffline{process=\"w1\"}", "--for", "2h", "--reason", "restarting w1"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_TRUE(one.out.starts_with("acknowledged ProcessOffline{process=\"w1\"} (WARNING) until ")) << one.out;
  auto events = Events(EventKind::kAlertAcknowledged);
  ASSERT_EQ(events.size(), 1u);
  auto ack = analyzer::DecodeAcknowledgement(events[0].payload, events[0].time);
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->key, "ProcessOffline{process=\"w1\"}");
  EXPECT_EQ(ack->severity, Severity::kWarning);
  EXPECT_EQ(ack->by, "carol");
  EXPECT_EQ(ack->reason, "restarting w1");
  EXPECT_EQ(ack->until - events[0].time, std::chrono::hours(2));
  // The episode acknowledged: the alert's active_since as recorded.
  EXPECT_EQ(ack->active_since, w1_since);

  auto by_name = Offmon({"ack", "ProcessOffline", "--for", "30m", "--reason", "both", "--by", "frank"});
  ASSERT_EQ(by_name.exit_code, 0) << by_name.err;
  EXPECT_EQ(testing::Lines(by_name.out), 2u) << by_name.out;
  EXPECT_TRUE(Has(by_name.out, "ProcessOffline{process=\"w2\"} (CRITICAL)")) << by_name.out;
  auto by_label = Offmon({"ack", "{process=\"w1\"}", "--for", "30m", "--reason", "w1"});
  ASSERT_EQ(by_label.exit_code, 0) << by_label.err;
  EXPECT_EQ(testing::Lines(by_label.out), 2u) << by_label.out;  // CpuHigh, ProcessOffline
  EXPECT_EQ(Events(EventKind::kAlertAcknowledged).size(), 5u);
  // A resolved alert is not active.
  auto resolved = Offmon({"ack", "DiskSpaceLow", "--for", "30m", "--reason", "r"});
  EXPECT_NE(resolved.exit_code, 0);
  EXPECT_TRUE(OneLine(resolved.err)) << resolved.err;
}

}  // namespace
}  // namespace offmon
