// The daemon's HTTP listener in-process (HttpListener on an io_context of the test's own)
// and what it serves (HttpEndpoints over a temporary store, a DaemonStatus and a
// FakeClock): limits, malformed requests, slow clients, the Prometheus exposition
// (validated by promtool), /healthz and /api/report.
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>

#include <atomic>
#include <cmath>
#include <future>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "offmon/serve/http_endpoints.h"
#include "offmon/serve/http_listener.h"
#include "offmon/query/health_report.h"
#include "offmon/query/report_render.h"
#include "offmon/store/store.h"
#include "support/fake_clock.h"
#include "support/http_client.h"
#include "support/temp_dir.h"

namespace offmon::serve {
namespace {

using namespace std::chrono_literals;
using testing::HttpGet;
using testing::RawHttp;

constexpr const char* kPromtool = "/usr/bin/promtool";

struct ToolResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `promtool check metrics` with `text` on its stdin.
ToolResult PromtoolCheckMetrics(const std::string& text) {
  testing::TempDir dir;
  const auto in_path = dir / "metrics.txt";
  const auto out_path = dir / "promtool.out";
  testing::WriteFileBytes(in_path, text);
  const pid_t pid = fork();
  if (pid == 0) {
    const int in = open(in_path.c_str(), O_RDONLY);
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(in, 0);
    dup2(out, 1);
    dup2(out, 2);
    execl(kPromtool, kPromtool, "check", "metrics", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, testing::ReadFileBytes(out_path)};
}

// ---------------------------------------------------------------- the listener

class HttpListenerTest : public ::testing::Test {
 protected:
  void Start(HttpLimits limits) {
    auto listener = HttpListener::Start(
        io_, "127.0.0.1:0", limits,
        [](const HttpRequest& request) {
          HttpResponse response;
          if (request.target == "/big") {
            // 32 MiB, more than loopback socket buffers hold: a client that does not
            // read keeps its connection busy answering.
            auto left = std::make_shared<int>(512);
            response.next_piece = [left](std::string* piece) {
              if ((*left)-- == 0) return false;
              piece->assign(64 * 1024, 'x');
              return true;
            };
          } else if (request.target == "/stream") {
            auto left = std::make_shared<int>(100);
            response.body = "start\n";
            response.next_piece = [left](std::string* piece) {
              if (*left == 0) return false;
              *piece = "piece " + std::to_string((*left)--) + "\n";
              return true;
            };
          } else {
            response.body = "hello\n";
          }
          return response;
        },
        stats_, *log_);
    ASSERT_TRUE(listener.has_value()) << listener.error().ToString();
    listener_ = std::move(*listener);
    port_ = listener_->port();
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (thread_.joinable()) {
      // The listener is used on the io_context's thread only.
      boost::asio::post(io_, [this] {
        listener_.reset();
        io_.stop();
      });
      thread_.join();
    }
  }
  // Polls a GET until it returns `status`, with a deadline.
  bool EventuallyGets(int status) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (HttpGet(port_, "/").status == status) return true;
      std::this_thread::sleep_for(20ms);  // polling a condition with a deadline
    }
    return false;
  }

  // A copy of the counters, taken on the io_context's thread.
  HttpStats Stats() {
    std::promise<HttpStats> copy;
    auto result = copy.get_future();
    boost::asio::post(io_, [&] { copy.set_value(*stats_); });
    return result.get();
  }

  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{io_.get_executor()};
  std::shared_ptr<spdlog::logger> log_ = std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>());
  std::shared_ptr<HttpStats> stats_ = std::make_shared<HttpStats>();
  std::unique_ptr<HttpListener> listener_;
  std::thread thread_;
  uint16_t port_ = 0;
};

TEST_F(HttpListenerTest, ServesAGetOnTheBoundPort) {
  Start(HttpLimits{});
  ASSERT_NE(port_, 0);
  auto reply = HttpGet(port_, "/");
  ASSERT_TRUE(reply.ok()) << reply.error;
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "hello\n");
}

TEST_F(HttpListenerTest, StreamsAPiecewiseBodyChunkedAndWholeToHttp10) {
  Start(HttpLimits{});
  auto reply = HttpGet(port_, "/stream");
  ASSERT_EQ(reply.status, 200) << reply.error;
  EXPECT_NE(reply.headers.find("Transfer-Encoding: chunked"), std::string::npos) << reply.headers;
  EXPECT_EQ(reply.body.rfind("start\npiece 100\npiece 99\n", 0), 0u) << reply.body.substr(0, 100);
  EXPECT_TRUE(reply.body.ends_with("piece 1\n"));
  auto old = RawHttp(port_, "GET /stream HTTP/1.0\r\n\r\n");
  ASSERT_EQ(old.status, 200) << old.error;
  EXPECT_NE(old.headers.find("Content-Length: "), std::string::npos) << old.headers;
  EXPECT_EQ(old.body, reply.body);
}

TEST_F(HttpListenerTest, HeadGetsTheHeadersOfGetAndNoBody) {
  Start(HttpLimits{});
  for (const std::string target : {"/", "/stream"}) {
    const auto get = RawHttp(port_, "GET " + target + " HTTP/1.1\r\nConnection: close\r\n\r\n");
    const auto head = RawHttp(port_, "HEAD " + target + " HTTP/1.1\r\nConnection: close\r\n\r\n");
    ASSERT_EQ(head.status, 200) << target << ": " << head.error;
    EXPECT_EQ(head.body, "") << target;
    EXPECT_NE(head.headers.find(fmt::format("Content-Length: {}", get.body.size())), std::string::npos)
        << target << ": " << head.headers;
  }
  const auto post = RawHttp(port_, "POST / HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_NE(post.headers.find("Allow: GET, HEAD"), std::string::npos) << post.headers;
}

TEST_F(HttpListenerTest, MalformedRequestsGet400AndAreClosed) {
  Start(HttpLimits{});
  auto garbage = RawHttp(port_, "GARBAGE\r\n\r\n");
  EXPECT_EQ(garbage.status, 400) << garbage.error;
  EXPECT_NE(garbage.headers.find("Connection: close"), std::string::npos) << garbage.headers;
  auto bad_version = RawHttp(port_, "GET / HTTP/9.x\r\n\r\n");
  EXPECT_EQ(bad_version.status, 400) << bad_version.error;
  auto huge_header = RawHttp(port_, "GET / HTTP/1.1\r\nX-Big: " + std::string(kMaxHeaderBytes, 'a') + "\r\n\r\n");
  EXPECT_EQ(huge_header.status, 431) << huge_header.error;
  auto body = RawHttp(port_, "GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_GE(body.status, 400) << body.error;
  auto post = RawHttp(port_, "POST / HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(post.status, 405) << post.error;
  // The listener is still fine.
  EXPECT_EQ(HttpGet(port_, "/").status, 200);
}

TEST_F(HttpListenerTest, ASlowClientDoesNotBlockAnotherAndIsDropped) {
  HttpLimits limits;
  limits.read_timeout = 500ms;
  Start(limits);
  const int slow = testing::ConnectLoopback(port_);
  ASSERT_GE(slow, 0);
  ASSERT_EQ(::send(slow, "GET / HT", 8, MSG_NOSIGNAL), 8);  // and nothing more
  const auto before = std::chrono::steady_clock::now();
  auto reply = HttpGet(port_, "/");
  EXPECT_EQ(reply.status, 200) << reply.error;
  EXPECT_LT(std::chrono::steady_clock::now() - before, 400ms) << "served while the slow client waits";
  // The slow client is dropped at read_timeout: it sees the connection close, no answer.
  auto dropped = testing::ReadReply(slow);
  ::close(slow);
  EXPECT_EQ(dropped.status, 0);
  EXPECT_TRUE(dropped.error.empty()) << dropped.error << " (closed, not a receive timeout)";
}

TEST_F(HttpListenerTest, AKeptAliveConnectionIsClosedAfterIdleTimeout) {
  HttpLimits limits;
  limits.idle_timeout = 200ms;  // read_timeout stays 10 s
  Start(limits);
  const int fd = testing::ConnectLoopback(port_);
  ASSERT_GE(fd, 0);
  const std::string request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";  // keep-alive
  const auto before = std::chrono::steady_clock::now();  // before the server's idle wait starts
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
  auto reply = testing::ReadReply(fd);  // reads until the server closes
  const auto waited = std::chrono::steady_clock::now() - before;
  ::close(fd);
  EXPECT_EQ(reply.status, 200) << reply.error;
  EXPECT_TRUE(reply.error.empty()) << reply.error << " (closed, not a receive timeout)";
  EXPECT_GE(waited, 200ms);
  EXPECT_LT(waited, 5s) << "closed at idle_timeout, not read_timeout";
}

TEST_F(HttpListenerTest, IdleConnectionsMakeRoomForANewOne) {
  HttpLimits limits;
  limits.max_connections = 4;
  limits.evict_after = 0ms;
  Start(limits);
  std::vector<int> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(testing::ConnectLoopback(port_));
  for (int fd : idle) ASSERT_GE(fd, 0);
  // Every slot is taken by a connection that sent nothing: the oldest makes room.
  for (int i = 0; i < 4; ++i) {
    auto reply = HttpGet(port_, "/");
    EXPECT_EQ(reply.status, 200) << reply.error;
  }
  EXPECT_GE(Stats().evicted_total, 1u);
  EXPECT_EQ(Stats().refused_total, 0u);
  // The oldest idle one was closed: it sees the close, no answer.
  auto first = testing::ReadReply(idle[0]);
  EXPECT_EQ(first.status, 0);
  EXPECT_TRUE(first.error.empty()) << first.error << " (closed, not a receive timeout)";
  for (int fd : idle) ::close(fd);
}

TEST_F(HttpListenerTest, WhenEveryConnectionIsBusyANewOneIsRefusedButHealthzIsAnswered) {
  HttpLimits limits;
  limits.max_connections = 2;
  limits.evict_after = 0ms;
  Start(limits);
  // Two clients ask for a large body and do not read it: both connections stay busy.
  std::vector<int> busy;
  const std::string big = "GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
  for (int i = 0; i < 2; ++i) {
    busy.push_back(testing::ConnectLoopback(port_));
    ASSERT_GE(busy.back(), 0);
    ASSERT_EQ(::send(busy.back(), big.data(), big.size(), MSG_NOSIGNAL), static_cast<ssize_t>(big.size()));
  }
  // Both requests read (answering has begun), so neither is a connection still waiting.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (Stats().requests_total < 2) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the two /big requests were not read";
    std::this_thread::sleep_for(5ms);  // polling a condition with a deadline
  }
  ASSERT_TRUE(EventuallyGets(503)) << "a third connection is refused";
  auto refused = HttpGet(port_, "/");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.body, "too many connections\n");
  EXPECT_NE(refused.headers.find("Retry-After: 1"), std::string::npos) << refused.headers;
  // A refused health probe is still answered by the handler: a full listener is not
  // an unhealthy daemon.
  for (int i = 0; i < 5; ++i) {
    auto probe = HttpGet(port_, "/healthz");
    EXPECT_EQ(probe.status, 200) << probe.error;
    EXPECT_EQ(probe.body, "hello\n");
  }
  EXPECT_GE(Stats().refused_total, 6u);
  for (int fd : busy) ::close(fd);
  EXPECT_TRUE(EventuallyGets(200)) << "served again once the others closed";
}

// Slowloris: every slot held by a client that sent half a header, and a process that
// reconnects in a loop with twice as many connections as there are slots (each sends half
// a header and holds it until the server closes it, then reconnects). Health probes in a
// row are all answered 200, each within 3 s. read_timeout is long, so the deadline is not
// what saves them.
TEST_F(HttpListenerTest, SlowClientsAndAReconnectLoopDoNotStarveHealthz) {
  HttpLimits limits;
  limits.max_connections = 8;
  limits.read_timeout = 60s;
  limits.evict_after = 100ms;
  Start(limits);
  const std::string half = "GET /healthz HTTP/1.1\r\nHost: x\r\n";  // no blank line: never ends
  auto slow_connect = [&] {
    const int fd = testing::ConnectLoopback(port_, 100ms);
    if (fd >= 0) ::send(fd, half.data(), half.size(), MSG_NOSIGNAL);
    return fd;
  };
  std::vector<int> slow;
  for (int i = 0; i < 8; ++i) {
    slow.push_back(slow_connect());
    ASSERT_GE(slow.back(), 0);
  }
  std::atomic<bool> stop{false};
  std::atomic<int> reconnects{0};
  std::thread loop([&] {
    std::vector<pollfd> fds(16);  // twice the slots: it always has connections waiting to get in
    for (pollfd& p : fds) p = {slow_connect(), POLLIN, 0};
    while (!stop) {
      // Waits for the server to close one (or 50 ms, to look at `stop`), then reconnects.
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      for (pollfd& p : fds) {
        if (p.revents == 0) continue;
        char byte;
        if (p.fd >= 0 && ::recv(p.fd, &byte, 1, MSG_DONTWAIT) > 0) continue;  // an answer: keep reading
        if (p.fd >= 0) ::close(p.fd);
        p = {slow_connect(), POLLIN, 0};
        ++reconnects;
      }
    }
    for (pollfd& p : fds) {
      if (p.fd >= 0) ::close(p.fd);
    }
  });
  // At least 30 probes, and on until the eight slow clients have been pushed out (the
  // first probes may come before they waited evict_after, and are answered as refusals).
  int probes = 0, answered = 0;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (probes < 30 || Stats().evicted_total < 8) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "the slow clients were not pushed out: evicted " << Stats().evicted_total;
      break;
    }
    const auto before = std::chrono::steady_clock::now();
    auto probe = HttpGet(port_, "/healthz");
    const auto took = std::chrono::steady_clock::now() - before;
    EXPECT_EQ(probe.status, 200) << "probe " << probes << ": " << probe.error;
    EXPECT_LT(took, 3s) << "probe " << probes;
    ++probes;
    answered += probe.status == 200 ? 1 : 0;
  }
  stop = true;
  loop.join();
  for (int fd : slow) ::close(fd);
  EXPECT_EQ(answered, probes);
  EXPECT_GT(reconnects.load(), 0) << "the reconnect loop ran";
}

TEST_F(HttpListenerTest, FiftyConcurrentClientsAreServedOrCleanlyRefused) {
  HttpLimits limits;
  limits.max_connections = 8;
  Start(limits);
  std::vector<std::future<testing::HttpReply>> replies;
  for (int i = 0; i < 50; ++i) {
    replies.push_back(std::async(std::launch::async, [this] { return HttpGet(port_, "/stream"); }));
  }
  int served = 0, refused = 0;
  for (auto& f : replies) {
    auto reply = f.get();
    if (reply.status == 200) {
      ++served;
      EXPECT_TRUE(reply.body.ends_with("piece 1\n"));
    } else {
      EXPECT_EQ(reply.status, 503) << reply.error;
      ++refused;
    }
  }
  EXPECT_EQ(served + refused, 50);
  EXPECT_GE(served, 8);
}

// ---------------------------------------------------------------- [http] config

TEST(HttpConfigTest, ListenIsValidatedWithFileAndLine) {
  auto defaults = ParseConfig("", "offmon.toml");
  ASSERT_TRUE(defaults.has_value());
  EXPECT_EQ(defaults->http.listen, "127.0.0.1:9470");
  EXPECT_EQ(defaults->http.max_connections, 256);
  EXPECT_EQ(defaults->http.idle_timeout, std::chrono::seconds(30));
  auto idle = ParseConfig("[http]\nidle_timeout = \"5s\"\n", "offmon.toml");
  ASSERT_TRUE(idle.has_value()) << idle.error().ToString();
  EXPECT_EQ(idle->http.idle_timeout, std::chrono::seconds(5));
  auto off = ParseConfig("[http]\nlisten = \"\"\n", "offmon.toml");
  ASSERT_TRUE(off.has_value());
  EXPECT_TRUE(off->http.listen.empty());
  auto v6 = ParseConfig("[http]\nlisten = \"[::1]:0\"\nmax_connections = 4\nread_timeout = \"2s\"\n", "offmon.toml");
  ASSERT_TRUE(v6.has_value()) << v6.error().ToString();
  EXPECT_EQ(v6->http.max_connections, 4);
  auto name = ParseConfig("[http]\n\nlisten = \"localhost:9470\"\n", "offmon.toml");
  ASSERT_FALSE(name.has_value());
  EXPECT_NE(name.error().message().find("offmon.toml:3: [http] listen:"), std::string::npos) << name.error().message();
  auto port = ParseConfig("[http]\nlisten = \"127.0.0.1:99999\"\n", "offmon.toml");
  ASSERT_FALSE(port.has_value());
  EXPECT_NE(port.error().message().find("port must be a number"), std::string::npos);
  auto unknown = ParseConfig("[http]\nport = 1\n", "offmon.toml");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message().find("offmon.toml:2: [http] port: unknown key"), std::string::npos)
      << unknown.error().message();
  EXPECT_FALSE(ParseConfig("[http]\nmax_connections = 0\n", "offmon.toml").has_value());
}

// ---------------------------------------------------------------- the endpoints

class HttpEndpointsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions options;
    options.path = dir_ / "offmon.db";
    auto store = store::Store::Open(options);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
    status_.Install({{"system", 30s}, {"pm2", 30s}}, clock_.Now());
  }
  void Add(const SeriesKey& key, TimePoint t, double value) {
    auto appender = store_->NewAppender("test");
    auto id = appender->Ref(key);
    ASSERT_TRUE(id.has_value());
    appender->Add(*id, t, value);
    ASSERT_TRUE(appender->Commit(t).ok());
  }
  HttpEndpoints Endpoints(ReportJson report = nullptr) {
    HttpEndpoints::Sources sources;
    sources.store = store_.get();
    sources.status = &status_;
    sources.config = &config_;
    sources.clock = &clock_;
    sources.store_path = (dir_ / "offmon.db").string();
    sources.report_json = std::move(report);
    sources.outbox_backlog = [] { return std::map<std::string, int64_t>{{"am", 2}}; };
    sources.http_stats = std::make_shared<HttpStats>();
    return HttpEndpoints(std::move(sources));
  }
  // The whole body, pieces included.
  static std::string Body(HttpResponse& response) {
    std::string body = response.body, piece;
    while (response.next_piece && response.next_piece(&piece)) body += piece;
    return body;
  }
  static HttpRequest Get(std::string_view target, std::string_view accept = "", std::string_view authorization = "") {
    return {"GET", target, accept, authorization};
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{FromMillis(1'800'000'000'000)};
  std::unique_ptr<store::Store> store_;
  DaemonStatus status_;
  Config config_;
};

TEST_F(HttpEndpointsTest, MetricsAreValidPrometheusTextWithTheNewestValues) {
  const TimePoint now = clock_.Now();
  Add(SeriesKey("process_memory_bytes", {{"process", "w1"}}), now - 60s, 100);
  Add(SeriesKey("process_memory_bytes", {{"process", "w1"}}), now - 30s, 200);
  Add(SeriesKey("process_memory_bytes", {{"process", "odd \"name\" \\ with\nnewline"}}), now - 30s, 7);
  Add(SeriesKey("process_restarts_total", {{"process", "w1"}}), now - 30s, 3);
  Add(SeriesKey("system_cpu_percent", {}), now - 30s, std::nan(""));
  Add(SeriesKey("imported_thing", {{"a", "b"}}), now - 30s, 1.5);
  Add(SeriesKey("system_load1", {}), now - 2h, 9);  // older than stale_after (1h)
  status_.RecordRun("system", now - 10s, {});
  auto response = Endpoints().Handle(Get("/metrics"));
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.content_type, "text/plain; version=0.0.4; charset=utf-8");
  const std::string body = Body(response);
  EXPECT_NE(body.find("process_memory_bytes{process=\"w1\"} 200\n"), std::string::npos) << body;
  EXPECT_NE(body.find(R"(process_memory_bytes{process="odd \"name\" \\ with\nnewline"} 7)"), std::string::npos)
      << body;
  EXPECT_NE(body.find("# TYPE process_restarts_total counter\nprocess_restarts_total{process=\"w1\"} 3\n"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("system_cpu_percent NaN\n"), std::string::npos) << body;
  EXPECT_NE(body.find("imported_thing{a=\"b\"} 1.5\n"), std::string::npos) << body;
  EXPECT_EQ(body.find("system_load1"), std::string::npos) << "stale series are left out";
  EXPECT_NE(body.find("offmon_daemon_collector_last_success_timestamp_seconds{collector=\"system\"} 1799999990\n"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("offmon_daemon_collector_errors_total{collector=\"pm2\"} 0\n"), std::string::npos) << body;
  EXPECT_NE(body.find("offmon_daemon_notification_outbox_backlog{receiver=\"am\"} 2\n"), std::string::npos) << body;
  EXPECT_NE(body.find("offmon_daemon_store_size_bytes "), std::string::npos) << body;
  EXPECT_NE(body.find("offmon_daemon_resident_memory_bytes "), std::string::npos) << body;
  size_t types = 0;
  for (size_t at = body.find("# TYPE process_memory_bytes "); at != std::string::npos;
       at = body.find("# TYPE process_memory_bytes ", at + 1)) {
    ++types;
  }
  EXPECT_EQ(types, 1u) << "one # TYPE per family";
  auto check = PromtoolCheckMetrics(body);
  EXPECT_EQ(check.exit_code, 0) << check.output << "\n" << body;
}

TEST_F(HttpEndpointsTest, OpenMetricsWhenTheScraperAsks) {
  Add(SeriesKey("process_restarts_total", {{"process", "w1"}}), clock_.Now() - 30s, 3);
  auto response = Endpoints().Handle(Get("/metrics", "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"));
  EXPECT_EQ(response.content_type, "application/openmetrics-text; version=1.0.0; charset=utf-8");
  const std::string body = Body(response);
  EXPECT_NE(body.find("# TYPE process_restarts counter\nprocess_restarts_total{process=\"w1\"} 3\n"),
            std::string::npos)
      << body;
  EXPECT_TRUE(body.ends_with("# EOF\n")) << body;
}

TEST_F(HttpEndpointsTest, HealthzIsOkUntilACollectorIsStaleOrFailing) {
  auto endpoints = Endpoints();
  // Just started: nothing has run yet, but within twice the interval.
  EXPECT_EQ(endpoints.Handle(Get("/healthz")).status, 200u);
  clock_.Advance(5s);
  status_.RecordRun("system", clock_.Now(), {});
  status_.RecordRun("pm2", clock_.Now(), {});
  auto ok = endpoints.Handle(Get("/healthz"));
  EXPECT_EQ(ok.status, 200u);
  EXPECT_EQ(ok.body, "ok\n");
  // pm2 fails from now on; system keeps succeeding.
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(30s);
    status_.RecordRun("system", clock_.Now(), {});
    status_.RecordRun("pm2", clock_.Now(), {{"pm2", "PM2 daemon not running (no /x/rpc.sock)"}});
  }
  auto failing = endpoints.Handle(Get("/healthz"));
  EXPECT_EQ(failing.status, 503u);
  EXPECT_EQ(failing.body,
            "collector pm2: last succeeded 1m 30s ago (limit 1m 0s, twice its interval): PM2 daemon not running "
            "(no /x/rpc.sock)\n");
  // pm2 recovers; then system stops reporting at all.
  status_.RecordRun("pm2", clock_.Now(), {});
  EXPECT_EQ(endpoints.Handle(Get("/healthz")).status, 200u);
  clock_.Advance(61s);
  status_.RecordRun("pm2", clock_.Now(), {});
  auto stale = endpoints.Handle(Get("/healthz"));
  EXPECT_EQ(stale.status, 503u);
  EXPECT_EQ(stale.body, "collector system: last succeeded 1m 1s ago (limit 1m 0s, twice its interval)\n");
  auto metrics = endpoints.Handle(Get("/metrics"));
  const std::string body = Body(metrics);
  EXPECT_NE(body.find("offmon_daemon_healthy 0\n"), std::string::npos) << body;
  EXPECT_NE(body.find("offmon_daemon_collector_errors_total{collector=\"pm2\"} 3\n"), std::string::npos) << body;
}

TEST_F(HttpEndpointsTest, ApiReportIsTheReportAsJson) {
  Add(SeriesKey("system_memory_total_bytes", {}), clock_.Now() - 30s, 8e9);
  auto endpoints = Endpoints([](store::Store& store, const Config& config, TimePoint at) -> Result<std::string> {
    auto report = query::BuildHealthReport(store, config, at);
    if (!report) return report.error();
    return query::RenderReportJson(*report);
  });
  auto response = endpoints.Handle(Get("/api/report"));
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.content_type, "application/json");
  auto json = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(json.is_discarded()) << response.body;
  EXPECT_EQ(json["status"], "OK") << response.body;
  EXPECT_EQ(json["system"]["memory_total_bytes"]["value"], 8e9) << response.body;
}

TEST_F(HttpEndpointsTest, UnknownPathsAre404AndNoReportHookIs404) {
  auto endpoints = Endpoints();
  EXPECT_EQ(endpoints.Handle(Get("/nope")).status, 404u);
  EXPECT_EQ(endpoints.Handle(Get("/api/report")).status, 404u);
  EXPECT_EQ(endpoints.Handle(Get("/")).status, 200u);
  EXPECT_EQ(endpoints.Handle(Get("/metrics?x=1")).status, 200u);
}

TEST_F(HttpEndpointsTest, ATokenIsNeededForEveryPathButHealthz) {
  auto endpoints = Endpoints();
  endpoints.SetToken(std::string("s3cret-token"));
  for (std::string_view path : {"/metrics", "/", "/api/report", "/charts", "/static/dashboard.js"}) {
    auto refused = endpoints.Handle(Get(path));
    EXPECT_EQ(refused.status, 401u) << path;
    EXPECT_EQ(refused.body.find("s3cret"), std::string::npos);
    auto wrong = endpoints.Handle(Get(path, "", "Bearer s3cret-tokeN"));
    EXPECT_EQ(wrong.status, 401u) << path;
    EXPECT_EQ(endpoints.Handle(Get(path, "", "Bearer s3cret-token-and-more")).status, 401u) << path;
    EXPECT_EQ(endpoints.Handle(Get(path, "", "Basic s3cret-token")).status, 401u) << path;
  }
  auto refused = endpoints.Handle(Get("/metrics"));
  ASSERT_EQ(refused.headers.size(), 2u);
  EXPECT_EQ(refused.headers[0].first, "WWW-Authenticate");
  EXPECT_EQ(endpoints.Handle(Get("/metrics", "", "Bearer s3cret-token")).status, 200u);
  EXPECT_EQ(endpoints.Handle(Get("/", "", "bearer  s3cret-token ")).status, 200u);
  EXPECT_EQ(endpoints.Handle(Get("/healthz")).status, 200u);
  // A token_file that could not be read: everything but /healthz refused.
  endpoints.SetToken(std::string());
  EXPECT_EQ(endpoints.Handle(Get("/metrics", "", "Bearer ")).status, 401u);
  EXPECT_EQ(endpoints.Handle(Get("/healthz")).status, 200u);
  endpoints.SetToken(std::nullopt);
  EXPECT_EQ(endpoints.Handle(Get("/metrics")).status, 200u);
}

TEST_F(HttpEndpointsTest, EveryResponseSaysNoSniffAndTheDashboardHookAnswersTheRest) {
  auto endpoints = Endpoints();
  auto metrics = endpoints.Handle(Get("/metrics"));
  ASSERT_FALSE(metrics.headers.empty());
  EXPECT_EQ(metrics.headers.back(), std::make_pair(std::string("X-Content-Type-Options"), std::string("nosniff")));
  HttpEndpoints::Sources sources;
  sources.store = store_.get();
  sources.status = &status_;
  sources.config = &config_;
  sources.clock = &clock_;
  sources.dashboard = [](store::Store&, const Config&, TimePoint, std::string_view target) -> Result<DashboardReply> {
    return DashboardReply{target == "/charts?range=1h" ? 200u : 404u, "text/html", "page", {{"X-Test", "1"}}};
  };
  HttpEndpoints with_dashboard(std::move(sources));
  auto page = with_dashboard.Handle(Get("/charts?range=1h"));
  EXPECT_EQ(page.status, 200u);
  EXPECT_EQ(page.body, "page");
  ASSERT_EQ(page.headers.size(), 2u);
  EXPECT_EQ(page.headers[0].first, "X-Test");
  EXPECT_EQ(with_dashboard.Handle(Get("/nope")).status, 404u);
}

TEST(HttpTokenTest, ReadsTheTrimmedTokenAndNeverShowsIt) {
  testing::TempDir dir;
  HttpConfig config;
  auto none = ReadHttpToken(config);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
  config.token_file = (dir / "token").string();
  auto missing = ReadHttpToken(config);
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("token_file"), std::string::npos);
  testing::WriteFileBytes(dir / "token", "  abc123\n");
  auto token = ReadHttpToken(config);
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(**token, "abc123");
  testing::WriteFileBytes(dir / "token", "two words\n");
  auto two = ReadHttpToken(config);
  ASSERT_FALSE(two.has_value());
  EXPECT_EQ(two.error().message().find("two"), std::string::npos);
  testing::WriteFileBytes(dir / "token", "\n");
  EXPECT_FALSE(ReadHttpToken(config).has_value());
}

TEST(HttpTokenTest, LoopbackListenersAreOnly127And6Loopback) {
  EXPECT_TRUE(IsLoopbackListen("127.0.0.1:9470"));
  EXPECT_TRUE(IsLoopbackListen("127.0.0.2:0"));
  EXPECT_TRUE(IsLoopbackListen("[::1]:9470"));
  EXPECT_FALSE(IsLoopbackListen("0.0.0.0:9470"));
  EXPECT_FALSE(IsLoopbackListen("[::]:9470"));
  EXPECT_FALSE(IsLoopbackListen("10.1.2.3:9470"));
  EXPECT_FALSE(IsLoopbackListen("nonsense"));
  auto config = ParseConfig("[http]\ntoken_file = \"/run/secrets/offmon\"\n", "offmon.toml");
  ASSERT_TRUE(config.has_value()) << config.error().ToString();
  EXPECT_EQ(config->http.token_file, "/run/secrets/offmon");
}

}  // namespace
}  // namespace offmon::serve
