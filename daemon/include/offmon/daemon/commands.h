// The commands of the daemon module: `offmon collect` (the daemon), `offmon check` (one
// cycle, one evaluation, the report), `offmon config` and `offmon init` (the writing and
// check of what drives collection). They live here because each wires collectors,
// analyzer, notify and query together, which only the daemon module may do.
#pragma once

#include "offmon/common/cli.h"

namespace CLI {
class App;
}

namespace offmon::daemon {

void AddCollectCommand(CLI::App& app, CliContext& ctx);
void AddCheckCommand(CLI::App& app, CliContext& ctx);
void AddConfigCommand(CLI::App& app, CliContext& ctx);
void AddInitCommand(CLI::App& app, CliContext& ctx);

}  // namespace offmon::daemon
