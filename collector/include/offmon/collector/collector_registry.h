// Which collectors a config asks for, with their intervals. The only place that knows
// every collector type.
#pragma once

#include <string>
#include <vector>

#include "offmon/collector/daemon.h"

namespace offmon::collector {

std::vector<CollectorSlot> BuildCollectors(const Config& config, const std::string& store_path);

}  // namespace offmon::collector
