// `offmon collect` and `offmon import`: the commands that put observations in the store.
#pragma once

#include "offmon/common/cli.h"

namespace CLI {
class App;
}

namespace offmon::collector {

void AddCollectCommand(CLI::App& app, CliContext& ctx);
void AddImportCommand(CLI::App& app, CliContext& ctx);

}  // namespace offmon::collector
