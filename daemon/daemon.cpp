#include "daemon_impl.h"

#include <malloc.h>

#include <cmath>
#include <csignal>
#include <filesystem>
#include <map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include "batch_sink_impl.h"
#include "fleet_series_impl.h"
#include "monitor_log_report_impl.h"
#include "offmon/analyzer/analyzer.h"
#include "offmon/analyzer/baselines.h"
#include "offmon/collector/log_tail.h"
#include "offmon/common/cli.h"
#include "offmon/common/metric_names.h"
#include "offmon/notify/notification_payload.h"
#include "offmon/notify/notification_sender.h"
#include "offmon/notify/remote_write_sender.h"
#include "offmon/serve/daemon_http.h"
#include "offmon/serve/daemon_status.h"
#include "offmon/store/store.h"
#include "scheduler_impl.h"

namespace offmon::daemon {

namespace {

namespace asio = boost::asio;

// A store write that keeps failing (disk full) holds at most this many samples of one
// collector for retry; past it the oldest batch is dropped and the loss logged.
constexpr size_t kMaxPendingSamples = 200'000;
constexpr Duration kRetentionEvery = std::chrono::hours(6);
// One per collector type (system, self, processes, pm2, postgres), so none waits.
constexpr int kWorkerThreads = 5;

class DaemonLoop {
 public:
  DaemonLoop(const DaemonOptions& options, const Clock& clock, spdlog::logger& log, store::Store& store)
      : options_(options), clock_(clock), log_(log), store_(store), config_(options.config), pool_(kWorkerThreads),
        timer_(io_), retention_timer_(io_), analyzer_timer_(io_), signals_(io_, SIGINT, SIGTERM, SIGHUP) {}

  int Run() {
    if (!options_.once) {
      // An endpoint that cannot be used (a missing token file, a bad URL) stops the start:
      // one line, before anything else happens.
      if (Status status = StartRemoteWrite(); !status.ok()) {
        log_.error("remote_write: {}", status.message());
        return ExitCodeFor(status);
      }
    }
    Install(options_.factory(config_, store_, log_));
    StartAnalyzer();
    WaitForSignal();
    if (options_.once) {
      const TimePoint grid = std::chrono::floor<std::chrono::seconds>(clock_.Now());
      for (size_t i = 0; i < slots_.size(); ++i) Launch(i, grid);
    } else {
      StartHttp();
      ApplyRetention();
      Arm();
      ArmAnalyzer();
    }
    io_.run();
    pool_.join();
    return exit_code_;
  }

 private:
  void Install(std::vector<CollectorSlot> slots) {
    slots_ = std::move(slots);
    std::vector<Scheduler::Entry> entries;
    std::string summary;
    for (const CollectorSlot& slot : slots_) {
      std::string name(slot.collector->name());
      entries.push_back({name, slot.interval, Scheduler::JitterFor(name, slot.interval)});
      summary += fmt::format("{}{} every {}", summary.empty() ? "" : ", ", name, FormatDurationShort(slot.interval));
    }
    scheduler_ = std::make_unique<Scheduler>(std::move(entries), clock_.Now());
    std::vector<std::pair<std::string, Duration>> health;
    for (const CollectorSlot& slot : slots_) health.emplace_back(std::string(slot.collector->name()), slot.interval);
    health_.Install(health, clock_.Now());
    ++generation_;
    log_.info("collecting into {}: {}", options_.store_path, summary);
  }

  void Arm() {
    if (stopping_) return;
    Duration delay = std::max(Duration(0), scheduler_->NextWake() - clock_.Now());
    timer_.expires_after(delay);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;  // cancelled: rearmed or stopping
      for (const Scheduler::Due& due : scheduler_->DueAt(clock_.Now())) Launch(due.index, due.grid);
      Arm();
    });
  }

  void Launch(size_t index, TimePoint grid) {
    ++running_;
    std::shared_ptr<collector::Collector> collector = slots_[index].collector;
    asio::post(pool_, [this, collector, index, grid, generation = generation_] {
      auto sink = std::make_shared<BatchSink>();
      const auto started = std::chrono::steady_clock::now();
      try {
        collector->Collect(grid, *sink);
      } catch (const std::exception& e) {  // collectors catch their own; this is the last line
        sink->CollectorFailed(collector->name(), fmt::format("unexpected error: {}", e.what()));
      } catch (...) {
        sink->CollectorFailed(collector->name(), "unexpected error");
      }
      const Duration took = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started);
      asio::post(io_, [this, collector, index, grid, generation, sink, took] {
        // The run's own buffers (a backlog's metadata, its result pages) are freed by now,
        // on the worker's arena: hand them back before the write allocates on this one, so
        // the two peaks do not add up.
        malloc_trim(0);
        Write(*collector, grid, *sink, took);
        // A run's buffers (an epoch backlog's participant lists) are freed now; hand the
        // pages back so the daemon's RSS reflects what it holds, not its peak.
        malloc_trim(0);
        if (generation == generation_) scheduler_->Finished(index);
        if (--running_ == 0 && (stopping_ || options_.once)) {
          if (options_.once && !stopping_) Analyze();
          Stop();
        }
      });
    });
  }

  void Write(const collector::Collector& collector, TimePoint grid, BatchSink& sink, Duration took) {
    const std::string name(collector.name());
    auto& appender = pending_[name];
    if (!appender) appender = store_.NewAppender("collect:" + name);
    ReportFailures(name, sink);
    health_.RecordRun(name, clock_.Now(), sink.failures());
    const Labels labels{{"collector", name}};
    if (auto id = appender->Ref(SeriesKey(metric::kCollectorUp, labels))) {
      appender->Add(*id, grid, sink.failures().empty() ? 1 : 0);
    }
    if (auto id = appender->Ref(SeriesKey(metric::kCollectorDurationSeconds, labels))) {
      appender->Add(*id, grid, std::round(static_cast<double>(took.count())) / 1000);
    }
    sink.MoveTo(*appender);
    Status status = appender->Commit(grid);
    health_.store_error = status.ok() ? "" : status.ToString();
    if (status.ok()) {
      if (!options_.once) RecordFleetSeries(grid);  // a daemon's health; --once is one cycle
      if (remote_write_) remote_write_->Wake();
      return;
    }
    exit_code_ = ExitCodeFor(status);
    if (appender->pending_samples() > kMaxPendingSamples) {
      log_.error("store write failed for {} and {} samples are waiting; dropping them: {}", name,
                 appender->pending_samples(), status.ToString());
      appender->Rollback();
    } else {
      log_.error("store write failed for {}, will retry with the next cycle: {}", name, status.ToString());
    }
  }

  // The fleet series once per cycle second (fleet_series_impl.h), after a collector's
  // batch committed: offmon_last_cycle_timestamp_seconds says the last cycle that did.
  void RecordFleetSeries(TimePoint grid) {
    if (fleet_recorded_ && *fleet_recorded_ >= grid) return;
    fleet_recorded_ = grid;
    static const std::map<std::string, analyzer::ActiveAlert> kNone;
    std::vector<store::RemoteWriteCursor> cursors;
    if (auto read = store_.RemoteWriteCursors(clock_.Now())) {
      cursors = std::move(*read);
    } else {
      log_.error("remote_write: cannot read the cursors: {}", read.error().ToString());
    }
    auto appender = store_.NewAppender("collect:offmon");
    fleet_.Append(grid, analyzer_ ? analyzer_->tracker().active() : kNone, cursors,
                  remote_write_ ? remote_write_->Stats() : std::vector<notify::RemoteWriteStats>{}, *appender);
    if (Status status = appender->Commit(grid); !status.ok()) {
      log_.error("cannot store the fleet series: {}", status.ToString());
    }
  }

  Status StartRemoteWrite() {
    remote_write_.reset();
    if (config_.remote_write.empty()) return Status::Ok();
    auto sender = notify::RemoteWriteSender::Create(io_, store_, config_.remote_write, clock_, log_);
    if (!sender) return sender.error();
    remote_write_ = std::move(*sender);
    for (const RemoteWriteConfig& rw : config_.remote_write) {
      log_.info("remote_write: {}: sending to {}", rw.name, notify::RedactHttpUrl(rw.url));
    }
    return Status::Ok();
  }

  // Logs a collector's failure when it starts or changes, and its recovery, instead of
  // every cycle.
  void ReportFailures(const std::string& name, const BatchSink& sink) {
    std::string now_failing;
    for (const auto& [collector, reason] : sink.failures()) now_failing += (now_failing.empty() ? "" : "; ") + reason;
    std::string& before = failing_[name];
    if (now_failing != before) {
      if (now_failing.empty()) {
        log_.info("collector {} recovered", name);
      } else {
        log_.warn("collector {}: {}", name, now_failing);
      }
      before = now_failing;
    }
  }

  // The analyzer resumes the alert state recorded in the store, so a restart neither
  // re-announces firing alerts nor forgets them.
  void StartAnalyzer() {
    sender_.reset();
    analyzer_.reset();
    if (!config_.analyzer.enabled) return;
    analyzer_ = std::make_unique<analyzer::Analyzer>(config_, store_, analyzer::AnalyzerMode::kLive);
    if (Status status = analyzer_->Restore(); !status.ok()) {
      log_.error("analyzer: cannot restore alert state, not analyzing: {}", status.ToString());
      analyzer_.reset();
      return;
    }
    // The notification outbox: resumes sending what an earlier run queued.
    if (!config_.notify.receivers.empty()) {
      sender_ = std::make_unique<notify::NotificationSender>(io_, store_, config_.notify, clock_, log_);
    }
  }

  void ArmAnalyzer() {
    if (stopping_ || !analyzer_) return;
    analyzer_timer_.expires_after(config_.analyzer.interval);
    analyzer_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      Analyze();
      ArmAnalyzer();
    });
  }

  // One evaluation of every rule on what is stored now; transitions are recorded and
  // logged, and a firing alert about a PM2 process gets its log tail captured for the
  // escalation message. Then the report in the monitor log.
  void Analyze() {
    if (!analyzer_) return;
    const TimePoint now = clock_.Now();
    const size_t announced = Evaluate(now);
    monitor_log_report_.AfterAnalysis(config_, store_, now, announced, log_);
  }

  // Returns the number of transitions logged.
  size_t Evaluate(TimePoint now) {
    size_t announced = 0;
    auto transitions = analyzer_->Evaluate(now);
    if (!transitions) {
      log_.error("analyzer: {}", transitions.error().ToString());
      return announced;
    }
    if (Status status = analyzer_->Record(*transitions); !status.ok()) {
      log_.error("analyzer: cannot record alert transitions: {}", status.ToString());
    }
    if (sender_) sender_->Queue(*transitions, now, analyzer_->tracker().active());
    RecordBaselinesHourly(now);
    BatchSink tails;
    bool captured = false;
    for (const analyzer::Transition& t : *transitions) {
      if (t.state == analyzer::AlertState::kPending) continue;
      ++announced;
      const std::string labels = SeriesKey(t.alert, t.labels).ToString();
      const auto severity = analyzer::SeverityName(t.severity);
      const auto state = analyzer::AlertStateName(t.state);
      if (t.state == analyzer::AlertState::kResolved || t.severity == analyzer::Severity::kInfo) {
        log_.info("{} {} {}: {}", state, severity, labels, t.summary);
      } else if (t.severity == analyzer::Severity::kCritical) {
        log_.critical("{} {} {}: {}{}", state, severity, labels, t.summary, CauseNote(t));
      } else {
        log_.warn("{} {} {}: {}{}", state, severity, labels, t.summary, CauseNote(t));
      }
      const std::string process(SeriesKey(t.alert, t.labels).Label("process"));
      if (t.state != analyzer::AlertState::kFiring || t.severity == analyzer::Severity::kInfo || process.empty()) {
        continue;
      }
      if (auto logs = analyzer_->ProcessLogs(process)) {
        collector::CaptureLogTails(collector::ProcessLogs{process, logs->out_log, logs->err_log}, now, tails);
        captured = true;
      }
    }
    if (!captured) return announced;
    auto appender = store_.NewAppender("analyzer:log_tail");
    tails.MoveTo(*appender);
    if (Status status = appender->Commit(now); !status.ok()) {
      log_.error("cannot store log tails: {}", status.ToString());
    }
    return announced;
  }

  // Baselines move slowly; once an hour (and on the first analysis) is plenty.
  void RecordBaselinesHourly(TimePoint now) {
    const auto hour = std::chrono::floor<std::chrono::hours>(now);
    if (baselines_recorded_ && *baselines_recorded_ == hour) return;
    baselines_recorded_ = hour;
    if (Status status = analyzer::RecordBaselines(store_, config_, now); !status.ok()) {
      log_.error("analyzer: cannot record baselines: {}", status.ToString());
    }
  }

  static std::string CauseNote(const analyzer::Transition& t) {
    return t.inhibited_by.empty() ? "" : fmt::format(" (caused by {})", t.inhibited_by);
  }

  void ApplyRetention() {
    if (Status status = store_.ApplyRetention(clock_.Now()); !status.ok()) {
      log_.error("retention: {}", status.ToString());
    }
    retention_timer_.expires_after(kRetentionEvery);
    retention_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) ApplyRetention();
    });
  }

  void WaitForSignal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      if (signo == SIGHUP) {
        Reload();
        WaitForSignal();
        return;
      }
      log_.info("received {}, stopping after the writes in progress", signo == SIGTERM ? "SIGTERM" : "SIGINT");
      stopping_ = true;
      exit_code_ = 0;
      timer_.cancel();
      retention_timer_.cancel();
      analyzer_timer_.cancel();
      if (running_ == 0) Stop();
    });
  }

  void Reload() {
    if (options_.config_path.empty()) {
      log_.warn("SIGHUP: no config file to reload (started without --config)");
      return;
    }
    auto config = LoadConfig(options_.config_path);
    if (!config) {
      log_.error("SIGHUP: keeping the running config: {}", config.error().ToString());
      return;
    }
    log_.info("SIGHUP: reloaded {}", options_.config_path);
    timer_.cancel();
    analyzer_timer_.cancel();
    config_ = std::move(*config);
    Install(options_.factory(config_, store_, log_));
    if (http_) http_->Apply(config_.http);
    if (Status status = StartRemoteWrite(); !status.ok()) {
      log_.error("SIGHUP: remote_write: {}; not sending until fixed", status.message());
    }
    StartAnalyzer();
    Arm();
    ArmAnalyzer();
  }

  // The HTTP listener (/metrics, /healthz, /api/report) on this loop; not in --once.
  void StartHttp() {
    serve::HttpEndpoints::Sources sources;
    sources.store = &store_;
    sources.status = &health_;
    sources.config = &config_;
    sources.clock = &clock_;
    sources.store_path = options_.store_path;
    sources.outbox_backlog = [this] { return sender_ ? sender_->Backlog() : std::map<std::string, int64_t>{}; };
    http_ = std::make_unique<serve::DaemonHttp>(io_, std::move(sources), log_);
    http_->Apply(config_.http);
  }

  void Stop() {
    if (http_) http_->Stop();
    signals_.cancel();
    timer_.cancel();
    retention_timer_.cancel();
    analyzer_timer_.cancel();
    io_.stop();
  }

  const DaemonOptions& options_;
  const Clock& clock_;
  spdlog::logger& log_;
  store::Store& store_;
  Config config_;  // the running config: the options' until a SIGHUP reload
  asio::io_context io_;
  asio::thread_pool pool_;
  asio::steady_timer timer_;
  asio::steady_timer retention_timer_;
  asio::steady_timer analyzer_timer_;
  asio::signal_set signals_;
  std::vector<CollectorSlot> slots_;
  std::unique_ptr<Scheduler> scheduler_;
  int generation_ = 0;
  int running_ = 0;
  bool stopping_ = false;
  int exit_code_ = 0;
  std::map<std::string, std::unique_ptr<store::Appender>> pending_;
  std::map<std::string, std::string> failing_;
  std::unique_ptr<analyzer::Analyzer> analyzer_;
  std::unique_ptr<notify::NotificationSender> sender_;  // after io_: destroyed first
  std::unique_ptr<notify::RemoteWriteSender> remote_write_;  // after io_: destroyed first
  FleetSeries fleet_;
  std::optional<TimePoint> fleet_recorded_;
  serve::DaemonStatus health_;                   // for /healthz and /metrics
  std::unique_ptr<serve::DaemonHttp> http_;      // after io_ and what it serves: destroyed first
  MonitorLogReport monitor_log_report_;
  std::optional<std::chrono::sys_time<std::chrono::hours>> baselines_recorded_;
};

}  // namespace

int RunDaemon(const DaemonOptions& options, store::Store& store, const Clock& clock, spdlog::logger& log) {
  // Collectors run on several threads; glibc would give each its own 64 MiB arena and
  // keep their freed pages. One arena: a collector's run and the write that follows reuse
  // the same free pages instead of each arena keeping its own high-water mark (the
  // threads take turns; contention on its lock is a few short runs per interval).
  mallopt(M_ARENA_MAX, 1);
  // Fixed thresholds, so glibc does not raise them after the first large free: blocks of
  // 64 KiB or more (a result page, a participant list, a JSON payload) are mapped and
  // unmapped on their own, and a free top of the heap above 128 KiB is returned at once,
  // so a backlog's buffers leave no high-water mark behind.
  mallopt(M_MMAP_THRESHOLD, 64 * 1024);
  mallopt(M_TRIM_THRESHOLD, 128 * 1024);
  DaemonLoop loop(options, clock, log, store);
  return loop.Run();
}

Result<std::shared_ptr<spdlog::logger>> MakeDaemonLogger(const LogConfig& config) {
  std::vector<spdlog::sink_ptr> sinks{std::make_shared<spdlog::sinks::stderr_sink_mt>()};
  if (!config.file.empty()) {
    std::error_code ec;
    std::filesystem::path path(config.file);
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    try {
      sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
          config.file, static_cast<size_t>(config.max_bytes), static_cast<size_t>(config.keep)));
    } catch (const spdlog::spdlog_ex& e) {
      // A daemon without the log it was told to keep would lose what the guide's
      // operators grep for: refuse to start instead.
      return Status::IOError(fmt::format("monitor log {}: {}", config.file, e.what()));
    }
  }
  auto logger = std::make_shared<spdlog::logger>("offmon", sinks.begin(), sinks.end());
  // UTC timestamps, as in the guide's report, so lines sort and compare across hosts.
  logger->set_formatter(std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %l %v",
                                                                     spdlog::pattern_time_type::utc));
  logger->flush_on(spdlog::level::info);
  return logger;
}

}  // namespace offmon::daemon
