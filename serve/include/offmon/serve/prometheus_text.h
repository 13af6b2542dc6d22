// The Prometheus text exposition format (version 0.0.4) and OpenMetrics 1.0 text, as
// written by GET /metrics: content negotiation, # HELP / # TYPE lines and sample lines
// with escaped label values. https://prometheus.io/docs/instrumenting/exposition_formats/
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "offmon/common/series_key.h"

namespace offmon::serve {

enum class ExpositionFormat { kPrometheusText, kOpenMetrics };
enum class MetricType { kGauge, kCounter, kUnknown };

// OpenMetrics when the Accept header asks for application/openmetrics-text (as
// Prometheus does when it may), else the Prometheus text format.
ExpositionFormat NegotiateFormat(std::string_view accept);
// "text/plain; version=0.0.4; charset=utf-8" or
// "application/openmetrics-text; version=1.0.0; charset=utf-8".
std::string_view ContentType(ExpositionFormat format);

// Counter for names ending in _total (offmon's naming contract), else gauge.
MetricType TypeForName(std::string_view metric_name);

// Appends a family's "# HELP" and "# TYPE" lines. In OpenMetrics a counter family is
// named without its _total suffix.
void AppendFamilyHeader(std::string* out, ExpositionFormat format, std::string_view metric_name, MetricType type,
                        std::string_view help);
// Appends one sample line: name{label="value",...} value. Values: shortest round-trip
// decimal, NaN, +Inf, -Inf.
void AppendSampleLine(std::string* out, std::string_view metric_name, const Labels& labels, double value);
// Label values escape \ " and newline as \\ \" \n.
void AppendEscapedLabelValue(std::string* out, std::string_view value);
// HELP text escapes \ and newline (0.0.4); OpenMetrics also escapes ".
void AppendEscapedHelp(std::string* out, ExpositionFormat format, std::string_view help);
void AppendValue(std::string* out, double value);
// "# EOF\n" for OpenMetrics, nothing for the Prometheus text format.
void AppendEnd(std::string* out, ExpositionFormat format);

}  // namespace offmon::serve
