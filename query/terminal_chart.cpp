#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <ostream>

#include "terminal_chart_impl.h"

namespace offmon::query {

namespace {

constexpr std::string_view kBlocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
constexpr int kLevelsPerRow = 8;

std::string Repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// Cuts `text` to `width` code points, marking the cut with "…".
std::string Fit(std::string text, size_t width) {
  if (DisplayWidth(text) <= width) return text;
  size_t points = 0, i = 0;
  for (; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (points == width - 1) break;
    ++points;
  }
  text.resize(i);
  return text + "…";
}

// "2026-11-02 01:05" (UTC), or "11-02 01:05" when short.
std::string TimeLabel(TimePoint t, bool short_form) {
  std::string text = FormatRfc3339(t).substr(0, 16);
  text[10] = ' ';
  return short_form ? text.substr(5) : text;
}

// Which chart column shows which slots of the grid: the columns share the slots evenly,
// so the chart always uses its full width (a slot spans several columns when there are
// few slots, a column several slots when there are many).
class ColumnMap {
 public:
  ColumnMap(size_t slots, size_t columns) : slots_(slots), columns_(slots == 0 ? 0 : columns) {}
  size_t columns() const { return columns_; }
  size_t FirstSlot(size_t column) const { return column * slots_ / columns_; }
  size_t EndSlot(size_t column) const { return std::max((column + 1) * slots_ / columns_, FirstSlot(column) + 1); }
  // The first column showing `slot`.
  size_t ColumnOf(size_t slot) const {
    size_t c = std::min(columns_ - 1, slot * columns_ / std::max<size_t>(slots_, 1));
    while (c > 0 && EndSlot(c - 1) > slot) --c;
    while (c + 1 < columns_ && EndSlot(c) <= slot) ++c;
    return c;
  }

 private:
  size_t slots_, columns_;
};

// Items joined by two blanks, wrapped to `width`, each line indented by two.
void PrintWrapped(std::ostream& out, const std::vector<std::string>& items, size_t width) {
  std::string line;
  for (const std::string& item : items) {
    if (!line.empty() && DisplayWidth(line) + 2 + DisplayWidth(item) > width) {
      out << line << '\n';
      line.clear();
    }
    line += "  " + item;
  }
  if (!line.empty()) out << line << '\n';
}

void RenderChart(std::ostream& out, const TrendView& view, const SeriesTrend& s, size_t width) {
  const TrendGrid& grid = view.grid;
  // Column means.
  std::vector<double> sums, counts;
  // Gutter: the wider of the two value labels.
  double lo = 0, hi = 0;
  bool any = false;
  for (const store::RollupBucket& b : s.buckets) {
    if (b.count <= 0) continue;
    lo = any ? std::min(lo, b.avg()) : b.avg();
    hi = any ? std::max(hi, b.avg()) : b.avg();
    any = true;
  }
  const DisplayScale scale = ScaleFor(s.unit, std::max(std::fabs(lo), std::fabs(hi)));
  const std::string hi_label = FormatScaled(hi, scale) + scale.suffix;
  const std::string lo_label = FormatScaled(lo, scale) + scale.suffix;
  const size_t gutter = std::max<size_t>({DisplayWidth(hi_label), DisplayWidth(lo_label), 6});
  // "  " + gutter + " ┤" + columns, one spare column at the right.
  const size_t max_columns = width > gutter + 5 ? width - gutter - 5 : 1;
  const ColumnMap map(grid.slots, max_columns);
  std::vector<double> slot_sums(grid.slots, 0), slot_counts(grid.slots, 0);
  for (const store::RollupBucket& b : s.buckets) {
    if (b.count <= 0) continue;
    const size_t slot = grid.SlotOf(b.start);
    slot_sums[slot] += b.sum;
    slot_counts[slot] += static_cast<double>(b.count);
  }
  sums.assign(map.columns(), 0);
  counts.assign(map.columns(), 0);
  for (size_t c = 0; c < map.columns(); ++c) {
    for (size_t slot = map.FirstSlot(c); slot < map.EndSlot(c) && slot < grid.slots; ++slot) {
      sums[c] += slot_sums[slot];
      counts[c] += slot_counts[slot];
    }
  }
  const int levels = kChartRows * kLevelsPerRow;
  std::vector<int> level(map.columns(), 0);
  for (size_t c = 0; c < map.columns(); ++c) {
    if (counts[c] == 0) continue;
    const double mean = sums[c] / counts[c];
    if (hi > lo) {
      level[c] = 1 + static_cast<int>(std::lround((mean - lo) / (hi - lo) * (levels - 1)));
    } else {
      level[c] = levels / 2;
    }
  }
  for (int row = 0; row < kChartRows; ++row) {
    const int floor_level = (kChartRows - 1 - row) * kLevelsPerRow;
    std::string line;
    for (size_t c = 0; c < map.columns(); ++c) {
      const int fill = std::clamp(level[c] - floor_level, 0, kLevelsPerRow);
      line += fill == 0 ? std::string_view(" ") : kBlocks[fill - 1];
    }
    const std::string& label = row == 0 ? hi_label : row == kChartRows - 1 ? lo_label : std::string();
    const std::string pad(gutter - DisplayWidth(label), ' ');
    out << fmt::format("  {}{} {}{}\n", pad, label, label.empty() ? "│" : "┤", line);
  }
  out << fmt::format("  {} └{}\n", std::string(gutter, ' '), Repeat("─", map.columns()));
  // Time labels: start under the first column, end right-aligned under the last.
  const bool short_form = map.columns() < 2 * 16 + 2;
  const std::string start_label = TimeLabel(grid.start, short_form);
  const std::string end_label = TimeLabel(grid.end, short_form) + (map.columns() >= 2 * 16 + 6 ? " UTC" : "");
  std::string axis = start_label;
  if (map.columns() >= start_label.size() + end_label.size() + 1) {
    axis += std::string(map.columns() - start_label.size() - end_label.size(), ' ') + end_label;
  }
  out << fmt::format("  {}  {}\n", std::string(gutter, ' '), axis);
  // Alert markers: ▲ where an alert fired, ━ while it kept firing.
  if (!s.alerts.empty()) {
    std::vector<std::string_view> marks(map.columns(), " ");
    for (const AlertEpisode& e : s.alerts) {
      const TimePoint until = e.resolved_at ? *e.resolved_at : grid.end;
      const size_t first = map.ColumnOf(grid.SlotOf(e.fired_at));
      const size_t last = std::min(map.columns() - 1, map.ColumnOf(grid.SlotOf(until)));
      for (size_t c = first; c <= last && c < map.columns(); ++c) {
        if (marks[c] != "▲") marks[c] = "━";
      }
      if (e.fired_at >= grid.start && first < map.columns()) marks[first] = "▲";
    }
    std::string line;
    for (std::string_view m : marks) line += m;
    const std::string label = "alerts";
    out << fmt::format("  {}{} {}\n", std::string(gutter - label.size(), ' '), label, line);
  }
}

}  // namespace

size_t DisplayWidth(std::string_view text) {
  size_t n = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

int TerminalWidth() {
  if (const char* columns = std::getenv("COLUMNS"); columns != nullptr && *columns != '\0') {
    int value = 0;
    const char* end = columns + std::char_traits<char>::length(columns);
    auto [ptr, ec] = std::from_chars(columns, end, value);
    if (ec == std::errc() && ptr == end && value > 0) return value;
  }
  if (isatty(STDOUT_FILENO) == 1) {
    winsize size{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  }
  return 80;
}

void RenderTerminal(std::ostream& out, const TrendView& view, int requested_width) {
  const auto width = static_cast<size_t>(std::clamp(requested_width, kMinWidth, kMaxWidth));
  for (const SeriesTrend& s : view.series) {
    out << s.key.ToString() << '\n';
    PrintWrapped(out, {fmt::format("last {}, step {} ({})", view.since, FormatStep(view.grid.step), view.source)},
                 width);
    if (!s.stats) {
      out << "  no samples in range\n\n";
      continue;
    }
    RenderChart(out, view, s, width);
    const TrendStats& st = *s.stats;
    PrintWrapped(
        out,
        {fmt::format("min: {}", FormatValue(s.unit, st.min)), fmt::format("avg: {}", FormatValue(s.unit, st.avg)),
         fmt::format("max: {}", FormatValue(s.unit, st.max)),
         fmt::format("p95{}: {}", st.p95_exact ? "" : " (est.)", FormatValue(s.unit, st.p95)),
         fmt::format("samples: {}", st.count)},
        width);
    out << Fit(fmt::format("  last: {} at {}", FormatValue(s.unit, st.last.value), FormatRfc3339Seconds(st.last.time)), width)
        << '\n';
    if (st.slope_per_hour) {
      PrintWrapped(out,
                   {fmt::format("slope: {}, {}", FormatRate(s.unit, *st.slope_per_hour, "h"),
                                FormatRate(s.unit, *st.slope_per_day(), "d")),
                    fmt::format("(Theil–Sen over {} bucket means)", st.slope_points)},
                   width);
    } else {
      out << "  slope: n/a (fewer than two buckets)\n";
    }
    if (!s.baseline.empty()) {
      const BaselinePoint& b = s.baseline.back();
      out << Fit(fmt::format("  baseline: {} ± {} (at {})", FormatValue(s.unit, b.median),
                             FormatValue(s.unit, b.spread), FormatRfc3339Seconds(b.start)),
                 width)
          << '\n';
    }
    for (const AlertEpisode& e : s.alerts) {
      std::string line = fmt::format("  ▲ {} {} {}", TimeLabel(e.fired_at, false), analyzer::SeverityName(e.severity),
                                     analyzer::Fingerprint(e.alert, e.labels));
      line += fmt::format(" {} {}", e.resolved_at ? "lasted" : "still firing after",
                          FormatDurationShort(e.DurationUntil(view.until)));
      out << Fit(line, width) << '\n';
    }
    out << '\n';
  }
}

}  // namespace offmon::query
