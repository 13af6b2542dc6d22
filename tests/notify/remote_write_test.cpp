// RemoteWriteSender against a loopback receiver on its own thread: what it sends (the
// protocol's headers, protobuf + snappy, labels), the cursor across senders, checkpoints
// and retention, and the protocol's answers (2xx, 5xx/429 retried, other 4xx dropped and
// counted). The real Prometheus and the real daemons: remote_write_prometheus_test.cpp.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "offmon/common/config.h"
#include "offmon/notify/remote_write_encoder.h"
#include "offmon/notify/remote_write_sender.h"
#include "offmon/store/store.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"
#include "support/threaded_http_receiver.h"

namespace offmon::notify {
namespace {

using namespace std::chrono_literals;

const TimePoint kT0 = FromMillis(1'763'000'000'000);

class RemoteWriteTest : public ::testing::Test {
 protected:
  RemoteWriteTest() : log_("test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text_)) {
    store::StoreOptions options;
    options.path = dir_ / "offmon.db";
    store_ = std::move(*store::Store::Open(options));
    RemoteWriteConfig rw;
    rw.name = "central";
    rw.url = receiver_.url("/api/v1/write");
    rw.external_labels = {{"instance", "host-a"}, {"dc", "eu"}};
    rw.max_samples_per_send = 10;
    rw.min_backoff = 5ms;
    rw.max_backoff = 20ms;
    rw.timeout = 5s;
    config_.push_back(rw);
  }

  // `cycles` cycles of `series` series (cpu{core="i"}), one second apart from `start`,
  // each cycle one committed batch; value = cycle * 100 + series.
  void Append(int cycles, int series, TimePoint start = kT0) {
    for (int c = 0; c < cycles; ++c) {
      auto appender = store_->NewAppender("collect:test");
      const TimePoint t = start + std::chrono::seconds(c);
      for (int s = 0; s < series; ++s) {
        auto id = appender->Ref(SeriesKey("cpu", {{"core", std::to_string(s)}}));
        ASSERT_TRUE(id.has_value());
        appender->Add(*id, t, c * 100 + s);
      }
      ASSERT_TRUE(appender->Commit(t).ok());
    }
  }

  std::unique_ptr<RemoteWriteSender> NewSender() {
    auto sender = RemoteWriteSender::Create(io_, *store_, config_, clock_, log_);
    EXPECT_TRUE(sender.has_value()) << sender.error().ToString();
    return sender.has_value() ? std::move(*sender) : nullptr;
  }

  // Every sample received so far, decoded, in arrival order.
  std::vector<RemoteWriteSeries> Received() {
    std::vector<RemoteWriteSeries> out;
    for (const auto& r : receiver_.requests()) {
      auto decoded = DecodeWriteRequest(r.body);
      EXPECT_TRUE(decoded.has_value()) << decoded.error().ToString();
      if (decoded.has_value()) out.insert(out.end(), decoded->begin(), decoded->end());
    }
    return out;
  }
  size_t ReceivedSamples() {
    size_t n = 0;
    for (const auto& s : Received()) n += s.samples.size();
    return n;
  }

  int64_t Cursor() { return (*store_->RemoteWriteCursors(clock_.Now())).at(0).seq; }
  int64_t Pending() { return (*store_->RemoteWriteCursors(clock_.Now())).at(0).pending_events; }

  template <typename Pred>
  bool RunUntil(Pred done, std::chrono::seconds deadline = 10s) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (!done()) {
      if (std::chrono::steady_clock::now() > until) return false;
      io_.restart();
      io_.run_for(5ms);
    }
    return true;
  }

  testing::TempDir dir_;
  testing::ThreadedHttpReceiver receiver_;
  testing::FakeClock clock_{kT0};
  std::ostringstream log_text_;
  spdlog::logger log_;
  std::unique_ptr<store::Store> store_;
  std::vector<RemoteWriteConfig> config_;
  boost::asio::io_context io_;
};

TEST_F(RemoteWriteTest, SendsEverySampleOnceOldestFirstWithTheProtocolsHeaders) {
  Append(5, 4);  // 20 samples in cycles of 4: requests of 8, 8 and 4 (at most 10)
  auto sender = NewSender();
  ASSERT_TRUE(RunUntil([&] { return Pending() == 0; })) << log_text_.str();
  const auto requests = receiver_.requests();
  ASSERT_EQ(requests.size(), 3u);
  for (const auto& r : requests) {
    EXPECT_EQ(r.target, "/api/v1/write");
    EXPECT_EQ(r.header("Content-Encoding"), "snappy");
    EXPECT_EQ(r.header("Content-Type"), "application/x-protobuf");
    EXPECT_EQ(r.header("X-Prometheus-Remote-Write-Version"), "0.1.0");
    EXPECT_TRUE(r.header("User-Agent").starts_with("offmon/"));
    EXPECT_EQ(r.header("Authorization"), "");
  }
  std::vector<std::pair<int64_t, double>> core1;
  for (const auto& s : Received()) {
    EXPECT_EQ(s.name, "cpu");
    EXPECT_EQ(s.labels.size(), 3u);  // core, dc, instance
    EXPECT_EQ(SeriesKey(s.name, s.labels).Label("instance"), "host-a");
    EXPECT_EQ(SeriesKey(s.name, s.labels).Label("dc"), "eu");
    if (SeriesKey(s.name, s.labels).Label("core") != "1") continue;
    for (const Sample& sample : s.samples) core1.emplace_back(ToMillis(sample.time), sample.value);
  }
  const std::vector<std::pair<int64_t, double>> want{{ToMillis(kT0), 1},
                                                     {ToMillis(kT0 + 1s), 101},
                                                     {ToMillis(kT0 + 2s), 201},
                                                     {ToMillis(kT0 + 3s), 301},
                                                     {ToMillis(kT0 + 4s), 401}};
  EXPECT_EQ(core1, want);
  EXPECT_EQ(sender->Stats().at(0).samples_sent_total, 20);
}

TEST_F(RemoteWriteTest, ANewSenderResumesFromTheCursor) {
  Append(3, 2);
  {
    auto sender = NewSender();
    ASSERT_TRUE(RunUntil([&] { return Pending() == 0; }));
  }
  const size_t before = receiver_.request_count();
  Append(2, 2, kT0 + 10s);
  auto sender = NewSender();
  ASSERT_TRUE(RunUntil([&] { return Pending() == 0; }));
  ASSERT_EQ(receiver_.request_count(), before + 1);
  auto last = DecodeWriteRequest(receiver_.requests().back().body);
  ASSERT_TRUE(last.has_value());
  size_t samples = 0;
  for (const auto& s : *last) {
    for (const Sample& sample : s.samples) EXPECT_GE(sample.time, kT0 + 10s);
    samples += s.samples.size();
  }
  EXPECT_EQ(samples, 4u);
}

TEST_F(RemoteWriteTest, A400DropsThatRequestCountsItAndTheNextFlow) {
  Append(5, 4);
  receiver_.AnswerNext(400, "bad labels");
  auto sender = NewSender();
  ASSERT_TRUE(RunUntil([&] { return Pending() == 0; })) << log_text_.str();
  EXPECT_EQ(receiver_.request_count(), 3u);
  const RemoteWriteStats stats = sender->Stats().at(0);
  EXPECT_EQ(stats.samples_dropped_total.at("rejected"), 8);
  EXPECT_EQ(stats.samples_sent_total, 12);
  EXPECT_NE(log_text_.str().find("8 samples dropped (rejected): HTTP 400: bad labels"), std::string::npos)
      << log_text_.str();
}

TEST_F(RemoteWriteTest, TooOldSamplesAreCountedAsSuch) {
  Append(1, 4);
  receiver_.AnswerNext(400, "out of bounds");
  auto sender = NewSender();
  ASSERT_TRUE(RunUntil([&] { return Pending() == 0; }));
  EXPECT_EQ(sender->Stats().at(0).samples_dropped_total.at("too_old"), 4);
}

TEST_F(RemoteWriteTest, ServerErrorsAnd429AreRetriedUntilAccepted) {
  Append(1, 4);
  receiver_.AnswerNext(503, "busy");
  receiver_.AnswerNext(429, "slow down");
  receiver_.AnswerNext(500, "oops");
  auto sender = NewSender();
  ASSERT_TRUE(RunUntil([&] { return Pending() == 0; })) << log_text_.str();
  EXPECT_EQ(receiver_.request_count(), 4u);
  EXPECT_EQ(sender->Stats().at(0).samples_sent_total, 4);
  EXPECT_TRUE(sender->Stats().at(0).samples_dropped_total.empty());
  EXPECT_EQ(ReceivedSamples(), 16u);  // the same request four times
}

TEST_F(RemoteWriteTest, RetryAfterIsHonoured) {
  Append(1, 1);
  receiver_.AnswerNext(429, "slow down", "1");  // min_backoff is 5 ms: the header wins
  const auto start = std::chrono::steady_clock::now();
  auto sender = NewSender();
  ASSERT_TRUE(RunUntil([&] { return Pending() == 0; }));
  EXPECT_EQ(receiver_.request_count(), 2u);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
}

TEST_F(RemoteWriteTest, CheckpointKeepsWhatTheCursorHasNotPassed) {
  // Samples of an old window, then a sample far later: the checkpoint seals the old
  // window and deletes its events, but the endpoint (cursor opened before) still gets them.
  {
    auto sender = NewSender();  // opens the cursor at 0
  }
  Append(3, 2, kT0);
  Append(1, 2, kT0 + 24h);
  auto info = store_->Info();
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->head_samples, 2);  // the old window is sealed
  auto sender = NewSender();
  ASSERT_TRUE(RunUntil([&] { return Pending() == 0; })) << log_text_.str();
  EXPECT_EQ(ReceivedSamples(), 8u);
}

TEST_F(RemoteWriteTest, RetentionOfUnsentEventsIsRecordedAsAGapAndCounted) {
  {
    auto sender = NewSender();
  }
  Append(3, 2, kT0);
  Append(1, 2, kT0 + 24h);
  ASSERT_TRUE(store_->ApplyRetention(kT0 + std::chrono::days(40)).ok());
  auto gaps = store_->ReadEvents(0, EventKind::kRemoteWriteGap, 10);
  ASSERT_TRUE(gaps.has_value());
  ASSERT_EQ(gaps->size(), 1u);
  EXPECT_NE(gaps->front().payload.find("\"samples\":8"), std::string::npos) << gaps->front().payload;
  auto sender = NewSender();
  ASSERT_TRUE(RunUntil([&] { return Pending() == 0; }));
  EXPECT_EQ(sender->Stats().at(0).samples_dropped_total.at("retention"), 8);
  EXPECT_NE(log_text_.str().find("GAP"), std::string::npos);
  EXPECT_EQ(ReceivedSamples(), 0u);
}

TEST_F(RemoteWriteTest, BasicAuthAndBearerTokensComeFromFiles) {
  Append(1, 1);
  const auto password = dir_ / "password";
  testing::WriteFileBytes(password, "s3cret\n");
  config_[0].username = "offmon";
  config_[0].password_file = password.string();
  {
    auto sender = NewSender();
    ASSERT_TRUE(RunUntil([&] { return Pending() == 0; }));
  }
  EXPECT_EQ(receiver_.requests().back().header("Authorization"), "Basic b2ZmbW9uOnMzY3JldA==");
  EXPECT_EQ(log_text_.str().find("s3cret"), std::string::npos);
}

TEST_F(RemoteWriteTest, AMissingTokenFileOrABadUrlRefusesToStart) {
  config_[0].bearer_token_file = (dir_ / "missing").string();
  auto sender = RemoteWriteSender::Create(io_, *store_, config_, clock_, log_);
  ASSERT_FALSE(sender.has_value());
  EXPECT_NE(sender.error().message().find("[remote_write.central] bearer_token_file"), std::string::npos)
      << sender.error().message();
  config_[0].bearer_token_file.clear();
  config_[0].url = "http://[::1/x";
  sender = RemoteWriteSender::Create(io_, *store_, config_, clock_, log_);
  ASSERT_FALSE(sender.has_value());
  EXPECT_NE(sender.error().message().find("[remote_write.central] url"), std::string::npos);
}

TEST(RemoteWriteEncoderTest, StalenessMarkersKeepTheirBits) {
  std::vector<RemoteWriteSeries> series{{"offmon_alert", {{"alertname", "X"}}, {{kT0, 1}, {kT0 + 1s, StaleMarker()}}}};
  auto decoded = DecodeWriteRequest(EncodeWriteRequest(series));
  ASSERT_TRUE(decoded.has_value());
  ASSERT_EQ(decoded->size(), 1u);
  ASSERT_EQ((*decoded)[0].samples.size(), 2u);
  EXPECT_TRUE(IsStaleMarker((*decoded)[0].samples[1].value));
  EXPECT_EQ((*decoded)[0].name, "offmon_alert");
}

}  // namespace
}  // namespace offmon::notify
