// Parsers for `offmon import`: CSV (`timestamp,series,value`) and OpenMetrics /
// Prometheus text exposition with timestamps. Both stream line by line, report each bad
// line with its 1-based line number and a reason, and never throw.
// Thread safety: stateless functions; handlers are called on the caller's thread.
#pragma once

#include <cstddef>
#include <functional>
#include <istream>
#include <string>

#include "offmon/common/sample.h"
#include "offmon/common/series_key.h"

namespace offmon::collector {

struct ImportRow {
  size_t line = 0;  // 1-based line in the input
  SeriesKey series;
  Sample sample;
};

using ImportRowHandler = std::function<void(ImportRow&&)>;
// `reason` is one line of text without the file name, e.g. "bad value 'abc'".
using ImportErrorHandler = std::function<void(size_t line, const std::string& reason)>;

// CSV with the header `timestamp,series,value` (RFC 4180 quoting, so a series with
// commas or quotes is written "up{job=""a,b""}"). Timestamps are unix seconds (fractions
// allowed, rounded to the millisecond) or RFC 3339. Values are decimal numbers, NaN,
// +Inf or -Inf. A UTF-8 BOM, CRLF and blanks around fields are tolerated; blank lines are
// skipped. A quoted field may not span lines. A missing or different header is reported
// on its line (line 1 unless blank lines lead) and stops the import, since the columns
// cannot be trusted; an empty file is an error on line 1.
void ParseCsvImport(std::istream& in, const ImportRowHandler& on_row,
                    const ImportErrorHandler& on_error);

enum class TimestampUnit { kSeconds, kMilliseconds };

// OpenMetrics text (timestamps in seconds, the default) or Prometheus 0.0.4 text
// (timestamps in milliseconds: pass kMilliseconds). `# HELP`/`# TYPE`/`# UNIT`/`# EOF`
// and other comments are accepted and skipped; a sample line without a timestamp, with
// a bad name, labels or value is an error. Exemplars (` # {...}`) are ignored. The first
// non-blank line after `# EOF` is an error and ends the import. Seconds may be fractional
// (rounded to the millisecond); milliseconds must be integers.
void ParseOpenMetricsImport(std::istream& in, TimestampUnit unit, const ImportRowHandler& on_row,
                            const ImportErrorHandler& on_error);

}  // namespace offmon::collector
