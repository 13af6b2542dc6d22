// The PM2 collector's RPC (method "rpc", pm2_rpc_impl.h): the amp framing, and the
// collector against a stand-in daemon on a unix socket, for what the real one does not do
// on demand (hang, hang up, answer garbage or an error, answer in pieces). The real PM2
// answers the same call in pm2_integration_test.cpp.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include "offmon/collector/command_runner.h"
#include "offmon/collector/pm2_collector.h"
#include "pm2_rpc_impl.h"
#include "support/recording_sink.h"
#include "support/temp_dir.h"

namespace offmon::collector {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Names unique across the pm2 test program (it is compiled as unity files).
const fs::path kPm2Fixtures = fs::path(OFFMON_TESTDATA_DIR) / "pm2";
const TimePoint kCycleTime = FromMillis(1'795'826'700'000);

TEST(AmpMessageTest, EncodesAsPm2sAmpDoes) {
  // The bytes node's amp.encode([Buffer('j:{}'), Buffer('s:7')]) gives.
  const std::string expected("\x12\0\0\0\x04j:{}\0\0\0\x03s:7", 16);
  EXPECT_EQ(EncodeAmpMessage({"j:{}", "s:7"}), expected);
  auto decoded = DecodeAmpMessage(expected + "\x11");  // the start of the next message after it
  ASSERT_TRUE(decoded);
  ASSERT_TRUE(*decoded);
  EXPECT_THAT((*decoded)->args, ::testing::ElementsAre("j:{}", "s:7"));
  EXPECT_EQ((*decoded)->size, expected.size());
}

TEST(AmpMessageTest, EveryPrefixIsIncomplete) {
  const std::string message = EncodeAmpMessage({"j:[1,2,3]", "s:offmon-1:0"});
  for (size_t n = 0; n < message.size(); ++n) {
    auto decoded = DecodeAmpMessage(std::string_view(message).substr(0, n));
    ASSERT_TRUE(decoded) << n;
    EXPECT_FALSE(*decoded) << "complete after " << n << " of " << message.size() << " bytes";
  }
}

TEST(AmpMessageTest, OtherVersionsAndHugeLengthsAreRefusedBeforeAnyBytesArrive) {
  EXPECT_THAT(DecodeAmpMessage(std::string("\x22\0\0\0\x01x", 6)).error().message(),
              HasSubstr("not an amp message (version 2)"));
  // A length of 4 GiB is refused from its header alone, not waited for.
  auto huge = DecodeAmpMessage(std::string("\x11\xff\xff\xff\xff", 5));
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().message(), "PM2 daemon: reply larger than 64 MiB");
}

// A stand-in PM2 daemon: accepts connections on `path` one at a time, reads one request
// from each and answers as told. Connections that close without a request (the
// collector's liveness check) are let go.
class FakePm2Daemon {
 public:
  enum class Behaviour { kAnswer, kHang, kHangUp };

  explicit FakePm2Daemon(const fs::path& path) {
    listener_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    ok_ = listener_ >= 0 && bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
          listen(listener_, 16) == 0;
    if (ok_) thread_ = std::thread([this] { Serve(); });
  }
  ~FakePm2Daemon() {
    stopping_ = true;
    shutdown(listener_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    close(listener_);
  }
  FakePm2Daemon(const FakePm2Daemon&) = delete;
  FakePm2Daemon& operator=(const FakePm2Daemon&) = delete;

  bool ok() const { return ok_; }
  // What to do with the next requests; `reply_first_arg` is the reply's first argument
  // (the id is appended as pm2's rep socket does), written `chunk` bytes at a time.
  void Set(Behaviour behaviour, std::string reply_first_arg = {}, size_t chunk = 1 << 20) {
    std::lock_guard lock(mutex_);
    behaviour_ = behaviour;
    reply_ = std::move(reply_first_arg);
    chunk_ = chunk;
  }
  // Answers with getMonitorData's value: {"args":[list]}.
  void AnswerList(const std::string& list_json, size_t chunk = 1 << 20) {
    Set(Behaviour::kAnswer, "j:{\"args\":[" + list_json + "]}", chunk);
  }
  std::vector<std::string> LastRequest() const {
    std::lock_guard lock(mutex_);
    return request_;
  }

 private:
  void Serve() {
    while (!stopping_) {
      const int connection = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (connection < 0) return;  // shut down
      Handle(connection);
      close(connection);
    }
  }
  void Handle(int connection) {
    std::string buffer;
    char chunk[4096];
    std::optional<AmpMessage> request;
    while (!request) {
      const ssize_t got = recv(connection, chunk, sizeof(chunk), 0);
      if (got <= 0) return;
      buffer.append(chunk, static_cast<size_t>(got));
      auto decoded = DecodeAmpMessage(buffer);
      if (!decoded) return;
      request = std::move(*decoded);
    }
    Behaviour behaviour;
    std::string reply_first_arg;
    size_t chunk_size = 0;
    {
      std::lock_guard lock(mutex_);
      request_ = request->args;
      behaviour = behaviour_;
      reply_first_arg = reply_;
      chunk_size = chunk_;
    }
    if (behaviour == Behaviour::kHangUp || request->args.size() != 2) return;
    if (behaviour == Behaviour::kHang) {
      // Until the client gives up (its side closes) or the test ends.
      pollfd p{connection, POLLIN, 0};
      while (!stopping_ && poll(&p, 1, 50) == 0) {
      }
      return;
    }
    const std::string reply = EncodeAmpMessage({reply_first_arg, request->args[1]});
    for (size_t at = 0; at < reply.size(); at += chunk_size) {
      if (send(connection, reply.data() + at, std::min(chunk_size, reply.size() - at), MSG_NOSIGNAL) < 0) return;
    }
  }

  int listener_ = -1;
  bool ok_ = false;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  Behaviour behaviour_ = Behaviour::kAnswer;
  std::string reply_;
  size_t chunk_ = 1 << 20;
  std::vector<std::string> request_;
  std::thread thread_;
};

class Pm2RpcTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(daemon_.ok()) << "cannot listen on " << (home_ / "rpc.sock"); }
  Pm2Config Config(Pm2Method method = Pm2Method::kRpc) const {
    Pm2Config config;
    config.method = method;
    config.binary = (kPm2Fixtures / "fake_pm2.sh").string();  // for kJlist
    config.home = home_.path().string();
    config.timeout = 10s;
    return config;
  }
  std::string Fixture(const std::string& name) const { return testing::ReadFileBytes(kPm2Fixtures / name); }

  testing::TempDir home_;
  FakePm2Daemon daemon_{home_ / "rpc.sock"};
  ProcessCommandRunner runner_;
  testing::RecordingSink sink_;
};

TEST_F(Pm2RpcTest, AsksWhatPm2JlistAsksAndRecordsWhatJlistWouldHave) {
  const std::string list = Fixture("jlist_real.json");
  daemon_.AnswerList(list);
  Pm2Collector rpc(Config(), runner_);
  rpc.Collect(kCycleTime, sink_);
  ASSERT_THAT(sink_.failures, IsEmpty());

  const auto request = daemon_.LastRequest();
  ASSERT_EQ(request.size(), 2u);
  ASSERT_THAT(request[0], ::testing::StartsWith("j:"));
  EXPECT_EQ(nlohmann::json::parse(request[0].substr(2)),
            nlohmann::json::parse(R"({"type":"call","method":"getMonitorData","args":[{}]})"));
  EXPECT_THAT(request[1], ::testing::StartsWith("s:"));

  // The same list printed by `pm2 jlist` (the fake prints home/jlist.out) gives the same.
  testing::WriteFileBytes(home_ / "jlist.out", list);
  testing::RecordingSink by_jlist;
  Pm2Collector jlist(Config(Pm2Method::kJlist), runner_);
  jlist.Collect(kCycleTime, by_jlist);
  ASSERT_THAT(by_jlist.failures, IsEmpty());
  EXPECT_FALSE(sink_.samples.empty());
  EXPECT_EQ(sink_.samples, by_jlist.samples);
  EXPECT_EQ(sink_.events, by_jlist.events);
}

TEST_F(Pm2RpcTest, AReplyArrivingInSmallPiecesIsReassembled) {
  daemon_.AnswerList(Fixture("jlist_real.json"), /*chunk=*/7);
  Pm2Collector collector(Config(), runner_);
  collector.Collect(kCycleTime, sink_);
  EXPECT_THAT(sink_.failures, IsEmpty());
  EXPECT_EQ(sink_.Last("process_memory_bytes{process=\"leaky\"}"), 255148032.0);
}

TEST_F(Pm2RpcTest, ADaemonThatDoesNotAnswerIsATimeoutAndNothingIsRecorded) {
  daemon_.Set(FakePm2Daemon::Behaviour::kHang);
  Pm2Config config = Config();
  config.timeout = 300ms;
  Pm2Collector collector(config, runner_);
  const auto started = std::chrono::steady_clock::now();
  collector.Collect(kCycleTime, sink_);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_THAT(sink_.failures, ::testing::ElementsAre(Pair("pm2", "PM2 daemon did not answer within 300ms")));
  EXPECT_THAT(sink_.samples, IsEmpty());
}

TEST_F(Pm2RpcTest, ADaemonThatHangsUpIsAFailure) {
  daemon_.Set(FakePm2Daemon::Behaviour::kHangUp);
  Pm2Collector collector(Config(), runner_);
  collector.Collect(kCycleTime, sink_);
  EXPECT_THAT(sink_.failures,
              ::testing::ElementsAre(Pair("pm2", "PM2 daemon closed the connection before answering")));
  EXPECT_THAT(sink_.samples, IsEmpty());
}

TEST_F(Pm2RpcTest, TheMethodsErrorIsOneLine) {
  daemon_.Set(FakePm2Daemon::Behaviour::kAnswer, R"(j:{"error":"\u001b[31mboom\u001b[39m\n    at God.js:1"})");
  Pm2Collector collector(Config(), runner_);
  collector.Collect(kCycleTime, sink_);
  EXPECT_THAT(sink_.failures, ::testing::ElementsAre(Pair("pm2", "PM2 daemon: getMonitorData failed: boom")));
}

TEST_F(Pm2RpcTest, ABrokenReplyIsNeverQuoted) {
  // Cut short inside pm2_env, where the environment and its secrets are.
  daemon_.Set(FakePm2Daemon::Behaviour::kAnswer,
              R"(j:{"args":[[{"name":"api","pm2_env":{"DATABASE_URL":"postgres://app:hunter2@db/x")");
  Pm2Collector collector(Config(), runner_);
  collector.Collect(kCycleTime, sink_);
  ASSERT_EQ(sink_.failures.size(), 1u);
  EXPECT_EQ(sink_.failures[0].second, "PM2 daemon: reply is not JSON");

  for (const char* reply : {R"(s:plain text)", R"(j:{"args":[]})", R"(j:{"args":[{"hunter2":1}]})"}) {
    SCOPED_TRACE(reply);
    sink_.failures.clear();
    daemon_.Set(FakePm2Daemon::Behaviour::kAnswer, reply);
    collector.Collect(kCycleTime, sink_);
    ASSERT_EQ(sink_.failures.size(), 1u);
    EXPECT_THAT(sink_.failures[0].second, Not(HasSubstr("hunter2")));
  }
  EXPECT_THAT(sink_.samples, IsEmpty());
}

}  // namespace
}  // namespace offmon::collector
