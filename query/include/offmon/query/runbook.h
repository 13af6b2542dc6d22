// The guide's runbook ("Common Issues & Fixes", "Alert Severity Levels") keyed by alert
// name: what to do first when an alert fires, and what to try next. The report prints the
// first action beside each alert; `offmon escalate` reuses the next steps.
//
// Thread safety: stateless; the table is constant.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "offmon/common/config.h"
#include "offmon/common/series_key.h"

namespace offmon::query {

struct RunbookStep {
  std::string guide_section;  // e.g. "Issue 1: Process Crashed"
  std::string first_action;   // one line, commands filled in with the alert's labels
  std::string next_steps;     // what to try when the first action did not help
};

// The runbook entry for `alert` (a name from docs/alert-rules.md), with {process},
// {mount}, {channel}, {collector}, {aggregator} and {sealer} filled in from the alert's
// labels and the analyzer config's pipeline processes. nullopt for an unknown alert.
std::optional<RunbookStep> RunbookFor(std::string_view alert, const Labels& labels, const AnalyzerConfig& config);

}  // namespace offmon::query
