#include "fleet_series_impl.h"

#include <cctype>

#include "offmon/analyzer/alert.h"
#include "offmon/common/metric_names.h"

namespace offmon::daemon {

namespace {

void Put(store::Appender& appender, const SeriesKey& key, TimePoint t, double value) {
  if (auto id = appender.Ref(key)) appender.Add(*id, t, value);
}

double Seconds(Duration d) { return static_cast<double>(d.count()) / 1000; }

}  // namespace

void FleetSeries::Append(TimePoint t, const std::map<std::string, analyzer::ActiveAlert>& active,
                         const std::vector<store::RemoteWriteCursor>& cursors,
                         const std::vector<notify::RemoteWriteStats>& stats, store::Appender& appender) {
  Put(appender, SeriesKey(metric::kOffmonUp, {}), t, 1);
  Put(appender, SeriesKey(metric::kOffmonLastCycleTimestampSeconds, {}), t, Seconds(t.time_since_epoch()));
  for (const store::RemoteWriteCursor& c : cursors) {
    const Labels labels{{"endpoint", c.endpoint}};
    Put(appender, SeriesKey(metric::kRemoteWritePendingEvents, labels), t, static_cast<double>(c.pending_events));
    Put(appender, SeriesKey(metric::kRemoteWriteCursorLagSeconds, labels), t, Seconds(c.lag));
  }
  for (const notify::RemoteWriteStats& s : stats) {
    Put(appender, SeriesKey(metric::kRemoteWriteSamplesSentTotal, {{"endpoint", s.endpoint}}), t,
        static_cast<double>(s.samples_sent_total));
    // Every reason is written from the start, so a rule's rate() sees the first drop.
    for (const char* reason : {"rejected", "too_old", "retention"}) {
      auto it = s.samples_dropped_total.find(reason);
      Put(appender, SeriesKey(metric::kRemoteWriteSamplesDroppedTotal, {{"endpoint", s.endpoint}, {"reason", reason}}),
          t, it == s.samples_dropped_total.end() ? 0.0 : static_cast<double>(it->second));
    }
  }
  std::map<std::string, SeriesKey> now;
  for (const auto& [fingerprint, a] : active) {
    Labels labels = a.labels;
    labels.push_back({"alertname", a.alert});
    // Lower case, as Prometheus alerting rules and Alertmanager spell severities.
    std::string severity(analyzer::SeverityName(a.severity));
    for (char& c : severity) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    labels.push_back({"severity", std::move(severity)});
    labels.push_back({"state", a.firing ? "firing" : "pending"});
    SeriesKey key(metric::kOffmonAlert, std::move(labels));
    Put(appender, key, t, 1);
    now.emplace(key.ToString(), std::move(key));
  }
  for (const auto& [text, key] : alerts_) {
    if (!now.contains(text)) Put(appender, key, t, StaleMarker());
  }
  alerts_ = std::move(now);
}

}  // namespace offmon::daemon
