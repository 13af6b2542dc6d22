// The remote-write path (docs/remote-write.md, docs/scaling.md): encoding a request
// (protobuf WriteRequest + snappy) on its own, and the whole path from the store's event
// log to a receiver on loopback (read the events after the cursor, decode, encode,
// compress, POST, move the cursor). Reports samples/s and bytes per sample on the wire.
// Fixed-seed data shaped like offmon's own: process memory and CPU, system gauges,
// counters; one collection cycle per 30 s.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <cmath>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "bench_context.h"
#include "offmon/common/config.h"
#include "offmon/notify/remote_write_encoder.h"
#include "offmon/notify/remote_write_sender.h"
#include "offmon/store/store.h"

namespace offmon {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

constexpr int64_t kStartMillis = 1'763'182'230'000;
constexpr int kCycleSeconds = 30;

// One cycle's values for `series` series: a mix of offmon's shapes.
double Value(size_t series, int cycle, std::mt19937_64& rng) {
  std::normal_distribution<double> noise(0, 1);
  switch (series % 4) {
    case 0: return std::round(9e8 + cycle * 1024.0 + noise(rng) * 65536);  // memory bytes
    case 1: return std::round(std::abs(12.3 + noise(rng) * 5) * 10) / 10;   // CPU percent, tenths
    case 2: return 123'456.0 + cycle * 40.0;                                 // a counter
    default: return 0.5 + std::abs(noise(rng));                              // a load average
  }
}

SeriesKey Key(size_t series) {
  static const char* kNames[] = {"process_memory_bytes", "process_cpu_percent", "process_restarts_total",
                                 "system_load1"};
  return SeriesKey(kNames[series % 4], {{"process", "worker-" + std::to_string(series / 4)}});
}

// A loopback receiver on its own thread that reads each request, counts its body bytes
// and answers 204, as a remote-write receiver that keeps up.
class CountingReceiver {
 public:
  CountingReceiver() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}), work_(io_.get_executor()) {
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~CountingReceiver() {
    io_.stop();
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/api/v1/write";
  }
  int64_t body_bytes() const { return body_bytes_; }

 private:
  struct Connection {
    explicit Connection(asio::ip::tcp::socket s) : socket(std::move(s)) {}
    asio::ip::tcp::socket socket;
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::response<http::empty_body> response;
  };
  void Accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
      if (ec) return;
      auto c = std::make_shared<Connection>(std::move(socket));
      http::async_read(c->socket, c->buffer, c->request, [this, c](const boost::system::error_code& read_ec, size_t) {
        if (read_ec) return;
        body_bytes_ += static_cast<int64_t>(c->request.body().size());
        c->response.result(http::status::no_content);
        c->response.keep_alive(false);
        http::async_write(c->socket, c->response, [c](const boost::system::error_code&, size_t) {});
      });
      Accept();
    });
  }
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::atomic<int64_t> body_bytes_{0};
  std::thread thread_;
};

// Encoding alone: one request of `series` series x `per_series` samples.
void BM_EncodeWriteRequest(benchmark::State& state) {
  const auto series = static_cast<size_t>(state.range(0));
  const auto per_series = static_cast<int>(state.range(1));
  std::mt19937_64 rng(42);
  std::vector<notify::RemoteWriteSeries> request;
  for (size_t s = 0; s < series; ++s) {
    SeriesKey key = Key(s);
    key.labels.push_back({"instance", "host-1"});
    notify::RemoteWriteSeries out{key.name, key.labels, {}};
    for (int c = 0; c < per_series; ++c) {
      out.samples.push_back({FromMillis(kStartMillis + int64_t{c} * kCycleSeconds * 1000), Value(s, c, rng)});
    }
    request.push_back(std::move(out));
  }
  size_t bytes = 0;
  for (auto _ : state) {
    std::string body = notify::EncodeWriteRequest(request);
    bytes = body.size();
    benchmark::DoNotOptimize(body);
  }
  const auto samples = static_cast<double>(series * static_cast<size_t>(per_series));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * series * static_cast<size_t>(per_series)));
  state.counters["bytes_per_sample"] = static_cast<double>(bytes) / samples;
}

// The whole path: a store of `series` series x `cycles` cycles (one event per cycle),
// sent from a fresh cursor to the counting receiver.
void BM_SendFromTheLog(benchmark::State& state) {
  const auto series = static_cast<size_t>(state.range(0));
  const auto cycles = static_cast<int>(state.range(1));
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("offmon-bench-rw-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  store::StoreOptions options;
  options.path = dir / "offmon.db";
  auto store = std::move(*store::Store::Open(options));
  // A cursor that never moves keeps every sealed event in the backlog, so each run below
  // reads a day of history partly from there, as an endpoint back from an outage does.
  if (!store->OpenRemoteWriteCursor("keep", SystemClock().Now()).has_value()) state.SkipWithError("cannot open a cursor");
  std::mt19937_64 rng(42);
  for (int c = 0; c < cycles; ++c) {
    auto appender = store->NewAppender("collect:bench");
    const TimePoint t = FromMillis(kStartMillis + int64_t{c} * kCycleSeconds * 1000);
    for (size_t s = 0; s < series; ++s) appender->Add(*appender->Ref(Key(s)), t, Value(s, c, rng));
    if (!appender->Commit(t).ok()) state.SkipWithError("cannot write the store");
  }
  CountingReceiver receiver;
  spdlog::logger log("bench", std::make_shared<spdlog::sinks::null_sink_mt>());
  SystemClock clock;
  int run = 0;
  int64_t sent = 0;
  for (auto _ : state) {
    std::vector<RemoteWriteConfig> config(1);
    config[0].name = "bench" + std::to_string(run++);  // a fresh cursor: everything again
    config[0].url = receiver.url();
    config[0].external_labels = {{"instance", "host-1"}};
    asio::io_context io;
    auto sender = notify::RemoteWriteSender::Create(io, *store, config, clock, log);
    if (!sender) {
      state.SkipWithError(sender.error().ToString().c_str());
      break;
    }
    const auto want = static_cast<int64_t>(series) * cycles;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while ((*sender)->Stats()[0].samples_sent_total < want && std::chrono::steady_clock::now() < deadline) {
      io.run_one_for(std::chrono::seconds(1));
    }
    if ((*sender)->Stats()[0].samples_sent_total != want) {
      state.SkipWithError("not every sample was sent");
      break;
    }
    sent += want;
  }
  state.SetItemsProcessed(sent);
  state.counters["bytes_per_sample"] = static_cast<double>(receiver.body_bytes()) / static_cast<double>(sent);
  std::filesystem::remove_all(dir);
}

// 100 series (25 processes) x 20 cycles = one 2,000-sample request, and 1,000 series.
// 100 series x 1: one live cycle per request, as a daemon that keeps up sends.
BENCHMARK(BM_EncodeWriteRequest)->Args({100, 20})->Args({1000, 2})->Args({100, 1})->Unit(benchmark::kMicrosecond);
// A day of 100 series at 30 s (288,000 samples) through the whole path.
BENCHMARK(BM_SendFromTheLog)->Args({100, 2880})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace offmon

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  offmon::AddMachineContext(argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
