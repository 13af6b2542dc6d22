// The terminal rendering of `offmon trend`: per series a bar chart of the bucket means in
// Unicode block characters (eight rows, eight levels each), a time axis, a row of alert
// markers, then the statistics and the alert episodes. Every line fits `width` columns
// (the series header excepted when the key alone is longer).
// Thread safety: pure, except TerminalWidth, which reads the environment and stdout.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>

#include "series_trend_impl.h"

namespace offmon::query {

inline constexpr int kChartRows = 8;
inline constexpr int kMinWidth = 40;  // narrower requests are drawn at this width
inline constexpr int kMaxWidth = 400;

// $COLUMNS when set to a positive number, else the width of stdout when it is a terminal
// (ioctl TIOCGWINSZ), else 80.
int TerminalWidth();

// Terminal columns taken by UTF-8 text (one per code point: the characters used here are
// all single-width).
size_t DisplayWidth(std::string_view text);

void RenderTerminal(std::ostream& out, const TrendView& view, int width);

}  // namespace offmon::query
