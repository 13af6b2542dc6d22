// Rendering of a HealthReport: the guide's sample layout for a terminal (icons, colour),
// plain text for pipes, files and NO_COLOR, and one JSON document (docs/report.md).
//
// Thread safety: pure functions.
#pragma once

#include <string>

#include "offmon/query/health_report.h"

namespace offmon::query {

struct RenderOptions {
  // Icons (✅ ❌ ⚠️ 🔴 🟠 ...) and ANSI colour, as in the guide's sample. Default false:
  // plain text without escape sequences or emoji, for pipes, files and NO_COLOR.
  bool terminal = false;
};

// The report as text, ending in a newline.
std::string RenderReportText(const HealthReport& report, const RenderOptions& options);

// The report as one JSON document (pretty-printed, ending in a newline). Schema:
// docs/report.md.
std::string RenderReportJson(const HealthReport& report);

// Whether `offmon report` should use the terminal form: stdout is a terminal and NO_COLOR
// is unset or empty (https://no-color.org).
bool StdoutWantsTerminalForm();

}  // namespace offmon::query
