// The dashboard's alerts page: `offmon alerts` as a page. The episodes that fired within
// the range (firing to resolved, with durations and per receiver what became of their
// notifications) and the silences active now.
#include <fmt/format.h>

#include <algorithm>

#include "alert_history_impl.h"
#include "dashboard_impl.h"
#include "offmon/query/dashboard.h"

namespace offmon::query {

namespace {

constexpr size_t kMaxEpisodes = 500;  // newest first; older ones are counted, not listed

// Per receiver: "webhook: 2 delivered, 1 failed (HTTP 500)", in order of first notification.
std::string DeliveryCell(const AlertEpisode& e) {
  if (e.deliveries.empty()) return "<span class=\"muted\">none</span>";
  std::vector<std::string> receivers;
  for (const Delivery& d : e.deliveries) {
    if (std::find(receivers.begin(), receivers.end(), d.receiver) == receivers.end()) receivers.push_back(d.receiver);
  }
  std::string out;
  for (const std::string& receiver : receivers) {
    DeliveryCounts n;
    std::string last_error;
    for (const Delivery& d : e.deliveries) {
      if (d.receiver != receiver) continue;
      n.Add(d);
      if (d.state == DeliveryState::kFailed) last_error = d.error.empty() ? fmt::format("HTTP {}", d.status) : d.error;
    }
    std::string counts;
    auto add = [&counts](size_t count, std::string_view what, std::string_view css) {
      if (count == 0) return;
      counts += fmt::format("{}<span class=\"{}\">{} {}</span>", counts.empty() ? "" : ", ", css, count, what);
    };
    add(n.delivered, "delivered", "ok");
    add(n.failed, "failed", "down");
    add(n.pending, "pending", "warning");
    out += fmt::format("<div class=\"delivery\" data-receiver=\"{0}\">{0}: {1}{2}</div>", HtmlEscape(receiver), counts,
                       last_error.empty() ? "" : " <span class=\"muted\">(" + HtmlEscape(last_error) + ")</span>");
  }
  return out;
}

}  // namespace

Result<std::string> RenderAlertsFragment(store::Store& store, const Config& config, TimePoint at, ChartRange range) {
  const TimePoint from = at - ChartRangeLength(range);
  auto transitions = analyzer::ReadTransitions(store, at);
  if (!transitions) return transitions.error();
  auto deliveries = ReadDeliveries(store, at);
  if (!deliveries) return deliveries.error();
  std::vector<AlertEpisode> all = BuildEpisodes(*transitions);
  AttachDeliveries(std::move(*deliveries), &all);
  std::vector<const AlertEpisode*> episodes;
  for (const AlertEpisode& e : all) {
    if (e.Overlaps(from, at)) episodes.push_back(&e);
  }
  std::reverse(episodes.begin(), episodes.end());  // newest first

  auto report = BuildHealthReport(store, config, at);
  if (!report) return report.error();

  std::string out;
  const size_t open = static_cast<size_t>(
      std::count_if(episodes.begin(), episodes.end(), [](const AlertEpisode* e) { return !e->resolved_at; }));
  out += fmt::format(
      "<section id=\"history\"><h2>Alert history, last {}</h2>\n<p class=\"muted\">{} episodes ({} still firing) "
      "as of {}</p>\n",
      ChartRangeName(range), episodes.size(), open, DashboardTime(at));
  if (!episodes.empty()) {
    out +=
        "<table><thead><tr><th>Severity</th><th>Alert</th><th>Fired</th><th>Resolved</th><th>Duration</th>"
        "<th>Summary</th><th>Notifications</th></tr></thead><tbody>\n";
  }
  size_t listed = 0;
  for (const AlertEpisode* e : episodes) {
    if (++listed > kMaxEpisodes) break;
    const std::string_view severity = analyzer::SeverityName(e->severity);
    std::string summary = HtmlEscape(e->summary);
    if (!e->inhibited_by.empty())
      summary += " <span class=\"muted\">[caused by " + HtmlEscape(e->inhibited_by) + "]</span>";
    out += fmt::format(
        "<tr class=\"episode\" data-alert=\"{1}\"><td class=\"{0}\">{0}{2}</td><td class=\"mono\">{3}</td>"
        "<td>{4}</td><td>{5}</td><td>{6}</td><td>{7}</td><td>{8}</td></tr>\n",
        severity, HtmlEscape(e->alert), e->escalated ? " <span class=\"muted\">(escalated)</span>" : "",
        HtmlEscape(SeriesKey(e->alert, e->labels).ToString()), DashboardTime(e->fired_at),
        e->resolved_at ? DashboardTime(*e->resolved_at) : "<span class=\"down\">firing</span>",
        HtmlEscape(FormatDurationShort(e->DurationUntil(at))), summary, DeliveryCell(*e));
  }
  if (!episodes.empty()) out += "</tbody></table>\n";
  if (episodes.size() > kMaxEpisodes) {
    out += fmt::format("<p class=\"muted\">{} older episodes not listed (offmon alerts --since shows them)</p>\n",
                       episodes.size() - kMaxEpisodes);
  }
  if (episodes.empty()) out += "<p class=\"ok\">No alert fired in this range</p>\n";
  out += "</section>\n<section id=\"silences\"><h2>Silences and acknowledgements</h2>\n";
  bool any = false;
  for (const analyzer::Silence& s : report->silences) {
    any = true;
    out += fmt::format("<div class=\"note\"><span class=\"mono\">{} {}</span> until {} by {}: {}</div>\n",
                       HtmlEscape(s.id), HtmlEscape(analyzer::MatchersText(s.matchers)), DashboardTime(s.end()),
                       HtmlEscape(s.by), HtmlEscape(s.reason));
  }
  for (const AlertRow& a : report->alerts) {
    if (!a.acknowledged) continue;
    any = true;
    out += fmt::format("<div class=\"note\"><span class=\"mono\">{}</span> acknowledged until {} by {}: {}</div>\n",
                       HtmlEscape(SeriesKey(a.alert, a.labels).ToString()), DashboardTime(a.acknowledged->until),
                       HtmlEscape(a.acknowledged->by), HtmlEscape(a.acknowledged->reason));
  }
  if (!any) out += "<p class=\"muted\">none active</p>\n";
  out += "</section>\n";
  return out;
}

}  // namespace offmon::query
