#include "offmon/serve/prometheus_text.h"

#include <cmath>

#include <fmt/format.h>

namespace offmon::serve {

ExpositionFormat NegotiateFormat(std::string_view accept) {
  // Prometheus sends "application/openmetrics-text;version=1.0.0,...;q=0.5,text/plain;..."
  // when it accepts OpenMetrics; a plain scraper sends */* or text/plain.
  return accept.find("application/openmetrics-text") != std::string_view::npos ? ExpositionFormat::kOpenMetrics
                                                                                 : ExpositionFormat::kPrometheusText;
}

std::string_view ContentType(ExpositionFormat format) {
  return format == ExpositionFormat::kOpenMetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                                  : "text/plain; version=0.0.4; charset=utf-8";
}

MetricType TypeForName(std::string_view metric_name) {
  return metric_name.ends_with("_total") ? MetricType::kCounter : MetricType::kGauge;
}

void AppendFamilyHeader(std::string* out, ExpositionFormat format, std::string_view metric_name, MetricType type,
                        std::string_view help) {
  std::string_view family = metric_name;
  if (format == ExpositionFormat::kOpenMetrics && type == MetricType::kCounter && family.ends_with("_total")) {
    family.remove_suffix(6);
  }
  out->append("# HELP ").append(family).push_back(' ');
  AppendEscapedHelp(out, format, help);
  out->append("\n# TYPE ").append(family).push_back(' ');
  out->append(type == MetricType::kCounter ? "counter" : type == MetricType::kGauge ? "gauge" : "unknown");
  out->push_back('\n');
}

void AppendSampleLine(std::string* out, std::string_view metric_name, const Labels& labels, double value) {
  out->append(metric_name);
  if (!labels.empty()) {
    out->push_back('{');
    bool first = true;
    for (const Label& label : labels) {
      if (!first) out->push_back(',');
      first = false;
      out->append(label.name).append("=\"");
      AppendEscapedLabelValue(out, label.value);
      out->push_back('"');
    }
    out->push_back('}');
  }
  out->push_back(' ');
  AppendValue(out, value);
  out->push_back('\n');
}

void AppendEscapedLabelValue(std::string* out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\': out->append("\\\\"); break;
      case '"': out->append("\\\""); break;
      case '\n': out->append("\\n"); break;
      default: out->push_back(c);
    }
  }
}

void AppendEscapedHelp(std::string* out, ExpositionFormat format, std::string_view help) {
  for (char c : help) {
    switch (c) {
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '"':
        if (format == ExpositionFormat::kOpenMetrics) {
          out->append("\\\"");
        } else {
          out->push_back(c);
        }
        break;
      default: out->push_back(c);
    }
  }
}

void AppendValue(std::string* out, double value) {
  if (std::isnan(value)) {
    out->append("NaN");
  } else if (std::isinf(value)) {
    out->append(value > 0 ? "+Inf" : "-Inf");
  } else {
    fmt::format_to(std::back_inserter(*out), "{}", value);
  }
}

void AppendEnd(std::string* out, ExpositionFormat format) {
  if (format == ExpositionFormat::kOpenMetrics) out->append("# EOF\n");
}

}  // namespace offmon::serve
