#include "collector_registry_impl.h"

#include <spdlog/spdlog.h>

#include "offmon/collector/command_runner.h"
#include "offmon/collector/database_url.h"
#include "offmon/collector/pm2_collector.h"
#include "offmon/collector/postgres_collector.h"
#include "offmon/collector/process_collector.h"
#include "offmon/collector/system_collector.h"
#include "offmon/common/metric_names.h"
#include "offmon/store/store.h"

namespace offmon::daemon {

namespace {

// The PM2 collector borrows its runner; this keeps the runner alive with it.
class OwningPm2Collector final : public collector::Collector {
 public:
  explicit OwningPm2Collector(const Pm2Config& config) : collector_(config, runner_) {}
  std::string_view name() const override { return collector_.name(); }
  void Collect(TimePoint now, SampleSink& sink) override { collector_.Collect(now, sink); }

 private:
  collector::ProcessCommandRunner runner_;
  collector::Pm2Collector collector_;
};

// Where the PostgreSQL collector resumes: what the store holds within the backfill
// horizon (roots, counts, whether the set was read), so a restart neither repeats nor
// misses epochs, a root rewritten while offmon was down is still noticed, and the
// backfill skips what an earlier run recorded. Read a day at a time: only the recent
// days have participant bitmaps, but those are the bulk of the bytes.
std::shared_ptr<collector::Collector> MakePostgresCollector(const PostgresConfig& config, store::Store& store,
                                                 spdlog::logger& log) {
  auto url = collector::ResolveDatabaseUrl(config);
  if (url && !url->warning.empty()) log.warn("{}", url->warning);
  collector::PostgresCollector::KnownEpochs known;
  const TimePoint now = SystemClock().Now();
  // Epochs are keyed by their hour and sealed after it: a day's margin below the horizon.
  const TimePoint from = now - config.backfill - std::chrono::days(1);
  for (TimePoint day = from; day < now + std::chrono::days(1); day += std::chrono::days(1)) {
    auto epochs = store.ReadEpochs(day, day + std::chrono::days(1));
    if (!epochs) {
      log.warn("postgres: cannot read stored epochs, reading them again from the database: {}",
               epochs.error().ToString());
      known.clear();
      break;
    }
    for (store::EpochRecord& e : *epochs) {
      known[{e.channel, e.epoch}] = {std::move(e.root), e.participants, e.has_participant_set()};
    }
  }
  std::optional<TimePoint> events_stored_until;
  if (auto latest = store.ReadLatest(now - std::chrono::hours(1))) {
    const SeriesKey events_key(metric::kDbEventsLastHour, {});
    for (const store::LatestSample& s : *latest) {
      if (s.key == events_key) events_stored_until = s.sample.time;
    }
  }
  return std::make_shared<collector::PostgresCollector>(config, std::move(url), std::move(known), events_stored_until);
}

}  // namespace

std::vector<CollectorSlot> BuildCollectors(const Config& config, store::Store& store, spdlog::logger& log) {
  std::vector<CollectorSlot> slots;
  const collector::ProcFs proc(config.system.proc_root);
  slots.push_back(
      {std::make_shared<collector::SystemCollector>(proc, config.system.disk_mounts), config.system.interval});
  // offmon watches itself at the system collector's pace.
  slots.push_back({std::make_shared<collector::SelfCollector>(proc), config.system.interval});
  if (!config.processes.pid_files.empty() || !config.processes.names.empty()) {
    slots.push_back(
        {std::make_shared<collector::ProcessCollector>(proc, config.processes.pid_files, config.processes.names),
         config.processes.interval});
  }
  if (config.pm2.enabled) slots.push_back({std::make_shared<OwningPm2Collector>(config.pm2), config.pm2.interval});
  if (config.postgres.enabled) {
    slots.push_back({MakePostgresCollector(config.postgres, store, log), config.postgres.interval});
  }
  return slots;
}

}  // namespace offmon::daemon
