// `offmon silence add|list|expire` and `offmon ack`: record silences and
// acknowledgements as events in the store (silence.h), which the daemon reads while it
// runs and the report shows. They write to a store the daemon may have open (SQLite WAL,
// the store's busy timeout). docs/notifications.md, "Silences and acknowledgements".
#pragma once

#include "offmon/common/cli.h"

namespace CLI {
class App;
}

namespace offmon::analyzer {

void AddSilenceCommands(CLI::App& app, CliContext& ctx);

}  // namespace offmon::analyzer
