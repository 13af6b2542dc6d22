// `offmon check`: the guide's manual health check in one command. Lives in the app layer
// because it wires collector -> store -> analyzer -> query, which no module may do.
#pragma once

#include "offmon/common/cli.h"

namespace CLI {
class App;
}

namespace offmon::tools {

void AddCheckCommand(CLI::App& app, CliContext& ctx);

}  // namespace offmon::tools
