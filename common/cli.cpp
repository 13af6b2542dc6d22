#include "offmon/common/cli.h"

#include <cstdlib>
#include <ostream>

namespace offmon {

ExitCode ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return kExitOk;
    case StatusCode::kTooNew: return kExitStoreTooNew;
    case StatusCode::kNotAStore: return kExitNotAStore;
    case StatusCode::kCorruption: return kExitStoreCorrupt;
    case StatusCode::kDiskFull:
    case StatusCode::kReadOnly: return kExitStoreUnwritable;
    case StatusCode::kInvalidArgument: return kExitBadInput;
    case StatusCode::kUnavailable:
    case StatusCode::kTimeout: return kExitUnavailable;
    case StatusCode::kBusy: return kExitStoreBusy;
    default: return kExitError;
  }
}

void CliContext::Fail(const Status& status) {
  std::string line = status.ToString();
  // One line, always: a multi-line message would break log scraping.
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  *err << "offmon: " << line << '\n';
  exit_code = ExitCodeFor(status);
}

std::string DefaultStorePath() {
  if (const char* env = std::getenv("OFFMON_STORE"); env != nullptr && *env != '\0') return env;
  return "var/offmon.db";
}

}  // namespace offmon
