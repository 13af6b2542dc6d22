// `offmon report` and `offmon trend`: how people read the store. Both only read, and
// work while the daemon writes.
#pragma once

#include "offmon/common/cli.h"

namespace CLI {
class App;
}

namespace offmon::query {

void AddReportCommand(CLI::App& app, CliContext& ctx);
void AddTrendCommand(CLI::App& app, CliContext& ctx);

}  // namespace offmon::query
