// `offmon collect` serving HTTP as a process: /metrics, /healthz and /api/report while it
// collects, many clients and slow ones not stalling collection, /healthz turning 503 when
// a collector starts failing, and a real Prometheus scraping it.
#include <sys/socket.h>
#include <sys/un.h>

#include <filesystem>
#include <future>
#include <regex>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "offmon/store/store.h"
#include "support/eventually.h"
#include "support/http_client.h"
#include "support/offmon_binary.h"
#include "support/prometheus.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace offmon {
namespace {

using namespace std::chrono_literals;
using testing::BackgroundCommand;
using testing::Eventually;
using testing::FreePort;
using testing::HttpGet;
using testing::TempDir;
using testing::WriteFileBytes;

using testing::kPrometheus;
using testing::PrometheusArgv;

class HttpDaemonTest : public ::testing::Test {
 protected:
  void WriteConfig(std::string_view extra = "") {
    WriteFileBytes(config_, "[system]\ninterval = \"1s\"\n[pm2]\nenabled = false\n[postgres]\nenabled = false\n"
                            "[log]\nfile = \"" + (dir_ / "monitor.log").string() +
                                "\"\n[http]\nlisten = \"127.0.0.1:0\"\nread_timeout = \"2s\"\n" + std::string(extra));
  }
  // Starts the daemon and reads the port it logged.
  void Start() {
    daemon_ = offmon_.StartCollect();
    const std::regex listening("http: listening on 127\\.0\\.0\\.1:([0-9]+)");
    std::smatch match;
    ASSERT_TRUE(Eventually([&] {
      const std::string err = daemon_->ErrSoFar();
      if (!std::regex_search(err, match, listening)) return false;
      port_ = static_cast<uint16_t>(std::stoi(match[1]));
      return true;
    })) << daemon_->ErrSoFar();
  }
  size_t Cycles() { return offmon_.Samples("system_load1"); }
  void TearDown() override {
    if (daemon_) {
      daemon_->Signal(SIGTERM);
      auto result = daemon_->Wait(20);
      EXPECT_EQ(result.exit_code, 0) << result.err;
    }
  }

  TempDir dir_;
  testing::OffmonBinary offmon_{dir_};
  const std::filesystem::path& config_ = offmon_.config();
  std::unique_ptr<BackgroundCommand> daemon_;
  uint16_t port_ = 0;
};

TEST_F(HttpDaemonTest, ServesMetricsHealthAndTheReportWhileCollecting) {
  WriteConfig();
  Start();
  ASSERT_TRUE(Eventually([&] { return Cycles() >= 1 && HttpGet(port_, "/healthz").status == 200; }))
      << daemon_->ErrSoFar();
  EXPECT_EQ(HttpGet(port_, "/healthz").body, "ok\n");
  auto metrics = HttpGet(port_, "/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.error;
  EXPECT_NE(metrics.headers.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << metrics.headers;
  EXPECT_NE(metrics.body.find("\ncollector_up{collector=\"system\"} 1\n"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("\nsystem_load1 "), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("\noffmon_daemon_resident_memory_bytes "), std::string::npos) << metrics.body;
  auto report = HttpGet(port_, "/api/report");
  ASSERT_EQ(report.status, 200) << report.error << report.body;
  EXPECT_NE(report.headers.find("Content-Type: application/json"), std::string::npos) << report.headers;
  auto json = nlohmann::json::parse(report.body, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(json.is_discarded()) << report.body;
  EXPECT_TRUE(json.contains("status")) << report.body;
  EXPECT_EQ(testing::RawHttp(port_, "NOT HTTP\r\n\r\n").status, 400);
  EXPECT_EQ(HttpGet(port_, "/nope").status, 404);
}

TEST_F(HttpDaemonTest, ServesTheDashboardBehindItsTokenReadAgainOnSighup) {
  WriteFileBytes(dir_ / "token", "first-token\n");
  WriteConfig("token_file = \"" + (dir_ / "token").string() + "\"\n");
  Start();
  const std::string first = "Authorization: Bearer first-token\r\n";
  ASSERT_TRUE(Eventually([&] { return Cycles() >= 1 && HttpGet(port_, "/", first).status == 200; }))
      << daemon_->ErrSoFar();
  auto page = HttpGet(port_, "/", first);
  EXPECT_NE(page.body.find("<section id=\"status\""), std::string::npos) << page.body;
  EXPECT_NE(page.headers.find("Content-Security-Policy: default-src 'self'"), std::string::npos) << page.headers;
  EXPECT_NE(page.headers.find("X-Content-Type-Options: nosniff"), std::string::npos) << page.headers;
  EXPECT_EQ(HttpGet(port_, "/charts?range=7d", first).status, 200);
  EXPECT_EQ(HttpGet(port_, "/static/dashboard.js", first).status, 200);
  EXPECT_EQ(HttpGet(port_, "/").status, 401);
  EXPECT_EQ(HttpGet(port_, "/metrics").status, 401);
  EXPECT_EQ(HttpGet(port_, "/healthz").status, 200);
  WriteFileBytes(dir_ / "token", "second-token\n");
  daemon_->Signal(SIGHUP);
  const std::string second = "Authorization: Bearer second-token\r\n";
  ASSERT_TRUE(Eventually([&] { return HttpGet(port_, "/metrics", second).status == 200; })) << daemon_->ErrSoFar();
  EXPECT_EQ(HttpGet(port_, "/metrics", first).status, 401);
  EXPECT_EQ(daemon_->ErrSoFar().find("first-token"), std::string::npos);
  EXPECT_EQ(daemon_->ErrSoFar().find("second-token"), std::string::npos);
}

TEST_F(HttpDaemonTest, ManyAndSlowClientsDoNotStallCollection) {
  WriteConfig("max_connections = 16\n");
  Start();
  ASSERT_TRUE(Eventually([&] { return Cycles() >= 1; })) << daemon_->ErrSoFar();
  // Slow clients: connected, sending nothing, holding connections until read_timeout.
  std::vector<int> slow;
  for (int i = 0; i < 5; ++i) slow.push_back(testing::ConnectLoopback(port_));
  const size_t before = Cycles();
  std::vector<std::future<testing::HttpReply>> replies;
  for (int i = 0; i < 50; ++i) {
    replies.push_back(std::async(std::launch::async, [&] { return HttpGet(port_, "/metrics"); }));
  }
  int served = 0, refused = 0;
  for (auto& f : replies) {
    auto reply = f.get();
    if (reply.status == 200) {
      ++served;
      EXPECT_NE(reply.body.find("offmon_daemon_healthy"), std::string::npos);
    } else {
      EXPECT_EQ(reply.status, 503) << reply.error;
      ++refused;
    }
  }
  EXPECT_EQ(served + refused, 50);
  EXPECT_GT(served, 0);
  // Collection went on: two more cycles stored.
  EXPECT_TRUE(Eventually([&] { return Cycles() >= before + 2; }, 20s)) << daemon_->ErrSoFar();
  for (int fd : slow) ::close(fd);
}

// A listening Unix socket standing in for PM2's rpc.sock: while it exists, the PM2
// collector believes a daemon runs and runs `binary jlist`.
class FakePm2Socket {
 public:
  explicit FakePm2Socket(const std::filesystem::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 && ::listen(fd_, 16) == 0;
  }
  ~FakePm2Socket() { Remove(); }
  bool ok() const { return ok_; }
  void Remove() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  bool ok_ = false;
};

TEST_F(HttpDaemonTest, HealthzTurns503WhenACollectorStartsFailing) {
  const auto pm2 = dir_ / "pm2";
  WriteFileBytes(pm2, "#!/bin/sh\necho '[]'\n");
  std::filesystem::permissions(pm2, std::filesystem::perms::owner_all);
  std::filesystem::create_directories(dir_ / "pm2home");
  FakePm2Socket socket(dir_ / "pm2home" / "rpc.sock");
  ASSERT_TRUE(socket.ok());
  WriteConfig();
  std::string config = testing::ReadFileBytes(config_);
  config.replace(config.find("[pm2]\nenabled = false\n"), 22,
                 "[pm2]\nenabled = true\ninterval = \"1s\"\nmethod = \"jlist\"\nbinary = \"" + pm2.string() +
                     "\"\nhome = \"" +
                     (dir_ / "pm2home").string() + "\"\n");
  WriteFileBytes(config_, config);
  Start();
  // pm2 has succeeded (not merely had no chance to run yet) and all is healthy.
  ASSERT_TRUE(Eventually([&] {
    return HttpGet(port_, "/metrics").body.find(
               "offmon_daemon_collector_last_success_timestamp_seconds{collector=\"pm2\"}") != std::string::npos;
  })) << daemon_->ErrSoFar();
  EXPECT_EQ(HttpGet(port_, "/healthz").status, 200);
  socket.Remove();  // the PM2 daemon goes away
  testing::HttpReply health;
  ASSERT_TRUE(Eventually([&] {
    health = HttpGet(port_, "/healthz");
    return health.status == 503;
  })) << daemon_->ErrSoFar();
  EXPECT_NE(health.body.find("collector pm2: last succeeded"), std::string::npos) << health.body;
  EXPECT_NE(health.body.find("PM2 daemon not running"), std::string::npos) << health.body;
  EXPECT_EQ(health.body.find("collector system"), std::string::npos) << health.body;
}

TEST_F(HttpDaemonTest, ARealPrometheusScrapesOffmon) {
  if (!std::filesystem::exists(kPrometheus)) {
    GTEST_SKIP() << kPrometheus << " is missing (Debian package prometheus): cannot run the scrape test";
  }
  WriteConfig();
  Start();
  const uint16_t prometheus_port = FreePort();
  WriteFileBytes(dir_ / "prom.yml", "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n"
                                    "  - job_name: offmon\n    static_configs:\n      - targets: ['127.0.0.1:" +
                                        std::to_string(port_) + "']\n");
  std::filesystem::create_directories(dir_ / "tsdb");
  BackgroundCommand prometheus(PrometheusArgv(dir_.path(), prometheus_port));
  // up{job="offmon"} == 1, then an offmon series, through Prometheus' HTTP API.
  auto query = [&](std::string_view encoded) {
    auto reply = HttpGet(prometheus_port, std::string("/api/v1/query?query=") + std::string(encoded));
    return reply.status == 200 ? nlohmann::json::parse(reply.body, nullptr, false) : nlohmann::json();
  };
  auto value_of = [](const nlohmann::json& json) -> std::string {
    if (!json.is_object() || json["status"] != "success" || json["data"]["result"].empty()) return "";
    return json["data"]["result"][0]["value"][1].get<std::string>();
  };
  nlohmann::json up;
  ASSERT_TRUE(Eventually([&] {
    up = query("up%7Bjob%3D%22offmon%22%7D");
    return value_of(up) == "1";
  })) << up.dump() << "\n" << prometheus.ErrSoFar();
  nlohmann::json series;
  ASSERT_TRUE(Eventually([&] {
    series = query("collector_up%7Bcollector%3D%22system%22%7D");
    return value_of(series) == "1";
  })) << series.dump();
  EXPECT_EQ(series["data"]["result"][0]["metric"]["job"], "offmon");
  prometheus.Signal(SIGTERM);
  prometheus.Wait(20);
}

}  // namespace
}  // namespace offmon
