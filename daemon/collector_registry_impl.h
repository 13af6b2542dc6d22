// Which collectors a config asks for, with their intervals. The only place that knows
// every collector type.
#pragma once

#include <vector>

#include "daemon_impl.h"

namespace offmon::daemon {

std::vector<CollectorSlot> BuildCollectors(const Config& config, store::Store& store, spdlog::logger& log);

}  // namespace offmon::daemon
