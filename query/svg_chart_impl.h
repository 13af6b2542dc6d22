// The SVG rendering of `offmon trend --svg FILE`: a standalone document a person can open
// in a browser. One panel per unit (bytes, percent, seconds, counts), each with value and
// time axes, one line per series (its bucket means), the baseline band where the series
// has one, alert markers (a dashed line where the alert fired, a shaded span while it
// fired, its name on top) and a legend. Hand-written XML; every text escaped.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "series_trend_impl.h"

namespace offmon::query {

// Escapes &, <, >, " and ' for XML text and attribute values.
std::string XmlEscape(std::string_view text);

std::string RenderSvg(const TrendView& view);

}  // namespace offmon::query
