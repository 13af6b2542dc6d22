// This host's name as receivers see it (Alertmanager's generatorURL, remote write's
// `instance`).
#pragma once

#include <string>

namespace offmon {

// gethostname(2), or "localhost" when it fails.
std::string HostName();

}  // namespace offmon
