// `offmon collect`, `offmon import` and `offmon config`: the commands that put
// observations in the store, and the check of what drives them.
#pragma once

#include "offmon/common/cli.h"

namespace CLI {
class App;
}

namespace offmon::collector {

void AddCollectCommand(CLI::App& app, CliContext& ctx);
void AddImportCommand(CLI::App& app, CliContext& ctx);
void AddConfigCommand(CLI::App& app, CliContext& ctx);

}  // namespace offmon::collector
