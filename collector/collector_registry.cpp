#include "offmon/collector/collector_registry.h"

#include "offmon/collector/process_collector.h"
#include "offmon/collector/system_collector.h"

namespace offmon::collector {

std::vector<CollectorSlot> BuildCollectors(const Config& config, const std::string& /*store_path*/) {
  std::vector<CollectorSlot> slots;
  const ProcFs proc(config.system.proc_root);
  slots.push_back({std::make_shared<SystemCollector>(proc, config.system.disk_mounts), config.system.interval});
  // offmon watches itself at the system collector's pace.
  slots.push_back({std::make_shared<SelfCollector>(proc), config.system.interval});
  if (!config.processes.pid_files.empty() || !config.processes.names.empty()) {
    slots.push_back({std::make_shared<ProcessCollector>(proc, config.processes.pid_files, config.processes.names),
                     config.processes.interval});
  }
  return slots;
}

}  // namespace offmon::collector
