// Which collectors a config asks for, with their intervals. The only place that knows
// every collector type.
#pragma once

#include <vector>

#include "offmon/collector/daemon.h"

namespace offmon::collector {

std::vector<CollectorSlot> BuildCollectors(const Config& config, store::Store& store, spdlog::logger& log);

}  // namespace offmon::collector
