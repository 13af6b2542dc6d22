// `offmon store info|check|rebuild|compact|retention`, and how every subcommand opens the
// store named by --store.
#pragma once

#include <memory>

#include "offmon/common/cli.h"
#include "offmon/store/store.h"

namespace CLI {
class App;
}

namespace offmon::store {

// Opens ctx.store_path for a command; read_only for commands that only read.
Result<std::unique_ptr<Store>> OpenStoreForCommand(const CliContext& ctx, bool read_only);

void AddStoreCommand(CLI::App& app, CliContext& ctx);

}  // namespace offmon::store
