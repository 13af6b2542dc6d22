// Silences and acknowledgements as values (analyzer/silence.h): matching, the event
// payloads and the Suppressions projection folded from them.
#include "offmon/analyzer/silence.h"

#include <gtest/gtest.h>

namespace offmon::analyzer {
namespace {

const TimePoint kT0 = FromMillis(1'763'000'000'000);
using std::chrono::hours;
using std::chrono::minutes;

Silence MakeSilence(std::string id, std::vector<Matcher> matchers, TimePoint starts, Duration length) {
  return Silence{std::move(id), std::move(matchers), starts, starts + length, "deploy", "alice", {}, {}};
}

store::Event Event(int64_t seq, TimePoint at, EventKind kind, std::string payload) {
  return store::Event{seq, at, "cli", kind, std::move(payload)};
}

TEST(SilenceTest, MatchesByAlertNameAndExactLabels) {
  const Labels w1{{"process", "w1"}};
  Silence s = MakeSilence("a", {{"alertname", "ProcessOffline"}}, kT0, hours(1));
  EXPECT_TRUE(s.Matches("ProcessOffline", w1));
  EXPECT_FALSE(s.Matches("CpuHigh", w1));
  s.matchers.push_back({"process", "w1"});
  EXPECT_TRUE(s.Matches("ProcessOffline", w1));
  EXPECT_FALSE(s.Matches("ProcessOffline", {{"process", "w10"}}));  // exact, not a prefix
  EXPECT_FALSE(s.Matches("ProcessOffline", {}));                     // an absent label is ""
  Silence by_label = MakeSilence("b", {{"mount", "/"}}, kT0, hours(1));
  EXPECT_TRUE(by_label.Matches("DiskSpaceLow", {{"mount", "/"}}));
  EXPECT_FALSE(Silence{}.Matches("ProcessOffline", w1));  // no matchers: matches nothing
}

TEST(SilenceTest, ActiveFromStartUntilEndOrExpiry) {
  Silence s = MakeSilence("a", {{"alertname", "X"}}, kT0, hours(2));
  EXPECT_FALSE(s.ActiveAt(kT0 - Duration(1)));
  EXPECT_TRUE(s.ActiveAt(kT0));
  EXPECT_TRUE(s.ActiveAt(kT0 + hours(2) - Duration(1)));
  EXPECT_FALSE(s.ActiveAt(kT0 + hours(2)));
  s.expired_at = kT0 + minutes(10);
  EXPECT_EQ(s.end(), kT0 + minutes(10));
  EXPECT_FALSE(s.ActiveAt(kT0 + minutes(10)));
}

TEST(SilenceTest, ParsesMatchers) {
  EXPECT_EQ(*ParseMatcher("process=w1"), (Matcher{"process", "w1"}));
  EXPECT_EQ(*ParseMatcher("process=\"w1\""), (Matcher{"process", "w1"}));
  EXPECT_EQ(*ParseMatcher("a=b=c"), (Matcher{"a", "b=c"}));
  EXPECT_EQ(*ParseMatcher("channel="), (Matcher{"channel", ""}));
  EXPECT_FALSE(ParseMatcher("process").has_value());
  EXPECT_FALSE(ParseMatcher("=w1").has_value());
  EXPECT_EQ(MatchersText({{"alertname", "ProcessOffline"}, {"process", "w1"}}),
            "alertname=\"ProcessOffline\",process=\"w1\"");
}

TEST(SilenceTest, PayloadsRoundTrip) {
  const Silence s = MakeSilence("abc", {{"alertname", "CpuHigh"}, {"process", "w1"}}, kT0, hours(2));
  auto decoded = DecodeSilence(EncodeSilence(s));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
  EXPECT_EQ(*decoded, s);

  auto expiry = DecodeSilenceExpired(EncodeSilenceExpired("abc", "bob"));
  ASSERT_TRUE(expiry.has_value());
  EXPECT_EQ(expiry->id, "abc");
  EXPECT_EQ(expiry->by, "bob");

  const Acknowledgement ack{"CpuHigh{process=\"w1\"}", "CpuHigh", {{"process", "w1"}}, Severity::kCritical, kT0,
                            kT0 + minutes(5), kT0 + hours(2), "on it", "bob"};
  auto acked = DecodeAcknowledgement(EncodeAcknowledgement(ack), kT0 + minutes(5));
  ASSERT_TRUE(acked.has_value()) << acked.error().ToString();
  EXPECT_EQ(*acked, ack);
}

TEST(SilenceTest, BadPayloadsAreCorruption) {
  for (std::string_view bad : {"", "[]", "{\"id\":\"a\",\"matchers\":[],\"starts_ms\":1,\"ends_ms\":2}",
                               "{\"id\":\"\",\"matchers\":[{\"name\":\"a\",\"value\":\"b\"}],\"starts_ms\":1,\"ends_ms\":2}",
                               "{\"id\":\"a\",\"matchers\":[{\"name\":1}],\"starts_ms\":1,\"ends_ms\":2}",
                               "{\"id\":\"a\",\"matchers\":[{\"name\":\"a\",\"value\":\"b\"}],\"starts_ms\":\"1\"}"}) {
    auto decoded = DecodeSilence(bad);
    ASSERT_FALSE(decoded.has_value()) << bad;
    EXPECT_EQ(decoded.error().code(), StatusCode::kCorruption);
  }
  EXPECT_FALSE(DecodeSilenceExpired("{\"by\":\"x\"}").has_value());
  EXPECT_FALSE(DecodeAcknowledgement("{\"key\":\"k\",\"alert\":\"A\",\"labels\":{},\"severity\":\"LOUD\","
                                     "\"active_since_ms\":1,\"until_ms\":2}",
                                     kT0)
                   .has_value());
  Suppressions suppressions;
  Status status = suppressions.Apply(Event(12, kT0, EventKind::kSilenceAdded, "nope"));
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_NE(status.message().find("silence_added event 12"), std::string::npos) << status.message();
}

TEST(SuppressionsTest, FoldsSilencesAndExpiries) {
  Suppressions suppressions;
  const Silence s = MakeSilence("s1", {{"alertname", "ProcessOffline"}}, kT0, hours(2));
  ASSERT_TRUE(suppressions.Apply(Event(1, kT0, EventKind::kSilenceAdded, EncodeSilence(s))).ok());
  ASSERT_TRUE(suppressions.Apply(Event(2, kT0, EventKind::kSamples, "\x01")).ok());  // other kinds: ignored
  const Labels w1{{"process", "w1"}};
  ASSERT_NE(suppressions.SilencedBy("ProcessOffline", w1, kT0 + minutes(1)), nullptr);
  EXPECT_EQ(suppressions.SilencedBy("ProcessOffline", w1, kT0 + minutes(1))->id, "s1");
  EXPECT_EQ(suppressions.SilencedBy("CpuHigh", w1, kT0 + minutes(1)), nullptr);
  EXPECT_EQ(suppressions.SilencedBy("ProcessOffline", w1, kT0 + hours(2)), nullptr);  // expired

  // Folding the same event again changes nothing; an unknown id's expiry is ignored.
  ASSERT_TRUE(suppressions.Apply(Event(1, kT0, EventKind::kSilenceAdded, EncodeSilence(s))).ok());
  ASSERT_TRUE(suppressions.Apply(Event(3, kT0, EventKind::kSilenceExpired, EncodeSilenceExpired("zz", "bob"))).ok());
  EXPECT_EQ(suppressions.silences().size(), 1u);

  ASSERT_TRUE(
      suppressions.Apply(Event(4, kT0 + minutes(30), EventKind::kSilenceExpired, EncodeSilenceExpired("s1", "bob"))).ok());
  EXPECT_EQ(suppressions.SilencedBy("ProcessOffline", w1, kT0 + minutes(30)), nullptr);
  EXPECT_NE(suppressions.SilencedBy("ProcessOffline", w1, kT0 + minutes(29)), nullptr);
  ASSERT_NE(suppressions.FindSilence("s1"), nullptr);  // kept for listing
  EXPECT_EQ(suppressions.FindSilence("s1")->expired_by, "bob");
  EXPECT_EQ(suppressions.last_seq(), 4);
}

TEST(SuppressionsTest, AnAckAppliesToItsEpisodeAndSeverityUntilItExpires) {
  Suppressions suppressions;
  const std::string key = "ProcessOffline{process=\"w1\"}";
  Acknowledgement ack{key,      "ProcessOffline", {{"process", "w1"}}, Severity::kWarning, kT0, kT0 + minutes(30),
                      kT0 + hours(2), "on it", "bob"};
  ASSERT_TRUE(suppressions.Apply(Event(5, kT0 + minutes(30), EventKind::kAlertAcknowledged, EncodeAcknowledgement(ack))).ok());
  EXPECT_NE(suppressions.AckFor(key, Severity::kWarning, kT0, kT0 + hours(1)), nullptr);
  EXPECT_EQ(suppressions.AckFor(key, Severity::kWarning, kT0, kT0 + hours(2)), nullptr);  // expired
  EXPECT_EQ(suppressions.AckFor(key, Severity::kCritical, kT0, kT0 + hours(1)), nullptr);  // severity changed
  EXPECT_EQ(suppressions.AckFor(key, Severity::kWarning, kT0 + minutes(50), kT0 + hours(1)), nullptr);  // new episode
  EXPECT_EQ(suppressions.AckFor("CpuHigh{process=\"w1\"}", Severity::kWarning, kT0, kT0 + hours(1)), nullptr);
  // A later acknowledgement replaces the earlier one.
  ack.until = kT0 + hours(5);
  ack.by = "carol";
  ASSERT_TRUE(suppressions.Apply(Event(6, kT0 + hours(1), EventKind::kAlertAcknowledged, EncodeAcknowledgement(ack))).ok());
  ASSERT_NE(suppressions.AckFor(key, Severity::kWarning, kT0, kT0 + hours(3)), nullptr);
  EXPECT_EQ(suppressions.AckFor(key, Severity::kWarning, kT0, kT0 + hours(3))->by, "carol");
  EXPECT_EQ(suppressions.acks().size(), 1u);
}

}  // namespace
}  // namespace offmon::analyzer
