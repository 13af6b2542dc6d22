// Remote write end to end: three real `offmon collect` daemons (three stores, instance
// host-0..2, the system collector every second) send to a real Prometheus from Debian
// (--web.enable-remote-write-receiver). Prometheus is stopped for a while and started
// again, and one daemon is SIGKILLed and restarted meanwhile; then, through Prometheus'
// HTTP API, every series of every daemon is there, and system_load1's samples over the
// whole run equal what `offmon trend --csv` prints. Also: a bad endpoint stops the start
// with one line, and `config check` shows endpoints with their secrets redacted.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "offmon/store/store.h"
#include "support/eventually.h"
#include "support/http_client.h"
#include "support/offmon_binary.h"
#include "support/prometheus.h"
#include "support/run_command.h"
#include "support/temp_dir.h"
#include "support/text.h"

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
constexpr int kDaemons = 3;

std::string UrlEncode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

class RemoteWritePrometheusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prometheus_port_ = FreePort();
    WriteFileBytes(dir_ / "prom.yml", "global:\n  scrape_interval: 15s\n");
    std::filesystem::create_directories(dir_ / "tsdb");
  }

  void StartPrometheus() {
    prometheus_ = std::make_unique<BackgroundCommand>(
        PrometheusArgv(dir_.path(), prometheus_port_, {"--web.enable-remote-write-receiver"}));
    ASSERT_TRUE(Eventually([&] { return HttpGet(prometheus_port_, "/-/ready").status == 200; }))
        << prometheus_->ErrSoFar();
  }
  void StopPrometheus() {
    prometheus_->Signal(SIGTERM);
    prometheus_->Wait(20);
    prometheus_.reset();
  }

  void WriteConfig(int i, std::string_view remote_write) {
    const auto& d = daemon_dirs_[i];
    WriteFileBytes(offmon_[i]->config(),
                   "[system]\ninterval = \"1s\"\n[pm2]\nenabled = false\n[postgres]\nenabled = false\n"
                   "[log]\nfile = \"" + (d / "monitor.log").string() + "\"\n[http]\nlisten = \"\"\n" +
                       std::string(remote_write));
  }
  std::string RemoteWriteSection(int i) const {
    return fmt::format("[remote_write.central]\nurl = \"http://127.0.0.1:{}/api/v1/write\"\nmin_backoff = \"50ms\"\n"
                       "max_backoff = \"500ms\"\nmax_samples_per_send = 500\n"
                       "[remote_write.central.external_labels]\ninstance = \"host-{}\"\n",
                       prometheus_port_, i);
  }

  // The daemon's cursor: pending events, or -1 while there is no store or no cursor yet.
  int64_t Pending(int i) {
    auto reader = offmon_[i]->OpenReader();
    if (!reader) return -1;
    auto cursors = (*reader)->RemoteWriteCursors(SystemClock().Now());
    if (!cursors || cursors->empty()) return -1;
    return cursors->front().pending_events;
  }

  nlohmann::json Query(const std::string& path) {
    auto reply = HttpGet(prometheus_port_, path);
    return reply.status == 200 ? nlohmann::json::parse(reply.body, nullptr, false) : nlohmann::json();
  }

  TempDir dir_;
  std::vector<TempDir> daemon_dirs_ = std::vector<TempDir>(kDaemons);
  std::vector<std::unique_ptr<testing::OffmonBinary>> offmon_;
  std::vector<std::unique_ptr<BackgroundCommand>> daemons_;
  std::unique_ptr<BackgroundCommand> prometheus_;
  uint16_t prometheus_port_ = 0;
};

TEST_F(RemoteWritePrometheusTest, ThreeDaemonsFillPrometheusAcrossAnOutageAndASigkill) {
  if (!std::filesystem::exists(kPrometheus)) GTEST_SKIP() << kPrometheus << " is missing (Debian package prometheus)";
  StartPrometheus();
  const int64_t start_s = ToMillis(SystemClock().Now()) / 1000;
  for (int i = 0; i < kDaemons; ++i) {
    offmon_.push_back(std::make_unique<testing::OffmonBinary>(daemon_dirs_[i]));
    WriteConfig(i, RemoteWriteSection(i));
    daemons_.push_back(offmon_[i]->StartCollect());
  }
  // Sending: every daemon has collected a few cycles and its cursor has caught up.
  for (int i = 0; i < kDaemons; ++i) {
    ASSERT_TRUE(Eventually([&] { return offmon_[i]->Samples() >= 3 && Pending(i) == 0; }))
        << daemons_[i]->ErrSoFar();
  }
  // The receiver goes away for ten cycles; the daemons keep collecting.
  StopPrometheus();
  std::vector<size_t> before;
  for (int i = 0; i < kDaemons; ++i) before.push_back(offmon_[i]->Samples());
  for (int i = 0; i < kDaemons; ++i) {
    ASSERT_TRUE(Eventually([&] { return offmon_[i]->Samples() >= before[i] + 10 && Pending(i) > 0; }));
  }
  // Daemon 0 dies hard while it holds unsent events, and starts again.
  daemons_[0]->Signal(SIGKILL);
  daemons_[0]->Wait(20);
  daemons_[0] = offmon_[0]->StartCollect();
  StartPrometheus();
  // Caught up: the series each store has, read before a moment its cursor had nothing
  // pending, all reached Prometheus.
  std::vector<std::vector<store::SeriesInfo>> series(kDaemons);
  int64_t cut_s = 0;
  ASSERT_TRUE(Eventually([&] {
    cut_s = ToMillis(SystemClock().Now()) / 1000;
    for (int i = 0; i < kDaemons; ++i) {
      auto reader = offmon_[i]->OpenReader();
      if (!reader) return false;
      auto all = (*reader)->Select(*store::Selector::Parse("{__name__=~\".+\"}"));
      if (!all) return false;
      series[i] = std::move(*all);
    }
    for (int i = 0; i < kDaemons; ++i) {
      if (Pending(i) != 0) return false;
    }
    return true;
  })) << daemons_[0]->ErrSoFar();

  for (int i = 0; i < kDaemons; ++i) {
    const std::string instance = fmt::format("host-{}", i);
    auto got = Query(fmt::format("/api/v1/series?match[]={}&start={}&end={}",
                                 UrlEncode(fmt::format("{{instance=\"{}\"}}", instance)), start_s - 60, cut_s + 60));
    ASSERT_EQ(got["status"], "success") << got.dump();
    std::set<std::string> in_prometheus;
    for (const auto& labels : got["data"]) {
      Labels l;
      std::string name;
      for (const auto& [k, v] : labels.items()) {
        if (k == "__name__") {
          name = v.get<std::string>();
        } else if (k != "instance") {
          l.push_back({k, v.get<std::string>()});
        }
      }
      in_prometheus.insert(SeriesKey(name, l).ToString());
    }
    ASSERT_GT(series[i].size(), 10u);
    for (const store::SeriesInfo& s : series[i]) {
      EXPECT_TRUE(in_prometheus.contains(s.key.ToString())) << instance << " lacks " << s.key.ToString();
    }

    // system_load1 over the whole run: Prometheus' raw samples (a range selector) and
    // `offmon trend --csv` at a 1 s step (one sample per bucket) agree in count and values.
    // Up to two seconds before the cut: a cycle is committed a moment after its grid time,
    // so a sample stamped just before the cut may have been written after it.
    const int64_t until_s = cut_s - 2;
    const int64_t since = until_s - start_s + 5;
    auto trend = offmon_[i]->Run({"trend", "system_load1", "--csv", "--step", "1s", "--since", fmt::format("{}s", since),
                                  "--until", std::to_string(until_s)});
    ASSERT_EQ(trend.exit_code, 0) << trend.err;
    std::map<int64_t, double> offmon_samples;  // bucket start (s) -> value
    int64_t offmon_count = 0;
    std::istringstream lines(trend.out);
    std::string line;
    std::getline(lines, line);  // header
    while (std::getline(lines, line)) {
      // series,start,min,avg,max,count; the series key has no commas here.
      std::vector<std::string> f;
      std::stringstream fields(line);
      for (std::string x; std::getline(fields, x, ',');) f.push_back(x);
      ASSERT_EQ(f.size(), 6u) << line;
      offmon_samples[ToMillis(*ParseRfc3339(f[1])) / 1000] = std::stod(f[3]);
      offmon_count += std::stoll(f[5]);
    }
    // trend prints the bucket that starts at --until too: Prometheus' range (t - since, t]
    // ends at that bucket's last millisecond.
    auto raw = Query(fmt::format("/api/v1/query?query={}&time={}.999",
                                 UrlEncode(fmt::format("system_load1{{instance=\"{}\"}}[{}s]", instance, since)),
                                 until_s));
    ASSERT_EQ(raw["status"], "success") << raw.dump();
    ASSERT_EQ(raw["data"]["result"].size(), 1u) << raw.dump();
    std::map<int64_t, double> prometheus_samples;
    for (const auto& v : raw["data"]["result"][0]["values"]) {
      const double t = v[0].get<double>();
      prometheus_samples[static_cast<int64_t>(std::floor(t))] = std::stod(v[1].get<std::string>());
    }
    EXPECT_EQ(static_cast<int64_t>(raw["data"]["result"][0]["values"].size()), offmon_count) << instance;
    EXPECT_EQ(prometheus_samples, offmon_samples) << instance << "\n" << raw.dump() << "\n" << trend.out;
    EXPECT_GE(offmon_count, 10) << instance;  // before, during and after the outage
  }
  for (auto& d : daemons_) {
    d->Signal(SIGTERM);
    EXPECT_EQ(d->Wait(20).exit_code, 0);
  }
  StopPrometheus();
}

TEST_F(RemoteWritePrometheusTest, ABadEndpointStopsTheStartWithOneLine) {
  offmon_.push_back(std::make_unique<testing::OffmonBinary>(daemon_dirs_[0]));
  WriteConfig(0, "[remote_write.central]\nurl = \"http://127.0.0.1:9/w\"\nbearer_token_file = \"/nonexistent/token\"\n");
  auto result = offmon_[0]->Run({"collect"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("[remote_write.central] bearer_token_file: /nonexistent/token: cannot read"),
            std::string::npos)
      << result.err;
  EXPECT_EQ(testing::Lines(result.err), 1u) << result.err;

  WriteConfig(0, "[remote_write.central]\nurl = \"http://[::1/w\"\n");
  result = offmon_[0]->Run({"collect"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("[remote_write.central] url"), std::string::npos) << result.err;
  EXPECT_EQ(testing::Lines(result.err), 1u) << result.err;
}

TEST_F(RemoteWritePrometheusTest, ConfigCheckShowsEndpointsRedacted) {
  offmon_.push_back(std::make_unique<testing::OffmonBinary>(daemon_dirs_[0]));
  const auto password = daemon_dirs_[0] / "password";
  WriteFileBytes(password, "hunter2-secret\n");
  WriteConfig(0, fmt::format("[remote_write.mimir]\nurl = \"https://mimir.example:8443/api/v1/push?token=abcdefgh\"\n"
                             "username = \"host7\"\npassword_file = \"{}\"\n"
                             "[remote_write.mimir.external_labels]\ninstance = \"host-7\"\n",
                             password.string()));
  auto result = offmon_[0]->Run({"config", "check"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("remote_write: mimir https://mimir.example:8443/***; basic auth as host7"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("tls: verified (system CA)"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("abcdefgh"), std::string::npos);
  EXPECT_EQ(result.out.find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace offmon
