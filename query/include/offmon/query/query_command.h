// `offmon report`, `offmon trend` and `offmon alerts`: how people read the store. All only read, and
// work while the daemon writes.
#pragma once

#include "offmon/common/cli.h"

namespace CLI {
class App;
}

namespace offmon::query {

void AddReportCommand(CLI::App& app, CliContext& ctx);
void AddTrendCommand(CLI::App& app, CliContext& ctx);
// `offmon alerts`: recorded alert history, per-rule counts and mean time to resolve.
void AddAlertsCommand(CLI::App& app, CliContext& ctx);
// `offmon escalate`: the guide's escalation message for active alerts (docs/report.md).
void AddEscalateCommand(CLI::App& app, CliContext& ctx);

}  // namespace offmon::query
