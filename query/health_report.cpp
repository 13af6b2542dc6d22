#include "offmon/query/health_report.h"

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "offmon/analyzer/alert_tracker.h"
#include "offmon/analyzer/series_stats.h"
#include "offmon/common/metric_names.h"
#include "offmon/query/runbook.h"

namespace offmon::query {

namespace {

using std::chrono::days;
using std::chrono::hours;

// A latest value is looked for in a short window first (the usual case: a running
// collector), then in a long one, so a report stays cheap on a store of 30 days.
constexpr Duration kShortLookback = hours(1);
constexpr Duration kLongLookback = days(30);
constexpr Duration kRestartWindow = hours(1);
// Events are read in pages; alert transitions and process info are small.
constexpr size_t kEventPage = 512;

// Samples at or before `at` are the report's; ReadRange's end is exclusive.
TimePoint End(TimePoint at) { return at + Duration(1); }

// A value is stale when older than twice its collector's interval.
Duration ToleranceFor(std::string_view metric, const Config& config) {
  Duration interval = config.system.interval;
  if (metric.starts_with("process_")) {
    interval = std::max(config.pm2.interval, config.processes.interval);
  } else if (metric.starts_with("db_")) {
    interval = config.postgres.interval;
  }
  return 2 * interval;
}

class ReportBuilder {
 public:
  ReportBuilder(store::Store& store, const Config& config, TimePoint at) : store_(store), config_(config), at_(at) {}

  Result<HealthReport> Build() {
    report_.at = at_;
    OFFMON_RETURN_IF_ERROR(Processes());
    OFFMON_RETURN_IF_ERROR(Database());
    OFFMON_RETURN_IF_ERROR(Epochs());
    OFFMON_RETURN_IF_ERROR(Channels());
    OFFMON_RETURN_IF_ERROR(Alerts());
    OFFMON_RETURN_IF_ERROR(System());
    return std::move(report_);
  }

 private:
  Result<std::vector<store::SeriesInfo>> Select(std::string_view metric) {
    auto selector = store::Selector::Parse(metric);
    if (!selector) return selector.error();
    return store_.Select(*selector);
  }

  // The newest sample of `series` at or before the report time.
  Result<Reading> Latest(store::SeriesId series, std::string_view metric) {
    Reading reading;
    for (Duration lookback : {kShortLookback, kLongLookback}) {
      auto samples = store_.ReadRange(series, at_ - lookback, End(at_));
      if (!samples) return samples.error();
      if (samples->empty()) continue;
      reading.value = samples->back().value;
      reading.time = samples->back().time;
      reading.stale = at_ - reading.time > ToleranceFor(metric, config_);
      return reading;
    }
    return reading;
  }

  // The latest reading of an unlabelled series (the first one when labels exist).
  Result<Reading> LatestOf(std::string_view metric) {
    auto series = Select(metric);
    if (!series) return series.error();
    if (series->empty()) return Reading{};
    return Latest(series->front().id, metric);
  }

  // Calls fn for each event of `kind` at or before the report time, in order.
  Status ForEachEvent(EventKind kind, const std::function<Status(const store::Event&)>& fn) {
    int64_t after = 0;
    while (true) {
      auto page = store_.ReadEvents(after, kind, kEventPage);
      if (!page) return page.error();
      if (page->empty()) return Status::Ok();
      for (const store::Event& event : *page) {
        if (event.time > at_) continue;  // written in time order up to a cycle's skew
        OFFMON_RETURN_IF_ERROR(fn(event));
      }
      after = page->back().seq;
    }
  }

  ProcessStatus& ProcessNamed(std::string_view name) {
    auto it = std::find_if(report_.processes.begin(), report_.processes.end(),
                           [&](const ProcessStatus& p) { return p.name == name; });
    if (it != report_.processes.end()) return *it;
    ProcessStatus process;
    process.name = name;
    report_.processes.push_back(std::move(process));
    return report_.processes.back();
  }

  Status Processes() {
    struct Field {
      std::string_view metric;
      Reading ProcessStatus::*reading;
    };
    constexpr Field kFields[] = {{metric::kProcessUp, &ProcessStatus::up},
                                 {metric::kProcessUptimeSeconds, &ProcessStatus::uptime_seconds},
                                 {metric::kProcessRestartsTotal, &ProcessStatus::restarts_total},
                                 {metric::kProcessMemoryBytes, &ProcessStatus::memory_bytes},
                                 {metric::kProcessCpuPercent, &ProcessStatus::cpu_percent}};
    for (const Field& field : kFields) {
      auto series = Select(field.metric);
      if (!series) return series.error();
      for (const store::SeriesInfo& info : *series) {
        const std::string_view name = info.key.Label("process");
        if (name.empty()) continue;
        auto reading = Latest(info.id, field.metric);
        if (!reading) return reading.error();
        if (!reading->present()) continue;
        Reading& slot = ProcessNamed(name).*field.reading;
        // Cluster mode has one process_up per instance: one offline instance shows.
        if (!slot.present() || (field.metric == metric::kProcessUp && *reading->value < *slot.value)) slot = *reading;
        if (field.metric == metric::kProcessRestartsTotal) {
          auto increase = RestartsInLastHour(info.id);
          if (!increase) return increase.error();
          ProcessNamed(name).restarts_last_hour = *increase;
        }
      }
    }
    std::map<std::string, std::string> status;
    OFFMON_RETURN_IF_ERROR(ForEachEvent(EventKind::kProcessInfo, [&](const store::Event& event) {
      auto doc = nlohmann::json::parse(event.payload, nullptr, /*allow_exceptions=*/false);
      if (!doc.is_object()) return Status::Ok();  // `store check` reports bad payloads
      const auto process = doc.value("process", std::string());
      const auto text = doc.value("status", std::string());
      if (!process.empty() && !text.empty()) status[process] = text;
      return Status::Ok();
    }));
    for (const auto& [process, text] : status) ProcessNamed(process).status = text;
    for (ProcessStatus& p : report_.processes) {
      if (p.status.empty() && p.up.present()) p.status = *p.up.value >= 1 ? "online" : "offline";
    }
    std::sort(report_.processes.begin(), report_.processes.end(),
              [](const ProcessStatus& a, const ProcessStatus& b) { return a.name < b.name; });
    return Status::Ok();
  }

  // Counter increases over the hour before the report time, from the last sample at or
  // before the hour's start (analyzer::CounterIncreases, as the RestartLoop rule counts).
  Result<double> RestartsInLastHour(store::SeriesId series) {
    const TimePoint start = at_ - kRestartWindow;
    auto samples = store_.ReadRange(series, start - kRestartWindow, End(at_));
    if (!samples) return samples.error();
    return analyzer::CounterIncreases(analyzer::FromBaseAt(*samples, start)).total;
  }

  Status Database() {
    struct Field {
      std::string_view metric;
      Reading DatabaseHealth::*reading;
    };
    constexpr Field kFields[] = {{metric::kDbUp, &DatabaseHealth::up},
                                 {metric::kDbEventsLastHour, &DatabaseHealth::events_last_hour},
                                 {metric::kDbLatestEpoch, &DatabaseHealth::latest_epoch},
                                 {metric::kDbLatestEpochAgeSeconds, &DatabaseHealth::latest_epoch_age_seconds},
                                 {metric::kDbResponseSeconds, &DatabaseHealth::response_seconds},
                                 {metric::kDbBackfillOldestEpoch, &DatabaseHealth::backfill_oldest_epoch},
                                 {metric::kDbBackfillDone, &DatabaseHealth::backfill_done}};
    for (const Field& field : kFields) {
      auto reading = LatestOf(field.metric);
      if (!reading) return reading.error();
      report_.database.*field.reading = *reading;
    }
    return Status::Ok();
  }

  // channel -> series id of a per-channel metric.
  Result<std::map<std::string, store::SeriesId>> ByChannel(std::string_view metric) {
    auto series = Select(metric);
    if (!series) return series.error();
    std::map<std::string, store::SeriesId> out;
    for (const store::SeriesInfo& info : *series) out.emplace(std::string(info.key.Label("channel")), info.id);
    return out;
  }

  Status Epochs() {
    auto published = ByChannel(metric::kEpochPublished);
    if (!published) return published.error();
    std::vector<store::EpochRecord> records;
    for (Duration lookback : {Duration(hours(48)), kLongLookback}) {
      auto read = store_.ReadEpochs(at_ - lookback, End(at_));
      if (!read) return read.error();
      // An epoch offmon had not seen yet at the report time is not in the report.
      std::erase_if(*read, [&](const store::EpochRecord& e) { return e.observed_at > at_; });
      records = std::move(*read);
      if (records.size() >= kRecentEpochs) break;
    }
    for (auto it = records.rbegin(); it != records.rend() && report_.epochs.size() < kRecentEpochs; ++it) {
      auto flag = PublishedAt(*published, it->channel, it->sealed_at);
      if (!flag) return flag.error();
      EpochRow row{it->epoch, it->channel, it->participants, it->sealed_at, flag->value_or(it->published)};
      // Published after the report time: not yet published then.
      if (it->published_at && *it->published_at > at_) row.published = false;
      report_.epochs.push_back(std::move(row));
    }
    if (!records.empty()) return Status::Ok();
    return EpochsFromSamples(*published);
  }

  Result<std::optional<bool>> PublishedAt(const std::map<std::string, store::SeriesId>& published,
                                          const std::string& channel, TimePoint sealed_at) {
    auto it = published.find(channel);
    if (it == published.end()) return std::optional<bool>();
    auto samples = store_.ReadRange(it->second, sealed_at, sealed_at + Duration(1));
    if (!samples) return samples.error();
    if (samples->empty()) return std::optional<bool>();
    return std::optional<bool>(samples->back().value > 0);
  }

  // Imported history has epoch_participants samples but no epoch_sealed events: list its
  // epochs without their ids.
  Status EpochsFromSamples(const std::map<std::string, store::SeriesId>& published) {
    auto participants = ByChannel(metric::kEpochParticipants);
    if (!participants) return participants.error();
    std::vector<EpochRow> rows;
    for (const auto& [channel, id] : *participants) {
      auto samples = store_.ReadRange(id, at_ - kLongLookback, End(at_));
      if (!samples) return samples.error();
      const size_t keep = std::min(samples->size(), kRecentEpochs);
      for (auto it = samples->end() - static_cast<std::ptrdiff_t>(keep); it != samples->end(); ++it) {
        auto flag = PublishedAt(published, channel, it->time);
        if (!flag) return flag.error();
        rows.push_back(EpochRow{std::nullopt, channel, static_cast<int64_t>(it->value), it->time, *flag});
      }
    }
    std::sort(rows.begin(), rows.end(), [](const EpochRow& a, const EpochRow& b) {
      return a.sealed_at != b.sealed_at ? a.sealed_at > b.sealed_at : a.channel < b.channel;
    });
    if (rows.size() > kRecentEpochs) rows.resize(kRecentEpochs);
    report_.epochs = std::move(rows);
    return Status::Ok();
  }

  Status Channels() {
    auto participants = ByChannel(metric::kEpochParticipants);
    if (!participants) return participants.error();
    auto medians = ByChannel(metric::kBaselineParticipantsMedian);
    if (!medians) return medians.error();
    auto spreads = ByChannel(metric::kBaselineParticipantsSpread);
    if (!spreads) return spreads.error();
    const analyzer::BaselineOptions options;
    for (const auto& [channel, id] : *participants) {
      ChannelRow row;
      row.channel = channel;
      auto history = store_.ReadRange(id, at_ - options.window, End(at_));
      if (!history) return history.error();
      if (!history->empty()) {
        row.last_participants = history->back().value;
        row.last_sealed_at = history->back().time;
      }
      auto median = medians->find(channel);
      auto spread = spreads->find(channel);
      if (median != medians->end() && spread != spreads->end()) {
        auto m = Latest(median->second, metric::kBaselineParticipantsMedian);
        if (!m) return m.error();
        auto s = Latest(spread->second, metric::kBaselineParticipantsSpread);
        if (!s) return s.error();
        if (m->present() && s->present()) {
          row.baseline = analyzer::Baseline{*m->value, *s->value, 0, false};
          row.baseline_source = "series";
        }
      }
      if (!row.baseline) {
        row.baseline = analyzer::ChannelBaseline(*history, at_, options);
        if (row.baseline) row.baseline_source = "computed";
      }
      report_.channels.push_back(std::move(row));
    }
    return Status::Ok();
  }

  Status Alerts() {
    analyzer::AlertTracker tracker(config_.analyzer);
    OFFMON_RETURN_IF_ERROR(analyzer::ReplayTransitions(store_, tracker, at_));
    std::vector<AlertRow> causes, explained;
    std::set<std::string> firing_causes;
    for (const auto& [fingerprint, a] : tracker.active()) {
      AlertRow row{a.alert,
                   a.severity,
                   a.firing,
                   a.escalated,
                   a.labels,
                   a.summary,
                   a.firing ? a.firing_since : a.active_since,
                   a.active_since,
                   a.inhibited_by,
                   "",
                   "",
                   false,
                   std::nullopt,
                   std::nullopt};
      if (auto step = RunbookFor(a.alert, a.labels, config_.analyzer)) {
        row.first_action = step->first_action;
        row.guide_section = step->guide_section;
      }
      if (a.firing) firing_causes.insert(SeriesKey(a.alert, a.labels).ToString());
      (a.inhibited_by.empty() ? causes : explained).push_back(std::move(row));
    }
    auto order = [](const AlertRow& x, const AlertRow& y) {
      return std::tuple(!x.firing, -static_cast<int>(x.severity), x.since, x.alert) <
             std::tuple(!y.firing, -static_cast<int>(y.severity), y.since, y.alert);
    };
    std::sort(causes.begin(), causes.end(), order);
    std::sort(explained.begin(), explained.end(), order);
    for (const AlertRow& cause : causes) {
      report_.alerts.push_back(cause);
      const std::string key = SeriesKey(cause.alert, cause.labels).ToString();
      for (const AlertRow& row : explained) {
        if (row.inhibited_by == key) report_.alerts.push_back(row);
      }
    }
    // Explained by a cause that is no longer active: listed last, and counted.
    for (const AlertRow& row : explained) {
      if (!firing_causes.contains(row.inhibited_by)) report_.alerts.push_back(row);
    }
    OFFMON_RETURN_IF_ERROR(MarkSuppressed());
    for (AlertRow& row : report_.alerts) {
      row.counted = row.inhibited_by.empty() || !firing_causes.contains(row.inhibited_by);
      if (!row.counted) continue;
      const auto severity = static_cast<HealthStatus>(static_cast<int>(row.severity));
      report_.status = std::max(report_.status, severity);
      if (row.firing) report_.hard_status = std::max(report_.hard_status, severity);
    }
    return Status::Ok();
  }

  // Which alerts a silence or an acknowledgement mutes at the report time, and the
  // silences then active.
  Status MarkSuppressed() {
    auto suppressions = analyzer::ReadSuppressions(store_, at_);
    if (!suppressions) return suppressions.error();
    for (AlertRow& row : report_.alerts) {
      if (const analyzer::Silence* s = suppressions->SilencedBy(row.alert, row.labels, at_)) {
        row.silenced = SuppressionNote{s->id, s->end(), s->by, s->reason};
      }
      const std::string fingerprint = analyzer::Fingerprint(row.alert, row.labels);
      if (const analyzer::Acknowledgement* a = suppressions->AckFor(fingerprint, row.severity, row.active_since, at_)) {
        row.acknowledged = SuppressionNote{"", a->until, a->by, a->reason};
      }
    }
    for (const analyzer::Silence& s : suppressions->silences()) {
      if (s.ActiveAt(at_)) report_.silences.push_back(s);
    }
    return Status::Ok();
  }

  Status System() {
    struct Field {
      std::string_view metric;
      Reading SystemResources::*reading;
    };
    constexpr Field kFields[] = {{metric::kSystemMemoryTotalBytes, &SystemResources::memory_total_bytes},
                                 {metric::kSystemMemoryAvailableBytes, &SystemResources::memory_available_bytes},
                                 {metric::kSystemCpuPercent, &SystemResources::cpu_percent},
                                 {metric::kSystemLoad1, &SystemResources::load1},
                                 {metric::kSystemLoad5, &SystemResources::load5},
                                 {metric::kSystemLoad15, &SystemResources::load15}};
    for (const Field& field : kFields) {
      auto reading = LatestOf(field.metric);
      if (!reading) return reading.error();
      report_.system.*field.reading = *reading;
    }
    auto free = Select(metric::kDiskFreeBytes);
    if (!free) return free.error();
    auto total = Select(metric::kDiskTotalBytes);
    if (!total) return total.error();
    for (const store::SeriesInfo& info : *free) {
      DiskRow row;
      row.mount = info.key.Label("mount");
      auto reading = Latest(info.id, metric::kDiskFreeBytes);
      if (!reading) return reading.error();
      if (!reading->present()) continue;
      row.free_bytes = *reading;
      for (const store::SeriesInfo& t : *total) {
        if (t.key.Label("mount") != row.mount) continue;
        auto total_reading = Latest(t.id, metric::kDiskTotalBytes);
        if (!total_reading) return total_reading.error();
        row.total_bytes = *total_reading;
      }
      report_.system.disks.push_back(std::move(row));
    }
    std::sort(report_.system.disks.begin(), report_.system.disks.end(),
              [](const DiskRow& a, const DiskRow& b) { return a.mount < b.mount; });
    return Status::Ok();
  }

  store::Store& store_;
  const Config& config_;
  const TimePoint at_;
  HealthReport report_;
};

}  // namespace

std::string_view HealthStatusName(HealthStatus status) {
  switch (status) {
    case HealthStatus::kOk:
      return "OK";
    case HealthStatus::kWarning:
      return "WARNING";
    case HealthStatus::kCritical:
      return "CRITICAL";
  }
  return "UNKNOWN";
}

Result<HealthReport> BuildHealthReport(store::Store& store, const Config& config, TimePoint at) {
  return ReportBuilder(store, config, at).Build();
}

}  // namespace offmon::query
