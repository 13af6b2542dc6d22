#include "offmon/collector/collector_registry.h"

#include <spdlog/spdlog.h>

#include "offmon/collector/command_runner.h"
#include "offmon/collector/database_url.h"
#include "offmon/collector/pm2_collector.h"
#include "offmon/collector/postgres_collector.h"
#include "offmon/collector/process_collector.h"
#include "offmon/collector/system_collector.h"
#include "offmon/store/store.h"

namespace offmon::collector {

namespace {

// The PM2 collector borrows its runner; this keeps the runner alive with it.
class OwningPm2Collector final : public Collector {
 public:
  explicit OwningPm2Collector(const Pm2Config& config) : collector_(config, runner_) {}
  std::string_view name() const override { return collector_.name(); }
  void Collect(TimePoint now, SampleSink& sink) override { collector_.Collect(now, sink); }

 private:
  ProcessCommandRunner runner_;
  Pm2Collector collector_;
};

// Where the PostgreSQL collector resumes: the newest sealed epoch already stored, and
// the roots of the last two days' epochs, so a restart neither repeats nor misses one
// and a root rewritten while offmon was down is still noticed.
std::shared_ptr<Collector> MakePostgresCollector(const PostgresConfig& config, store::Store& store,
                                                 spdlog::logger& log) {
  auto url = ResolveDatabaseUrl(config);
  if (url && !url->warning.empty()) log.warn("{}", url->warning);
  std::optional<TimePoint> last_sealed_at;
  PostgresCollector::KnownRoots roots;
  const TimePoint now = SystemClock().Now();
  if (auto epochs = store.ReadEpochs(now - std::chrono::hours(48), TimePoint::max())) {
    for (const store::EpochRecord& e : *epochs) {
      roots[{e.channel, e.epoch}] = e.root;
      last_sealed_at = std::max(last_sealed_at.value_or(e.sealed_at), e.sealed_at);
    }
  } else {
    log.warn("postgres: cannot read stored epochs, starting from the last 48 h: {}", epochs.error().ToString());
  }
  return std::make_shared<PostgresCollector>(config, std::move(url), last_sealed_at, std::move(roots));
}

}  // namespace

std::vector<CollectorSlot> BuildCollectors(const Config& config, store::Store& store, spdlog::logger& log) {
  std::vector<CollectorSlot> slots;
  const ProcFs proc(config.system.proc_root);
  slots.push_back({std::make_shared<SystemCollector>(proc, config.system.disk_mounts), config.system.interval});
  // offmon watches itself at the system collector's pace.
  slots.push_back({std::make_shared<SelfCollector>(proc), config.system.interval});
  if (!config.processes.pid_files.empty() || !config.processes.names.empty()) {
    slots.push_back({std::make_shared<ProcessCollector>(proc, config.processes.pid_files, config.processes.names),
                     config.processes.interval});
  }
  if (config.pm2.enabled) slots.push_back({std::make_shared<OwningPm2Collector>(config.pm2), config.pm2.interval});
  if (config.postgres.enabled) {
    slots.push_back({MakePostgresCollector(config.postgres, store, log), config.postgres.interval});
  }
  return slots;
}

}  // namespace offmon::collector
