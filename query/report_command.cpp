#include <unistd.h>

#include <ostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "offmon/query/query_command.h"
#include "offmon/store/store_command.h"

namespace offmon::query {

namespace {

const std::string kRule(80, '=');
const std::string kThinRule = [] {
  std::string s;
  for (int i = 0; i < 80; ++i) s += "─";
  return s;
}();

// A value is current when seen within this window; older ones are shown as stale.
constexpr Duration kFresh = std::chrono::minutes(10);

struct Latest {
  std::optional<Sample> sample;
  bool stale = false;
};

Latest LatestOf(store::Store& store, std::string_view selector_text, TimePoint now) {
  Latest latest;
  auto selector = store::Selector::Parse(selector_text);
  if (!selector) return latest;
  auto series = store.Select(*selector);
  if (!series || series->empty()) return latest;
  auto samples = store.ReadRange(series->front().id, now - std::chrono::days(7), now + Duration(1));
  if (!samples || samples->empty()) return latest;
  latest.sample = samples->back();
  latest.stale = now - samples->back().time > kFresh;
  return latest;
}

std::string Gigabytes(double bytes) { return fmt::format("{:.1f}G", bytes / (1024.0 * 1024 * 1024)); }

void RunReport(CliContext& ctx) {
  auto store = store::OpenStoreForCommand(ctx, /*read_only=*/true);
  if (!store) return ctx.Fail(store.error());
  const TimePoint now = ctx.clock->Now();
  std::ostream& out = *ctx.out;
  out << kRule << "\nOFF-CHAIN HEALTH REPORT\nTimestamp: " << FormatRfc3339(now) << '\n' << kRule << "\n\n";

  out << "PROCESS STATUS\n" << kThinRule << "\n  no process data in the store\n\n";
  out << "DATABASE HEALTH\n" << kThinRule << "\n  no database data in the store\n\n";
  out << "RECENT EPOCHS\n" << kThinRule << "\n  no epoch data in the store\n\n";
  out << "ACTIVE ALERTS\n" << kThinRule << "\n  no alerts\n\n";

  out << "SYSTEM RESOURCES\n" << kThinRule << '\n';
  auto mark = [&](const Latest& l) {
    return l.stale ? fmt::format("  (stale: last seen {})", FormatRfc3339(l.sample->time)) : std::string();
  };
  Latest total = LatestOf(**store, "system_memory_total_bytes", now);
  Latest available = LatestOf(**store, "system_memory_available_bytes", now);
  if (total.sample && available.sample) {
    out << fmt::format("Memory: {} used | {} free{}\n", Gigabytes(total.sample->value - available.sample->value),
                       Gigabytes(available.sample->value), mark(available));
  } else {
    out << "Memory: no data\n";
  }
  Latest l1 = LatestOf(**store, "system_load1", now), l5 = LatestOf(**store, "system_load5", now),
         l15 = LatestOf(**store, "system_load15", now);
  if (l1.sample && l5.sample && l15.sample) {
    out << fmt::format("CPU Load (1/5/15 min): {:.2f}, {:.2f}, {:.2f}{}\n", l1.sample->value, l5.sample->value,
                       l15.sample->value, mark(l1));
  } else {
    out << "CPU Load: no data\n";
  }
  auto disks = store::Selector::Parse("disk_free_bytes");
  auto series = disks ? (*store)->Select(*disks) : Result<std::vector<store::SeriesInfo>>(disks.error());
  if (series) {
    for (const auto& info : *series) {
      auto samples = (*store)->ReadRange(info.id, now - std::chrono::days(7), now + Duration(1));
      if (!samples || samples->empty()) continue;
      Latest l{samples->back(), now - samples->back().time > kFresh};
      out << fmt::format("Disk {}: {} free{}\n", info.key.Label("mount"), Gigabytes(l.sample->value), mark(l));
    }
  }
  out << kRule << '\n';
}

}  // namespace

void AddReportCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("report", "Print the health report from the store");
  cmd->callback([&ctx] { RunReport(ctx); });
}

}  // namespace offmon::query
