#include "offmon/query/runbook.h"

#include <array>

namespace offmon::query {

namespace {

struct Entry {
  std::string_view alert;
  std::string_view section;
  std::string_view first;
  std::string_view next;
};

// The guide's "Common Issues & Fixes", first step per alert. Alerts the guide has no issue
// for take its "Alert Severity Levels" action (review logs, then restart what is affected).
constexpr std::array kEntries{
    Entry{"ProcessOffline", "Issue 1: Process Crashed",
          "pm2 logs {process} --lines 100 --nostream | tail -50, then pm2 restart {process}",
          "watch pm2 list for 5 minutes; if it crashes again within 5 minutes, escalate"},
    Entry{"AllProcessesOffline", "Issue 1: Process Crashed",
          "pm2 logs --lines 100 --nostream | tail -50, then pm2 restart all",
          "if the PM2 daemon itself is gone, pm2 resurrect; if they crash again within 5 minutes, escalate"},
    Entry{"RestartLoop", "Issue 4: High Restart Count",
          "pm2 logs {process} --lines 500 --nostream | grep Error: look for a repeating error",
          "git log --oneline -5: roll back a recent deployment, or raise the rate-limit backoff, then "
          "pm2 restart {process}"},
    Entry{"ProcessMemoryHigh", "Issue 5: Memory Leak",
          "pm2 describe {process} | grep memory, and watch whether it keeps growing",
          "pm2 restart {process} as a temporary fix; look for unbounded caches and listeners"},
    Entry{"MemoryLeak", "Issue 5: Memory Leak",
          "pm2 logs {process} --lines 500 --nostream | grep -i 'accumulate\\|cache\\|buffer'",
          "pm2 restart {process} before the projected limit as a temporary fix; look for listeners not cleaned up"},
    Entry{"CpuHigh", "Alert Severity Levels: CRITICAL",
          "pm2 logs {process} --lines 100 --nostream: review the logs immediately",
          "pm2 restart {process}; if it persists, escalate"},
    Entry{"SystemMemoryLow", "Alert Severity Levels: CRITICAL",
          "pm2 list: find the process holding the memory, and review its logs",
          "restart the largest process; if memory stays below 200MB, escalate"},
    Entry{"DiskSpaceLow", "Alert Severity Levels", "df -h {mount}; pm2 flush to drop old PM2 logs",
          "remove old log files and rotated monitor logs; escalate if it keeps filling"},
    Entry{"DatabaseUnreachable", "Issue 3: Database Connection Errors",
          // Never `echo $DATABASE_URL` or `psql $DATABASE_URL`: they print the password or put
          // it in the process listing.
          "offmon config check: the URL (password hidden) and where it came from; offmon check: why it fails",
          "source .env, check the database server is reachable, then pm2 restart all"},
    Entry{"DatabaseSlow", "Issue 3: Database Connection Errors",
          "offmon trend db_response_seconds --since 6h: since when, and how slow",
          "check the database server's load and connection pool; escalate if it times out"},
    Entry{"EventRateLow", "Issue 2: No New Sealed Epochs (no data flowing)",
          "pm2 logs {aggregator} --lines 100 --nostream: is the aggregator receiving events?",
          "pm2 restart {aggregator}; check the CLS workers' logs"},
    Entry{"EpochSealingStale", "Issue 2: No New Sealed Epochs",
          "pm2 logs {sealer} --lines 100 --nostream: look for \"Sealing epoch...\" and errors",
          "pm2 restart {sealer} and check sealing resumes within 5 minutes"},
    Entry{"ZeroParticipants", "Issue 2: No New Sealed Epochs",
          "pm2 logs {sealer} --lines 100 --nostream: look for \"No participants to seal\"",
          "check the aggregator and CLS workers feed participation events"},
    Entry{"EpochUnpublished", "Issue 2: No New Sealed Epochs",
          "pm2 logs {sealer} --lines 100 --nostream: look for publishing errors",
          "pm2 restart {sealer}; escalate if claims are affected"},
    Entry{"ParticipantDrop", "What Gets Monitored: Data Anomalies",
          "pm2 logs {aggregator} --lines 100 --nostream: look for Twitch API errors or rate limiting",
          "compare with the channel's stream (offline or raided?); escalate if several channels drop"},
    Entry{"EpochMissing", "Issue 2: No New Sealed Epochs",
          "pm2 logs {sealer} --lines 100 --nostream: look for the missing hour's \"Sealing epoch...\"",
          "check the database write permissions; escalate if epochs keep missing"},
    Entry{"EpochDataLoss", "Escalation Procedure: data loss",
          "escalate immediately: a sealed epoch vanished or changed",
          "offmon escalate, and keep the store file for the investigation"},
    Entry{"EpochCountMismatch", "Escalation Procedure",
          "pm2 logs {sealer} --lines 100 --nostream: compare the sealed count with channel_participation",
          "escalate if the mismatch persists; claims may be affected"},
    Entry{"CollectorFailing", "offmon: docs/metrics.md (collectors)",
          "grep {collector} var/monitor.log: the collector logs why it fails",
          "fix the reason (PM2 not running, DATABASE_URL missing); offmon collect --once to verify"},
};

void ReplaceAll(std::string& text, std::string_view key, std::string_view value) {
  for (size_t pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos + value.size())) {
    text.replace(pos, key.size(), value);
  }
}

std::string Fill(std::string_view pattern, const Labels& labels, const AnalyzerConfig& config) {
  std::string text(pattern);
  const SeriesKey key("x", labels);
  for (std::string_view name : {"process", "mount", "channel", "collector"}) {
    const std::string placeholder = "{" + std::string(name) + "}";
    const std::string_view value = key.Label(name);
    ReplaceAll(text, placeholder, value.empty() ? "<" + std::string(name) + ">" : std::string(value));
  }
  ReplaceAll(text, "{aggregator}", config.aggregator.empty() ? "<aggregator>" : config.aggregator.front());
  ReplaceAll(text, "{sealer}", config.sealer.empty() ? "<sealer>" : config.sealer.front());
  return text;
}

}  // namespace

std::optional<RunbookStep> RunbookFor(std::string_view alert, const Labels& labels, const AnalyzerConfig& config) {
  for (const Entry& entry : kEntries) {
    if (entry.alert != alert) continue;
    return RunbookStep{std::string(entry.section), Fill(entry.first, labels, config), Fill(entry.next, labels, config)};
  }
  return std::nullopt;
}

}  // namespace offmon::query
