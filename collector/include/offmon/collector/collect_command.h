// `offmon collect`, `offmon import`, `offmon config` and `offmon init`: the commands that
// put observations in the store, and the writing and check of what drives them.
#pragma once

#include "offmon/collector/daemon.h"
#include "offmon/common/cli.h"

namespace CLI {
class App;
}

namespace offmon::collector {

// `after_analysis`, `report_json` and `dashboard` are passed to the daemon
// (DaemonOptions); default none.
void AddCollectCommand(CLI::App& app, CliContext& ctx, AfterAnalysis after_analysis = nullptr,
                       ReportJson report_json = nullptr, Dashboard dashboard = nullptr);
void AddImportCommand(CLI::App& app, CliContext& ctx);
void AddConfigCommand(CLI::App& app, CliContext& ctx);
void AddInitCommand(CLI::App& app, CliContext& ctx);

}  // namespace offmon::collector
