// What every subcommand shares: the store path option, the clock, the output streams,
// and named exit codes. Subcommands live in their modules and register themselves on a
// CLI11 app through functions declared in each module's *_command.h.
#pragma once

#include <iosfwd>
#include <string>

#include "offmon/common/config.h"
#include "offmon/common/status.h"
#include "offmon/common/time.h"

namespace offmon {

// Exit codes. 0-3 keep the Nagios meaning for `offmon check`; store failures have codes
// of their own so scripts can tell "the store is damaged" from "a check failed".
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,           // a failure with no more specific code
  kExitUsage = 2,           // bad command line
  kExitStoreTooNew = 10,    // written by a newer offmon
  kExitNotAStore = 11,      // the file is not an offmon store
  kExitStoreCorrupt = 12,   // the store is damaged
  kExitStoreUnwritable = 13,  // disk full, read-only file or directory
  kExitBadInput = 14,       // a malformed input file (import, config)
  kExitUnavailable = 15,    // a service could not be reached
  kExitStoreBusy = 16,      // another offmon daemon runs on the store (or a writer held it too long)
};

// The exit code that names a failure's class.
ExitCode ExitCodeFor(const Status& status);

struct CliContext {
  Config config;           // --config FILE, else $OFFMON_CONFIG, else defaults
  std::string config_path;  // the file `config` came from; empty for the defaults
  std::string store_path;  // --store, else $OFFMON_STORE, else [store] path, else var/offmon.db
  const Clock* clock = nullptr;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  int exit_code = kExitOk;

  // Prints "offmon: <message>" as one line on err and records the matching exit code.
  void Fail(const Status& status);
};

// The default store path: $OFFMON_STORE when set, else ./var/offmon.db.
std::string DefaultStorePath();

}  // namespace offmon
