// `offmon analyze --from T --to T [--step 5m] [--json]`: replays the store's history
// through the analyzer as if live (a backtest) and prints the alert transitions. It only
// reads; the daemon is what records transitions.
#pragma once

#include "offmon/common/cli.h"

namespace CLI {
class App;
}

namespace offmon::analyzer {

void AddAnalyzeCommand(CLI::App& app, CliContext& ctx);

}  // namespace offmon::analyzer
