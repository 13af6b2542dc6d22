#include "offmon/query/report_render.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "offmon/common/format.h"
#include "offmon/common/series_key.h"
#include "text_format_impl.h"
#include "trend_export_impl.h"

namespace offmon::query {

namespace {

constexpr int kReportWidth = 80;

// What an icon stands for; the plain form prints a word (or nothing) instead.
enum class Mark { kOk, kBad, kCritical, kWarning, kInfo, kStale };

std::string Repeat(std::string_view unit, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += unit;
  return out;
}

// "2025-11-15 04:45:30", the guide's sealed-time column.
std::string ShortTime(TimePoint t) {
  std::string text = FormatRfc3339(t).substr(0, 19);
  text[10] = ' ';
  return text;
}

// "04:00" on the report's (UTC) day, else "2025-11-16 04:00".
std::string UntilTime(TimePoint until, TimePoint at) {
  const std::string text = ShortTime(until);
  return text.substr(0, 10) == ShortTime(at).substr(0, 10) ? text.substr(11, 5) : text.substr(0, 16);
}

std::string Mebibytes(double bytes) { return fmt::format("{:.0f}MB", bytes / (1024.0 * 1024)); }
// The guide prints gibibytes; a small volume (a tmpfs, a container's disk) in them reads
// "0.0G free of 0.0G", so under one gibibyte the unit is mebibytes.
std::string Gibibytes(double bytes) {
  constexpr double kMiB = 1024.0 * 1024;
  if (bytes < 1024 * kMiB) return fmt::format("{:.0f}M", bytes / kMiB);
  return fmt::format("{:.1f}G", bytes / (1024 * kMiB));
}


class TextRenderer {
 public:
  TextRenderer(const HealthReport& report, const RenderOptions& options) : r_(report), terminal_(options.terminal) {}

  std::string Render() {
    Header();
    Processes();
    Database();
    Epochs();
    Channels();
    Alerts();
    Silences();
    System();
    out_ += Heavy() + '\n';
    return std::move(out_);
  }

 private:
  std::string Heavy() const { return terminal_ ? Repeat("═", kReportWidth) : std::string(kReportWidth, '='); }
  std::string Light() const { return terminal_ ? Repeat("─", kReportWidth) : std::string(kReportWidth, '-'); }

  // The icon and a space on a terminal; in plain text a word in brackets, or nothing.
  std::string Icon(Mark mark) const {
    if (terminal_) {
      switch (mark) {
        case Mark::kOk:
          return "✅ ";
        case Mark::kBad:
          return "❌ ";
        case Mark::kCritical:
          return "🔴 ";
        case Mark::kWarning:
          return "🟠 ";
        case Mark::kInfo:
          return "🔵 ";
        case Mark::kStale:
          return "⚠️ ";
      }
    }
    switch (mark) {
      case Mark::kOk:
        return "[ok] ";
      case Mark::kBad:
        return "[DOWN] ";
      case Mark::kStale:
        return "[STALE] ";
      default:
        return "";
    }
  }

  // ANSI colour on a terminal only.
  std::string Paint(std::string_view text, std::string_view code) const {
    return terminal_ ? fmt::format("\x1b[{}m{}\x1b[0m", code, text) : std::string(text);
  }

  std::string StaleNote(const Reading& reading) const {
    return Paint(fmt::format("(stale: last sample {}, {})", ShortTime(reading.time), Ago(r_.at, reading.time)), "2");
  }

  void Section(std::string_view icon, std::string_view title) {
    out_ += fmt::format("\n{}{}\n{}\n", terminal_ ? icon : "", title, Light());
  }

  void Header() {
    out_ += Heavy() + '\n';
    out_ += "OFF-CHAIN HEALTH REPORT\n";
    out_ += fmt::format("Timestamp: {}\n", FormatRfc3339(r_.at));
    const Mark mark = r_.status == HealthStatus::kOk        ? Mark::kOk
                      : r_.status == HealthStatus::kWarning ? Mark::kWarning
                                                            : Mark::kCritical;
    out_ += fmt::format("Status: {}{}{}\n", terminal_ ? Icon(mark) : "", SeverityColour(HealthStatusName(r_.status)),
                        r_.soft() ? " (pending: seen, not yet held for its rule's `for`)" : "");
    out_ += Heavy() + '\n';
  }

  std::string SeverityColour(std::string_view name) const {
    if (name == "CRITICAL") return Paint(name, "1;31");
    if (name == "WARNING") return Paint(name, "1;33");
    if (name == "OK") return Paint(name, "32");
    return std::string(name);
  }

  void Processes() {
    Section("📊 ", "PROCESS STATUS");
    if (r_.processes.empty()) {
      out_ += "no data: no process series in the store\n";
      return;
    }
    bool first = true;
    for (const ProcessStatus& p : r_.processes) {
      if (!first) out_ += '\n';
      first = false;
      const Reading* stale = nullptr;
      for (const Reading* reading : {&p.up, &p.uptime_seconds, &p.restarts_total, &p.memory_bytes, &p.cpu_percent}) {
        if (reading->present() && reading->stale && (stale == nullptr || reading->time > stale->time)) stale = reading;
      }
      const bool online = p.status == "online" || (p.status.empty() && p.up.present() && *p.up.value >= 1);
      const Mark mark = stale != nullptr ? Mark::kStale : online ? Mark::kOk : Mark::kBad;
      out_ += fmt::format("{}{}{}\n", Icon(mark), p.name, stale != nullptr ? "  " + StaleNote(*stale) : "");
      std::string restarts = "no data";
      if (p.restarts_total.present()) {
        restarts = fmt::format("{:.0f}", *p.restarts_total.value);
        if (p.restarts_last_hour) restarts += fmt::format(" ({:.0f} in the last hour)", *p.restarts_last_hour);
      }
      out_ += fmt::format("   Status: {} | Uptime: {} | Restarts: {}\n", p.status.empty() ? "unknown" : p.status,
                          p.uptime_seconds.present() ? FormatDurationShort(std::chrono::duration_cast<Duration>(
                                                           std::chrono::duration<double>(*p.uptime_seconds.value)))
                                                     : "no data",
                          restarts);
      out_ += fmt::format("   Memory: {} | CPU: {}\n",
                          p.memory_bytes.present() ? Mebibytes(*p.memory_bytes.value) : "no data",
                          p.cpu_percent.present() ? fmt::format("{:.0f}%", *p.cpu_percent.value) : "no data");
    }
  }

  // "value" or "value (stale: ...)" or "no data".
  std::string Value(const Reading& reading, const std::string& text) const {
    if (!reading.present()) return "no data";
    return reading.stale ? text + "  " + StaleNote(reading) : text;
  }

  void Database() {
    Section("🗄️  ", "DATABASE HEALTH");
    const DatabaseHealth& db = r_.database;
    if (!db.up.present() && !db.events_last_hour.present() && !db.latest_epoch.present()) {
      out_ += "no data: the database collector has recorded nothing\n";
      return;
    }
    if (!db.up.present()) {
      out_ += "Connection: no data\n";
    } else {
      const bool up = *db.up.value >= 1;
      const Mark mark = db.up.stale ? Mark::kStale : up ? Mark::kOk : Mark::kBad;
      out_ += Icon(mark) + Value(db.up, up ? "Connected" : "Not connected") + '\n';
    }
    out_ += "Events (last hour): " +
            Value(db.events_last_hour,
                  db.events_last_hour.present() ? fmt::format("{:.0f}", *db.events_last_hour.value) : "") +
            '\n';
    std::string latest = "no data";
    if (db.latest_epoch.present()) {
      latest = fmt::format("{:.0f}", *db.latest_epoch.value);
      if (db.latest_epoch_age_seconds.present()) {
        latest += fmt::format(" ({:.0f} seconds old)", *db.latest_epoch_age_seconds.value);
      }
      latest = Value(db.latest_epoch, latest);
    }
    out_ += "Latest epoch: " + latest + '\n';
    out_ += "Response time: " +
            Value(db.response_seconds,
                  db.response_seconds.present() ? fmt::format("{:.0f} ms", *db.response_seconds.value * 1000) : "") +
            '\n';
    if (db.backfill_oldest_epoch.present()) {
      const bool done = db.backfill_done.present() && *db.backfill_done.value >= 1;
      out_ += fmt::format("History: read back to {}{}\n",
                          ShortTime(FromMillis(static_cast<int64_t>(*db.backfill_oldest_epoch.value) * 1000)),
                          done ? " (backfill complete)" : " (backfill in progress: baselines are partial)");
    }
  }

  // A line under RECENT EPOCHS and CHANNELS while the store is behind the database.
  void BehindNote() {
    std::optional<int64_t> newest;
    for (const EpochRow& e : r_.epochs) {
      if (e.epoch) newest = std::max(newest.value_or(*e.epoch), *e.epoch);
    }
    const DatabaseHealth& db = r_.database;
    if (!db.Behind(newest)) return;
    out_ += Icon(Mark::kStale) + "collector behind: ";
    if (db.latest_epoch.present() && newest && static_cast<double>(*newest) < *db.latest_epoch.value) {
      out_ += fmt::format("the database's newest epoch is {:.0f}, the store's {}\n", *db.latest_epoch.value, *newest);
    } else {
      out_ += "backfill from the database in progress (DATABASE HEALTH, History)\n";
    }
  }

  void Epochs() {
    Section("📈 ", "RECENT EPOCHS");
    if (r_.epochs.empty()) {
      out_ += "no data: no sealed epochs in the store\n";
      return;
    }
    size_t channel_width = 15;
    for (const EpochRow& e : r_.epochs) channel_width = std::max(channel_width, e.channel.size() + 1);
    out_ += fmt::format("{:<11}{:<{}}{:<14}{:<21}{}\n", "Epoch", "Channel", channel_width, "Participants", "Sealed",
                        "Published");
    out_ += Light() + '\n';
    for (const EpochRow& e : r_.epochs) {
      std::string published = "unknown";
      if (e.published) {
        published = terminal_ ? (*e.published ? "✅" : "❌") : (*e.published ? "yes" : "no");
      }
      out_ += fmt::format("{:<11}{:<{}}{:<14}{:<21}{}\n", e.epoch ? std::to_string(*e.epoch) : "-", e.channel,
                          channel_width, e.participants, ShortTime(e.sealed_at), published);
    }
    BehindNote();
  }

  void Channels() {
    Section("📺 ", "CHANNELS");
    if (r_.channels.empty()) {
      out_ += "no data: no epoch_participants series in the store\n";
      return;
    }
    size_t channel_width = 15;
    for (const ChannelRow& c : r_.channels) channel_width = std::max(channel_width, c.channel.size() + 1);
    out_ += fmt::format("{:<{}}{:<14}{:<21}{}\n", "Channel", channel_width, "Last epoch", "Sealed", "Baseline");
    out_ += Light() + '\n';
    for (const ChannelRow& c : r_.channels) {
      std::string baseline = "no baseline yet (too few epochs)";
      if (c.baseline) {
        baseline = analyzer::FormatBaseline(*c.baseline);
        if (c.last_participants && c.baseline->median > 0) {
          const double change = std::round((*c.last_participants / c.baseline->median - 1) * 100);
          baseline += fmt::format(" ({:+.0f}%)", change == 0 ? 0.0 : change);  // never "-0%"
        }
      }
      out_ += fmt::format("{:<{}}{:<14}{:<21}{}\n", c.channel, channel_width,
                          c.last_participants ? GroupThousands(*c.last_participants) : "-",
                          c.last_sealed_at ? ShortTime(*c.last_sealed_at) : "-", baseline);
    }
    BehindNote();
  }

  void Alerts() {
    Section("🚨 ", "ACTIVE ALERTS");
    if (r_.alerts.empty()) {
      out_ += Icon(Mark::kOk) + "No alerts\n";
      return;
    }
    for (const AlertRow& a : r_.alerts) {
      const std::string indent = a.inhibited_by.empty() ? "" : "    ";
      const std::string_view severity = analyzer::SeverityName(a.severity);
      const Mark mark = a.severity == analyzer::Severity::kCritical  ? Mark::kCritical
                        : a.severity == analyzer::Severity::kWarning ? Mark::kWarning
                                                                     : Mark::kInfo;
      const std::string subject = SeriesKey(a.alert, a.labels).ToString();
      out_ += fmt::format("{}{}{} {}{}\n", indent, terminal_ ? Icon(mark) : "", SeverityColour(severity), subject,
                          a.firing ? (a.escalated ? "  (escalated)" : "") : "  (pending)");
      out_ += fmt::format("{}   {} since {} ({})\n", indent, a.firing ? "firing" : "pending", ShortTime(a.since),
                          Ago(r_.at, a.since));
      out_ += fmt::format("{}   {}\n", indent, a.summary);
      if (!a.inhibited_by.empty()) out_ += fmt::format("{}   caused by {}\n", indent, a.inhibited_by);
      if (a.silenced) {
        out_ += fmt::format("{}   silenced until {} by {}: {}\n", indent, UntilTime(a.silenced->until, r_.at),
                            a.silenced->by, a.silenced->reason);
      }
      if (a.acknowledged) {
        out_ += fmt::format("{}   acknowledged until {} by {}: {}\n", indent, UntilTime(a.acknowledged->until, r_.at),
                            a.acknowledged->by, a.acknowledged->reason);
      }
      if (!a.first_action.empty()) {
        out_ += fmt::format("{}   First action ({}): {}\n", indent, a.guide_section, a.first_action);
      }
    }
  }

  // Only when a silence is active.
  void Silences() {
    if (r_.silences.empty()) return;
    Section("🔕 ", "SILENCES");
    for (const analyzer::Silence& silence : r_.silences) {
      out_ += fmt::format("{}  {}\n", silence.id, analyzer::MatchersText(silence.matchers));
      out_ += fmt::format("   until {} by {}: {}\n", UntilTime(silence.end(), r_.at), silence.by, silence.reason);
    }
  }

  void System() {
    Section("💾 ", "SYSTEM RESOURCES");
    const SystemResources& s = r_.system;
    if (s.memory_total_bytes.present() && s.memory_available_bytes.present()) {
      out_ += "Memory: " +
              Value(s.memory_available_bytes,
                    fmt::format("{} used | {} free",
                                Gibibytes(*s.memory_total_bytes.value - *s.memory_available_bytes.value),
                                Gibibytes(*s.memory_available_bytes.value))) +
              '\n';
    } else {
      out_ += "Memory: no data\n";
    }
    if (s.load1.present() && s.load5.present() && s.load15.present()) {
      out_ += "CPU Load (1/5/15 min): " +
              Value(s.load1, fmt::format("{:.2f}, {:.2f}, {:.2f}", *s.load1.value, *s.load5.value, *s.load15.value)) +
              '\n';
    } else {
      out_ += "CPU Load (1/5/15 min): no data\n";
    }
    if (s.cpu_percent.present())
      out_ += "CPU: " + Value(s.cpu_percent, fmt::format("{:.0f}%", *s.cpu_percent.value)) + '\n';
    if (s.disks.empty()) {
      out_ += "Disk: no data\n";
    }
    for (const DiskRow& d : s.disks) {
      std::string text = Gibibytes(*d.free_bytes.value) + " free";
      if (d.total_bytes.present() && *d.total_bytes.value > 0) {
        text += fmt::format(" of {} ({:.0f}%)", Gibibytes(*d.total_bytes.value),
                            *d.free_bytes.value / *d.total_bytes.value * 100);
      }
      out_ += fmt::format("Disk {}: {}\n", d.mount, Value(d.free_bytes, text));
    }
  }

  const HealthReport& r_;
  const bool terminal_;
  std::string out_;
};

nlohmann::json ReadingJson(const Reading& reading) {
  if (!reading.present()) return nullptr;
  return {{"value", *reading.value}, {"time", FormatRfc3339(reading.time)}, {"stale", reading.stale}};
}

nlohmann::json NoteJson(const std::optional<SuppressionNote>& note) {
  if (!note) return nullptr;
  nlohmann::json out{{"until", FormatRfc3339(note->until)}, {"by", note->by}, {"reason", note->reason}};
  if (!note->id.empty()) out["id"] = note->id;
  return out;
}

}  // namespace

std::string RenderReportText(const HealthReport& report, const RenderOptions& options) {
  return TextRenderer(report, options).Render();
}

std::string RenderReportJson(const HealthReport& report) {
  nlohmann::json doc;
  doc["timestamp"] = FormatRfc3339(report.at);
  doc["status"] = HealthStatusName(report.status);
  doc["hard_status"] = HealthStatusName(report.hard_status);
  nlohmann::json processes = nlohmann::json::array();
  for (const ProcessStatus& p : report.processes) {
    processes.push_back(
        {{"name", p.name},
         {"status", p.status.empty() ? nlohmann::json() : nlohmann::json(p.status)},
         {"up", ReadingJson(p.up)},
         {"uptime_seconds", ReadingJson(p.uptime_seconds)},
         {"restarts_total", ReadingJson(p.restarts_total)},
         {"restarts_last_hour", p.restarts_last_hour ? nlohmann::json(*p.restarts_last_hour) : nlohmann::json()},
         {"memory_bytes", ReadingJson(p.memory_bytes)},
         {"cpu_percent", ReadingJson(p.cpu_percent)}});
  }
  doc["processes"] = std::move(processes);
  const DatabaseHealth& db = report.database;
  doc["database"] = {{"up", ReadingJson(db.up)},
                     {"events_last_hour", ReadingJson(db.events_last_hour)},
                     {"latest_epoch", ReadingJson(db.latest_epoch)},
                     {"latest_epoch_age_seconds", ReadingJson(db.latest_epoch_age_seconds)},
                     {"response_seconds", ReadingJson(db.response_seconds)},
                     {"backfill_oldest_epoch", ReadingJson(db.backfill_oldest_epoch)},
                     {"backfill_done", ReadingJson(db.backfill_done)}};
  nlohmann::json epochs = nlohmann::json::array();
  for (const EpochRow& e : report.epochs) {
    epochs.push_back({{"epoch", e.epoch ? nlohmann::json(*e.epoch) : nlohmann::json()},
                      {"channel", e.channel},
                      {"participants", e.participants},
                      {"sealed_at", FormatRfc3339(e.sealed_at)},
                      {"published", e.published ? nlohmann::json(*e.published) : nlohmann::json()}});
  }
  doc["epochs"] = std::move(epochs);
  nlohmann::json channels = nlohmann::json::array();
  for (const ChannelRow& c : report.channels) {
    nlohmann::json baseline;
    if (c.baseline) {
      baseline = {{"median", c.baseline->median},
                  {"spread", c.baseline->spread},
                  {"epochs", c.baseline->epochs},
                  {"seasonal", c.baseline->seasonal},
                  {"source", c.baseline_source}};
    }
    channels.push_back(
        {{"channel", c.channel},
         {"last_participants", c.last_participants ? nlohmann::json(*c.last_participants) : nlohmann::json()},
         {"last_sealed_at", c.last_sealed_at ? nlohmann::json(FormatRfc3339(*c.last_sealed_at)) : nlohmann::json()},
         {"baseline", std::move(baseline)}});
  }
  doc["channels"] = std::move(channels);
  nlohmann::json alerts = nlohmann::json::array();
  for (const AlertRow& a : report.alerts) {
    alerts.push_back({{"alert", a.alert},
                      {"severity", analyzer::SeverityName(a.severity)},
                      {"state", a.firing ? "firing" : "pending"},
                      {"escalated", a.escalated},
                      {"labels", LabelsJson(a.labels)},
                      {"summary", a.summary},
                      {"since", FormatRfc3339(a.since)},
                      {"active_since", FormatRfc3339(a.active_since)},
                      {"inhibited_by", a.inhibited_by.empty() ? nlohmann::json() : nlohmann::json(a.inhibited_by)},
                      {"first_action", a.first_action},
                      {"guide_section", a.guide_section},
                      {"silenced", NoteJson(a.silenced)},
                      {"acknowledged", NoteJson(a.acknowledged)}});
  }
  doc["alerts"] = std::move(alerts);
  nlohmann::json silences = nlohmann::json::array();
  for (const analyzer::Silence& silence : report.silences) {
    nlohmann::json matchers = nlohmann::json::array();
    for (const analyzer::Matcher& m : silence.matchers) matchers.push_back({{"name", m.name}, {"value", m.value}});
    silences.push_back({{"id", silence.id},
                        {"matchers", matchers},
                        {"starts", FormatRfc3339(silence.starts)},
                        {"until", FormatRfc3339(silence.end())},
                        {"by", silence.by},
                        {"reason", silence.reason}});
  }
  doc["silences"] = std::move(silences);
  const SystemResources& s = report.system;
  nlohmann::json disks = nlohmann::json::array();
  for (const DiskRow& d : s.disks) {
    disks.push_back(
        {{"mount", d.mount}, {"free_bytes", ReadingJson(d.free_bytes)}, {"total_bytes", ReadingJson(d.total_bytes)}});
  }
  doc["system"] = {{"memory_total_bytes", ReadingJson(s.memory_total_bytes)},
                   {"memory_available_bytes", ReadingJson(s.memory_available_bytes)},
                   {"cpu_percent", ReadingJson(s.cpu_percent)},
                   {"load1", ReadingJson(s.load1)},
                   {"load5", ReadingJson(s.load5)},
                   {"load15", ReadingJson(s.load15)},
                   {"disks", std::move(disks)}};
  // Replace, never throw, on a label or summary that is not UTF-8.
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + '\n';
}

bool StdoutWantsTerminalForm() {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  return isatty(fileno(stdout)) != 0;
}

}  // namespace offmon::query
