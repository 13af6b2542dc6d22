// The guide's escalation message ("Escalation Procedure", "How to Escalate") for one
// active alert, filled in from the store: severity, component, issue, duration, the
// restarts seen since the alert began, the log tail captured when it fired, the impact on
// the pipeline and the runbook's next steps. `offmon escalate` prints it (docs/report.md).
//
// Thread safety: uses `store` from the calling thread only.
#pragma once

#include <string>
#include <vector>

#include "offmon/common/config.h"
#include "offmon/common/result.h"
#include "offmon/query/health_report.h"
#include "offmon/store/store.h"

namespace offmon::query {

// How many lines of each captured log the message quotes (the guide asks for 10-20).
inline constexpr size_t kEscalationLogLines = 20;

// The message for `alert`, one of `report.alerts`, as of `report.at`, ending in a
// newline. Fails only with the store's read errors; missing data reads "unknown".
Result<std::string> RenderEscalation(store::Store& store, const Config& config, const HealthReport& report,
                                     const AlertRow& alert);

// The guide's component ([aggregator/worker/database/sealing], plus "host" and "offmon")
// of an alert, with the process or channel it is about: "aggregator (twzrd-aggregator)".
std::string EscalationComponent(const AlertRow& alert, const AnalyzerConfig& config);

}  // namespace offmon::query
