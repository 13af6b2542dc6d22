#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "escalation_impl.h"
#include "offmon/analyzer/series_stats.h"
#include "offmon/common/format.h"
#include "offmon/common/metric_names.h"
#include "offmon/query/runbook.h"
#include "text_format_impl.h"

namespace offmon::query {

namespace {

using std::chrono::hours;

// Events are read in pages, as the report does.
constexpr size_t kEventPage = 512;
// The guide's WARNING for epoch staleness: "Epoch sealing stalled (latest >2 hours old)".
constexpr Duration kSealingStale = hours(2);
// Restart counters are read from this long before the alert began, to find the value the
// counter had when it began.
constexpr Duration kCounterLookback = hours(1);

enum class Kind { kProcess, kAggregator, kSealing, kDatabase, kAllProcesses, kHost, kOffmon, kUnknown };

struct AlertKind {
  std::string_view alert;
  Kind kind;
};
constexpr AlertKind kKinds[] = {
    {"AllProcessesOffline", Kind::kAllProcesses},
    {"DatabaseUnreachable", Kind::kDatabase},
    {"DatabaseSlow", Kind::kDatabase},
    {"EventRateLow", Kind::kAggregator},
    {"ParticipantDrop", Kind::kAggregator},
    {"EpochSealingStale", Kind::kSealing},
    {"ZeroParticipants", Kind::kSealing},
    {"EpochUnpublished", Kind::kSealing},
    {"EpochMissing", Kind::kSealing},
    {"EpochDataLoss", Kind::kSealing},
    {"EpochCountMismatch", Kind::kSealing},
    {"SystemMemoryLow", Kind::kHost},
    {"DiskSpaceLow", Kind::kHost},
    {"CollectorFailing", Kind::kOffmon},
};

std::string LabelOf(const AlertRow& a, std::string_view name) {
  return std::string(SeriesKey(a.alert, a.labels).Label(name));
}

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

Kind KindOf(const AlertRow& a) {
  if (!LabelOf(a, "process").empty()) return Kind::kProcess;
  for (const AlertKind& k : kKinds) {
    if (k.alert == a.alert) return k.kind;
  }
  return Kind::kUnknown;
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : std::string(sep)) + p;
  return out;
}


const ProcessStatus* FindProcess(const HealthReport& report, std::string_view name) {
  for (const ProcessStatus& p : report.processes) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

bool Offline(const ProcessStatus& p) {
  if (!p.status.empty()) return p.status != "online";
  return p.up.present() && *p.up.value < 1;
}

// The firing alerts of one name in the report.
std::vector<const AlertRow*> Firing(const HealthReport& report, std::string_view alert) {
  std::vector<const AlertRow*> out;
  for (const AlertRow& a : report.alerts) {
    if (a.firing && a.alert == alert) out.push_back(&a);
  }
  return out;
}

class EscalationWriter {
 public:
  EscalationWriter(store::Store& store, const Config& config, const HealthReport& report, const AlertRow& alert)
      : store_(store), config_(config), report_(report), alert_(alert), kind_(KindOf(alert)) {}

  Result<std::string> Render() {
    const SeriesKey key(alert_.alert, alert_.labels);
    out_ += "ESCALATION: Off-Chain Monitoring\n\n";
    out_ += fmt::format("Severity: {}\n", analyzer::SeverityName(alert_.severity));
    out_ += fmt::format("Component: {}\n", EscalationComponent(alert_, config_.analyzer));
    out_ += fmt::format("Issue: {}: {}", key.ToString(), alert_.summary);
    if (!alert_.inhibited_by.empty()) out_ += fmt::format(" (caused by {})", alert_.inhibited_by);
    out_ += '\n';
    out_ += fmt::format("Duration: {}, {} since {}", FormatDurationShort(Since(alert_.since)),
                        alert_.firing ? "firing" : "pending (not firing yet)", FormatRfc3339(alert_.since));
    if (alert_.active_since < alert_.since) {
      out_ += fmt::format(" (condition since {})", FormatRfc3339(alert_.active_since));
    }
    out_ += alert_.escalated ? "; escalated\n" : "\n";
    OFFMON_RETURN_IF_ERROR(AttemptedFixes());
    OFFMON_RETURN_IF_ERROR(RecentLogs());
    Impact();
    Related();
    NextSteps();
    return std::move(out_);
  }

 private:
  Duration Since(TimePoint t) const { return report_.at > t ? report_.at - t : Duration(0); }

  // The PM2 processes whose logs tell about the alert: its process label, else the
  // pipeline processes its component runs on. Empty for host and offmon alerts.
  std::vector<std::string> AffectedProcesses() const {
    const AnalyzerConfig& c = config_.analyzer;
    switch (kind_) {
      case Kind::kProcess:
        return {LabelOf(alert_, "process")};
      case Kind::kAggregator:
      case Kind::kDatabase:  // the aggregator's log carries the connection errors
        return c.aggregator;
      case Kind::kSealing:
        return c.sealer;
      case Kind::kAllProcesses: {  // the pipeline's, not every worker's
        std::vector<std::string> pipeline = c.aggregator;
        pipeline.insert(pipeline.end(), c.sealer.begin(), c.sealer.end());
        return pipeline;
      }
      default:
        return {};
    }
  }

  // The processes whose restarts count as attempted fixes: the affected ones, or every
  // process for alerts about all of them or none of them (`pm2 restart all`).
  std::vector<std::string> RestartedProcesses() const {
    std::vector<std::string> processes;
    if (kind_ != Kind::kAllProcesses) processes = AffectedProcesses();
    if (processes.empty()) {
      for (const ProcessStatus& p : report_.processes) processes.push_back(p.name);
    }
    return processes;
  }

  struct Restarts {
    double count = 0;
    std::optional<TimePoint> last;
    bool known = false;  // the process has a restart counter
  };

  // Increases of process_restarts_total{process} from its value when the alert began to
  // the report time, counted as the report's "in the last hour" (analyzer::CounterIncreases).
  Result<Restarts> RestartsSince(std::string_view process, TimePoint since) {
    Restarts restarts;
    auto selector = store::Selector::Parse(metric::kProcessRestartsTotal);
    if (!selector) return selector.error();
    auto series = store_.Select(*selector);
    if (!series) return series.error();
    for (const store::SeriesInfo& info : *series) {
      if (info.key.Label("process") != process) continue;
      auto samples = store_.ReadRange(info.id, since - kCounterLookback, report_.at + Duration(1));
      if (!samples) return samples.error();
      if (samples->empty()) continue;
      restarts.known = true;
      const analyzer::CounterIncrease increase = analyzer::CounterIncreases(analyzer::FromBaseAt(*samples, since));
      restarts.count += increase.total;
      if (!increase.at.empty() && (!restarts.last || increase.at.back() > *restarts.last)) {
        restarts.last = increase.at.back();
      }
    }
    return restarts;
  }

  // The guide asks "What you tried and result". What offmon can see is restarts (PM2's
  // automatic ones and `pm2 restart`), and whether the alert is still active after them.
  Status AttemptedFixes() {
    const std::vector<std::string> processes = RestartedProcesses();
    std::vector<std::string> restarted, quiet;
    std::optional<TimePoint> last;
    double total = 0;
    for (const std::string& process : processes) {
      auto restarts = RestartsSince(process, alert_.active_since);
      if (!restarts) return restarts.error();
      if (!restarts->known) continue;
      if (restarts->count <= 0) {
        quiet.push_back(process);
        continue;
      }
      total += restarts->count;
      restarted.push_back(fmt::format("{} restarted {} time{} (last at {})", process, GroupThousands(restarts->count),
                                      restarts->count == 1 ? "" : "s", FormatRfc3339(*restarts->last)));
      if (!last || *restarts->last > *last) last = restarts->last;
    }
    if (restarted.empty() && quiet.empty()) {
      out_ += "Attempted Fixes: unknown: no restart counter of the affected processes in the store\n";
      return Status::Ok();
    }
    if (restarted.empty()) {
      out_ += fmt::format("Attempted Fixes: none seen: 0 restarts of {} since the alert began\n", Join(quiet, ", "));
      return Status::Ok();
    }
    out_ += fmt::format(
        "Attempted Fixes: {} restart{} since the alert began: {}; result: still {} {} after the last "
        "restart\n",
        GroupThousands(total), total == 1 ? "" : "s", Join(restarted, ", "), alert_.firing ? "firing" : "pending",
        FormatDurationShort(Since(*last)));
    return Status::Ok();
  }

  struct Tail {
    TimePoint time;
    std::string process, stream, path, error;
    std::vector<std::string> lines;
  };

  // Every log tail captured for `processes` at or before the report time, oldest first.
  Result<std::vector<Tail>> ReadTails(const std::set<std::string>& processes) {
    std::vector<Tail> tails;
    int64_t after = 0;
    while (true) {
      auto page = store_.ReadEvents(after, EventKind::kLogTail, kEventPage);
      if (!page) return page.error();
      if (page->empty()) break;
      for (const store::Event& event : *page) {
        if (event.time > report_.at) continue;
        auto doc = nlohmann::json::parse(event.payload, nullptr, /*allow_exceptions=*/false);
        if (!doc.is_object()) continue;  // `store check` reports bad payloads
        Tail tail;
        tail.time = event.time;
        tail.process = doc.value("process", std::string());
        if (!processes.contains(tail.process)) continue;
        tail.stream = doc.value("stream", std::string());
        tail.path = doc.value("path", std::string());
        tail.error = doc.value("error", std::string());
        if (auto lines = doc.find("lines"); lines != doc.end() && lines->is_array()) {
          for (const auto& line : *lines) {
            if (line.is_string()) tail.lines.push_back(line.get<std::string>());
          }
        }
        tails.push_back(std::move(tail));
      }
      after = page->back().seq;
    }
    return tails;
  }

  // Per affected process, the capture taken when the alert fired: the first one at or
  // after the alert became active; else the newest before it, marked as older.
  Status RecentLogs() {
    out_ += "\nRecent Logs:\n";
    const std::vector<std::string> processes = AffectedProcesses();
    if (processes.empty()) {
      out_ +=
          fmt::format("No PM2 process log applies to this alert; offmon's own log: tail -20 {}\n", config_.log.file);
      return Status::Ok();
    }
    auto tails = ReadTails(std::set<std::string>(processes.begin(), processes.end()));
    if (!tails) return tails.error();
    for (const std::string& process : processes) {
      std::optional<TimePoint> since_began, older;
      for (const Tail& t : *tails) {
        if (t.process != process) continue;
        if (t.time >= alert_.active_since) {
          if (!since_began || t.time < *since_began) since_began = t.time;
        } else if (!older || t.time > *older) {
          older = t.time;
        }
      }
      const std::optional<TimePoint> chosen = since_began ? since_began : older;
      if (!chosen) {
        out_ += fmt::format("{}: no log captured; get one with: pm2 logs {} --lines {} --nostream\n", process, process,
                            kEscalationLogLines);
        continue;
      }
      const bool before = *chosen < alert_.active_since;
      // Error log first: it usually says why.
      for (std::string_view stream : {"err", "out"}) {
        for (const Tail& t : *tails) {
          if (t.process != process || t.time != *chosen || t.stream != stream) continue;
          out_ += fmt::format("--- {} {} log ({}), captured {}{} ---\n", process, stream, t.path, FormatRfc3339(t.time),
                              before ? ", before this alert began" : "");
          if (!t.error.empty()) out_ += fmt::format("(could not be read: {})\n", t.error);
          if (t.error.empty() && t.lines.empty()) out_ += "(empty)\n";
          const size_t skip = t.lines.size() > kEscalationLogLines ? t.lines.size() - kEscalationLogLines : 0;
          for (size_t i = skip; i < t.lines.size(); ++i) out_ += t.lines[i] + '\n';
        }
      }
    }
    return Status::Ok();
  }

  void Impact() {
    out_ += "\nImpact:\n";
    out_ += "- Is data collection stopped? " + DataCollection() + '\n';
    out_ += "- Are new epochs being sealed? " + Sealing() + '\n';
    out_ += "- Are claims affected? " + Claims() + '\n';
    out_ += "- How many users impacted? " + Users() + '\n';
  }

  // Stopped when an aggregator process is offline, EventRateLow fires, or the database
  // is unreachable.
  std::string DataCollection() const {
    std::vector<std::string> stopped, running;
    for (const std::string& name : config_.analyzer.aggregator) {
      const ProcessStatus* p = FindProcess(report_, name);
      if (p == nullptr || (p->status.empty() && !p->up.present())) continue;
      (Offline(*p) ? stopped : running)
          .push_back(fmt::format("{} {}", name, p->status.empty() ? "offline" : p->status));
    }
    for (const AlertRow* a : Firing(report_, "EventRateLow")) stopped.push_back("EventRateLow: " + a->summary);
    for (const AlertRow* a : Firing(report_, "DatabaseUnreachable")) {
      stopped.push_back("the database is unreachable: " + a->summary);
    }
    if (!stopped.empty()) return "YES: " + Join(stopped, "; ");
    const Reading& events = report_.database.events_last_hour;
    if (events.present()) {
      running.push_back(fmt::format("{} events in the last hour{}", GroupThousands(*events.value),
                                    events.stale ? fmt::format(" (as of {})", FormatRfc3339(events.time)) : ""));
    }
    if (running.empty()) return "unknown: no aggregator process or event rate in the store";
    return "No: " + Join(running, ", ");
  }

  std::string Sealing() const {
    std::vector<std::string> stale;
    for (const AlertRow* a : Firing(report_, "EpochSealingStale")) stale.push_back("EpochSealingStale: " + a->summary);
    const DatabaseHealth& db = report_.database;
    std::optional<std::string> latest;
    std::optional<Duration> age;
    if (db.latest_epoch_age_seconds.present()) {
      age = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(*db.latest_epoch_age_seconds.value));
      // The age was measured when the sample was taken; it has grown since.
      *age += Since(db.latest_epoch_age_seconds.time);
      latest = db.latest_epoch.present() ? fmt::format("{:.0f}", *db.latest_epoch.value) : std::string("?");
    } else if (!report_.epochs.empty()) {
      const EpochRow& e = report_.epochs.front();
      age = Since(e.sealed_at);
      latest = fmt::format("{} of {}", e.epoch ? std::to_string(*e.epoch) : std::string("-"), e.channel);
    }
    if (age) {
      const std::string text = fmt::format("latest epoch {} sealed {} ago", *latest, FormatDurationShort(*age));
      if (*age > kSealingStale) {
        stale.push_back(text + " (the guide's limit is 2 hours)");
      } else if (stale.empty()) {
        return "Yes: " + text;
      } else {
        stale.push_back(text);
      }
    }
    if (!stale.empty()) return "NO: " + Join(stale, "; ");
    return "unknown: no epoch data in the store";
  }

  // Claims need published epochs: EpochUnpublished firing, or recent epochs not
  // published yet.
  std::string Claims() const {
    std::vector<std::string> affected;
    for (const AlertRow* a : Firing(report_, "EpochUnpublished")) affected.push_back(a->summary);
    if (!affected.empty()) return "YES: " + Join(affected, "; ");
    std::vector<std::string> waiting;
    size_t known = 0;
    for (const EpochRow& e : report_.epochs) {
      if (!e.published) continue;
      ++known;
      if (!*e.published) {
        waiting.push_back(fmt::format("{}{}, sealed {}", e.channel, e.epoch ? " " + std::to_string(*e.epoch) : "",
                                      Ago(report_.at, e.sealed_at)));
      }
    }
    if (known == 0) return "unknown: no publication data in the store";
    if (!waiting.empty()) {
      return fmt::format("not yet: {} of the last {} sealed epochs {} publishing ({})", waiting.size(), known,
                         waiting.size() == 1 ? "awaits" : "await", Join(waiting, "; "));
    }
    return fmt::format("No: the last {} sealed epochs are published", known);
  }

  // Participants of the latest epoch of the channels the alert is about: its channel
  // label, else every channel (a pipeline alert affects them all).
  std::string Users() const {
    const std::string channel = LabelOf(alert_, "channel");
    std::vector<std::string> parts;
    double total = 0;
    for (const ChannelRow& c : report_.channels) {
      if (!channel.empty() && c.channel != channel) continue;
      if (!c.last_participants) continue;
      total += *c.last_participants;
      parts.push_back(fmt::format("{} {}", c.channel, GroupThousands(*c.last_participants)));
    }
    if (parts.empty()) return "unknown: no participant counts in the store";
    if (!channel.empty()) return fmt::format("{} participants in {}'s latest epoch", GroupThousands(total), channel);
    return fmt::format("{} participants in the latest epochs of {} channel{} ({})", GroupThousands(total), parts.size(),
                       parts.size() == 1 ? "" : "s", Join(parts, ", "));
  }

  // Alerts this one explains (pipeline-aware inhibition): part of the same incident.
  void Related() {
    const std::string key = SeriesKey(alert_.alert, alert_.labels).ToString();
    std::vector<std::string> related;
    for (const AlertRow& a : report_.alerts) {
      if (a.inhibited_by != key) continue;
      related.push_back(fmt::format("- {} {}: {}", analyzer::SeverityName(a.severity),
                                    SeriesKey(a.alert, a.labels).ToString(), a.summary));
    }
    if (related.empty()) return;
    out_ += "\nAlso caused by this:\n" + Join(related, "\n") + '\n';
  }

  void NextSteps() {
    out_ += "\nNext Steps:\n";
    auto step = RunbookFor(alert_.alert, alert_.labels, config_.analyzer);
    if (!step) {
      out_ += "1. Review the logs, then restart the affected service (the guide's action for alerts)\n";
      return;
    }
    out_ += fmt::format("1. {}\n2. {}\n(guide: {})\n", step->first_action, step->next_steps, step->guide_section);
  }

  store::Store& store_;
  const Config& config_;
  const HealthReport& report_;
  const AlertRow& alert_;
  const Kind kind_;
  std::string out_;
};

}  // namespace

std::string EscalationComponent(const AlertRow& alert, const AnalyzerConfig& config) {
  const std::string process = LabelOf(alert, "process");
  std::string text;
  switch (KindOf(alert)) {
    case Kind::kProcess:
      text = Contains(config.aggregator, process) ? "aggregator"
             : Contains(config.sealer, process)   ? "sealing"
                                                  : "worker";
      text += " (" + process + ")";
      break;
    case Kind::kAggregator:
      text = "aggregator (" + Join(config.aggregator, ", ") + ")";
      break;
    case Kind::kSealing:
      text = "sealing (" + Join(config.sealer, ", ") + ")";
      break;
    case Kind::kDatabase:
      text = "database";
      break;
    case Kind::kAllProcesses:
      text = "worker (every PM2 process)";
      break;
    case Kind::kHost:
      text = "host";
      break;
    case Kind::kOffmon:
      text = "offmon collector";
      break;
    case Kind::kUnknown:
      text = "unknown";
      break;
  }
  std::vector<std::string> about;
  for (std::string_view label : {"channel", "mount", "collector", "epoch"}) {
    const std::string value = LabelOf(alert, label);
    if (!value.empty()) about.push_back(fmt::format("{} {}", label, value));
  }
  if (!about.empty()) text += ", " + Join(about, ", ");
  return text;
}

Result<std::string> RenderEscalation(store::Store& store, const Config& config, const HealthReport& report,
                                     const AlertRow& alert) {
  return EscalationWriter(store, config, report, alert).Render();
}

}  // namespace offmon::query
