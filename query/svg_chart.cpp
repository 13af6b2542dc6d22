#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "svg_chart_impl.h"

namespace offmon::query {

namespace {

constexpr double kChartWidth = 1000;
constexpr double kLeft = 90, kRight = 30;
constexpr double kPlotWidth = kChartWidth - kLeft - kRight;
constexpr double kHeading = 60;
constexpr double kPlotHeight = 260;
constexpr double kAxisBelow = 46;  // time labels and the axis title
constexpr double kLegendLine = 18;
constexpr double kPanelGap = 30;
constexpr std::string_view kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
                                        "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79"};

std::string_view SeverityColor(analyzer::Severity severity) {
  switch (severity) {
    case analyzer::Severity::kCritical:
      return "#d62728";
    case analyzer::Severity::kWarning:
      return "#ff9900";
    case analyzer::Severity::kInfo:
      return "#888888";
  }
  return "#888888";
}

// 1, 2 or 5 times a power of ten, at least `raw`.
double NiceStep(double raw) {
  if (!(raw > 0) || !std::isfinite(raw)) return 1;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * power >= raw) return m * power;
  }
  return 10 * power;
}

Duration TimeTickStep(Duration range) {
  using namespace std::chrono;
  for (Duration step :
       {Duration(minutes(1)), Duration(minutes(5)), Duration(minutes(15)), Duration(minutes(30)), Duration(hours(1)),
        Duration(hours(3)), Duration(hours(6)), Duration(hours(12)), Duration(hours(24)), Duration(hours(48)),
        Duration(hours(24 * 7)), Duration(hours(24 * 14)), Duration(hours(24 * 30))}) {
    if (range / step <= 8) return step;
  }
  return hours(24 * 90);
}

std::string TimeTickLabel(TimePoint t, Duration step) {
  std::string text = FormatRfc3339(t);  // 2026-11-02T01:05:00.000Z
  if (step >= std::chrono::hours(24)) return text.substr(5, 5);
  return text.substr(5, 5) + " " + text.substr(11, 5);
}

struct Panel {
  UnitKind unit;
  std::vector<const SeriesTrend*> series;
  std::vector<size_t> color;  // index into kColors, per series
};

class SvgWriter {
 public:
  explicit SvgWriter(const TrendView& view) : view_(view) {}

  std::string Render() {
    std::vector<Panel> panels;
    size_t next_color = 0;
    for (const SeriesTrend& s : view_.series) {
      auto it = std::find_if(panels.begin(), panels.end(), [&](const Panel& p) { return p.unit == s.unit; });
      if (it == panels.end()) it = panels.insert(panels.end(), Panel{s.unit, {}, {}});
      it->series.push_back(&s);
      it->color.push_back(next_color++ % std::size(kColors));
    }
    double height = kHeading;
    for (const Panel& p : panels) height += PanelHeight(p) + kPanelGap;
    std::string out;
    out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out += fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
        "font-family=\"sans-serif\" font-size=\"12\">\n",
        kChartWidth, height);
    out += fmt::format("<title>offmon trend {}</title>\n", XmlEscape(view_.selector));
    out += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", kChartWidth, height);
    out += fmt::format("<text class=\"heading\" x=\"{}\" y=\"24\" font-size=\"16\" font-weight=\"bold\">{}</text>\n",
                       kLeft, XmlEscape("offmon trend " + view_.selector));
    out += fmt::format(
        "<text class=\"subheading\" x=\"{}\" y=\"44\" fill=\"#555555\">{}</text>\n", kLeft,
        XmlEscape(fmt::format("{} to {} (last {}), step {}, {}", FormatRfc3339Seconds(view_.grid.start), FormatRfc3339Seconds(view_.grid.end),
                              view_.since, FormatStep(view_.grid.step), view_.source)));
    double top = kHeading;
    for (const Panel& p : panels) {
      out += RenderPanel(p, top);
      top += PanelHeight(p) + kPanelGap;
    }
    out += "</svg>\n";
    return out;
  }

 private:
  static size_t LegendLines(const Panel& p) {
    size_t lines = p.series.size();
    bool alerts = false;
    for (const SeriesTrend* s : p.series) {
      if (!s->baseline.empty()) ++lines;
      alerts = alerts || !s->alerts.empty();
    }
    return lines + (alerts ? 1 : 0);
  }
  static double PanelHeight(const Panel& p) {
    return kPlotHeight + kAxisBelow + kLegendLine * static_cast<double>(LegendLines(p)) + 10;
  }

  double X(TimePoint t) const {
    const double span = static_cast<double>((view_.grid.end - view_.grid.start).count());
    const double at = static_cast<double>((t - view_.grid.start).count());
    return kLeft + std::clamp(span > 0 ? at / span : 0.0, 0.0, 1.0) * kPlotWidth;
  }
  // The middle of a bucket, where its mean is drawn.
  double BucketX(TimePoint start) const { return X(std::min(start + view_.grid.step / 2, view_.grid.end)); }

  std::string RenderPanel(const Panel& p, double top) {
    std::string out = fmt::format("<g class=\"panel\" data-unit=\"{}\">\n", UnitKindName(p.unit));
    // Value range over the series' bucket means and their baseline bands.
    double lo = 0, hi = 0;
    bool any = false;
    auto take = [&](double v) {
      if (!std::isfinite(v)) return;
      lo = any ? std::min(lo, v) : v;
      hi = any ? std::max(hi, v) : v;
      any = true;
    };
    for (const SeriesTrend* s : p.series) {
      for (const store::RollupBucket& b : s->buckets) {
        if (b.count > 0) take(b.avg());
      }
      for (const BaselinePoint& b : s->baseline) {
        take(b.median - b.spread);
        take(b.median + b.spread);
      }
      if (s->leak_trend) take(s->leak_trend->At(view_.grid.end));
    }
    const DisplayScale scale = ScaleFor(p.unit, std::max(std::fabs(lo), std::fabs(hi)));
    double dlo = lo / scale.divisor, dhi = hi / scale.divisor;
    if (dhi - dlo < 1e-12) {
      const double pad = std::max(std::fabs(dhi) * 0.1, 1.0);
      dlo -= pad;
      dhi += pad;
    }
    const double step = NiceStep((dhi - dlo) / 5);
    const double tick_lo = std::floor(dlo / step) * step, tick_hi = std::ceil(dhi / step) * step;
    auto y = [&](double value) { return top + (tick_hi - value / scale.divisor) / (tick_hi - tick_lo) * kPlotHeight; };
    const double bottom = top + kPlotHeight;

    // Frame, value grid and labels.
    out += fmt::format(
        "<rect class=\"plot-area\" x=\"{}\" y=\"{:.1f}\" width=\"{}\" height=\"{}\" fill=\"none\" "
        "stroke=\"#cccccc\"/>\n",
        kLeft, top, kPlotWidth, kPlotHeight);
    out += "<g class=\"y-axis\">\n";
    for (double v = tick_lo; v <= tick_hi + step / 2; v += step) {
      const double py = top + (tick_hi - v) / (tick_hi - tick_lo) * kPlotHeight;
      out += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#eeeeee\"/>\n", kLeft, py,
                         kLeft + kPlotWidth, py);
      const double shown = std::fabs(v) < step / 1e6 ? 0 : v;
      out += fmt::format(
          "<text class=\"tick-label\" x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\" dominant-baseline=\"middle\">{}"
          "</text>\n",
          kLeft - 6, py, XmlEscape(fmt::format("{:.4g}", shown)));
    }
    std::string unit_title = std::string(UnitKindName(p.unit));
    if (!scale.Name().empty() && scale.Name() != unit_title) unit_title += fmt::format(" ({})", scale.Name());
    out += fmt::format(
        "<text class=\"axis-label\" x=\"{0}\" y=\"{1:.1f}\" text-anchor=\"middle\" "
        "transform=\"rotate(-90 {0} {1:.1f})\">{2}</text>\n",
        20, top + kPlotHeight / 2, XmlEscape(unit_title));
    out += "</g>\n<g class=\"x-axis\">\n";
    const Duration range = view_.grid.end - view_.grid.start;
    const Duration tick = TimeTickStep(range);
    for (TimePoint t = view_.grid.start + (tick - (view_.grid.start.time_since_epoch() % tick)) % tick;
         t <= view_.grid.end; t += tick) {
      const double px = X(t);
      out += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#eeeeee\"/>\n", px,
                         top, bottom);
      out += fmt::format("<text class=\"tick-label\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", px,
                         bottom + 16, XmlEscape(TimeTickLabel(t, tick)));
    }
    out +=
        fmt::format("<text class=\"axis-label\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">time (UTC)</text>\n",
                    kLeft + kPlotWidth / 2, bottom + 36);
    out += "</g>\n";

    // Baseline bands, under the lines.
    for (const SeriesTrend* s : p.series) {
      if (s->baseline.empty()) continue;
      std::string band, median;
      for (const BaselinePoint& b : s->baseline) {
        band += fmt::format("{}{:.1f},{:.1f}", band.empty() ? "" : " ", BucketX(b.start), y(b.median + b.spread));
        median += fmt::format("{}{:.1f},{:.1f}", median.empty() ? "" : " ", BucketX(b.start), y(b.median));
      }
      for (auto it = s->baseline.rbegin(); it != s->baseline.rend(); ++it) {
        band += fmt::format(" {:.1f},{:.1f}", BucketX(it->start), y(it->median - it->spread));
      }
      out += fmt::format(
          "<g class=\"baseline\" data-series=\"{}\">\n<polygon class=\"baseline-band\" points=\"{}\" "
          "fill=\"#2ca02c\" fill-opacity=\"0.15\" stroke=\"none\"/>\n<polyline class=\"baseline-median\" "
          "points=\"{}\" fill=\"none\" stroke=\"#2ca02c\" stroke-dasharray=\"4 3\"/>\n</g>\n",
          XmlEscape(s->key.ToString()), band, median);
    }

    // A firing leak's trend line, on to the end of the range, and where it meets the limit.
    for (const SeriesTrend* s : p.series) {
      if (!s->leak_trend) continue;
      const LeakTrend& trend = *s->leak_trend;
      const std::string limit = FormatValue(p.unit, trend.limit);
      const std::string crossing = trend.crossing ? fmt::format("reaches {} at {}", limit, FormatRfc3339Seconds(*trend.crossing))
                                                  : fmt::format("does not reach {}", limit);
      out += fmt::format(
          "<g class=\"leak-trend\" data-series=\"{}\">\n<title>{}</title>\n<line x1=\"{:.1f}\" y1=\"{:.1f}\" "
          "x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#d62728\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n"
          "<text class=\"leak-projection\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" fill=\"#d62728\">"
          "trend {}</text>\n</g>\n",
          XmlEscape(s->key.ToString()),
          XmlEscape(fmt::format("MemoryLeak trend of {}: {}", s->key.ToString(), crossing)), X(trend.from),
          y(trend.from_value), X(view_.grid.end), y(trend.At(view_.grid.end)), kLeft + kPlotWidth - 4, top + 14,
          XmlEscape(crossing));
    }

    // Alert spans and markers, once per alert episode in a panel.
    std::set<std::pair<std::string, TimePoint>> drawn;
    for (const SeriesTrend* s : p.series) {
      for (const AlertEpisode& e : s->alerts) {
        if (!drawn.emplace(analyzer::Fingerprint(e.alert, e.labels), e.fired_at).second) continue;
        const std::string color(SeverityColor(e.severity));
        const double x0 = X(e.fired_at), x1 = X(e.resolved_at ? *e.resolved_at : view_.until);
        const std::string title = fmt::format(
            "{} {} fired {}{}: {}", analyzer::SeverityName(e.severity), analyzer::Fingerprint(e.alert, e.labels),
            FormatRfc3339Seconds(e.fired_at),
            e.resolved_at ? ", resolved " + FormatRfc3339Seconds(*e.resolved_at) : std::string(", still firing"), e.summary);
        out += fmt::format("<g class=\"alert-marker\" data-alert=\"{}\" data-series=\"{}\">\n<title>{}</title>\n",
                           XmlEscape(e.alert), XmlEscape(s->key.ToString()), XmlEscape(title));
        out += fmt::format(
            "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\" fill-opacity=\"0.08\"/>\n", x0,
            top, std::max(x1 - x0, 1.0), kPlotHeight, color);
        if (e.fired_at >= view_.grid.start) {
          out += fmt::format(
              "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"{3}\" "
              "stroke-dasharray=\"5 3\"/>\n<circle cx=\"{0:.1f}\" cy=\"{1:.1f}\" r=\"4\" fill=\"{3}\"/>\n",
              x0, top, bottom, color);
        }
        out += fmt::format(
            "<text class=\"alert-label\" x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" fill=\"{}\">{}</text>\n", x0 + 5,
            top + 12, color, XmlEscape(e.alert));
        out += "</g>\n";
      }
    }

    // One line per series: its bucket means, broken where buckets are missing.
    for (size_t i = 0; i < p.series.size(); ++i) {
      const SeriesTrend& s = *p.series[i];
      std::string d, dots;
      const store::RollupBucket* previous = nullptr;
      size_t run = 0;
      for (const store::RollupBucket& b : s.buckets) {
        if (b.count <= 0) continue;
        const bool gap = previous == nullptr || b.start - previous->start > view_.grid.step;
        if (gap && run == 1 && previous != nullptr) {
          dots += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2\" fill=\"{}\"/>\n", BucketX(previous->start),
                              y(previous->avg()), kColors[p.color[i]]);
        }
        run = gap ? 1 : run + 1;
        d += fmt::format("{}{} {:.1f} {:.1f}", d.empty() ? "" : " ", gap ? 'M' : 'L', BucketX(b.start), y(b.avg()));
        previous = &b;
      }
      if (run == 1 && previous != nullptr) {
        dots += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2\" fill=\"{}\"/>\n", BucketX(previous->start),
                            y(previous->avg()), kColors[p.color[i]]);
      }
      out += fmt::format("<g class=\"series\" data-series=\"{}\">\n", XmlEscape(s.key.ToString()));
      if (!d.empty()) {
        out +=
            fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"/>\n", d, kColors[p.color[i]]);
      }
      out += dots + "</g>\n";
    }

    // Legend.
    out += "<g class=\"legend\">\n";
    double ly = bottom + kAxisBelow + 4;
    auto entry = [&](std::string_view swatch, const std::string& text) {
      out += fmt::format("{}<text x=\"{}\" y=\"{:.1f}\" dominant-baseline=\"middle\">{}</text>\n", swatch, kLeft + 30,
                         ly, XmlEscape(text));
      ly += kLegendLine;
    };
    bool alerts = false;
    for (size_t i = 0; i < p.series.size(); ++i) {
      const SeriesTrend& s = *p.series[i];
      std::string text = s.key.ToString();
      if (s.stats) {
        text += fmt::format("  last {}, min {}, max {}", FormatValue(s.unit, s.stats->last.value),
                            FormatValue(s.unit, s.stats->min), FormatValue(s.unit, s.stats->max));
      } else {
        text += "  (no samples in range)";
      }
      entry(fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"{3}\" "
                        "stroke-width=\"3\"/>",
                        kLeft, ly, kLeft + 22, kColors[p.color[i]]),
            text);
      alerts = alerts || !s.alerts.empty();
    }
    for (const SeriesTrend* s : p.series) {
      if (s->baseline.empty()) continue;
      entry(fmt::format("<rect x=\"{}\" y=\"{:.1f}\" width=\"22\" height=\"10\" fill=\"#2ca02c\" "
                        "fill-opacity=\"0.3\"/>",
                        kLeft, ly - 5),
            fmt::format("baseline of {}: {} ± {}", s->key.ToString(), s->baseline_median, s->baseline_spread));
    }
    if (alerts) {
      entry(fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#d62728\" "
                        "stroke-dasharray=\"5 3\"/>",
                        kLeft, ly, kLeft + 22),
            "alert fired (red CRITICAL, orange WARNING); shaded while firing");
    }
    out += "</g>\n</g>\n";
    return out;
  }

  const TrendView& view_;
};

}  // namespace

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // Control characters other than tab and newline are not allowed in XML 1.0.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
          out += "\xEF\xBF\xBD";  // U+FFFD
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string RenderSvg(const TrendView& view) { return SvgWriter(view).Render(); }

}  // namespace offmon::query
