// `offmon import`: samples from CSV or OpenMetrics text files into the store
// (import_parsers.h), for history collected before offmon ran.
#pragma once

#include "offmon/common/cli.h"

namespace CLI {
class App;
}

namespace offmon::collector {

void AddImportCommand(CLI::App& app, CliContext& ctx);

}  // namespace offmon::collector
